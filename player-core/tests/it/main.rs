//! player-core against the real server: every test gets a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod players;
mod pool;
mod statement_cache;
mod trade;
mod trade_concurrency;
mod trade_retry;

use diesel::mysql::MysqlConnection;
use player_core::{Trade, TradeError, TradeOutcome};
use player_testkit::TestDatabase;
use player_testkit::sql::id;

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
    let (seller, buyer) = (id(seller), id(buyer));
    player_core::trade(
        conn,
        &Trade {
            seller: &seller,
            buyer: &buyer,
            amount,
            price,
        },
    )
}
