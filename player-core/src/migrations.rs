//! The SQL migrations of `migrations/`, embedded in the binary at build time,
//! so that a deployed binary can bring its database up to date by itself.

use diesel::migration::MigrationSource;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration of the workspace's `migrations/` folder.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// A migration failed to apply, or its state could not be read. The cause
/// is its source, so `{:#}` prints it once.
#[derive(Debug, thiserror::Error)]
#[error("cannot apply or read the migrations")]
pub struct MigrationError(#[source] Box<dyn std::error::Error + Send + Sync>);

/// One embedded migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Its folder name, e.g. `2026-11-24-000000_create_player`.
    pub name: String,
    /// Its version, the key Diesel records it under.
    pub version: String,
    /// Recorded as applied in the database.
    pub applied: bool,
}

/// Applies the migrations not yet applied and returns their versions, oldest first.
pub fn run_pending(conn: &mut MysqlConnection) -> Result<Vec<String>, MigrationError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(MigrationError)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Every embedded migration, oldest first, with its state in the
/// connection's database. Changes nothing: Diesel's own table is only read,
/// and not created when it is missing.
pub fn status(conn: &mut MysqlConnection) -> Result<Vec<MigrationStatus>, MigrationError> {
    let applied =
        crate::catalog::applied_migrations(conn).map_err(|e| MigrationError(Box::new(e)))?;
    let known = MigrationSource::<Mysql>::migrations(&MIGRATIONS).map_err(MigrationError)?;
    Ok(known
        .iter()
        .map(|m| {
            let version = m.name().version().to_string();
            MigrationStatus {
                name: m.name().to_string(),
                applied: applied.contains(&version),
                version,
            }
        })
        .collect())
}
