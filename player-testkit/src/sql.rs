//! Statements tests run beside the library's own: locks held from another
//! session, killed connections, process-list polls. Values are bound, never
//! spliced into the SQL.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Unsigned};
use player_core::schema::player;
use player_core::{NewPlayer, Player, PlayerId, players};

use crate::TestDatabase;

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

/// Waits until connection `id` has been running one of the trade's statements
/// (its `UPDATE ... JOIN` or its `SELECT ... FOR UPDATE`) for 200 ms: on two
/// rows found by primary key, that means it waits for a lock.
/// (MariaDB's `INNODB_TRX` is a cache that is not refreshed while it is read
/// more often than every 100 ms, so it is no good for polling.)
pub fn wait_for_lock_wait(observer: &mut MysqlConnection, id: u64) {
    wait_for_a_lock_wait(observer, Some(id));
}

/// As [`wait_for_lock_wait`], for any connection (one in another process, say).
pub fn wait_for_any_lock_wait(observer: &mut MysqlConnection) {
    wait_for_a_lock_wait(observer, None);
}

fn wait_for_a_lock_wait(observer: &mut MysqlConnection, id: Option<u64>) {
    poll_until(
        || format!("no connection ({id:?}) waited for a lock"),
        || {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
                 WHERE (? IS NULL OR ID = ?) \
                 AND (INFO LIKE 'UPDATE %' OR INFO LIKE '%FOR UPDATE%') AND TIME_MS > 200",
            )
            .bind::<diesel::sql_types::Nullable<Unsigned<BigInt>>, _>(id)
            .bind::<diesel::sql_types::Nullable<Unsigned<BigInt>>, _>(id)
            .get_result::<Count>(observer)
        },
    );
}

/// Waits (up to 10 s) until a statement of database `db` whose text is
/// `LIKE pattern` has run for over 200 ms: it is blocked, on a lock say.
pub fn wait_for_blocked_statement(observer: &mut MysqlConnection, db: &str, pattern: &str) {
    poll_until(
        || format!("no statement LIKE {pattern:?} blocked in {db}"),
        || {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
                 WHERE DB = ? AND INFO LIKE ? AND TIME_MS > 200",
            )
            .bind::<Text, _>(db)
            .bind::<Text, _>(pattern)
            .get_result::<Count>(observer)
        },
    );
}

/// Runs `count` every 20 ms until it finds a row, failing with `what` after 10 s.
fn poll_until(what: impl Fn() -> String, mut count: impl FnMut() -> QueryResult<Count>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count().expect("read the process list").n == 0 {
        assert!(Instant::now() < deadline, "{}", what());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The session's counters `Com_*` and `Questions` (see
/// [`player_admin::catalog::session_counters`]), signed so tests can subtract.
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
