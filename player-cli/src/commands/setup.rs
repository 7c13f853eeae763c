//! `setup`: create the database of the URL if it is missing, then apply the
//! migrations (what `diesel setup` does).

use std::io::Write;
use std::time::Duration;

use clap::Args;
use player_admin::catalog;
use player_core::db::DatabaseUrl;
use serde::Serialize;

use crate::commands::migrate::{self, Status};
use crate::text::Escaped;

/// Arguments of `setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Print a JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// What `setup --json` prints, keys in this order:
/// `{"database":"test","created":true,"migrations":[...]}`.
#[derive(Debug, Serialize)]
pub struct SetupJson<'a> {
    /// The database of the URL.
    pub database: &'a str,
    /// Whether this run created it.
    pub created: bool,
    /// Every migration, as `migrate --json` shows them.
    pub migrations: Vec<Status>,
}

/// What `setup` refuses before it connects.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The URL has no database path.
    #[error("the URL names no database: add one, as in mysql://root@127.0.0.1:4000/test")]
    NoDatabase,
}

/// Creates the URL's database if the server does not list it, applies the
/// pending migrations, and prints what it did. Each of the two is one step
/// given `stall` (see [`super::step`]).
pub fn run(
    a: &SetupArgs,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let name = url.database().ok_or(SetupError::NoDatabase)?;
    catalog::check_database_name(name)?;

    let mut server = player_guard::connect_guarded(&url.with_database(""))?;
    let created = super::step(&mut server, stall, |c| catalog::create_database(c, name))?;
    drop(server);
    let mut conn = player_guard::connect_guarded(url)?;
    let (statuses, adopted) = super::step(&mut conn, stall, migrate::apply)?;
    migrate::say_adopted(adopted.as_deref());
    if a.json {
        return super::write_json(
            out,
            &SetupJson {
                database: name,
                created,
                migrations: statuses,
            },
        );
    }
    if created {
        writeln!(out, "created database {}", Escaped(name))?;
    } else {
        writeln!(out, "database {} exists", Escaped(name))?;
    }
    migrate::print_statuses(out, &statuses)
}
