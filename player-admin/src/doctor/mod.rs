//! `player-cli doctor`: the assumptions the code depends on, checked against
//! the user's server, one [`Check`] each, PASS, WARN or FAIL, with a hint
//! naming the setting or statement that fixes it.
//!
//! Three groups, in this order:
//!
//! - the server (`server.rs`): its kind and version, TLS, and the variables the
//!   trade's retries and deadlines are tuned to (`tidb_txn_mode`,
//!   `tidb_retry_limit`, `tidb_enable_check_constraint`, the isolation level,
//!   `innodb_lock_wait_timeout`, the time zone);
//! - the URL's database (`table.rs`): the migrations, and the `player` table's
//!   id collation, balance types and CHECK constraints, read from
//!   `information_schema` without changing anything;
//! - behaviour (`scratch.rs`), in a database of its own that is created and
//!   dropped: ids that differ in trailing spaces are one row, a CHECK
//!   constraint is enforced, the joined `UPDATE` reports two rows, and two
//!   opposite trades both complete without a deadlock.
//!
//! Every statement runs under the caller's stall deadline. A check whose
//! statement the server refuses (a missing privilege, say) becomes a FAIL row
//! saying so, and the others still run; only a connection that cannot be
//! opened or that stalls ends the run with an error.

mod scratch;
mod server;
mod table;

use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::result::Error as DieselError;
use player_core::db::{ConnectError, DatabaseUrl};
use player_guard::{GuardedConnection, connect_guarded};
use serde::Serialize;

/// Prefix of the scratch databases doctor creates: `player_doctor_<16 hex digits>`.
pub const SCRATCH_PREFIX: &str = "player_doctor_";

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server behaves as the code expects.
    Pass,
    /// The code works, but less well or with less protection than it could.
    Warn,
    /// An assumption the code depends on does not hold: fix it before use.
    Fail,
}

impl Status {
    /// `PASS`, `WARN` or `FAIL`, as the text output prints it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One check: what was looked at, how it came out, what was seen, and (for
/// WARN and FAIL) what fixes it. `--json` prints these fields in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable name, e.g. `player.id` or `tidb_txn_mode`.
    pub name: &'static str,
    /// PASS, WARN or FAIL.
    pub status: Status,
    /// What the server said or did.
    pub detail: String,
    /// The setting or statement that fixes a WARN or FAIL; `None` on PASS.
    pub hint: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Pass,
            detail: detail.into(),
            hint: None,
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    /// The row for a check whose statement the server refused.
    fn refused(name: &'static str, error: &DieselError) -> Self {
        Self::fail(
            name,
            format!("could not check: {error}"),
            "grant the user the privilege this statement needs, or run doctor as a user that has it",
        )
    }
}

/// Every check that ran, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when at least one check failed: `doctor` then exits 1.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// How many checks came out `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// What [`run`] needs besides the URL.
#[derive(Debug, Clone)]
pub struct Options {
    /// Name of the scratch database to create and drop; [`scratch_name`]
    /// makes one. Chosen by the caller so that it can say which database it
    /// is about to change before anything connects.
    pub scratch: String,
    /// How long any one step may wait for the server before the connection
    /// is shut down and the run ends with [`DoctorError::Stalled`].
    pub stall: Duration,
}

/// Why [`run`] ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// A connection could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server did not answer a step within the stall deadline (the
    /// duration); the connection was shut down, and the checks stopped.
    #[error(
        "the server did not answer a check within {} s: the checks stopped and the connection was shut down",
        .0.as_secs_f64()
    )]
    Stalled(Duration),
    /// The server refused to say what it is (its version, its variables).
    #[error("cannot read the server's version and variables: {0}")]
    Server(#[source] DieselError),
}

/// A fresh scratch database name, `player_doctor_` and 16 random hex digits,
/// so that two runs on one server never share one.
pub fn scratch_name() -> String {
    format!("{SCRATCH_PREFIX}{:016x}", rand::random::<u64>())
}

/// Runs every check against the server of `url` (and its database, when the
/// URL names one). Creates the scratch database `options.scratch` and drops
/// it before returning, whatever happened in between.
pub fn run(url: &DatabaseUrl, options: &Options) -> Result<Report, DoctorError> {
    let mut checks = Vec::new();
    let mut main = Session::open(url, options.stall)?;
    let facts = server::facts(&mut main)?;
    checks.extend(server::checks(&facts, url, options.stall));
    match url.database() {
        Some(database) => checks.extend(table::checks(&mut main, database, &facts)?),
        None => checks.push(Check::warn(
            "database",
            "the URL names no database, so no `player` table was checked",
            "add the application's database to the URL, as in mysql://root@127.0.0.1:4000/test",
        )),
    }
    drop(main);
    checks.extend(scratch::checks(url, options, &facts)?);
    Ok(Report { checks })
}

/// A connection whose every step is bounded by the stall deadline.
struct Session {
    conn: GuardedConnection,
    stall: Duration,
}

impl Session {
    fn open(url: &DatabaseUrl, stall: Duration) -> Result<Self, DoctorError> {
        Ok(Self {
            conn: connect_guarded(url)?,
            stall,
        })
    }

    /// Runs `op` within the deadline. The outer error (a stall: the
    /// connection is shut down) ends the run; the inner one is the server
    /// refusing a statement, which the caller turns into a row.
    fn step<T, E>(
        &mut self,
        op: impl FnOnce(&mut MysqlConnection) -> Result<T, E>,
    ) -> Result<Result<T, E>, DoctorError> {
        let result = self.conn.within(self.stall, op);
        match self.conn.stalled() {
            Some(after) => Err(DoctorError::Stalled(after)),
            None => Ok(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_are_fresh_and_valid_database_names() {
        let (a, b) = (scratch_name(), scratch_name());
        assert_ne!(a, b);
        assert!(a.starts_with(SCRATCH_PREFIX), "{a}");
        assert_eq!(a.len(), SCRATCH_PREFIX.len() + 16);
        assert_eq!(crate::catalog::check_database_name(&a), Ok(()));
    }

    #[test]
    fn a_report_fails_only_on_a_fail() {
        let mut report = Report {
            checks: vec![Check::pass("a", "ok"), Check::warn("b", "meh", "fix")],
        };
        assert!(!report.failed());
        assert_eq!(
            (report.count(Status::Pass), report.count(Status::Warn)),
            (1, 1)
        );
        report.checks.push(Check::fail("c", "bad", "fix"));
        assert!(report.failed());
    }

    #[test]
    fn json_has_lowercase_statuses_and_a_null_hint_on_pass() {
        let json = serde_json::to_string(&Check::pass("tls", "TLSv1.3")).expect("JSON");
        assert_eq!(
            json,
            r#"{"name":"tls","status":"pass","detail":"TLSv1.3","hint":null}"#
        );
        let json = serde_json::to_string(&Check::fail("x", "bad", "fix it")).expect("JSON");
        assert!(json.contains(r#""status":"fail""#) && json.ends_with(r#""hint":"fix it"}"#));
    }
}
