//! Where the database URL comes from, and getting a migrated connection.

use anyhow::Context;
use diesel::mysql::MysqlConnection;
use player_core::db::{self, DatabaseUrl};

/// The URL from `--database-url`, else `DATABASE_URL` (environment, then `.env`),
/// else the tutorial's local server.
pub fn database_url(flag: Option<&str>) -> anyhow::Result<DatabaseUrl> {
    if let Some(url) = flag {
        return parse(url, "--database-url");
    }
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return Err(e).context("cannot read .env"),
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) => parse(&url, "DATABASE_URL"),
        Err(_) => parse(db::DEFAULT_DATABASE_URL, "the default URL"),
    }
}

/// Parses a URL, refusing an empty one with a message that says where it was.
fn parse(url: &str, from: &str) -> anyhow::Result<DatabaseUrl> {
    if url.trim().is_empty() {
        let default = db::DEFAULT_DATABASE_URL;
        if from == "DATABASE_URL" {
            anyhow::bail!(
                "DATABASE_URL is set but empty: set it to a URL, or unset it to use {default}"
            );
        }
        anyhow::bail!("{from} is empty: give a URL such as {default}");
    }
    Ok(url.parse()?)
}

/// Connects and applies the migrations not yet applied.
pub fn connect_and_migrate(url: &DatabaseUrl) -> anyhow::Result<MysqlConnection> {
    let mut conn = db::connect(url)?;
    let applied = player_core::migrations::run_pending(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(conn)
}
