//! Statements tests run beside the library's own: locks held from another
//! session, killed connections, waits for a lock. Values are bound, never
//! spliced into the SQL, and each wait asks what the server at hand answers
//! (TiDB, MySQL 8.0 or MariaDB: see [`ServerKind`]).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Unsigned};
use player_core::schema::player;
use player_core::{NewPlayer, Player, PlayerId, players};

use crate::TestDatabase;
use crate::need::ServerKind;
use crate::poll::poll_until;

/// A [`PlayerId`] from a literal the test knows is valid.
pub fn id(s: &str) -> PlayerId {
    PlayerId::new(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Inserts players `(id, coins, goods)`.
pub fn insert(conn: &mut MysqlConnection, rows: &[(&str, i32, i32)]) {
    for &(name, coins, goods) in rows {
        players::create(conn, &NewPlayer::new(id(name), coins, goods)).expect("insert player");
    }
}

/// Every player, ordered by id.
pub fn all(conn: &mut MysqlConnection) -> Vec<Player> {
    player::table
        .select(Player::as_select())
        .order(player::id)
        .load(conn)
        .expect("read players")
}

/// A new connection to `db` that holds the row lock of player `id` in an open
/// transaction (end it with `ROLLBACK`, or drop the connection).
pub fn hold_row_lock(db: &TestDatabase, id: &str) -> MysqlConnection {
    let mut holder = db.connect();
    holder.batch_execute("BEGIN").expect("BEGIN");
    let locked: i64 = player::table
        .filter(player::id.eq(id))
        .select(count_star())
        .for_update()
        .first(&mut holder)
        .expect("lock the row");
    assert_eq!(locked, 1, "no player {id:?} to lock");
    holder
}

/// Runs a statement, panicking with it on failure.
pub fn exec(conn: &mut MysqlConnection, sql: &str) {
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Kills connection `id` on the server (it may have gone already: the error
/// is returned, not raised).
pub fn kill(admin: &mut MysqlConnection, id: u64) -> QueryResult<()> {
    // KILL takes no placeholder; an integer cannot carry SQL.
    admin.batch_execute(&format!("KILL {id}"))
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Unsigned<BigInt>)]
    id: u64,
}

/// Ids of the live connections using database `name`, other than `except`.
/// `COMMAND` is a column of every server's process list; MariaDB and MySQL
/// list a connection being killed as `Killed` until it is gone, and it must
/// not be killed twice.
pub fn connections_to(admin: &mut MysqlConnection, name: &str, except: u64) -> Vec<u64> {
    diesel::sql_query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST \
         WHERE DB = ? AND ID <> ? AND COMMAND <> 'Killed'",
    )
    .bind::<Text, _>(name)
    .bind::<Unsigned<BigInt>, _>(except)
    .load::<Id>(admin)
    .expect("read the process list")
    .into_iter()
    .map(|row| row.id)
    .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How long the waits below wait before failing the test.
const WAIT: Duration = Duration::from_secs(10);

/// Waits (up to 10 s) until connection `id` waits for a row lock.
///
/// Each server says so in its own table, asked on `observer`'s server:
/// - MariaDB and MySQL 8.0: `information_schema.INNODB_TRX`, whose
///   `trx_state` is `LOCK WAIT` for `trx_mysql_thread_id` (a cache refreshed
///   when not read for 100 ms: the reads of this process take turns so that
///   each one finds it refreshed).
/// - TiDB: `information_schema.TIDB_TRX`, whose `STATE` is `LockWaiting` for
///   the connection `SESSION_ID` (docs.pingcap.com, "TIDB_TRX": the enum
///   `Idle, Running, LockWaiting, Committing, RollingBack`). It lists the
///   transactions of the TiDB node asked, which is the one `observer` and the
///   test's connections share when the URL names one node (`tiup playground`).
///   TiDB's `DATA_LOCK_WAITS` holds the same waits from TiKV, but names the
///   waiter by transaction start timestamp, not by connection.
///
/// (`information_schema.PROCESSLIST` has `TIME`, in seconds, on every server,
/// but only MariaDB's has `TIME_MS`: a statement's running time would make the
/// test wait a second and more, and would say "slow", not "waits for a lock".)
pub fn wait_for_lock_wait(observer: &mut MysqlConnection, id: u64) {
    wait_for_a_lock_wait(observer, Some(id));
}

/// As [`wait_for_lock_wait`], for any connection (one in another process,
/// say): only meaningful on a server of the test's own, such as a
/// [`PrivateServer`](crate::PrivateServer).
pub fn wait_for_any_lock_wait(observer: &mut MysqlConnection) {
    wait_for_a_lock_wait(observer, None);
}

fn wait_for_a_lock_wait(observer: &mut MysqlConnection, id: Option<u64>) {
    let sql = match ServerKind::of(observer).expect("SELECT VERSION()") {
        ServerKind::Tidb => {
            "SELECT COUNT(*) AS n FROM information_schema.TIDB_TRX \
             WHERE STATE = 'LockWaiting' AND (? IS NULL OR SESSION_ID = ?)"
        }
        ServerKind::MariaDb | ServerKind::MySql => {
            "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX \
             WHERE trx_state = 'LOCK WAIT' AND (? IS NULL OR trx_mysql_thread_id = ?)"
        }
    };
    let what = match id {
        Some(id) => format!("connection {id} wait for a lock"),
        None => "a connection wait for a lock".to_owned(),
    };
    poll_until(&what, WAIT, || {
        fresh_transactions(|| {
            diesel::sql_query(sql)
                .bind::<Nullable<Unsigned<BigInt>>, _>(id)
                .bind::<Nullable<Unsigned<BigInt>>, _>(id)
                .get_result::<Count>(observer)
                .expect("read the transactions")
                .n
        }) > 0
    });
}

/// Runs `read`, a read of the server's list of transactions, no sooner than
/// 120 ms after the last one of this process ended.
///
/// MariaDB and MySQL serve `INNODB_TRX` from one cache for the whole server,
/// refreshed only when it has not been read for 100 ms. One poller looking
/// every [`POLL_EVERY`](crate::poll::POLL_EVERY) sees fresh rows; two tests
/// polling at once keep the cache read and so stale for both, and each waits
/// in vain for a change that happened. Taking turns here, each read comes
/// after a pause the cache needs. (TiDB's `TIDB_TRX` has no such cache; the
/// pause costs it nothing that matters.)
fn fresh_transactions<T>(read: impl FnOnce() -> T) -> T {
    const PAUSE: Duration = Duration::from_millis(120);
    static LAST_READ: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST_READ.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(at) = *last {
        std::thread::sleep(PAUSE.saturating_sub(at.elapsed()));
    }
    let value = read();
    *last = Some(Instant::now());
    value
}

/// Waits (up to 10 s) until a statement of database `db` whose text is
/// `LIKE pattern` waits for a table's lock (one another session took with
/// `LOCK TABLES`): its `PROCESSLIST.STATE` is `Waiting for table metadata
/// lock` on MariaDB and MySQL. Tests that hold tables so
/// `require!(Need::TableLocks)`: TiDB's table locks are off by default.
pub fn wait_for_blocked_statement(observer: &mut MysqlConnection, db: &str, pattern: &str) {
    poll_until(
        &format!("a statement LIKE {pattern:?} blocked in {db}"),
        WAIT,
        || {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
                 WHERE DB = ? AND INFO LIKE ? AND STATE LIKE 'Waiting for table%lock'",
            )
            .bind::<Text, _>(db)
            .bind::<Text, _>(pattern)
            .get_result::<Count>(observer)
            .expect("read the process list")
            .n > 0
        },
    );
}

/// Waits (up to `limit`) until a transaction open on database `db` holds
/// rows it has not committed, which no other session can see:
/// - MariaDB and MySQL 8.0: `INNODB_TRX.trx_rows_modified`, joined to the
///   process list for the database;
/// - TiDB: `TIDB_TRX.MEM_BUFFER_KEYS`, the keys the transaction has written
///   so far (docs.pingcap.com, "TIDB_TRX"), with its `DB`.
pub fn wait_for_uncommitted_rows(observer: &mut MysqlConnection, db: &str, limit: Duration) {
    let sql = match ServerKind::of(observer).expect("SELECT VERSION()") {
        ServerKind::Tidb => {
            "SELECT COUNT(*) AS n FROM information_schema.TIDB_TRX \
             WHERE DB = ? AND MEM_BUFFER_KEYS > 0"
        }
        ServerKind::MariaDb | ServerKind::MySql => {
            "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE p.DB = ? AND t.trx_rows_modified > 0"
        }
    };
    poll_until(&format!("uncommitted rows in {db}"), limit, || {
        fresh_transactions(|| {
            diesel::sql_query(sql)
                .bind::<Text, _>(db)
                .get_result::<Count>(observer)
                .expect("read the transactions")
                .n
        }) > 0
    });
}

/// The session's counters `Com_*` and `Questions` (see
/// [`player_admin::catalog::session_counters`]), signed so tests can subtract.
/// Empty on TiDB, which keeps none: tests that count with them
/// `require!(Need::SessionCounters)`.
pub fn session_status(conn: &mut MysqlConnection) -> std::collections::BTreeMap<String, i64> {
    player_admin::catalog::session_counters(conn)
        .expect("SHOW SESSION STATUS")
        .into_iter()
        .map(|(name, value)| (name, i64::try_from(value).unwrap_or(i64::MAX)))
        .collect()
}

/// This connection's id on the server (what `KILL` and the process list use).
pub fn connection_id(conn: &mut MysqlConnection) -> u64 {
    player_admin::catalog::connection_id(conn).expect("CONNECTION_ID()")
}
