//! What the service is told at start: where to listen and its bounds.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use player_core::db::DatabaseUrl;

/// The service's settings. Every wait is bounded by one of them, and they are
/// chosen to nest: a request's database work (the wait for a connection, a
/// ping, the step or the trade's deadline) ends before the request's own
/// time limit, so that the answer says what happened rather than only that
/// time ran out.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database, password masked wherever it is shown.
    pub database_url: DatabaseUrl,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Pooled connections, and so database jobs running at once: each job
    /// holds one connection on one blocking thread, so the runtime gets as
    /// many blocking threads (and a few more), and a request that finds every
    /// connection taken waits for one at most [`pool_wait`](Self::pool_wait).
    pub pool_size: u32,
    /// How long a request waits for a connection before a 503.
    pub pool_wait: Duration,
    /// The deadline of one database step of a player endpoint (a statement
    /// or a short transaction), and of `/ready`'s check: past it the
    /// connection is shut down and the request answered.
    pub step_timeout: Duration,
    /// How long a trade may retry (write conflicts, deadlocks, lock waits):
    /// its `RetryPolicy` time limit. The trade's deadline is this plus 5 s.
    pub trade_time_limit: Duration,
    /// A request's whole time limit (tower-http's `TimeoutLayer`); a 504 past
    /// it. Its head must arrive within it too, as must the next request's on
    /// a kept-alive connection, or the connection is closed.
    pub request_timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The runtime's async worker threads, which read and parse requests and
    /// hand their database work to the blocking threads. One per core by
    /// default, as tokio's own default; set here rather than through
    /// `TOKIO_WORKER_THREADS`, which tokio reads with a panic on a bad value.
    pub async_threads: usize,
}

/// Players one `POST /players/bulk` may create.
pub const MAX_BULK: usize = 1_000;

/// The most players one page of `GET /players` holds (the CLI's `--limit` maximum).
pub const MAX_PAGE: u32 = 10_000;

/// A page's size when the request names none.
pub const DEFAULT_PAGE: u32 = 20;

impl Config {
    /// The defaults: 127.0.0.1:8080, 16 connections waited for 2 s, steps of
    /// 5 s, trades retried for 10 s (a deadline of 15 s), requests of 20 s,
    /// bodies of 256 KiB, an async worker per core.
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            pool_size: 16,
            pool_wait: Duration::from_secs(2),
            step_timeout: Duration::from_secs(5),
            trade_time_limit: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
            body_limit: 256 * 1024,
            async_threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        }
    }

    /// Blocking threads for the runtime: one per pooled connection, and a
    /// few for what else tokio runs there (the listener's address lookup).
    pub fn blocking_threads(&self) -> usize {
        usize::try_from(self.pool_size)
            .unwrap_or(usize::MAX)
            .saturating_add(4)
    }
}
