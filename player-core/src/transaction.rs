//! A transaction that runs again when TiDB says it may: the pattern every
//! write on TiDB needs, for a body of your own.
//!
//! ```no_run
//! use diesel::prelude::*;
//! use player_core::retry::RetryPolicy;
//! use player_core::schema::player;
//! use player_core::transaction;
//!
//! # fn pay(conn: &mut diesel::mysql::MysqlConnection) -> Result<(), Box<dyn std::error::Error>> {
//! // Ten coins from every player to player `bank`, all or nothing.
//! let done = transaction::run(conn, &RetryPolicy::default(), |conn| {
//!     let payers = diesel::update(player::table.filter(player::id.ne("bank")))
//!         .set(player::coins.eq(player::coins - 10))
//!         .execute(conn)?;
//!     let payers = i32::try_from(payers).unwrap_or(i32::MAX);
//!     diesel::update(player::table.find("bank"))
//!         .set(player::coins.eq(player::coins + 10 * payers))
//!         .execute(conn)?;
//!     Ok(payers)
//! })?;
//! println!("{} payers, {} retries", done.value, done.retries);
//! # Ok(()) }
//! ```
//!
//! The body runs inside Diesel's `conn.transaction`: an `Err` rolls it back,
//! an `Ok` commits it. When the server rolls it back with an error TiDB
//! documents as retryable (a write conflict, a deadlock, a lock wait timeout:
//! [`crate::retry`]), the whole body runs again after a jittered pause, within
//! the policy's retry count and time limit. So the body must be safe to run
//! more than once: it reads what it decides on inside the transaction, and
//! does nothing outside the database that it cannot do twice.
//!
//! A lost connection is never retried on the same connection, and says what
//! it means: before `COMMIT` was sent, nothing was applied
//! ([`TransactionError::ConnectionLost`]); while `COMMIT` was in flight, the
//! server may have committed ([`TransactionError::OutcomeUnknown`]), so running
//! the body again could apply it twice.
//!
//! Diesel 2.3 on MySQL replays the error of a failed cached prepared statement
//! on every later use of that statement on the connection, without reaching
//! the server, so a retry could never succeed. Before each run, and after a
//! database error, this loop empties the connection's statement cache when a
//! statement failed (`statement_cache.rs`; `docs/bank.md` has the details).

use std::time::{Duration, Instant};

use diesel::connection::Connection;
use diesel::mysql::MysqlConnection;
use diesel::result::{Error as DieselError, QueryResult};

use crate::retry::{ErrorClass, RetryPolicy, classify};
use crate::statement_cache;

/// What a body returned after its transaction committed, and how many times
/// the transaction was run again first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retried<T> {
    /// What the body returned on the run that committed.
    pub value: T,
    /// Times the whole transaction was run again after a retryable error.
    pub retries: u32,
}

/// Why a retrying transaction ended without committing, or without knowing
/// whether it committed. Only [`OutcomeUnknown`](Self::OutcomeUnknown) may
/// have left a change behind.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    /// The body or the server failed with an error that is not retried; the
    /// transaction was rolled back.
    #[error(transparent)]
    Failed(DieselError),
    /// The server kept answering with retryable errors until the policy's
    /// retry count was spent; nothing was applied.
    #[error("still failing after {retries} retries")]
    RetriesExhausted {
        /// Retries made (the policy's maximum).
        retries: u32,
        /// The last error.
        #[source]
        source: DieselError,
    },
    /// Another run would not end within the policy's time limit (a lock held
    /// elsewhere for longer than the server's lock wait, say); nothing was
    /// applied.
    #[error(
        "given up after {:.1} s and {retries} retries, within the time limit",
        .elapsed.as_secs_f64()
    )]
    TimeLimit {
        /// Time spent.
        elapsed: Duration,
        /// Retries made.
        retries: u32,
        /// The last error.
        #[source]
        source: DieselError,
    },
    /// The connection was lost before `COMMIT` was sent: the server rolls the
    /// transaction back, so nothing was applied, and it may be run again on
    /// another connection.
    #[error("connection lost before committing, nothing was applied")]
    ConnectionLost(#[source] DieselError),
    /// The connection was lost while `COMMIT` (or a statement in autocommit)
    /// was in flight: the change may or may not have been applied, so it must
    /// not be run again blindly.
    #[error("connection lost while committing, the change may or may not have been applied")]
    OutcomeUnknown(#[source] DieselError),
}

/// Runs `body` in a transaction (`conn.transaction`) until it commits or
/// fails with an error that is not retried; see the module documentation.
///
/// Call it outside any transaction of yours: inside one, Diesel would make it
/// a savepoint, while a deadlock or a write conflict rolls back the whole
/// outer transaction on the server, so running the body again alone would be
/// wrong.
pub fn run<T>(
    conn: &mut MysqlConnection,
    policy: &RetryPolicy,
    mut body: impl FnMut(&mut MysqlConnection) -> QueryResult<T>,
) -> Result<Retried<T>, TransactionError> {
    retrying(conn, policy, |conn| {
        // Set when the body returns `Ok`, so that Diesel goes on to send
        // `COMMIT`: from then on a lost connection leaves the outcome unknown.
        let mut commit_sent = false;
        conn.transaction(|conn| {
            let value = body(conn)?;
            commit_sent = true;
            Ok(value)
        })
        .map_err(|error| Failure { error, commit_sent })
    })
}

/// How one run failed: the error, and whether a `COMMIT` (or a statement in
/// autocommit) was in flight, after which a lost connection leaves the
/// outcome unknown.
pub(crate) struct Failure {
    pub(crate) error: DieselError,
    pub(crate) commit_sent: bool,
}

/// Runs `attempt` until it returns `Ok` or fails with an error that is not
/// retried, pausing between runs as `policy` says. [`run`] and the
/// one-statement trade share it, and with it their rules.
pub(crate) fn retrying<T>(
    conn: &mut MysqlConnection,
    policy: &RetryPolicy,
    mut attempt: impl FnMut(&mut MysqlConnection) -> Result<T, Failure>,
) -> Result<Retried<T>, TransactionError> {
    let started = Instant::now();
    let mut retries = 0;
    loop {
        // A statement that failed before, here or in the caller's own
        // queries, must not fail this run without reaching the server.
        statement_cache::recover(conn, false);
        let attempt_started = Instant::now();
        let Failure { error, commit_sent } = match attempt(conn) {
            Ok(value) => return Ok(Retried { value, retries }),
            Err(failure) => failure,
        };
        // Also on a connection this crate did not open (and so not watched),
        // before the connection goes back to its next user.
        statement_cache::recover(conn, matches!(error, DieselError::DatabaseError(..)));
        // cargo-mutants leaves `retries * 1` here alive: the pause is drawn
        // at random below a ceiling, and that mutant only lowers the ceiling
        // of retry n to retry n-1's, which no test can tell from chance.
        let pause = policy.backoff(retries + 1);
        let budget = Budget {
            retries,
            max_retries: policy.max_retries,
            spent: started.elapsed(),
            next_fits: policy.retry_fits(started.elapsed(), attempt_started.elapsed(), pause),
        };
        decide(error, commit_sent, &budget)?;
        retries += 1;
        tracing::debug!(retries, ?pause, "retrying the transaction");
        std::thread::sleep(pause);
    }
}

/// Where a transaction stands against its retry policy.
struct Budget {
    /// Retries made so far.
    retries: u32,
    /// The policy's maximum.
    max_retries: u32,
    /// Time spent so far.
    spent: Duration,
    /// Whether another run would end within the time limit.
    next_fits: bool,
}

/// What to do after a failed run: `Ok` to run again, or the error to report.
fn decide(error: DieselError, commit_sent: bool, budget: &Budget) -> Result<(), TransactionError> {
    let retries = budget.retries;
    match classify(&error) {
        // The server answered, so even at COMMIT the transaction did not commit.
        ErrorClass::Retryable(_) if retries >= budget.max_retries => {
            Err(TransactionError::RetriesExhausted {
                retries,
                source: error,
            })
        }
        ErrorClass::Retryable(_) if !budget.next_fits => Err(TransactionError::TimeLimit {
            elapsed: budget.spent,
            retries,
            source: error,
        }),
        ErrorClass::Retryable(reason) => {
            tracing::debug!(?reason, "retryable error");
            Ok(())
        }
        ErrorClass::ConnectionLost if commit_sent => Err(TransactionError::OutcomeUnknown(error)),
        ErrorClass::ConnectionLost => Err(TransactionError::ConnectionLost(error)),
        ErrorClass::Other => Err(TransactionError::Failed(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorKind;

    fn server(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    const CONFLICT: &str = "Write conflict, txnStartTS=1, conflictStartTS=2 [try again later]";
    const LOST: &str = "Lost connection to MySQL server during query";

    /// `retries` made of `max_retries`, with time to spare.
    fn budget(retries: u32, max_retries: u32) -> Budget {
        Budget {
            retries,
            max_retries,
            spent: Duration::ZERO,
            next_fits: true,
        }
    }

    #[test]
    fn retryable_errors_are_retried_even_at_commit_until_the_limit() {
        assert!(decide(server(CONFLICT), true, &budget(0, 3)).is_ok());
        assert!(decide(server(CONFLICT), false, &budget(2, 3)).is_ok());
        assert!(matches!(
            decide(server(CONFLICT), false, &budget(3, 3)),
            Err(TransactionError::RetriesExhausted { retries: 3, .. })
        ));
    }

    #[test]
    fn a_retry_that_would_pass_the_time_limit_is_not_made() {
        let late = Budget {
            spent: Duration::from_secs(50),
            next_fits: false,
            ..budget(1, 10)
        };
        assert!(matches!(
            decide(server("Lock wait timeout exceeded; try restarting transaction"), false, &late),
            Err(TransactionError::TimeLimit { retries: 1, elapsed, .. }) if elapsed == Duration::from_secs(50)
        ));
        // Errors that are not retried keep their own kind.
        assert!(matches!(
            decide(server(LOST), true, &late),
            Err(TransactionError::OutcomeUnknown(_))
        ));
    }

    #[test]
    fn a_connection_lost_in_commit_is_an_unknown_outcome_never_retried() {
        assert!(matches!(
            decide(server(LOST), true, &budget(0, 10)),
            Err(TransactionError::OutcomeUnknown(_))
        ));
        let both = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(server("MySQL server has gone away")),
            commit_error: Box::new(server(LOST)),
        };
        assert!(matches!(
            decide(both, true, &budget(0, 10)),
            Err(TransactionError::OutcomeUnknown(_))
        ));
    }

    #[test]
    fn a_connection_lost_before_commit_applied_nothing() {
        assert!(matches!(
            decide(server(LOST), false, &budget(0, 10)),
            Err(TransactionError::ConnectionLost(_))
        ));
        assert!(matches!(
            decide(DieselError::BrokenTransactionManager, false, &budget(2, 10)),
            Err(TransactionError::ConnectionLost(_))
        ));
    }

    #[test]
    fn other_errors_are_reported_as_they_are() {
        assert!(matches!(
            decide(
                server("Table 'x.player' doesn't exist"),
                false,
                &budget(0, 10)
            ),
            Err(TransactionError::Failed(_))
        ));
        assert!(matches!(
            decide(DieselError::RollbackTransaction, true, &budget(0, 10)),
            Err(TransactionError::Failed(DieselError::RollbackTransaction))
        ));
    }
}
