//! What a run does, checked once before anything reaches a server.

use std::time::Duration;

use player_core::retry::RetryPolicy;

use crate::BankError;

/// The database the bank uses unless told otherwise.
pub const DEFAULT_DATABASE: &str = "player_bank";

/// The most players a run seeds: their ids (`bank-` and seven digits) must stay
/// distinct and fit the column.
pub const MAX_PLAYERS: usize = 10_000_000;

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Until this much time has passed.
    Duration(Duration),
    /// Until this many trades have been started.
    Trades(u64),
}

/// TiDB's transaction mode, set per session with `tidb_txn_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnMode {
    /// Locks taken as statements run (TiDB's default since v3.0.8).
    Pessimistic,
    /// Conflicts found at commit (error 9007), then retried.
    Optimistic,
}

impl TxnMode {
    /// The value of `tidb_txn_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pessimistic => "pessimistic",
            Self::Optimistic => "optimistic",
        }
    }
}

/// Which of player-core's two trade forms the workers call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TradeForm {
    /// [`player_core::trade()`]: the joined `UPDATE` inside
    /// `conn.transaction` (BEGIN, UPDATE, COMMIT).
    #[default]
    Transactional,
    /// [`player_core::trade_in_one_statement`]: the joined `UPDATE`
    /// alone in autocommit, one round trip.
    OneStatement,
}

impl TradeForm {
    /// The form's name in flags and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "transactional",
            Self::OneStatement => "one-statement",
        }
    }
}

/// What a run does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bank's own database on the server, created if missing; never the
    /// database of the URL the bank is given.
    pub database: String,
    /// Threads trading at once, one pooled connection each.
    pub workers: usize,
    /// Players seeded; at least 2.
    pub players: usize,
    /// When to stop.
    pub limit: Limit,
    /// Coins each player starts with.
    pub initial_coins: i32,
    /// Goods each player starts with.
    pub initial_goods: i32,
    /// Largest amount of goods in one trade (amounts are drawn from `1..=max`).
    pub max_amount: i32,
    /// Largest price of one trade (prices are drawn from `1..=max`).
    pub max_price: i32,
    /// Players `0..hot_players` form a hot set (0: none, else at least 2).
    pub hot_players: usize,
    /// Chance (0 to 1) that each side of a trade is drawn from the hot set.
    pub hot_share: f64,
    /// Seed of the workers' random trades: each worker's sequence is then
    /// reproducible, their interleaving is not.
    pub seed: u64,
    /// Which trade form the workers call.
    pub trade: TradeForm,
    /// Give every trade a fresh idempotency key (player-core's `ledger`):
    /// a trade whose outcome was left unknown by a lost connection is sent
    /// again with its key on a new connection, which tells how it came out
    /// and applies it at most once. Transactional form only.
    pub keyed: bool,
    /// Retry policy of each trade.
    pub retry: RetryPolicy,
    /// `tidb_txn_mode` for every connection, on TiDB only.
    pub txn_mode: Option<TxnMode>,
    /// How long a worker waits for a connection (after a server restart, say)
    /// before the run is stopped.
    pub connect_timeout: Duration,
}

impl Default for Settings {
    /// The `player_bank` database, 4 workers, 100 players of 10,000 coins and
    /// 1,000 goods, 10 seconds, amounts up to 10 and prices up to 100, no hot
    /// set, the transactional trade, 10 s to get a connection.
    fn default() -> Self {
        Self {
            database: DEFAULT_DATABASE.to_owned(),
            workers: 4,
            players: 100,
            limit: Limit::Duration(Duration::from_secs(10)),
            initial_coins: 10_000,
            initial_goods: 1_000,
            max_amount: 10,
            max_price: 100,
            hot_players: 0,
            hot_share: 0.0,
            seed: 0,
            trade: TradeForm::Transactional,
            keyed: false,
            retry: RetryPolicy::default(),
            txn_mode: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Checks a bank database name: 1 to 64 ASCII letters, digits or
/// underscores, so that it can be spliced into DDL (which cannot bind names)
/// and means the same to every server. Public so that a command line can
/// refuse a bad name as a usage error, before connecting.
pub fn check_database_name(name: &str) -> Result<(), &'static str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err("the name must be 1 to 64 letters, digits or underscores");
    }
    Ok(())
}

impl Settings {
    /// Refuses what no server could make work, and database names that are
    /// not plain identifiers (the bank creates the database by name).
    pub(crate) fn validate(&self) -> Result<(), BankError> {
        check_database_name(&self.database).map_err(|reason| BankError::UnsafeDatabase {
            database: self.database.clone(),
            reason: reason.into(),
        })?;
        let bad = |m: String| Err(BankError::InvalidSettings(m));
        if self.workers == 0 {
            return bad("workers must be at least 1".into());
        }
        if !(2..=MAX_PLAYERS).contains(&self.players) {
            return bad(format!(
                "players must be between 2 and {MAX_PLAYERS}, got {}",
                self.players
            ));
        }
        if self.hot_players == 1 || self.hot_players > self.players {
            return bad(format!(
                "hot players must be 0 or between 2 and the number of players ({}), got {}",
                self.players, self.hot_players
            ));
        }
        if !(0.0..=1.0).contains(&self.hot_share) {
            return bad(format!(
                "hot share must be between 0 and 1, got {}",
                self.hot_share
            ));
        }
        if self.initial_coins < 0 || self.initial_goods < 0 {
            return bad("initial balances must not be negative".into());
        }
        if self.max_amount < 1 || self.max_price < 1 {
            return bad("the largest amount and price must be at least 1".into());
        }
        if self.keyed && self.trade == TradeForm::OneStatement {
            return bad(
                "keyed trades are transactional: one statement cannot also record a key".into(),
            );
        }
        if self.connect_timeout.is_zero() {
            return bad("the connection timeout must be positive".into());
        }
        match self.limit {
            Limit::Duration(d) if d.is_zero() => bad("the duration must be positive".into()),
            Limit::Trades(0) => bad("the number of trades must be positive".into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_bad_setting() {
        assert!(Settings::default().validate().is_ok());
        let invalid = |s: Settings| matches!(s.validate(), Err(BankError::InvalidSettings(_)));
        assert!(invalid(Settings {
            workers: 0,
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            players: 1,
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            hot_players: 1,
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            hot_players: 101,
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            hot_share: 1.5,
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            limit: Limit::Trades(0),
            ..Settings::default()
        }));
        assert!(invalid(Settings {
            keyed: true,
            trade: TradeForm::OneStatement,
            ..Settings::default()
        }));
    }

    #[test]
    fn database_names_must_be_plain_identifiers() {
        let long = "n".repeat(65);
        for name in ["", "a-b", "x`; DROP DATABASE test; --", long.as_str()] {
            let settings = Settings {
                database: name.to_owned(),
                ..Settings::default()
            };
            assert!(
                matches!(settings.validate(), Err(BankError::UnsafeDatabase { .. })),
                "{name:?} accepted"
            );
        }
    }
}
