use crate::PlayerId;
use crate::players::MAX_BATCH_SIZE;
use crate::retry::{ErrorClass, classify};

/// Errors of the player queries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `create` with an id the table already holds (the server's unique key
    /// said so, so this follows the column's collation: `a` and `a ` are one id).
    #[error("a player with id {0:?} already exists")]
    AlreadyExists(PlayerId),
    /// A balance below zero, refused before anything is sent: the table's
    /// CHECK constraints would refuse it too, but TiDB enforces them only with
    /// `tidb_enable_check_constraint` ON.
    #[error("balances cannot be negative (coins {coins}, goods {goods})")]
    NegativeBalance {
        /// Coins asked for.
        coins: i32,
        /// Goods asked for.
        goods: i32,
    },
    /// A bulk insert was asked for with a batch size outside `1..=MAX_BATCH_SIZE`.
    #[error("batch size must be between 1 and {MAX_BATCH_SIZE}, got {0}")]
    InvalidBatchSize(usize),
    /// The database refused or failed a statement.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl Error {
    /// True when the connection was lost with the statement in flight: whether
    /// a write sent in autocommit took effect is then unknown.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Self::Database(e) if classify(e) == ErrorClass::ConnectionLost)
    }
}
