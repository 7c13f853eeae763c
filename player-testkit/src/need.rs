//! What a test needs beyond a MySQL-protocol server, and skipping the tests
//! whose needs the server at hand does not meet, so that the suite runs on
//! TiDB, MySQL or MariaDB alike.
//!
//! Cargo's test runner has no runtime skip: a test that cannot run here calls
//! [`require!`](crate::require), which prints `skipped: <test>: <reason>` on
//! stderr (past the runner's capture, so every run shows it) and returns.
//! Count them with `grep -c '^skipped:'`. With `TEST_NO_SKIP=1` a skip fails
//! the test instead, for a run that must prove everything ran.

use std::io::Write;
use std::sync::OnceLock;

use diesel::prelude::*;

/// The kind of server behind a connection, read from `SELECT VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// TiDB (`8.0.11-TiDB-v8.5.1`): no triggers, no session counters,
    /// table locks off unless `enable-table-lock` is set.
    Tidb,
    /// MariaDB (`10.11.6-MariaDB-0+deb12u1`), the local stand-in for TiDB.
    MariaDb,
    /// MySQL, or any other server that speaks its protocol (`8.0.40`).
    MySql,
}

impl ServerKind {
    /// The kind a `VERSION()` string names. TiDB puts the MySQL version it
    /// speaks first (`8.0.11-TiDB-v8.5.1`); MariaDB older than 11 may be seen
    /// through a proxy as `5.5.5-10.11.6-MariaDB`.
    pub fn from_version(version: &str) -> Self {
        if player_admin::catalog::is_tidb(version) {
            Self::Tidb
        } else if version.contains("MariaDB") {
            Self::MariaDb
        } else {
            Self::MySql
        }
    }

    /// The kind of a connected server.
    pub fn of(conn: &mut MysqlConnection) -> QueryResult<Self> {
        player_admin::catalog::version(conn).map(|v| Self::from_version(&v))
    }

    /// The kind of the test server ([`test_server_url`](crate::test_server_url)),
    /// asked once per process.
    ///
    /// # Panics
    /// If the server cannot be reached, as [`TestDatabase`](crate::TestDatabase) does.
    pub fn of_test_server() -> Self {
        static KIND: OnceLock<ServerKind> = OnceLock::new();
        *KIND.get_or_init(|| {
            let url = crate::database::test_server_admin_url();
            let mut conn = MysqlConnection::establish(url.as_str()).unwrap_or_else(|e| {
                panic!("test server unreachable ({e}); start it with `scripts/local-db.sh start`")
            });
            Self::of(&mut conn).expect("SELECT VERSION()")
        })
    }

    /// The server's name as the skip lines say it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tidb => "TiDB",
            Self::MariaDb => "MariaDB",
            Self::MySql => "MySQL",
        }
    }
}

/// Something a test needs that not every server, or machine, has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A private `mariadbd` the test starts, stops, freezes (SIGSTOP) or
    /// configures (TLS): `mariadbd` on `PATH`, and a MariaDB test server, so
    /// that a run pointed at TiDB or MySQL tests that server and no other.
    PrivateMariaDb,
    /// The per-session command counters (`Com_*`, `Questions`) that tests
    /// count round trips and statements with. TiDB keeps none: its
    /// `SHOW SESSION STATUS` lists TLS facts, `Uptime` and `server_id`.
    SessionCounters,
    /// Triggers, with which tests inject errors. TiDB has none (its MySQL
    /// compatibility page lists triggers among the unsupported features).
    Triggers,
    /// `LOCK TABLES` from another session, with which tests hold a server's
    /// work. TiDB's table locks are off unless every TiDB instance's
    /// configuration sets `enable-table-lock` (docs.pingcap.com, "LOCK TABLES
    /// and UNLOCK TABLES").
    TableLocks,
    /// InnoDB's choice of deadlock victim: the transaction that changed fewer
    /// rows. TiDB instead fails the transaction whose lock request closes the
    /// cycle (docs.pingcap.com, "Handle Transaction Errors": the client that
    /// asks second gets error 1213).
    InnoDbDeadlockVictim,
    /// `CHECK` constraints that the server enforces. TiDB parses them and,
    /// from v7.2, enforces them only with `tidb_enable_check_constraint = ON`
    /// (docs.pingcap.com, "CHECK constraints"); this need asks the server.
    CheckConstraints,
    /// A server other than TiDB, for behaviour that is only refused elsewhere.
    NotTidb,
    /// The local MariaDB stand-in at `mysql://root@127.0.0.1:4000/`, whose
    /// output the documentation's console examples show.
    DocsServer,
}

/// The server the documentation's console examples show.
pub const DOCS_SERVER: &str = "mysql://root@127.0.0.1:4000/";

impl Need {
    /// Why the test cannot run here, or `None` when it can.
    pub fn unmet(self) -> Option<String> {
        let kind = ServerKind::of_test_server();
        if self == Self::CheckConstraints && kind == ServerKind::Tidb && tidb_enforces_checks() {
            return None;
        }
        self.unmet_on(kind, on_path("mariadbd"))
    }

    /// [`unmet`](Self::unmet) for a given server kind and whether `mariadbd`
    /// is on `PATH`: the decision alone, which unit tests check without a server.
    pub fn unmet_on(self, kind: ServerKind, have_mariadbd: bool) -> Option<String> {
        let server = kind.name();
        match self {
            Self::PrivateMariaDb if kind != ServerKind::MariaDb => Some(format!(
                "needs a private MariaDB server, started only beside a MariaDB test server; this one is {server}"
            )),
            Self::PrivateMariaDb if !have_mariadbd => {
                Some("needs a private MariaDB server, and mariadbd is not on PATH".into())
            }
            Self::SessionCounters if kind == ServerKind::Tidb => Some(
                "counts statements with the session counters (Com_*, Questions), which TiDB does not keep".into(),
            ),
            Self::Triggers if kind == ServerKind::Tidb => {
                Some("injects errors with a trigger, and TiDB has no triggers".into())
            }
            Self::TableLocks if kind == ServerKind::Tidb => Some(
                "holds the server's work with LOCK TABLES, which TiDB leaves off unless enable-table-lock is set".into(),
            ),
            Self::InnoDbDeadlockVictim if kind == ServerKind::Tidb => Some(
                "relies on InnoDB choosing the deadlock victim; TiDB fails the transaction that closes the cycle".into(),
            ),
            Self::CheckConstraints if kind == ServerKind::Tidb => Some(
                "needs CHECK constraints enforced, which TiDB does only with tidb_enable_check_constraint = ON".into(),
            ),
            Self::NotTidb if kind == ServerKind::Tidb => {
                Some("checks a refusal that only servers other than TiDB give".into())
            }
            Self::DocsServer if kind != ServerKind::MariaDb => Some(format!(
                "the examples show the output of the MariaDB stand-in; this server is {server}"
            )),
            Self::DocsServer if crate::test_server_url() != DOCS_SERVER => {
                Some(format!("the examples show {DOCS_SERVER}; the test server is another"))
            }
            _ => None,
        }
    }
}

/// Returns from the calling test, after printing `skipped: <test>: <reason>`,
/// when `need` ([`Need`]) is not met here.
///
/// ```ignore
/// player_testkit::require!(Need::PrivateMariaDb);
/// ```
#[macro_export]
macro_rules! require {
    ($need:expr) => {
        if let Some(reason) = $crate::need::Need::unmet($need) {
            $crate::need::skip(&reason);
            return;
        }
    };
}

/// Prints the skip line of the running test (named by its thread, as the
/// test runner names it), or fails the test when `TEST_NO_SKIP` is set.
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    assert!(
        std::env::var_os("TEST_NO_SKIP").is_none_or(|v| v.is_empty()),
        "{test} would be skipped (TEST_NO_SKIP is set): {reason}"
    );
    // Straight to the process's stderr: the runner captures `eprintln!`.
    let _ = writeln!(std::io::stderr().lock(), "skipped: {test}: {reason}");
}

/// True when the TiDB test server enforces `CHECK` constraints (a server too
/// old to have the variable does not).
fn tidb_enforces_checks() -> bool {
    #[derive(QueryableByName)]
    struct On {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        on: Option<String>,
    }
    let url = crate::database::test_server_admin_url();
    let Ok(mut conn) = MysqlConnection::establish(url.as_str()) else {
        return false;
    };
    diesel::sql_query("SELECT CAST(@@tidb_enable_check_constraint AS CHAR) AS `on`")
        .get_result::<On>(&mut conn)
        .ok()
        .and_then(|row| row.on)
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("ON"))
}

/// True when an executable named `name` is in one of `PATH`'s folders.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings_name_their_server() {
        for (version, kind) in [
            ("8.0.11-TiDB-v8.5.1", ServerKind::Tidb),
            ("5.7.25-TiDB-v7.5.0-serverless", ServerKind::Tidb),
            ("8.0.11-TiDB-v7.1.3-serverless", ServerKind::Tidb),
            ("10.11.19-MariaDB-0+deb12u1", ServerKind::MariaDb),
            ("5.5.5-10.11.6-MariaDB", ServerKind::MariaDb),
            ("11.4.2-MariaDB-log", ServerKind::MariaDb),
            ("8.0.40", ServerKind::MySql),
            ("8.4.3-0ubuntu0.24.04.1", ServerKind::MySql),
        ] {
            assert_eq!(ServerKind::from_version(version), kind, "{version}");
        }
    }

    #[test]
    fn tidb_skips_what_it_lacks_and_runs_the_rest() {
        let unmet = |need: Need| need.unmet_on(ServerKind::Tidb, true);
        for need in [
            Need::PrivateMariaDb,
            Need::SessionCounters,
            Need::Triggers,
            Need::TableLocks,
            Need::InnoDbDeadlockVictim,
            Need::CheckConstraints,
            Need::NotTidb,
            Need::DocsServer,
        ] {
            let reason = unmet(need).unwrap_or_else(|| panic!("{need:?} met on TiDB"));
            assert!(!reason.contains('\n'), "one line: {reason}");
        }
        assert!(unmet(Need::PrivateMariaDb).is_some_and(|r| r.ends_with("this one is TiDB")));
    }

    #[test]
    fn mysql_has_counters_triggers_and_locks_but_no_private_mariadb() {
        let unmet = |need: Need| need.unmet_on(ServerKind::MySql, true);
        for need in [
            Need::SessionCounters,
            Need::Triggers,
            Need::TableLocks,
            Need::InnoDbDeadlockVictim,
            Need::CheckConstraints,
            Need::NotTidb,
        ] {
            assert_eq!(unmet(need), None, "{need:?}");
        }
        assert!(unmet(Need::PrivateMariaDb).is_some());
        assert!(unmet(Need::DocsServer).is_some());
    }

    #[test]
    fn mariadb_without_mariadbd_skips_only_the_private_servers() {
        let kind = ServerKind::MariaDb;
        assert!(
            Need::PrivateMariaDb
                .unmet_on(kind, false)
                .is_some_and(|r| r.contains("mariadbd is not on PATH"))
        );
        assert_eq!(Need::PrivateMariaDb.unmet_on(kind, true), None);
        assert_eq!(Need::SessionCounters.unmet_on(kind, false), None);
        assert_eq!(Need::Triggers.unmet_on(kind, false), None);
    }
}
