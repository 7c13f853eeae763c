//! Shared set-up for player-core's tests.

use diesel::mysql::MysqlConnection;
use player_testkit::TestDatabase;

/// A fresh database with the migrations applied, and a connection to it.
pub fn migrated() -> (TestDatabase, MysqlConnection) {
    let db = TestDatabase::create();
    let mut conn = db.connect();
    player_core::migrations::run_pending(&mut conn).expect("migrations apply");
    (db, conn)
}
