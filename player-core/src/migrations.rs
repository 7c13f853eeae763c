//! The SQL migrations of `migrations/`, embedded in the binary at build time,
//! so that a deployed binary can bring its database up to date by itself.

use diesel::dsl::count_star;
use diesel::migration::MigrationSource;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration of the workspace's `migrations/` folder.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Name of the table in which Diesel records the applied migrations.
pub const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

diesel::table! {
    /// Diesel's record of applied migrations (created by the first migration run).
    __diesel_schema_migrations (version) {
        /// The migration's version.
        version -> VarChar,
        /// When it was applied.
        run_on -> Timestamp,
    }
}

diesel::table! {
    /// The server's list of tables (MySQL, MariaDB and TiDB alike).
    information_schema.tables (table_schema, table_name) {
        /// Database of the table.
        table_schema -> VarChar,
        /// Name of the table.
        table_name -> VarChar,
    }
}

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
    let applied = applied(conn).map_err(|e| MigrationError(Box::new(e)))?;
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

/// The migration versions recorded as applied in the connection's database.
/// Reads Diesel's table without creating it when it is missing (as Diesel's
/// own harness would), so asking changes nothing.
fn applied(conn: &mut MysqlConnection) -> QueryResult<Vec<String>> {
    let exists: i64 = tables::table
        .filter(
            tables::table_schema
                .nullable()
                .eq(diesel::dsl::sql::<Nullable<Text>>("DATABASE()")),
        )
        .filter(tables::table_name.eq(MIGRATIONS_TABLE))
        .select(count_star())
        .first(conn)?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    __diesel_schema_migrations::table
        .select(__diesel_schema_migrations::version)
        .order(__diesel_schema_migrations::version)
        .load(conn)
}
