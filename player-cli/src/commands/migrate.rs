//! `migrate`: apply the pending migrations, then show which are applied.

use std::io::Write;

use clap::Args;
use player_core::db::{self, DatabaseUrl};
use player_core::migrations;
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

/// What `migrate --json` prints: `{"migrations":[...]}`.
#[derive(Debug, Serialize)]
pub struct MigrateJson {
    /// Every migration the binary knows, oldest first.
    pub migrations: Vec<Status>,
}

/// One migration as `migrate --json` and `setup --json` report it, keys in
/// this order: `name`, `version`, `applied`, `applied_now`.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Its folder name, e.g. `2026-11-24-000000_create_player`.
    pub name: String,
    /// Its version, the key in `__diesel_schema_migrations`.
    pub version: String,
    /// Applied before or by this run.
    pub applied: bool,
    /// Applied by this run.
    pub applied_now: bool,
}

/// Applies what is pending (unless `--status`) and prints every migration's state.
pub fn run(a: &MigrateArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let mut conn = db::connect(url)?;
    let applied_now = if a.status {
        Vec::new()
    } else {
        migrations::run_pending(&mut conn)?
    };
    let statuses: Vec<Status> = migrations::status(&mut conn)?
        .into_iter()
        .map(|m| Status {
            applied_now: applied_now.contains(&m.version),
            name: m.name,
            version: m.version,
            applied: m.applied,
        })
        .collect();
    if a.json {
        return super::write_json(
            out,
            &MigrateJson {
                migrations: statuses,
            },
        );
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
