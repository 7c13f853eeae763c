//! What a connection sent, from the server's per-session command counters
//! (`SHOW SESSION STATUS`, kept by MySQL and MariaDB; TiDB has none of them).

use std::collections::BTreeMap;
use std::fmt;

use diesel::mysql::MysqlConnection;

/// The server's per-session command counters (`Com_...`) that tell what a client sent.
const COUNTERS: &str = "set_option insert begin commit rollback select update update_multi \
                        stmt_prepare stmt_execute stmt_close";

/// The commands that are SQL statements: BEGIN, COMMIT, ROLLBACK, or one SELECT,
/// INSERT or UPDATE (of one table, or several joined), as text or prepared (the
/// server counts the execution).
const STATEMENTS: &str = "begin commit rollback select insert update update_multi";

/// Whether `name` (`Com_select`, `com_select`) is one of [`COUNTERS`].
fn known(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.strip_prefix("com_")
        .is_some_and(|n| COUNTERS.split_whitespace().any(|c| c == n))
}

/// Counter values by lower-case name (`com_select`...).
pub type SessionCounters = BTreeMap<String, f64>;

/// The session's [`COUNTERS`] (a server that keeps none returns none).
pub fn session_counters(conn: &mut MysqlConnection) -> anyhow::Result<SessionCounters> {
    Ok(player_admin::catalog::session_counters(conn)?
        .into_iter()
        .filter(|(name, _)| known(name))
        .map(|(name, value)| (name.to_ascii_lowercase(), value as f64))
        .collect())
}

/// `after - before`, counter by counter, for the counters `after` holds.
pub fn difference(before: &SessionCounters, after: &SessionCounters) -> SessionCounters {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).unwrap_or(&0.0)))
        .collect()
}

/// What one [`session_counters`] read adds to the counters itself (MariaDB
/// counts it as a SELECT), to subtract from a difference.
pub fn read_overhead(conn: &mut MysqlConnection) -> anyhow::Result<SessionCounters> {
    let first = session_counters(conn)?;
    Ok(difference(&first, &session_counters(conn)?))
}

/// Runs `work` and returns what it returned with the commands it sent per unit
/// of `units`, from the counters of `conn` read around it.
pub fn counted<T>(
    conn: &mut MysqlConnection,
    overhead: &SessionCounters,
    units: usize,
    work: impl FnOnce(&mut MysqlConnection) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Option<CommandCounts>)> {
    let before = session_counters(conn)?;
    let result = work(conn)?;
    let sent = difference(overhead, &difference(&before, &session_counters(conn)?));
    Ok((result, CommandCounts::from_deltas(&sent, units)))
}

/// Commands per unit of work (a trade, a batch), from counter differences.
#[derive(Debug)]
pub struct CommandCounts {
    per_unit: BTreeMap<String, f64>,
    /// SQL statements per unit.
    pub statements: f64,
    /// Round trips per unit.
    pub round_trips: f64,
}

impl CommandCounts {
    /// From counters already differenced (`com_select` → commands sent), such
    /// as `bench_peewee.py --print-counters` prints; counters outside
    /// [`COUNTERS`] are ignored. `None` when `units` is 0 or nothing was sent.
    pub fn from_deltas(sent: &SessionCounters, units: usize) -> Option<Self> {
        let per_unit: BTreeMap<String, f64> = sent
            .iter()
            .filter(|(k, v)| **v > 0.0 && known(k))
            .map(|(k, v)| (k.to_ascii_lowercase()[4..].to_owned(), v / units as f64))
            .collect();
        if per_unit.is_empty() || units == 0 {
            return None;
        }
        let get = |k: &str| per_unit.get(k).copied().unwrap_or(0.0);
        let statements: f64 = STATEMENTS.split(' ').map(get).sum();
        // Round trips: the text statements, every PREPARE and EXECUTE, and the
        // protocol's SET_OPTION commands (Diesel switches multi-statement mode on
        // and off around each text statement); COM_STMT_CLOSE has no reply.
        let text = statements - get("stmt_execute");
        let round_trips = text + get("set_option") + get("stmt_prepare") + get("stmt_execute");
        Some(Self {
            per_unit,
            statements,
            round_trips,
        })
    }
}

impl fmt::Display for CommandCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .per_unit
            .iter()
            .map(|(k, v)| format!("{} {v:.1}", k.to_uppercase()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statements_and_round_trips_per_unit() {
        // Two trades of: BEGIN as text with SET_OPTION on and off, a prepared
        // SELECT, COMMIT as text; a counter we do not know is ignored.
        let sent = [
            ("com_commit", 2.0),
            ("com_begin", 2.0),
            ("Com_select", 2.0),
            ("com_set_option", 8.0),
        ];
        let more = [
            ("com_stmt_prepare", 2.0),
            ("com_stmt_execute", 2.0),
            ("com_show_status", 3.0),
        ];
        let sent: SessionCounters = sent
            .iter()
            .chain(&more)
            .map(|&(k, v)| (k.to_owned(), v))
            .collect();
        let c = CommandCounts::from_deltas(&sent, 2).expect("counts");
        assert_eq!((c.statements, c.round_trips), (3.0, 2.0 + 4.0 + 1.0 + 1.0));
        let shown =
            "BEGIN 1.0, COMMIT 1.0, SELECT 1.0, SET_OPTION 4.0, STMT_EXECUTE 1.0, STMT_PREPARE 1.0";
        assert_eq!(c.to_string(), shown);
        assert!(CommandCounts::from_deltas(&sent, 0).is_none());
    }
}
