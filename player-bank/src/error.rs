use player_core::db::ConnectError;

/// Errors of the bank workload.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// A setting no server could make work.
    #[error("invalid bank settings: {0}")]
    InvalidSettings(String),
    /// The database named for the bank could hold someone's data.
    #[error("refusing to use database `{database}` for the bank: {reason}")]
    UnsafeDatabase {
        /// The database.
        database: String,
        /// Why.
        reason: String,
    },
    /// A transaction mode was asked of a server that is not TiDB.
    #[error("the transaction mode can only be set on TiDB; this server is {version}")]
    NotTiDB {
        /// What `SELECT VERSION()` answered.
        version: String,
    },
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// No connection could be had from the pool for the final check.
    #[error("cannot connect to check the invariants")]
    Unreachable(#[source] diesel::r2d2::PoolError),
    /// Applying the migrations failed.
    #[error(transparent)]
    Migration(#[from] player_core::migrations::MigrationError),
    /// A statement failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Seeding failed.
    #[error(transparent)]
    Players(#[from] player_core::Error),
}
