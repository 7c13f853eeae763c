//! What a connection sent, from the server's per-session command counters
//! (`SHOW SESSION STATUS`, kept by MySQL and MariaDB; TiDB has none of them).

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;

/// The server's per-session command counters that tell what a client sent.
const COUNTERS: [&str; 11] = [
    "Com_set_option",
    "Com_insert",
    "Com_begin",
    "Com_commit",
    "Com_rollback",
    "Com_select",
    "Com_update",
    "Com_update_multi",
    "Com_stmt_prepare",
    "Com_stmt_execute",
    "Com_stmt_close",
];

/// Counter values by lower-case name (`com_select`...).
pub type SessionCounters = BTreeMap<String, f64>;

/// The session's [`COUNTERS`] (MySQL and MariaDB keep them; a server that does
/// not returns fewer or none).
pub fn session_counters(conn: &mut MysqlConnection) -> anyhow::Result<SessionCounters> {
    Ok(player_admin::catalog::session_counters(conn)?
        .into_iter()
        .filter(|(name, _)| COUNTERS.contains(&name.as_str()))
        .map(|(name, value)| (name.to_ascii_lowercase(), value as f64))
        .collect())
}

/// What one [`session_counters`] read adds to the counters itself (MariaDB
/// counts it as a SELECT), to subtract from a difference.
pub fn read_overhead(conn: &mut MysqlConnection) -> anyhow::Result<SessionCounters> {
    let first = session_counters(conn)?;
    let second = session_counters(conn)?;
    Ok(second
        .iter()
        .map(|(k, v)| (k.clone(), v - first.get(k).unwrap_or(v)))
        .collect())
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
    /// `None` when the server keeps no such counters, or `units` is 0.
    /// `after - before - overhead`, divided by `units`.
    pub fn between(
        before: &SessionCounters,
        after: &SessionCounters,
        overhead: &SessionCounters,
        units: usize,
    ) -> Option<Self> {
        if !after.contains_key("com_commit") || units == 0 {
            return None;
        }
        let sent = after
            .iter()
            .map(|(k, v)| {
                let sent = v - before.get(k).unwrap_or(&0.0) - overhead.get(k).unwrap_or(&0.0);
                (k.clone(), sent)
            })
            .collect();
        Self::from_deltas(&sent, units)
    }

    /// From counters already differenced (`com_select` → commands sent), such
    /// as `bench_peewee.py --print-counters` prints. Counters outside
    /// [`COUNTERS`] are ignored. `None` when `units` is 0 or nothing was sent.
    pub fn from_deltas(sent: &SessionCounters, units: usize) -> Option<Self> {
        if units == 0 {
            return None;
        }
        let per_unit: BTreeMap<String, f64> = sent
            .iter()
            .filter(|(k, _)| COUNTERS.iter().any(|c| c.eq_ignore_ascii_case(k)))
            .map(|(k, v)| {
                let k = k.to_ascii_lowercase();
                (k.trim_start_matches("com_").to_owned(), v / units as f64)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect();
        if per_unit.is_empty() {
            return None;
        }
        let get = |k: &str| per_unit.get(k).copied().unwrap_or(0.0);
        // A statement is BEGIN, COMMIT, ROLLBACK, or one SELECT, INSERT or UPDATE
        // (of one table, or several joined: `update_multi`), run as
        // text or as a prepared statement (the server counts the execution).
        // Round trips are the text statements, plus every PREPARE and EXECUTE,
        // plus the protocol's SET_OPTION commands (Diesel switches multi-statement
        // mode on and off around each text statement); COM_STMT_CLOSE has no reply.
        let statements = [
            "begin",
            "commit",
            "rollback",
            "select",
            "insert",
            "update",
            "update_multi",
        ]
        .into_iter()
        .map(get)
        .sum::<f64>();
        let text = statements - get("stmt_execute");
        let round_trips = text + get("set_option") + get("stmt_prepare") + get("stmt_execute");
        Some(Self {
            per_unit,
            statements,
            round_trips,
        })
    }
}

impl std::fmt::Display for CommandCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
    fn counts_per_unit_and_round_trips() {
        let none = BTreeMap::new();
        assert!(CommandCounts::between(&none, &none, &none, 1).is_none());
        let map = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        let before = map(&[("com_commit", 5.0), ("com_begin", 5.0), ("com_select", 9.0)]);
        // Two trades of: BEGIN as text with SET_OPTION on and off, a prepared
        // SELECT, COMMIT as text.
        let after = map(&[
            ("com_commit", 7.0),
            ("com_begin", 7.0),
            ("com_select", 11.0),
            ("com_set_option", 8.0),
            ("com_stmt_prepare", 2.0),
            ("com_stmt_execute", 2.0),
            ("com_stmt_close", 2.0),
        ]);
        // The read of `after` counted itself as one SELECT.
        let overhead = map(&[("com_select", 1.0)]);
        let after = {
            let mut a = after;
            *a.entry("com_select".into()).or_default() += 1.0;
            a
        };
        let c = CommandCounts::between(&before, &after, &overhead, 2).expect("counters");
        assert_eq!(c.statements, 3.0);
        assert_eq!(c.round_trips, 2.0 + 4.0 + 1.0 + 1.0);
        assert_eq!(
            c.to_string(),
            "BEGIN 1.0, COMMIT 1.0, SELECT 1.0, SET_OPTION 4.0, STMT_CLOSE 1.0, STMT_EXECUTE 1.0, STMT_PREPARE 1.0"
        );
    }

    #[test]
    fn deltas_as_peewee_prints_them() {
        // Two of the tutorial's trades: SELECT, SELECT, UPDATE, UPDATE, COMMIT,
        // COMMIT, all text; a counter we do not know is ignored.
        let sent: SessionCounters = [
            ("com_select", 4.0),
            ("com_update", 4.0),
            ("com_commit", 4.0),
            ("com_show_status", 3.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let c = CommandCounts::from_deltas(&sent, 2).expect("counts");
        assert_eq!((c.statements, c.round_trips), (6.0, 6.0));
        assert_eq!(c.to_string(), "COMMIT 2.0, SELECT 2.0, UPDATE 2.0");
        assert!(CommandCounts::from_deltas(&SessionCounters::new(), 2).is_none());
        assert!(CommandCounts::from_deltas(&sent, 0).is_none());
    }
}
