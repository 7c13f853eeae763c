//! Shared set-up of the integration tests: a migrated test database and helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::{NewPlayer, Player, players};
use player_testkit::TestDatabase;

/// A test database with the migrations applied.
pub fn migrated_db() -> TestDatabase {
    let db = TestDatabase::create();
    player_core::migrations::run_pending(&mut db.connect()).expect("migrations");
    db
}

/// Inserts players `(id, coins, goods)`.
pub fn insert(conn: &mut MysqlConnection, rows: &[(&str, i32, i32)]) {
    for &(id, coins, goods) in rows {
        players::create(conn, &NewPlayer::new(id, coins, goods)).expect("insert player");
    }
}

/// Every player, ordered by id.
pub fn all(conn: &mut MysqlConnection) -> Vec<Player> {
    players::list(conn, None, 1_000_000).expect("list players")
}

/// This connection's id on the server (what `KILL` and the processlist use).
pub fn connection_id(conn: &mut MysqlConnection) -> u64 {
    diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Unsigned<diesel::sql_types::BigInt>,
    >("CONNECTION_ID()"))
    .get_result(conn)
    .expect("CONNECTION_ID()")
}

/// A new connection to `db` that holds the row lock of player `id` in an open
/// transaction (end it with `ROLLBACK`, or drop the connection).
pub fn hold_row_lock(db: &TestDatabase, id: &str) -> MysqlConnection {
    let mut holder = db.connect();
    exec(&mut holder, "BEGIN");
    exec(
        &mut holder,
        &format!("SELECT * FROM player WHERE id = '{id}' FOR UPDATE"),
    );
    holder
}

/// Runs a statement, panicking with it on failure.
pub fn exec(conn: &mut MysqlConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = Variable_name)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = Value)]
    value: String,
}

/// Session counters `Com_*` and `Questions` of this connection.
pub fn session_status(conn: &mut MysqlConnection) -> std::collections::BTreeMap<String, i64> {
    diesel::sql_query(
        "SHOW SESSION STATUS WHERE Variable_name = 'Questions' OR Variable_name LIKE 'Com\\_%'",
    )
    .load::<StatusRow>(conn)
    .expect("SHOW SESSION STATUS")
    .into_iter()
    .filter_map(|r| Some((r.name, r.value.parse().ok()?)))
    .collect()
}

/// A fresh database with the migrations applied, and a connection to it.
pub fn migrated() -> (TestDatabase, MysqlConnection) {
    let db = migrated_db();
    let conn = db.connect();
    (db, conn)
}

/// Waits until connection `id` has been running one of the trade's statements
/// (its `UPDATE ... JOIN` or its `SELECT ... FOR UPDATE`) for 200 ms: on two
/// rows found by primary key, that means it waits for a lock.
/// (MariaDB's `INNODB_TRX` is a cache that is not refreshed while it is read
/// more often than every 100 ms, so it is no good for polling.)
pub fn wait_for_lock_wait(observer: &mut MysqlConnection, id: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
             WHERE ID = {id} AND (INFO LIKE 'UPDATE %' OR INFO LIKE '%FOR UPDATE%') AND TIME_MS > 200"
        ))
        .get_result::<Count>(observer)
        .unwrap()
        .n;
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "connection {id} never waited for a lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
