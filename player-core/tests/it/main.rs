//! player-core against the real server: every test gets a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod model;
mod players;
mod pool;
mod stalls;
mod statement_cache;
mod trade;
mod trade_concurrency;
mod trade_retry;
mod transaction;
mod tutorial;

use diesel::mysql::MysqlConnection;
use player_core::retry::RetryPolicy;
use player_core::{Trade, TradeError, TradeOutcome, Traded};
use player_testkit::TestDatabase;
use player_testkit::sql::id;

/// A fresh migrated database, and a connection to it.
fn migrated() -> (TestDatabase, MysqlConnection) {
    let db = TestDatabase::migrated();
    let conn = db.connect();
    (db, conn)
}

/// player-core's two forms of the trade, which every trade test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `trade_with_retry`: BEGIN, the joined UPDATE, COMMIT.
    Transactional,
    /// `trade_in_one_statement_with_retry`: the joined UPDATE alone, in autocommit.
    OneStatement,
}

/// Both forms, for tests to loop over.
const FORMS: [Form; 2] = [Form::Transactional, Form::OneStatement];

impl Form {
    /// The trade, with a retry policy.
    fn with_retry(
        self,
        conn: &mut MysqlConnection,
        trade: &Trade,
        policy: &RetryPolicy,
    ) -> Result<Traded, TradeError> {
        match self {
            Self::Transactional => player_core::trade(conn, trade, policy),
            Self::OneStatement => player_core::trade_in_one_statement(conn, trade, policy),
        }
    }

    /// The trade of `amount` goods for `price` coins with the default policy,
    /// written short for tables of cases.
    fn trade(
        self,
        conn: &mut MysqlConnection,
        seller: &str,
        buyer: &str,
        amount: i32,
        price: i32,
    ) -> Result<TradeOutcome, TradeError> {
        let (seller, buyer) = (id(seller), id(buyer));
        let trade = Trade {
            seller: &seller,
            buyer: &buyer,
            amount,
            price,
        };
        self.with_retry(conn, &trade, &RetryPolicy::default())
            .map(|traded| traded.outcome)
    }
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
