//! player-core's two forms of the trade, which the trade tests of every crate
//! run alike.

use diesel::mysql::MysqlConnection;
use player_core::{RetryPolicy, Trade, TradeError, TradeOutcome, Traded};

use crate::sql::id;

/// A form of the trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `trade`: BEGIN, the joined UPDATE, COMMIT.
    Transactional,
    /// `trade_in_one_statement`: the joined UPDATE alone, in autocommit.
    OneStatement,
}

/// Both forms, for tests to loop over.
pub const FORMS: [Form; 2] = [Form::Transactional, Form::OneStatement];

impl Form {
    /// The trade in this form, with a retry policy.
    pub fn with_retry(
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
    pub fn trade(
        self,
        conn: &mut MysqlConnection,
        seller: &str,
        buyer: &str,
        amount: i32,
        price: i32,
    ) -> Result<TradeOutcome, TradeError> {
        self.a_sells_to_b(
            conn,
            (seller, buyer),
            amount,
            price,
            &RetryPolicy::default(),
        )
        .map(|traded| traded.outcome)
    }

    /// The trade the fault tests make: seller `a` sells 3 goods to buyer `b`
    /// for 30 coins, with `policy`.
    pub fn a_sells_3_to_b(
        self,
        conn: &mut MysqlConnection,
        policy: &RetryPolicy,
    ) -> Result<Traded, TradeError> {
        self.a_sells_to_b(conn, ("a", "b"), 3, 30, policy)
    }

    fn a_sells_to_b(
        self,
        conn: &mut MysqlConnection,
        (seller, buyer): (&str, &str),
        amount: i32,
        price: i32,
        policy: &RetryPolicy,
    ) -> Result<Traded, TradeError> {
        let (seller, buyer) = (id(seller), id(buyer));
        let trade = Trade {
            seller: &seller,
            buyer: &buyer,
            amount,
            price,
        };
        self.with_retry(conn, &trade, policy)
    }
}
