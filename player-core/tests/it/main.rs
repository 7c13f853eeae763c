//! player-core against the real server: every test gets a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod model;
mod players;
mod pool;
mod retry;
mod statement_cache;
mod trade;
mod trade_concurrency;
mod trade_retry;
mod transaction;
mod tutorial;

use diesel::mysql::MysqlConnection;
use player_core::{TradeError, TradeOutcome};
use player_testkit::TestDatabase;
pub(crate) use player_testkit::trade_form::{FORMS, Form};

/// A fresh migrated database, and a connection to it.
fn migrated() -> (TestDatabase, MysqlConnection) {
    let db = TestDatabase::migrated();
    let conn = db.connect();
    (db, conn)
}

/// [`player_core::trade`] of `amount` goods for `price` coins, written short
/// for tables of cases.
fn trade(
    conn: &mut MysqlConnection,
    seller: &str,
    buyer: &str,
    amount: i32,
    price: i32,
) -> Result<TradeOutcome, TradeError> {
    Form::Transactional.trade(conn, seller, buyer, amount, price)
}
