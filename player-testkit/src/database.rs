//! A database per test, named so that a later run can tell when one was left
//! behind by a run that crashed, and drop it.

use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

/// Prefix of every database this crate creates: `player_test_<unix seconds>_<random>`.
pub const PREFIX: &str = "player_test_";

/// A test database older than this was left by a run that crashed (no test
/// runs this long), so the first test of a process drops it.
const LEFTOVER_AGE: Duration = Duration::from_secs(6 * 3600);

/// The server tests use: `TEST_DATABASE_URL`, else the local server on
/// `LOCAL_DB_PORT` (default 4000).
pub fn test_server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        let port = std::env::var("LOCAL_DB_PORT").unwrap_or_else(|_| "4000".into());
        format!("mysql://root@127.0.0.1:{port}/")
    })
}

/// [`test_server_url`] with its database part removed: what a connection
/// for server-wide questions uses.
pub(crate) fn test_server_admin_url() -> url::Url {
    let mut url = url::Url::parse(&test_server_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path("");
    url
}

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
        let mut url = test_server_admin_url();
        let mut admin = MysqlConnection::establish(url.as_str()).unwrap_or_else(|e| {
            panic!("test server unreachable ({e}); start it with `scripts/local-db.sh start`")
        });
        static SWEEP: Once = Once::new();
        SWEEP.call_once(|| sweep_leftovers(&mut admin));
        let name = format!(
            "{PREFIX}{}_{}",
            unix_seconds(),
            uuid::Uuid::new_v4().simple()
        );
        // A database name cannot be bound; this one is made of digits and hex.
        admin
            .batch_execute(&format!("CREATE DATABASE `{name}`"))
            .expect("create test database");
        url.set_path(&name);
        Self { name, url, admin }
    }

    /// Creates a database with the migrations applied, as the application's
    /// own start-up would leave it.
    pub fn migrated() -> Self {
        let db = Self::create();
        player_core::migrations::run_pending(&mut db.connect()).expect("apply the migrations");
        db
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A `mysql://` URL that selects this database.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The URL of the server, with no database selected.
    pub fn server_url(&self) -> String {
        let mut url = self.url.clone();
        url.set_path("");
        url.to_string()
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
        if let Err(e) = self.admin.batch_execute(&drop) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Drops the test databases that runs which crashed (or were killed) left
/// behind: those whose name says they are older than [`LEFTOVER_AGE`].
fn sweep_leftovers(admin: &mut MysqlConnection) {
    let Ok(names) = databases_starting_with(admin, PREFIX) else {
        return;
    };
    let cutoff = unix_seconds().saturating_sub(LEFTOVER_AGE.as_secs());
    for name in names {
        if created_at(&name).is_some_and(|t| t < cutoff) {
            // Another process may drop it at the same time: ignore failures.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
        }
    }
}

/// The databases whose name starts with `prefix`, byte for byte. The prefix
/// is compared here rather than in a `LIKE ... ESCAPE ?`: TiDB's grammar takes
/// only a string literal after `ESCAPE`, so a bound one is a syntax error there.
pub fn databases_starting_with(
    admin: &mut MysqlConnection,
    prefix: &str,
) -> QueryResult<Vec<String>> {
    use player_admin::catalog::schemata;
    let names: Vec<String> = schemata::table
        .select(schemata::schema_name)
        .order(schemata::schema_name)
        .load(admin)?;
    Ok(names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect())
}

/// When a test database was created, from its name.
fn created_at(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(PREFIX)?;
    let (seconds, random) = rest.split_once('_')?;
    (random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| seconds.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_this_crate_makes_carry_a_creation_time() {
        let random = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            created_at(&format!("player_test_1700000000_{random}")),
            Some(1_700_000_000)
        );
        for other in [
            "player_test_",
            "player_test_bank_42",
            "player_test_17_short",
            &format!("player_bench_1700000000_{random}"),
            &format!("player_test_x_{random}"),
        ] {
            assert_eq!(created_at(other), None, "{other}");
        }
    }
}
