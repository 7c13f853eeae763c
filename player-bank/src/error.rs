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
    /// Another run holds the bank database's lock: it is left alone.
    #[error(
        "another bank run is using database `{database}` (it holds the lock {lock}); this run changed nothing: wait for that one to end, or give this one another bank database"
    )]
    InUse {
        /// The bank database.
        database: String,
        /// The lock's name on the server.
        lock: String,
    },
    /// A stop was requested while the players were being seeded.
    #[error("stopped while seeding: {seeded} of {players} players seeded, no trade run")]
    StoppedSeeding {
        /// Players inserted so far.
        seeded: u64,
        /// Players asked for.
        players: usize,
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
    /// The bank database could not be migrated (another run migrating it, a
    /// `player` table of another shape).
    #[error(transparent)]
    Migrate(#[from] player_admin::migrate::MigrateError),
    /// A statement failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Seeding failed.
    #[error(transparent)]
    Players(#[from] player_core::Error),
}
