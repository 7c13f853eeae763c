//! The end of a run: the final balances read in one statement, the invariant
//! check and the reconciliation made on them, and the summary that
//! `bank --json` prints and the benchmark reads back.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::DefaultLoadingMode;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::schema::player;
use serde::{Deserialize, Serialize};

use crate::reconcile::{self, Book, Reconciliation};
use crate::setup::player_index;
use crate::workers::Report;
use crate::{BankError, Limit, Progress, Settings, TxnMode};

/// Totals of the `player` table that trades must leave as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Number of players.
    pub players: i64,
    /// Sum of all coins.
    pub coins: i64,
    /// Sum of all goods.
    pub goods: i64,
}

/// What the invariant check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What the totals must be.
    pub expected: Totals,
    /// What they are.
    pub found: Totals,
    /// The smallest coin balance.
    pub min_coins: i64,
    /// The smallest goods balance.
    pub min_goods: i64,
}

impl Check {
    /// True when totals are unchanged and no balance is negative.
    pub fn ok(&self) -> bool {
        self.violations().is_empty()
    }

    /// One line per broken invariant.
    pub fn violations(&self) -> Vec<String> {
        let (e, f) = (self.expected, self.found);
        let mut v = Vec::new();
        let mut compare = |what: &str, expected: i64, found: i64| {
            if expected != found {
                v.push(format!(
                    "{what}: expected {expected}, found {found} ({:+})",
                    found - expected
                ));
            }
        };
        compare("players", e.players, f.players);
        compare("total coins", e.coins, f.coins);
        compare("total goods", e.goods, f.goods);
        if self.min_coins < 0 {
            v.push(format!("a negative coin balance: {}", self.min_coins));
        }
        if self.min_goods < 0 {
            v.push(format!("a negative goods balance: {}", self.min_goods));
        }
        v
    }
}

/// Reads every player's balances in one statement (one consistent snapshot on
/// TiDB, MySQL and MariaDB), checks the totals and minimums against
/// `expected`, and reconciles each player's balances with its seed and the
/// trades of `book`.
///
/// The rows are read as they come, keeping each bank player's two balances (24
/// bytes a player: some 24 MB for a bank of a million players).
pub(crate) fn check(
    conn: &mut MysqlConnection,
    expected: &Totals,
    settings: &Settings,
    book: &Book,
) -> Result<(Check, Reconciliation), BankError> {
    let mut found = Totals {
        players: 0,
        coins: 0,
        goods: 0,
    };
    let (mut min_coins, mut min_goods) = (i64::MAX, i64::MAX);
    let mut balances: Vec<Option<(i64, i64)>> = vec![None; settings.players];
    let rows = player::table
        .select((player::id, player::coins, player::goods))
        .load_iter::<(String, i32, i32), DefaultLoadingMode>(conn)?;
    for row in rows {
        let (id, coins, goods) = row?;
        let (coins, goods) = (i64::from(coins), i64::from(goods));
        found.players += 1;
        found.coins += coins;
        found.goods += goods;
        min_coins = min_coins.min(coins);
        min_goods = min_goods.min(goods);
        // Any other row shows in the player count.
        if let Some(slot) = player_index(&id).and_then(|i| balances.get_mut(i)) {
            *slot = Some((coins, goods));
        }
    }
    let check = Check {
        expected: *expected,
        found,
        min_coins: if found.players == 0 { 0 } else { min_coins },
        min_goods: if found.players == 0 { 0 } else { min_goods },
    };
    let seed = (
        i64::from(settings.initial_coins),
        i64::from(settings.initial_goods),
    );
    let reconciliation = reconcile::reconcile(seed, book, &balances, reconcile::SEARCH_STEPS);
    Ok((check, reconciliation))
}

/// A finished run, as `player-cli bank --json` prints it (keys in this order)
/// and `player-bench` reads it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Threads that traded at once.
    pub workers: usize,
    /// Players seeded.
    pub players: usize,
    /// Wall time of the trading, in seconds.
    pub seconds: f64,
    /// The number of trades asked for, when the run was limited by count.
    pub trades_limit: Option<u64>,
    /// Seed of the random trades.
    pub seed: u64,
    /// `tidb_txn_mode` set for the sessions, if any.
    pub txn_mode: Option<String>,
    /// The trade form the workers called: `transactional` or `one-statement`.
    pub trade: String,
    /// Trades done.
    pub committed: u64,
    /// Trades refused for want of goods or coins.
    pub refused: u64,
    /// Retries (whole transactions, and reconnections before a commit).
    pub retried: u64,
    /// Trades that ended in an error, those of unknown outcome included.
    pub failed: u64,
    /// Trades whose connection was lost while `COMMIT` was on its way, and
    /// whose outcome stayed unknown (for a keyed run: could not be resolved).
    pub unknown_outcome: u64,
    /// Committed and refused trades per second.
    pub trades_per_sec: f64,
    /// Median latency of a trade, retries included, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Largest latency, in milliseconds.
    pub max_ms: f64,
    /// True when the check ran and found every invariant holding: the totals,
    /// no negative balance, and every player's balances reconciled with its
    /// trades.
    pub invariants_ok: bool,
    /// One line per broken invariant (the reconciliation's included).
    pub violations: Vec<String>,
    /// The first few distinct error messages.
    pub errors: Vec<String>,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// What the check found in the table (none when it could not run).
    pub totals: Option<Totals>,
    /// Every player's balances against its seed and its trades (none when the
    /// check could not run).
    #[serde(default)]
    pub reconciliation: Option<Reconciliation>,
    /// True when the run was stopped by [`Progress::request_stop`] (Ctrl-C)
    /// before its limit; the check ran all the same.
    #[serde(default)]
    pub interrupted: bool,
    /// Whether every trade had an idempotency key (`Settings::keyed`).
    #[serde(default)]
    pub keyed: bool,
    /// Keyed trades whose connection was lost while `COMMIT` was on its way,
    /// then resolved by sending them again with their key (counted as
    /// committed or refused).
    #[serde(default)]
    pub resolved_by_key: u64,
}

impl Summary {
    pub(crate) fn new(
        settings: &Settings,
        progress: &Progress,
        report: &Report,
        check: Option<&(Check, Reconciliation)>,
    ) -> Self {
        let reconciliation = check.map(|(_, r)| r);
        let check = check.map(|(c, _)| c);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (committed, refused) = (load(&progress.committed), load(&progress.refused));
        let seconds = report.elapsed.as_secs_f64();
        let ms = |q: f64| report.latency_us.value_at_quantile(q) as f64 / 1_000.0;
        Self {
            workers: settings.workers,
            players: settings.players,
            seconds,
            trades_limit: match settings.limit {
                Limit::Trades(n) => Some(n),
                Limit::Duration(_) => None,
            },
            seed: settings.seed,
            txn_mode: settings.txn_mode.map(|m| TxnMode::as_str(m).to_owned()),
            trade: settings.trade.as_str().to_owned(),
            committed,
            refused,
            retried: load(&progress.retried),
            failed: load(&progress.failed),
            unknown_outcome: load(&progress.unknown),
            trades_per_sec: if seconds > 0.0 {
                (committed + refused) as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            max_ms: ms(1.0),
            invariants_ok: check.is_some_and(Check::ok)
                && reconciliation.is_some_and(Reconciliation::ok),
            violations: check
                .map(Check::violations)
                .unwrap_or_default()
                .into_iter()
                .chain(
                    reconciliation
                        .map(Reconciliation::violations)
                        .unwrap_or_default(),
                )
                .collect(),
            errors: report.errors.clone(),
            aborted: report.aborted.clone(),
            totals: check.map(|c| c.found),
            reconciliation: reconciliation.cloned(),
            interrupted: report.interrupted,
            keyed: settings.keyed,
            resolved_by_key: load(&progress.resolved_by_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reports_every_violation() {
        let totals = Totals {
            players: 2,
            coins: 20,
            goods: 10,
        };
        let good = Check {
            expected: totals,
            found: totals,
            min_coins: 0,
            min_goods: 3,
        };
        assert!(good.ok());
        let bad = Check {
            found: Totals {
                coins: 25,
                ..totals
            },
            min_coins: -1,
            ..good
        };
        assert_eq!(
            bad.violations(),
            [
                "total coins: expected 20, found 25 (+5)",
                "a negative coin balance: -1"
            ]
        );
    }
}
