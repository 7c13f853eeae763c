//! Running Diesel, which blocks, from async handlers: on tokio's blocking
//! pool, one pooled connection per job, every wait bounded.
//!
//! The pool is player-guard's: its connections can be given a deadline
//! ([`GuardedConnection::within`]), which shuts the socket down when the
//! server stops answering, and its manager never takes such a connection
//! back. player-core's `db::pool` has no deadline: a frozen database would
//! keep every blocking thread waiting for ever, and the service would never
//! answer again. (The deadline needs Linux; elsewhere the request's time
//! limit still answers the client, but a stalled job keeps its thread.)
//!
//! A request first takes one of `pool_size` permits, waiting at most
//! `pool_wait`; only then is a blocking job spawned. So no more jobs run than
//! there are connections, the runtime's blocking threads (`pool_size` and a
//! few) are never all taken by jobs waiting for a connection, and no job
//! queues unseen behind others to run after its client was answered. The job
//! takes a connection and, unless it answered a moment ago, checks with a
//! ping that it still answers (one the server dropped, or that stalls, is
//! dropped and the next tried), all within `pool_wait`; then it runs the
//! work within its deadline.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::r2d2::{HandleError, ManageConnection, Pool, PooledConnection, R2D2Connection};
use player_core::db::ConnectError;
use player_core::{RetryPolicy, TransactionError};
use player_guard::{GuardedConnection, GuardedManager};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::problem::ApiError;

/// A connection that answered within this long needs no ping before its
/// next use: a ping per request would add a round trip to every trade.
const FRESH: Duration = Duration::from_secs(1);

/// The pool, the permits in front of it, and the bounds of each job.
#[derive(Clone)]
pub(crate) struct Database {
    pool: Pool<ServiceManager>,
    permits: Arc<Semaphore>,
    pool_wait: Duration,
}

impl Database {
    /// A pool of `config.pool_size` guarded connections, not yet opened: the
    /// service starts (and `/ready` says 503) while the database is away, and
    /// the pool connects in the background until it is back.
    pub(crate) fn new(config: &Config) -> Self {
        let pool = Pool::builder()
            .max_size(config.pool_size.max(1))
            .connection_timeout(config.pool_wait)
            // Checked here, with a deadline and only when idle a while.
            .test_on_check_out(false)
            .error_handler(Box::new(LogConnectErrors))
            .build_unchecked(ServiceManager(GuardedManager::new(&config.database_url)));
        let size = usize::try_from(config.pool_size.max(1)).unwrap_or(usize::MAX);
        Self {
            pool,
            permits: Arc::new(Semaphore::new(size)),
            pool_wait: config.pool_wait,
        }
    }

    /// Connections open now, and how many of them are idle.
    pub(crate) fn connections(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Runs `op` on a pooled connection on the blocking pool, within
    /// `deadline`, in the caller's tracing span. `op` maps its own errors; a
    /// 503 comes back when no connection can be had within the pool's wait.
    ///
    /// The job cannot be cancelled: if the caller stops waiting (its request
    /// timed out, its client went away), the job runs to its end or to its
    /// deadline all the same, holding its permit until then.
    pub(crate) async fn run<T, F>(&self, deadline: Duration, op: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut MysqlConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let wait = self.pool_wait;
        let permit = tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| ApiError::no_connection(wait))?
            .map_err(|_| ApiError::Internal)?;
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| {
                let mut conn = checkout(&pool, wait)?;
                let result = conn.within(deadline, op);
                match (result, conn.stalled()) {
                    (Err(e), Some(after)) => Err(stalled(e, after)),
                    (result, _) => result,
                }
            })
        });
        job.await.unwrap_or_else(|e| {
            tracing::error!(%e, "a database job panicked");
            Err(ApiError::Internal)
        })
    }
}

/// A connection that answers, within `wait`: one that came back less than
/// [`FRESH`] ago, or one that answers a ping. A dead one (the server
/// restarted) fails its ping at once and is dropped, and the next is tried;
/// a frozen one takes what is left of the wait.
fn checkout(
    pool: &Pool<ServiceManager>,
    wait: Duration,
) -> Result<PooledConnection<ServiceManager>, ApiError> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ApiError::no_connection(wait));
        }
        let mut conn = pool.get_timeout(left).map_err(|e| {
            tracing::warn!(error = %e, "no pooled connection");
            ApiError::no_connection(wait)
        })?;
        if conn.returned.elapsed() < FRESH {
            return Ok(conn);
        }
        match conn.conn.within(left, R2D2Connection::ping) {
            Ok(()) => return Ok(conn),
            // Broken now (its socket shut or closed), so the pool drops it.
            Err(e) => tracing::info!(error = %e, "a pooled connection failed its ping"),
        }
    }
}

/// The answer for work whose connection was shut down at its deadline: the
/// server stopped answering. An unknown outcome stays one.
fn stalled(error: ApiError, after: Duration) -> ApiError {
    let secs = after.as_secs_f64();
    match error {
        ApiError::OutcomeUnknown(detail) => ApiError::OutcomeUnknown(format!(
            "the database did not answer within {secs} s: {detail}"
        )),
        ApiError::Unavailable(_) | ApiError::Internal => ApiError::Unavailable(format!(
            "the database did not answer within {secs} s; nothing was applied, try again"
        )),
        other => other,
    }
}

/// Diesel's messages for failures that say the database went away; `write`
/// when the statement was a change sent in autocommit, whose outcome a lost
/// connection leaves unknown.
pub(crate) fn database_error(error: &diesel::result::Error, write: bool) -> ApiError {
    use player_core::retry::{ErrorClass, classify};
    match classify(error) {
        ErrorClass::ConnectionLost if write => ApiError::OutcomeUnknown(
            "the connection to the database was lost while the change was in flight: it may or may not have been applied; read it back".into(),
        ),
        ErrorClass::ConnectionLost => ApiError::Unavailable(
            "the connection to the database was lost; nothing was applied, try again".into(),
        ),
        ErrorClass::Retryable(reason) => ApiError::Contention(format!(
            "the database answered {reason:?}; nothing was applied, try again"
        )),
        ErrorClass::Other => {
            tracing::error!(%error, "database error");
            ApiError::Internal
        }
    }
}

/// The answer for a retrying transaction (`transaction::run`) that did not
/// commit, or may not have: only a lost `COMMIT` leaves the outcome unknown.
pub(crate) fn transaction_error(error: &TransactionError) -> ApiError {
    match error {
        TransactionError::Failed(e) => database_error(e, false),
        TransactionError::RetriesExhausted { .. } | TransactionError::TimeLimit { .. } => {
            ApiError::Contention(format!("{error}: the database kept refusing the transaction (write conflicts, deadlocks or lock waits); nothing was applied, try again"))
        }
        TransactionError::ConnectionLost(_) => ApiError::Unavailable(
            "the connection to the database was lost before committing; nothing was applied, try again".into(),
        ),
        TransactionError::OutcomeUnknown(_) => ApiError::OutcomeUnknown(
            "the connection to the database was lost while committing: the change may or may not have been applied; read it back".into(),
        ),
    }
}

/// The retry policy of a step's transaction: it gives up by itself, a
/// little before the step's deadline shuts the connection.
pub(crate) fn step_policy(step: Duration) -> RetryPolicy {
    RetryPolicy::default().with_time_limit(step.mul_f64(0.8))
}

/// A guarded connection and when it last came back to the pool.
pub(crate) struct Pooled {
    conn: GuardedConnection,
    returned: Instant,
}

impl Deref for Pooled {
    type Target = GuardedConnection;

    fn deref(&self) -> &GuardedConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut GuardedConnection {
        &mut self.conn
    }
}

/// player-guard's manager, with the ping left to [`checkout`] (r2d2 would
/// ping every idle connection in turn, each within the connect timeout, before
/// giving up on a frozen server) and the time a connection came back noted.
#[derive(Debug)]
struct ServiceManager(GuardedManager);

impl ManageConnection for ServiceManager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        let conn = self.0.connect()?;
        Ok(Pooled {
            conn,
            // A new connection has just answered its handshake.
            returned: Instant::now(),
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectError> {
        self.0.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.returned = Instant::now();
        self.0.has_broken(&mut conn.conn)
    }
}

/// r2d2 reports the connects it retries in the background here: at debug
/// level, since `/ready` and the 503s say the same to whoever asks. The
/// message is `ConnectError`'s, the password masked.
#[derive(Debug)]
struct LogConnectErrors;

impl HandleError<ConnectError> for LogConnectErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::debug!(%error, "connecting to the database");
    }
}
