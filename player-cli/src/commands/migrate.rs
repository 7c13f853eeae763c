//! `migrate`: apply the pending migrations, then show which are applied.

use std::io::Write;

use clap::Args;
use diesel::dsl::count_star;
use diesel::migration::MigrationSource;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use player_core::db::{self, DatabaseUrl};
use player_core::migrations::{self, MIGRATIONS};
use serde::Serialize;

/// Arguments of `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only show the status; apply nothing.
    #[arg(long)]
    pub status: bool,
    /// Print a JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// One migration as `migrate` reports it.
#[derive(Debug, Serialize)]
struct Status {
    /// Its folder name, e.g. `2026-11-24-000000_create_player`.
    name: String,
    /// Its version, the key in `__diesel_schema_migrations`.
    version: String,
    /// Applied before or by this run.
    applied: bool,
    /// Applied by this run.
    applied_now: bool,
}

/// Applies what is pending (unless `--status`) and prints every migration's state.
pub fn run(a: &MigrateArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let mut conn = db::connect(url)?;
    let applied_now = if a.status {
        Vec::new()
    } else {
        migrations::run_pending(&mut conn)?
    };
    let applied = applied_versions(&mut conn)?;
    let known = MigrationSource::<Mysql>::migrations(&MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("cannot read the embedded migrations: {e}"))?;
    let statuses: Vec<Status> = known
        .iter()
        .map(|m| {
            let version = m.name().version().to_string();
            Status {
                name: m.name().to_string(),
                applied: applied.contains(&version),
                applied_now: applied_now.contains(&version),
                version,
            }
        })
        .collect();
    if a.json {
        return super::write_json(out, &serde_json::json!({ "migrations": statuses }));
    }
    for s in &statuses {
        let state = match (s.applied_now, s.applied) {
            (true, _) => "applied now",
            (false, true) => "applied",
            (false, false) => "pending",
        };
        writeln!(out, "{}  {state}", s.name)?;
    }
    let pending = statuses.iter().filter(|s| !s.applied).count();
    writeln!(
        out,
        "{} applied now, {} pending",
        applied_now.len(),
        pending
    )?;
    Ok(())
}

diesel::table! {
    /// Diesel's record of applied migrations.
    __diesel_schema_migrations (version) {
        /// The migration's version.
        version -> VarChar,
        /// When it was applied.
        run_on -> Timestamp,
    }
}

diesel::table! {
    /// The server's list of tables.
    information_schema.tables (table_name) {
        /// Database of the table.
        table_schema -> VarChar,
        /// Name of the table.
        table_name -> VarChar,
    }
}

/// The versions recorded as applied, without creating Diesel's table when it
/// is missing (so `--status` changes nothing).
fn applied_versions(conn: &mut MysqlConnection) -> QueryResult<Vec<String>> {
    let exists: i64 = tables::table
        .filter(
            tables::table_schema.eq(diesel::dsl::sql::<diesel::sql_types::VarChar>("DATABASE()")),
        )
        .filter(tables::table_name.eq("__diesel_schema_migrations"))
        .select(count_star())
        .first(conn)?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    __diesel_schema_migrations::table
        .select(__diesel_schema_migrations::version)
        .load(conn)
}
