//! The benchmark's own database: created fresh, migrated, emptied between
//! measurements, and dropped at the end.

use anyhow::{Context, ensure};
use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::db::{self, DatabaseUrl};
use player_core::players;

/// Every benchmark database name starts with this, so the benchmark can never
/// drop a database it did not create.
pub const NAME_PREFIX: &str = "player_bench";

/// Whether `name` is one the benchmark may create and drop.
fn is_ours(name: &str) -> bool {
    name.starts_with(NAME_PREFIX)
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A migrated database for the benchmark, dropped when this value is dropped.
pub struct BenchDb {
    name: String,
    url: DatabaseUrl,
    conn: MysqlConnection,
}

impl BenchDb {
    /// Drops the database `name` if a previous run left it, creates it afresh and
    /// runs the migrations.
    pub fn create(server: &DatabaseUrl, name: &str) -> anyhow::Result<Self> {
        ensure!(
            is_ours(name),
            "the benchmark database name must start with `{NAME_PREFIX}` and hold only a-z, 0-9 and _"
        );
        let mut admin = db::connect(&server.with_database(""))?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS `{name}`")).execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE `{name}`")).execute(&mut admin)?;
        let url = server.with_database(name);
        let mut conn = db::connect(&url)?;
        player_core::migrations::run_pending(&mut conn)?;
        Ok(Self {
            name: name.to_owned(),
            url,
            conn,
        })
    }

    /// The URL of this database.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The benchmark's own connection to it.
    pub fn conn(&mut self) -> &mut MysqlConnection {
        &mut self.conn
    }

    /// Empties `player`.
    pub fn reset(&mut self) -> anyhow::Result<()> {
        self.conn
            .batch_execute("TRUNCATE TABLE `player`")
            .context("empty the player table")
    }

    /// Fails unless `player` holds exactly `expected` rows: a load that lost rows
    /// must not look fast.
    pub fn expect_count(&mut self, expected: usize, after: &str) -> anyhow::Result<()> {
        let found = players::count(&mut self.conn)?;
        let holds = usize::try_from(found).ok() == Some(expected);
        ensure!(
            holds,
            "{after}: the player table holds {found} rows, expected {expected}"
        );
        Ok(())
    }

    /// Drops the database `name` if it is one of the benchmark's; a failure is only reported.
    pub fn drop_other(&mut self, name: &str) {
        let drop = format!("DROP DATABASE IF EXISTS `{name}`");
        if !is_ours(name) {
            eprintln!("not dropping the database {name}: not the benchmark's");
        } else if let Err(e) = self.conn.batch_execute(&drop) {
            eprintln!("could not drop the database {name}: {e}");
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        self.drop_other(&name);
    }
}
