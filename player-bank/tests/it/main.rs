//! The bank workload against the real server: invariants under many threads,
//! the check catching a trade without locks, the guard, and faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bank;
mod faults;

use player_bank::Settings;
use player_core::db::DatabaseUrl;
use player_testkit::TestDatabase;

/// The server of `db` with no database selected, and settings that make `db`
/// the bank's database.
fn bank_on(db: &TestDatabase, settings: Settings) -> (DatabaseUrl, Settings) {
    let url = db.server_url().parse().unwrap();
    let settings = Settings {
        database: db.name().to_owned(),
        ..settings
    };
    (url, settings)
}
