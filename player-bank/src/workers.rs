//! The workers: each takes a pooled connection and trades at random until the
//! run's limit (or a stop request), counting outcomes as they go and recording
//! each acknowledged or unknown trade in the run's [`Ledger`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::r2d2::PooledConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hdrhistogram::Histogram;
use player_core::ledger::{self, IdempotencyKey, KeyedTradeError};
use player_core::retry::RetryPolicy;
use player_core::{Trade, TradeError, TradeOutcome, Traded, TransactionError};
use player_guard::{GuardedManager, Pool};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::reconcile::{IndexedTrade, Ledger};
use crate::{Limit, Settings, player_id};

/// Distinct error messages kept for the summary.
const KEPT_ERRORS: usize = 5;

/// The trade function a run calls: [`player_core::trade()`]'s signature.
pub type TradeFn =
    dyn Fn(&mut MysqlConnection, &Trade, &RetryPolicy) -> Result<Traded, TradeError> + Sync;

/// Counts of a run so far, updated by the workers as they go, for a progress
/// display to read while the run goes on; and the one thing that flows the
/// other way, a request to stop ([`request_stop`](Self::request_stop)).
#[derive(Debug, Default)]
pub struct Progress {
    /// Trades done.
    pub committed: AtomicU64,
    /// Trades refused for want of goods or coins.
    pub refused: AtomicU64,
    /// Retries (of whole transactions, and reconnections before a commit).
    pub retried: AtomicU64,
    /// Trades that ended in an error (those with an unknown outcome included).
    pub failed: AtomicU64,
    /// Trades whose connection was lost during `COMMIT`, and whose outcome
    /// stayed unknown.
    pub unknown: AtomicU64,
    /// Keyed trades whose outcome a lost `COMMIT` left unknown, then learnt
    /// by sending them again with their key.
    pub resolved_by_key: AtomicU64,
    /// Players seeded so far, before the trades start.
    pub seeded: AtomicU64,
    /// Set while the players are seeded (the table emptied, then filled), in
    /// batches between which a stop request is looked at.
    pub seeding: AtomicBool,
    /// Set when the workers start trading (seeding and the pool are done).
    pub trading: AtomicBool,
    /// Set by [`request_stop`](Self::request_stop).
    stop: AtomicBool,
}

impl Progress {
    /// Trades finished so far, however they ended.
    pub fn finished(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
            + self.refused.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
    }

    /// Asks the run to stop early, from another thread (a Ctrl-C handler, say):
    /// each worker finishes the trade in flight and starts no other, then the
    /// check runs as usual, and the summary says `interrupted`. Nothing is left
    /// half-applied: a trade is one transaction. A request made while the
    /// players are seeded stops the seeding after the batch in flight
    /// ([`BankError::StoppedSeeding`](crate::BankError::StoppedSeeding)).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether [`request_stop`](Self::request_stop) was called.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// What the workers found besides their [`Progress`] counts.
pub(crate) struct Report {
    /// Wall time of the run.
    pub(crate) elapsed: Duration,
    /// Latency of each finished trade (retries included), in microseconds.
    pub(crate) latency_us: Histogram<u64>,
    /// The first few distinct error messages.
    pub(crate) errors: Vec<String>,
    /// Why the run stopped early, if it did (the server could not be reached).
    pub(crate) aborted: Option<String>,
    /// True when the run stopped on [`Progress::request_stop`] before its limit.
    pub(crate) interrupted: bool,
}

/// Runs the workers to the settings' limit and gathers what they found.
///
/// Each worker holds one pooled connection. A trade whose connection was lost
/// before `COMMIT` is run again on a new connection (it counts as a retry); one
/// whose connection was lost during `COMMIT` counts as failed and unknown,
/// unless it is keyed: then it is sent again with its key on a new connection,
/// which returns its outcome and applies it at most once (it counts as a retry,
/// and as resolved by key). A worker that cannot get a connection within the
/// pool's timeout stops the run.
/// Each trade reported done, and each of unknown outcome, goes to `ledger`.
pub(crate) fn run(
    pool: &Pool,
    settings: &Settings,
    progress: &Progress,
    trade: &TradeFn,
    ledger: &Ledger,
) -> Report {
    let shared = Shared {
        pool,
        settings,
        progress,
        trade,
        ledger,
        started: Instant::now(),
        issued: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        interrupted: AtomicBool::new(false),
    };
    progress.trading.store(true, Ordering::Relaxed);
    let results: Vec<WorkerResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..settings.workers)
            .map(|w| {
                let shared = &shared;
                s.spawn(move || shared.worker(w))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| WorkerResult::panicked()))
            .collect()
    });
    let elapsed = shared.started.elapsed();
    let mut latency_us = new_histogram();
    let mut errors: Vec<String> = Vec::new();
    let mut aborted = None;
    for r in results {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = latency_us.add(&r.latency_us);
        for e in r.errors {
            if errors.len() < KEPT_ERRORS && !errors.contains(&e) {
                errors.push(e);
            }
        }
        aborted = aborted.or(r.aborted);
    }
    Report {
        elapsed,
        latency_us,
        errors,
        aborted,
        interrupted: shared.interrupted.into_inner(),
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits: constants that cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// What one worker brings back.
struct WorkerResult {
    latency_us: Histogram<u64>,
    errors: Vec<String>,
    aborted: Option<String>,
}

impl WorkerResult {
    fn panicked() -> Self {
        Self {
            latency_us: new_histogram(),
            errors: Vec::new(),
            aborted: Some("a worker panicked".into()),
        }
    }
}

/// State the workers share.
struct Shared<'a> {
    pool: &'a Pool,
    settings: &'a Settings,
    progress: &'a Progress,
    trade: &'a TradeFn,
    ledger: &'a Ledger,
    started: Instant,
    issued: AtomicU64,
    /// Set when a worker cannot get a connection: the run is aborted.
    stop: AtomicBool,
    /// Set when a worker saw [`Progress::request_stop`].
    interrupted: AtomicBool,
}

type Conn = PooledConnection<GuardedManager>;

impl Shared<'_> {
    /// Whether another trade may start.
    fn next_trade(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        if self.progress.stop_requested() {
            self.interrupted.store(true, Ordering::Relaxed);
            return false;
        }
        match self.settings.limit {
            Limit::Duration(d) => self.started.elapsed() < d,
            Limit::Trades(n) => self.issued.fetch_add(1, Ordering::Relaxed) < n,
        }
    }

    /// A player index, from the hot set with probability `hot_share`.
    fn pick(&self, rng: &mut StdRng) -> usize {
        let s = self.settings;
        if s.hot_players >= 2 && rng.random_bool(s.hot_share) {
            rng.random_range(0..s.hot_players)
        } else {
            rng.random_range(0..s.players)
        }
    }

    fn worker(&self, index: usize) -> WorkerResult {
        let s = self.settings;
        let mut rng =
            StdRng::seed_from_u64(s.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut result = WorkerResult {
            latency_us: new_histogram(),
            errors: Vec::new(),
            aborted: None,
        };
        let mut conn: Option<Conn> = None;
        while self.next_trade() {
            let seller = self.pick(&mut rng);
            let buyer = loop {
                let b = self.pick(&mut rng);
                if b != seller {
                    break b;
                }
            };
            let indexed = IndexedTrade {
                seller,
                buyer,
                amount: rng.random_range(1..=s.max_amount),
                price: rng.random_range(1..=s.max_price),
            };
            let (seller, buyer) = (player_id(seller), player_id(buyer));
            let trade = Trade {
                seller: &seller,
                buyer: &buyer,
                amount: indexed.amount,
                price: indexed.price,
            };

            // A fresh key per trade, kept across its re-sends.
            let key = s.keyed.then(IdempotencyKey::random);
            let start = Instant::now();
            let outcome = match self.trade_once(&mut conn, &trade, key.as_ref()) {
                Ok(outcome) => outcome,
                Err(aborted) => {
                    result.aborted = Some(aborted);
                    self.stop.store(true, Ordering::Relaxed);
                    break;
                }
            };
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            result.latency_us.saturating_record(micros.max(1));
            let progress = self.progress;
            match outcome {
                Ok(traded) => match traded.outcome {
                    TradeOutcome::Done => {
                        self.ledger.done(&indexed);
                        progress.committed.fetch_add(1, Ordering::Relaxed);
                    }
                    TradeOutcome::Refused(_) => {
                        progress.refused.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Err(e) => {
                    // Every other error applied nothing.
                    if matches!(
                        e,
                        TradeError::Transaction(TransactionError::OutcomeUnknown(_))
                    ) {
                        self.ledger.unknown(indexed);
                        progress.unknown.fetch_add(1, Ordering::Relaxed);
                    }
                    progress.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%e, "trade failed");
                    if result.errors.len() < KEPT_ERRORS {
                        result.errors.push(describe(&e, self.settings.trade));
                    }
                }
            }
        }
        result
    }

    /// One trade, taking a new connection when the last one was lost before
    /// `COMMIT` (or, for a keyed trade, during it). `Err` only when no
    /// connection can be had (the run must stop), unless a keyed trade's
    /// outcome is still to be learnt: then it ends unknown.
    fn trade_once(
        &self,
        conn: &mut Option<Conn>,
        trade: &Trade,
        key: Option<&IdempotencyKey>,
    ) -> Result<Result<Traded, TradeError>, String> {
        let policy = &self.settings.retry;
        let mut reconnects = 0;
        // The unknown outcome a keyed trade is being sent again to resolve.
        let mut unknown: Option<TradeError> = None;
        loop {
            let c = match conn {
                Some(c) => c,
                None => match self.pool.get() {
                    Ok(c) => conn.insert(c),
                    // Still no server: a keyed trade being resolved stays unknown.
                    Err(e) => {
                        return match unknown {
                            Some(unknown) => Ok(Err(unknown)),
                            None => Err(format!("cannot get a connection: {e}")),
                        };
                    }
                },
            };
            // A server that stops answering mid-trade is cut off at the
            // deadline: the trade then says what the lost connection means.
            let result = c.within(player_guard::deadline_for(policy), |c| match key {
                None => (self.trade)(c, trade, policy),
                Some(key) => keyed(c, key, trade, policy),
            });
            let retries = match &result {
                Ok(traded) => traded.retries,
                Err(TradeError::Transaction(
                    TransactionError::RetriesExhausted { retries, .. }
                    | TransactionError::TimeLimit { retries, .. },
                )) => *retries,
                Err(_) => 0,
            };
            self.progress
                .retried
                .fetch_add(u64::from(retries), Ordering::Relaxed);
            match result {
                Err(TradeError::Transaction(TransactionError::ConnectionLost(_)))
                    if reconnects < policy.max_retries =>
                {
                    *conn = None;
                    reconnects += 1;
                    self.progress.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(policy.backoff(reconnects));
                }
                // Safe to send again: the key makes it apply at most once.
                Err(e @ TradeError::Transaction(TransactionError::OutcomeUnknown(_)))
                    if key.is_some() && reconnects < policy.max_retries =>
                {
                    unknown = Some(e);
                    *conn = None;
                    reconnects += 1;
                    self.progress.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(policy.backoff(reconnects));
                }
                Ok(traded) if unknown.is_some() => {
                    self.progress
                        .resolved_by_key
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(Ok(traded));
                }
                other => {
                    if matches!(
                        other,
                        Err(TradeError::Transaction(
                            TransactionError::ConnectionLost(_)
                                | TransactionError::OutcomeUnknown(_)
                        ))
                    ) {
                        *conn = None;
                    }
                    // A keyed trade its re-sends could not resolve stays unknown.
                    return Ok(match (other, unknown) {
                        (Err(_), Some(unknown)) => Err(unknown),
                        (other, _) => other,
                    });
                }
            }
        }
    }
}

/// [`ledger::trade`] in the shape of a [`TradeFn`]'s result. With a fresh key
/// per trade the key can only be busy with this trade's own earlier run, whose
/// connection was lost: its outcome is still unknown.
fn keyed(
    conn: &mut MysqlConnection,
    key: &IdempotencyKey,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    match ledger::trade(conn, key, trade, policy) {
        Ok(traded) => Ok(Traded {
            outcome: traded.outcome,
            retries: traded.retries,
        }),
        Err(KeyedTradeError::Trade(e)) => Err(e),
        Err(e) => {
            let text = Box::new(e.to_string());
            let error = DieselError::DatabaseError(DatabaseErrorKind::Unknown, text);
            Err(TradeError::Transaction(match e {
                KeyedTradeError::InFlight(_) => TransactionError::OutcomeUnknown(error),
                _ => TransactionError::Failed(error),
            }))
        }
    }
}
/// A failed trade's error as the report shows it: the one-statement form has
/// no `COMMIT`, so its lost connection is said in its own words.
fn describe(e: &TradeError, form: crate::TradeForm) -> String {
    match (e, form) {
        (
            TradeError::Transaction(TransactionError::OutcomeUnknown(cause)),
            crate::TradeForm::OneStatement,
        ) => format!(
            "connection lost while the UPDATE ran in autocommit, the trade may or may not have been applied: {cause}"
        ),
        (e, _) => {
            // The chain, each cause once.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text = format!("{text}: {cause_text}");
                }
                source = cause.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn the_one_statement_form_says_its_own_words_for_a_lost_connection() {
        let lost = || {
            TradeError::Transaction(TransactionError::OutcomeUnknown(
                diesel::result::Error::BrokenTransactionManager,
            ))
        };
        let one = describe(&lost(), crate::TradeForm::OneStatement);
        assert!(
            one.starts_with("connection lost while the UPDATE ran in autocommit"),
            "{one}"
        );
        assert!(!one.contains("committing"), "{one}");
        let txn = describe(&lost(), crate::TradeForm::Transactional);
        assert!(txn.contains("while committing"), "{txn}");
    }
}
