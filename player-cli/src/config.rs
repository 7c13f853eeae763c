//! Where the database URL comes from, and getting a migrated connection.

use anyhow::Context;
use diesel::mysql::MysqlConnection;
use player_core::db::{self, DatabaseUrl};

/// The URL from `--database-url`, else `DATABASE_URL` (environment, then `.env`),
/// else the tutorial's local server.
pub fn database_url(flag: Option<&str>) -> anyhow::Result<DatabaseUrl> {
    if let Some(url) = flag {
        return Ok(url.parse()?);
    }
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return Err(e).context("cannot read .env"),
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| db::DEFAULT_DATABASE_URL.into());
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
