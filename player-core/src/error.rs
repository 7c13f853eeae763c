use crate::PlayerId;
use crate::players::MAX_BATCH_SIZE;

/// Errors of the player queries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `create` with an id the table already holds (the server's unique key
    /// said so, so this follows the column's collation: `a` and `a ` are one id).
    #[error("a player with id {0:?} already exists")]
    AlreadyExists(PlayerId),
    /// A bulk insert was asked for with a batch size outside `1..=MAX_BATCH_SIZE`.
    #[error("batch size must be between 1 and {MAX_BATCH_SIZE}, got {0}")]
    InvalidBatchSize(usize),
    /// The database refused or failed a statement.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}
