//! The server's checks: kind and version, TLS, and the variables the trade's
//! retries and deadlines are tuned to. One `SHOW VARIABLES` reads them all;
//! a variable a server does not have is simply absent from its answer (so
//! MariaDB 10.11's `tx_isolation` stands in for `transaction_isolation`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use player_core::db::{DatabaseUrl, SslMode};

use super::{Check, DoctorError, Session};
use crate::catalog;

/// The variables the checks read, by the names the servers give them.
const VARIABLES: &[&str] = &[
    "transaction_isolation",
    "tx_isolation",
    "tidb_txn_mode",
    "tidb_retry_limit",
    "tidb_enable_check_constraint",
    "innodb_lock_wait_timeout",
    "time_zone",
    "system_time_zone",
];

/// Which server answered, from its `VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    TiDb,
    MariaDb,
    MySql,
}

impl Kind {
    fn of(version: &str) -> Self {
        if catalog::is_tidb(version) {
            Kind::TiDb
        } else if version.contains("MariaDB") {
            Kind::MariaDb
        } else {
            Kind::MySql
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::TiDb => "TiDB",
            Kind::MariaDb => "MariaDB",
            Kind::MySql => "MySQL",
        }
    }
}

/// What the server says about itself, read once for every check.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    pub(super) version: String,
    pub(super) kind: Kind,
    pub(super) tls_cipher: Option<String>,
    pub(super) tls_version: Option<String>,
    /// Variable values by lower-case name.
    pub(super) variables: BTreeMap<String, String>,
}

impl Facts {
    fn variable(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    /// `tidb_enable_check_constraint`, on TiDB: `None` where it does not exist.
    pub(super) fn tidb_check_constraint(&self) -> Option<bool> {
        self.variable("tidb_enable_check_constraint").map(is_on)
    }
}

#[derive(QueryableByName)]
struct Variable {
    #[diesel(sql_type = Text, column_name = "Variable_name")]
    name: String,
    #[diesel(sql_type = Text, column_name = "Value")]
    value: String,
}

/// Reads the version, the session's TLS and the variables of [`VARIABLES`].
pub(super) fn facts(session: &mut Session) -> Result<Facts, DoctorError> {
    let names = VARIABLES
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // The names are this module's constants, never input.
    let sql = format!("SHOW VARIABLES WHERE Variable_name IN ({names})");
    let (info, rows) = session
        .step(|c| {
            let info = catalog::server_info(c)?;
            let rows: Vec<Variable> = diesel::sql_query(sql).load(c)?;
            QueryResult::Ok((info, rows))
        })?
        .map_err(DoctorError::Server)?;
    Ok(Facts {
        kind: Kind::of(&info.version),
        version: info.version,
        tls_cipher: info.tls_cipher,
        tls_version: info.tls_version,
        variables: rows
            .into_iter()
            .map(|v| (v.name.to_ascii_lowercase(), v.value))
            .collect(),
    })
}

/// The server's rows, in the order `doctor` prints them; the `tidb_*` rows
/// only on TiDB.
pub(super) fn checks(facts: &Facts, url: &DatabaseUrl, stall: Duration) -> Vec<Check> {
    let mut checks = vec![
        server(&facts.version),
        tls(
            url.host(),
            is_loopback(url),
            facts.tls_cipher.as_deref(),
            facts.tls_version.as_deref(),
            url.tls().mode,
        ),
    ];
    if facts.kind == Kind::TiDb {
        checks.push(txn_mode(facts.variable("tidb_txn_mode")));
        checks.push(retry_limit(facts.variable("tidb_retry_limit")));
        checks.push(check_constraint_switch(facts.tidb_check_constraint()));
    }
    checks.push(isolation(
        facts
            .variable("transaction_isolation")
            .or(facts.variable("tx_isolation")),
    ));
    checks.push(lock_wait(facts.variable("innodb_lock_wait_timeout"), stall));
    checks.push(time_zone(
        facts.variable("time_zone"),
        facts.variable("system_time_zone"),
    ));
    checks
}

/// True for `ON`, `1` and `TRUE`, as servers spell a boolean variable.
fn is_on(value: &str) -> bool {
    matches!(value.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE")
}

/// True when the URL reaches the server without crossing a network: a Unix
/// socket, `localhost`, or a loopback address.
fn is_loopback(url: &DatabaseUrl) -> bool {
    url.port().is_none() || host_is_loopback(url.host())
}

fn host_is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The TiDB release in a `VERSION()` such as `8.0.11-TiDB-v7.5.1-serverless`.
fn tidb_release(version: &str) -> Option<(u32, u32)> {
    let after = version.split("-TiDB-v").nth(1)?;
    let mut parts = after.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn server(version: &str) -> Check {
    const NAME: &str = "server";
    let kind = Kind::of(version);
    let detail = format!("{}, VERSION() = {version}", kind.name());
    match (kind, tidb_release(version)) {
        (Kind::TiDb, Some(release)) if release < (5, 0) => Check::fail(
            NAME,
            format!(
                "{detail}: before v5.0, an UPDATE joining one table under two aliases (the trade's) could write a row wrongly (pingcap/tidb#20493)"
            ),
            "upgrade TiDB to v5.0 or later",
        ),
        _ => Check::pass(NAME, detail),
    }
}

fn tls(
    host: &str,
    loopback: bool,
    cipher: Option<&str>,
    version: Option<&str>,
    mode: SslMode,
) -> Check {
    const NAME: &str = "tls";
    const VERIFY: &str = "put ssl_mode=verify_identity&ssl_ca=/etc/ssl/certs/ca-certificates.crt (your CA bundle) in DATABASE_URL";
    match cipher {
        Some(cipher) => {
            let detail = format!(
                "encrypted ({cipher}{}), ssl_mode={mode}",
                version.map(|v| format!(", {v}")).unwrap_or_default()
            );
            if loopback || mode == SslMode::VerifyIdentity {
                Check::pass(NAME, detail)
            } else {
                Check::warn(
                    NAME,
                    format!(
                        "{detail}: the certificate's host name is not checked, so a man in the middle of the way to {host} goes unnoticed"
                    ),
                    VERIFY,
                )
            }
        }
        None if loopback => Check::pass(
            NAME,
            format!("plaintext to {host}, a loopback host (ssl_mode={mode})"),
        ),
        None => Check::warn(
            NAME,
            format!(
                "plaintext to {host}: the password and the data cross the network unencrypted (ssl_mode={mode})"
            ),
            format!("enable TLS on the server and {VERIFY}"),
        ),
    }
}

fn txn_mode(value: Option<&str>) -> Check {
    const NAME: &str = "tidb_txn_mode";
    const FIX: &str = "SET GLOBAL tidb_txn_mode = 'pessimistic'";
    match value.map(str::to_ascii_lowercase).as_deref() {
        Some("pessimistic") => Check::pass(
            NAME,
            "pessimistic (the default since v3.0.8): the trade's statements lock the rows they write, so opposite trades queue",
        ),
        Some(mode @ ("optimistic" | "")) => Check::warn(
            NAME,
            format!(
                "{}: conflicts surface at COMMIT as error 9007, which the trade retries; on a few hot players it retries often",
                if mode.is_empty() {
                    "'' (optimistic)"
                } else {
                    mode
                }
            ),
            FIX,
        ),
        Some(other) => Check::warn(NAME, format!("unknown mode {other:?}"), FIX),
        None => Check::warn(NAME, "this TiDB does not report tidb_txn_mode", FIX),
    }
}

fn retry_limit(value: Option<&str>) -> Check {
    const NAME: &str = "tidb_retry_limit";
    const FIX: &str = "SET GLOBAL tidb_retry_limit = 10";
    match value.map(|v| v.trim().parse::<i64>()) {
        Some(Ok(0)) => Check::warn(
            NAME,
            "0: TiDB never retries an optimistic autocommit statement itself, so every conflict of the one-statement trade reaches it as error 9007",
            FIX,
        ),
        Some(Ok(n)) => Check::pass(
            NAME,
            format!(
                "{n} (default 10): TiDB retries a conflicting optimistic autocommit statement, such as the one-statement trade's UPDATE, before answering 9007"
            ),
        ),
        _ => Check::warn(NAME, format!("unreadable value {value:?}"), FIX),
    }
}

fn check_constraint_switch(on: Option<bool>) -> Check {
    const NAME: &str = "tidb_enable_check_constraint";
    match on {
        Some(true) => Check::pass(NAME, "ON: CHECK constraints are created and enforced"),
        Some(false) => Check::warn(
            NAME,
            "OFF (the default): CREATE TABLE and ALTER TABLE skip CHECK constraints with a warning, so a player table created now has no non-negative balance constraints (the trade does not rely on them)",
            "SET GLOBAL tidb_enable_check_constraint = ON, then add the constraints (see player.checks)",
        ),
        None => Check::warn(
            NAME,
            "this TiDB (before v7.2) has no CHECK constraints at all (the trade does not rely on them)",
            "upgrade TiDB to v7.2 or later to have CHECK constraints",
        ),
    }
}

fn isolation(value: Option<&str>) -> Check {
    const NAME: &str = "isolation";
    const FIX: &str = "SET GLOBAL TRANSACTION ISOLATION LEVEL REPEATABLE READ";
    match value.map(str::to_ascii_uppercase).as_deref() {
        Some(level @ ("REPEATABLE-READ" | "READ-COMMITTED")) => Check::pass(
            NAME,
            format!(
                "{level}: the trade decides on rows it locks (UPDATE, SELECT ... FOR UPDATE), which read what is committed at either level"
            ),
        ),
        Some(level) => Check::warn(
            NAME,
            format!(
                "{level}: not a level the trade was tested at (REPEATABLE-READ, READ-COMMITTED)"
            ),
            FIX,
        ),
        None => Check::warn(
            NAME,
            "the server reports neither transaction_isolation nor tx_isolation",
            FIX,
        ),
    }
}

fn lock_wait(value: Option<&str>, stall: Duration) -> Check {
    const NAME: &str = "innodb_lock_wait_timeout";
    const FIX: &str = "SET GLOBAL innodb_lock_wait_timeout = 50";
    let stall_s = stall.as_secs_f64();
    match value.map(|v| v.trim().parse::<f64>()) {
        Some(Ok(wait)) if wait >= stall_s => Check::warn(
            NAME,
            format!(
                "{wait} s: a statement waiting for a lock is cut off by the stall deadline ({stall_s} s) before the server answers 1205, which the trade would retry"
            ),
            format!("{FIX}, or raise --stall-timeout above {wait}"),
        ),
        Some(Ok(wait)) => Check::pass(
            NAME,
            format!(
                "{wait} s (default 50): a trade blocked by a lock held elsewhere gets error 1205 after that long, within the stall deadline ({stall_s} s)"
            ),
        ),
        _ => Check::warn(NAME, format!("unreadable or missing ({value:?})"), FIX),
    }
}

fn time_zone(zone: Option<&str>, system: Option<&str>) -> Check {
    let zone = zone.unwrap_or("(not reported)");
    let system = system
        .map(|s| format!(" (system_time_zone = {s})"))
        .unwrap_or_default();
    Check::pass(
        "time_zone",
        format!("{zone}{system}: the player table holds no times, so nothing depends on it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn tidb_before_5_0_fails_for_the_self_join_update() {
        assert_eq!(tidb_release("8.0.11-TiDB-v7.5.1-serverless"), Some((7, 5)));
        assert_eq!(tidb_release("5.7.25-TiDB-v4.0.8"), Some((4, 0)));
        assert_eq!(tidb_release("10.11.6-MariaDB"), None);
        assert_eq!(server("5.7.25-TiDB-v4.0.8").status, Status::Fail);
        assert_eq!(server("8.0.11-TiDB-v5.0.0").status, Status::Pass);
        assert_eq!(server("10.11.6-MariaDB-0+deb12u1").status, Status::Pass);
        assert!(server("8.0.40").detail.starts_with("MySQL"));
    }

    #[test]
    fn plaintext_warns_only_off_loopback() {
        assert!(host_is_loopback("127.0.0.1") && host_is_loopback("[::1]"));
        assert!(host_is_loopback("localhost") && host_is_loopback("127.8.9.10"));
        assert!(!host_is_loopback("10.0.0.1") && !host_is_loopback("db.example.com"));
        let plain = |loopback| tls("h", loopback, None, None, SslMode::Preferred);
        assert_eq!(plain(true).status, Status::Pass);
        let remote = plain(false);
        assert_eq!(remote.status, Status::Warn);
        assert!(
            remote
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("ssl_mode=verify_identity"))
        );
        let tls_remote = |mode| {
            tls(
                "h",
                false,
                Some("TLS_AES_128_GCM_SHA256"),
                Some("TLSv1.3"),
                mode,
            )
        };
        assert_eq!(tls_remote(SslMode::VerifyIdentity).status, Status::Pass);
        assert_eq!(tls_remote(SslMode::Required).status, Status::Warn);
        assert!(
            tls_remote(SslMode::VerifyIdentity)
                .detail
                .contains("TLSv1.3")
        );
    }

    #[test]
    fn tidb_variables_warn_with_the_statement_that_fixes_them() {
        assert_eq!(txn_mode(Some("pessimistic")).status, Status::Pass);
        for optimistic in ["optimistic", ""] {
            let c = txn_mode(Some(optimistic));
            assert_eq!(c.status, Status::Warn, "{optimistic:?}");
            assert_eq!(
                c.hint.as_deref(),
                Some("SET GLOBAL tidb_txn_mode = 'pessimistic'")
            );
        }
        assert_eq!(retry_limit(Some("10")).status, Status::Pass);
        assert_eq!(retry_limit(Some("0")).status, Status::Warn);
        assert_eq!(retry_limit(Some("x")).status, Status::Warn);
        assert_eq!(check_constraint_switch(Some(true)).status, Status::Pass);
        let off = check_constraint_switch(Some(false));
        assert_eq!(off.status, Status::Warn);
        assert!(
            off.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("SET GLOBAL tidb_enable_check_constraint = ON"))
        );
        assert_eq!(check_constraint_switch(None).status, Status::Warn);
        assert!(is_on("ON") && is_on("1") && !is_on("OFF") && !is_on("0"));
    }

    #[test]
    fn isolation_and_lock_wait() {
        assert_eq!(isolation(Some("REPEATABLE-READ")).status, Status::Pass);
        assert_eq!(isolation(Some("read-committed")).status, Status::Pass);
        assert_eq!(isolation(Some("SERIALIZABLE")).status, Status::Warn);
        assert_eq!(isolation(None).status, Status::Warn);
        let stall = Duration::from_secs(65);
        assert_eq!(lock_wait(Some("50"), stall).status, Status::Pass);
        let long = lock_wait(Some("120"), stall);
        assert_eq!(long.status, Status::Warn);
        assert!(
            long.hint
                .as_deref()
                .is_some_and(|h| h.contains("--stall-timeout"))
        );
        assert_eq!(lock_wait(None, stall).status, Status::Warn);
        assert_eq!(time_zone(Some("SYSTEM"), Some("UTC")).status, Status::Pass);
    }
}
