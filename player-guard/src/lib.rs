//! Deadlines for a MySQL server that stops answering, which neither the client
//! library's defaults nor Diesel 2.3 bound: a connect within the URL's
//! `connect_timeout` ([`connect`]), and connections whose operations are cut
//! off at a deadline ([`connect_guarded`], [`GuardedConnection::within`], and
//! [`pool`] of them).
//!
//! The deadline shuts down the connection's socket, found in `/proc/self/fd`:
//! on Linux only. Elsewhere the API is the same and connections work as any
//! other, without the deadline ([`GuardedConnection::is_guarded`] is false);
//! connects are still bounded.

mod connect;
mod guarded;
mod pool;
mod socket;
mod watchdog;

use std::time::Duration;

use player_core::retry::RetryPolicy;

pub use connect::{MAX_WAITING_CONNECTS, connect};
pub use guarded::{GuardedConnection, connect_guarded};
pub use pool::{GuardedManager, Pool, build_pool, pool, pool_builder};

/// How much longer than its policy's time limit a transaction may take before
/// its server is taken to have stopped answering: the limit decides whether a
/// retry starts, and the last attempt may run past it.
const PAST_THE_TIME_LIMIT: Duration = Duration::from_secs(5);

/// The deadline for a transaction retried under `policy`, for
/// [`GuardedConnection::within`]: its time limit and 5 s more, `Duration::MAX`
/// (no deadline) for a policy without a time limit.
pub fn deadline_for(policy: &RetryPolicy) -> Duration {
    policy.time_limit.saturating_add(PAST_THE_TIME_LIMIT)
}
