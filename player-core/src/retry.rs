//! When a failed transaction may be run again, and how long to wait first.
//!
//! TiDB documents which errors mean "the transaction was rolled back, run it
//! again": 9007 (write conflict), 8002 (`SELECT FOR UPDATE` cannot be retried
//! by the server), 8022 (commit failed, rolled back), 8028 (schema changed),
//! plus MySQL's 1213 (deadlock) and 1205 (lock wait timeout). Diesel gives only
//! 1213 a [`DatabaseErrorKind`] of its own (and only on prepared statements);
//! every other server error reaches us as [`DatabaseErrorKind::Unknown`] with
//! the server's message and no error number, so [`classify`] reads the
//! message texts the servers send.
//!
//! A lost connection is a class of its own: before `COMMIT` was sent it means
//! "not applied", during `COMMIT` it means "unknown";
//! [`transaction::run`](crate::transaction::run) decides which, since only it
//! knows where the transaction stood.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rand::Rng;

/// The retryable errors, by the error number the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retryable {
    /// TiDB 9007 (and 8005): another transaction wrote the same row first.
    WriteConflict,
    /// TiDB 8002: a transaction with `SELECT ... FOR UPDATE` met a commit conflict.
    ForUpdateConflict,
    /// TiDB 8022: the commit failed and was rolled back.
    TxnRetryable,
    /// TiDB 8028: a DDL changed the schema while the transaction ran.
    SchemaChanged,
    /// MySQL 1213: the server broke a deadlock by rolling this transaction back.
    Deadlock,
    /// MySQL 1205: a lock was not granted within `innodb_lock_wait_timeout`.
    LockWaitTimeout,
}

impl Retryable {
    /// The error number the server sends for this condition.
    pub fn code(self) -> u16 {
        match self {
            Self::WriteConflict => 9007,
            Self::ForUpdateConflict => 8002,
            Self::TxnRetryable => 8022,
            Self::SchemaChanged => 8028,
            Self::Deadlock => 1213,
            Self::LockWaitTimeout => 1205,
        }
    }
}

/// What an error means for the transaction that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The server rolled the transaction back (or will with our `ROLLBACK`);
    /// running it again from the start is safe.
    Retryable(Retryable),
    /// The connection is gone or unusable. Whether the transaction committed
    /// depends on whether `COMMIT` had been sent.
    ConnectionLost,
    /// Anything else: not retried.
    Other,
}

/// Texts of the retryable errors, as TiDB, MySQL and MariaDB word them.
/// Matched case-insensitively anywhere in the message.
const RETRYABLE_TEXTS: &[(&str, Retryable)] = &[
    // 9007 "Write conflict, txnStartTS=…, conflictStartTS=…, … [try again later]";
    // 8005 "Write conflict, txnStartTS … is stale".
    ("write conflict", Retryable::WriteConflict),
    // 8002 "[…] can not retry select for update statement"
    (
        "can not retry select for update statement",
        Retryable::ForUpdateConflict,
    ),
    // 8022 "Error: KV error safe to retry … [try again later]"
    ("kv error safe to retry", Retryable::TxnRetryable),
    // 8028 "Information schema is changed during the execution of the statement(…)"
    ("information schema is changed", Retryable::SchemaChanged),
    // 1213 "Deadlock found when trying to get lock; try restarting transaction"
    (
        "deadlock found when trying to get lock",
        Retryable::Deadlock,
    ),
    // 1205 "Lock wait timeout exceeded; try restarting transaction"
    ("lock wait timeout exceeded", Retryable::LockWaitTimeout),
];

/// Texts that mean the connection is gone: client errors 2006 and 2013 (Oracle's
/// and MariaDB's wordings), MariaDB 1927 (`KILL`), 1053 (shutdown) and MySQL
/// 4031 (idle disconnect).
const CONNECTION_LOST_TEXTS: &[&str] = &[
    "server has gone away",
    "lost connection to",
    "connection was killed",
    "server shutdown in progress",
    "disconnected by the server",
];

/// Sorts a Diesel error into retryable, connection lost, or other.
pub fn classify(err: &DieselError) -> ErrorClass {
    match err {
        DieselError::DatabaseError(kind, info) => {
            if let Some(class) = classify_message(info.message()) {
                return class;
            }
            match kind {
                DatabaseErrorKind::SerializationFailure => {
                    ErrorClass::Retryable(Retryable::Deadlock)
                }
                DatabaseErrorKind::ClosedConnection => ErrorClass::ConnectionLost,
                _ => ErrorClass::Other,
            }
        }
        // A ROLLBACK failed after a failed COMMIT: the commit error is the one
        // that tells what happened to the transaction.
        DieselError::RollbackErrorOnCommit { commit_error, .. } => classify(commit_error),
        // Diesel refuses to use a connection whose ROLLBACK failed.
        DieselError::BrokenTransactionManager => ErrorClass::ConnectionLost,
        _ => ErrorClass::Other,
    }
}

/// Sorts a server or client error message; `None` when no known text matches.
fn classify_message(message: &str) -> Option<ErrorClass> {
    let message = message.to_ascii_lowercase();
    if let Some((_, r)) = RETRYABLE_TEXTS.iter().find(|(t, _)| message.contains(t)) {
        return Some(ErrorClass::Retryable(*r));
    }
    CONNECTION_LOST_TEXTS
        .iter()
        .any(|t| message.contains(t))
        .then_some(ErrorClass::ConnectionLost)
}

/// How many times, and with what pauses, a transaction is run again, and for
/// how long in all.
///
/// The pause before retry `n` (from 1) is drawn uniformly from
/// `0..=min(max_backoff, base_backoff * 2^(n-1))` ("full jitter"), so that
/// transactions that collided once do not collide again in lock step.
///
/// A retry starts only if the time spent so far, the pause, and one more
/// attempt as long as the last one still fit in `time_limit`. An attempt that
/// failed with a lock wait timeout took the server's `innodb_lock_wait_timeout`
/// (50 s by default on TiDB, MySQL and MariaDB), so with the default limit of
/// 60 s a trade blocked by a lock gives up after one wait, not eleven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Upper bound of the first pause.
    pub base_backoff: Duration,
    /// Cap on any pause.
    pub max_backoff: Duration,
    /// Time the first attempt and every retry may take together.
    pub time_limit: Duration,
}

impl Default for RetryPolicy {
    /// 10 retries, pauses of up to 2 ms, 4 ms, … capped at 500 ms, 60 s in all.
    fn default() -> Self {
        Self {
            max_retries: 10,
            base_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(500),
            time_limit: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub const NEVER: Self = Self {
        max_retries: 0,
        base_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        time_limit: Duration::MAX,
    };

    /// The same policy with another time limit.
    pub fn with_time_limit(self, time_limit: Duration) -> Self {
        Self { time_limit, ..self }
    }

    /// Whether a retry may start: `spent` so far, then `pause`, then one more
    /// attempt as long as `last_attempt` must end within the time limit.
    pub(crate) fn retry_fits(
        &self,
        spent: Duration,
        last_attempt: Duration,
        pause: Duration,
    ) -> bool {
        spent.saturating_add(pause).saturating_add(last_attempt) <= self.time_limit
    }

    /// The upper bound of the pause before retry `retry` (1 for the first).
    pub(crate) fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// A random pause before retry `retry` (1 for the first), within its ceiling.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        if ceiling.is_zero() {
            return ceiling;
        }
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::rng().random_range(0..=micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let policy = RetryPolicy {
            max_retries: 20,
            base_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(100),
            time_limit: Duration::from_secs(60),
        };
        let ceilings: Vec<u128> = (1..=9)
            .map(|n| policy.backoff_ceiling(n).as_millis())
            .collect();
        assert_eq!(ceilings, [2, 4, 8, 16, 32, 64, 100, 100, 100]);
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_millis(100));
        for n in 1..=20 {
            assert!(policy.backoff(n) <= policy.backoff_ceiling(n));
        }
    }

    #[test]
    fn a_retry_starts_only_if_another_attempt_like_the_last_fits() {
        let policy = RetryPolicy::default();
        let s = Duration::from_secs;
        // Blocked on a lock: the server's 50 s wait, then one more would end at 100 s.
        assert!(!policy.retry_fits(s(50), s(50), Duration::ZERO));
        // Short conflicts retry freely...
        assert!(policy.retry_fits(s(1), Duration::from_millis(3), Duration::from_millis(4)));
        // ...up to the limit itself, inclusive.
        assert!(policy.retry_fits(s(30), s(29), s(1)));
        assert!(!policy.retry_fits(s(30), s(29), s(1) + Duration::from_nanos(1)));
        assert!(RetryPolicy::NEVER.retry_fits(s(u64::MAX), s(u64::MAX), s(1)));
    }

    #[test]
    fn backoff_is_jittered() {
        let policy = RetryPolicy::default();
        let draws: std::collections::HashSet<Duration> =
            (0..50).map(|_| policy.backoff(5)).collect();
        assert!(draws.len() > 10, "50 draws gave {} values", draws.len());
        assert_eq!(RetryPolicy::NEVER.backoff(3), Duration::ZERO);
    }
}
