//! `migrate`: apply the pending migrations, then show which are applied.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use diesel::mysql::MysqlConnection;
use player_core::db::DatabaseUrl;
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

/// Applies what is pending (unless `--status`) and prints every migration's
/// state; the database work is one step given `stall` (see [`super::step`]).
pub fn run(
    a: &MigrateArgs,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut conn = player_guard::connect_guarded(url)?;
    let (statuses, adopted) = if a.status {
        let read = super::read_step(&mut conn, stall, |c| statuses(c, &[]))?;
        (read, None)
    } else {
        super::step(&mut conn, stall, apply)?
    };
    say_adopted(adopted.as_deref());
    if a.json {
        return super::write_json(
            out,
            &MigrateJson {
                migrations: statuses,
            },
        );
    }
    print_statuses(out, &statuses)
}

/// Applies the pending migrations, one run at a time on the database,
/// adopting a `player` table made before Diesel recorded it
/// ([`player_admin::migrate`]); returns every migration's state, and the
/// name of the migration whose table was adopted.
pub fn apply(conn: &mut MysqlConnection) -> anyhow::Result<(Vec<Status>, Option<String>)> {
    let migrated = player_admin::migrate::migrate(conn)?;
    Ok((statuses(conn, &migrated.applied)?, migrated.adopted))
}

/// Says on stderr that the `player` table already there was adopted.
pub fn say_adopted(adopted: Option<&str>) {
    if let Some(name) = adopted {
        eprintln!(
            "adopted the player table already in the database as migration {name}: it has the migration's shape (recorded in {})",
            migrations::MIGRATIONS_TABLE
        );
    }
}

/// Every migration's state, `applied_now` being the versions this run applied.
pub fn statuses(conn: &mut MysqlConnection, applied_now: &[String]) -> anyhow::Result<Vec<Status>> {
    Ok(migrations::status(conn)?
        .into_iter()
        .map(|m| Status {
            applied_now: applied_now.contains(&m.version),
            name: m.name,
            version: m.version,
            applied: m.applied,
        })
        .collect())
}

/// One line per migration (`NAME  applied now|applied|pending`), then the counts.
pub fn print_statuses(out: &mut impl Write, statuses: &[Status]) -> anyhow::Result<()> {
    for s in statuses {
        let state = match (s.applied_now, s.applied) {
            (true, _) => "applied now",
            (false, true) => "applied",
            (false, false) => "pending",
        };
        writeln!(out, "{}  {state}", s.name)?;
    }
    let applied_now = statuses.iter().filter(|s| s.applied_now).count();
    let pending = statuses.iter().filter(|s| !s.applied).count();
    writeln!(out, "{applied_now} applied now, {pending} pending")?;
    Ok(())
}
