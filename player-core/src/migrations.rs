//! The SQL migrations of `migrations/`, embedded in the binary at build time.

use diesel::mysql::MysqlConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration of the workspace's `migrations/` folder.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// A migration failed to apply.
#[derive(Debug, thiserror::Error)]
#[error("applying migrations failed: {0}")]
pub struct MigrationError(#[source] Box<dyn std::error::Error + Send + Sync>);

/// Applies the migrations not yet applied and returns their versions, oldest first.
pub fn run_pending(conn: &mut MysqlConnection) -> Result<Vec<String>, MigrationError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(MigrationError)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
