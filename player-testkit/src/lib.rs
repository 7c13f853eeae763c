//! A throw-away database for each test, so tests run in parallel against the
//! real server and leave nothing behind.
//!
//! The server comes from `TEST_DATABASE_URL` (its database part is ignored),
//! by default the local one started by `scripts/local-db.sh start` (on
//! `LOCAL_DB_PORT`, 4000 unless set).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failing loudly is the point

mod server;

pub use server::PrivateServer;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

/// The server tests use: `TEST_DATABASE_URL`, else the local server on
/// `LOCAL_DB_PORT` (default 4000).
pub fn test_server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        let port = std::env::var("LOCAL_DB_PORT").unwrap_or_else(|_| "4000".into());
        format!("mysql://root@127.0.0.1:{port}/")
    })
}

/// Prefix of every database this crate creates.
pub const PREFIX: &str = "player_test_";

/// A database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    name: String,
    url: url::Url,
    admin: MysqlConnection,
}

impl TestDatabase {
    /// Creates an empty database with a unique name.
    ///
    /// # Panics
    /// If the server cannot be reached: start it with `scripts/local-db.sh start`.
    pub fn create() -> Self {
        let mut url = url::Url::parse(&test_server_url()).expect("TEST_DATABASE_URL is a URL");
        url.set_path("");
        let mut admin = MysqlConnection::establish(url.as_str()).unwrap_or_else(|e| {
            panic!("test server unreachable ({e}); start it with `scripts/local-db.sh start`")
        });
        let name = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE `{name}`"))
            .execute(&mut admin)
            .expect("create test database");
        url.set_path(&name);
        Self { name, url, admin }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `mysql://` URL that selects this database.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// A new connection to this database.
    pub fn connect(&self) -> MysqlConnection {
        MysqlConnection::establish(self.url()).expect("connect to test database")
    }

    /// A connection with no database selected, for server-wide statements.
    pub fn admin(&mut self) -> &mut MysqlConnection {
        &mut self.admin
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        if let Err(e) = diesel::sql_query(drop).execute(&mut self.admin) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
