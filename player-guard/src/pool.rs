//! An r2d2 pool of [`GuardedConnection`]s.

use diesel::r2d2::{Builder, ManageConnection, R2D2Connection};
use player_core::db::{ConnectError, DatabaseUrl};

use crate::guarded::{GuardedConnection, connect_guarded};

/// A pool of connections, as [`pool`] builds it: each a [`GuardedConnection`],
/// so that work on it can be given a deadline.
pub type Pool = diesel::r2d2::Pool<GuardedManager>;

/// Opens [`GuardedConnection`]s for an r2d2 pool, each within the URL's
/// `connect_timeout`.
#[derive(Debug, Clone)]
pub struct GuardedManager(DatabaseUrl);

impl GuardedManager {
    /// A manager of connections to `url`.
    pub fn new(url: &DatabaseUrl) -> Self {
        Self(url.clone())
    }
}

impl ManageConnection for GuardedManager {
    type Connection = GuardedConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<GuardedConnection, ConnectError> {
        connect_guarded(&self.0)
    }

    /// A ping, given the connect timeout: a stalled server fails it rather
    /// than blocking the caller of `Pool::get`.
    fn is_valid(&self, conn: &mut GuardedConnection) -> Result<(), ConnectError> {
        conn.within(self.0.connect_timeout(), R2D2Connection::ping)
            .map_err(ConnectError::Session)
    }

    /// Checked as a connection goes back to the pool: one shut down at a
    /// deadline, or whose socket the client library closed, is dropped there;
    /// the others are readied for their next user by `db::recycle`.
    fn has_broken(&self, conn: &mut GuardedConnection) -> bool {
        std::thread::panicking() || !conn.recycle()
    }
}

/// A pool of up to `size` guarded connections to `url`, for work spread over
/// threads.
///
/// Connections are checked with a ping when taken out (itself bounded by the
/// connect timeout), so one the server dropped (restart, `KILL`) or that
/// stalled is replaced, not handed out.
pub fn pool(url: &DatabaseUrl, size: u32) -> Result<Pool, ConnectError> {
    build_pool(
        url,
        pool_builder(size).connection_timeout(url.connect_timeout()),
    )
}

/// The settings [`pool`] uses, to change them (a connection customizer, a
/// timeout) before [`build_pool`].
pub fn pool_builder(size: u32) -> Builder<GuardedManager> {
    Pool::builder()
        .max_size(size.max(1))
        .test_on_check_out(true)
        .connection_timeout(player_core::db::DEFAULT_CONNECT_TIMEOUT)
}

/// Builds a pool of connections to `url` from `builder`.
///
/// One connection is opened first so that a wrong URL or a stopped server is
/// reported at once, as [`connect`](crate::connect) reports it; r2d2 alone
/// would retry until its timeout and then say only that it timed out.
pub fn build_pool(
    url: &DatabaseUrl,
    builder: Builder<GuardedManager>,
) -> Result<Pool, ConnectError> {
    crate::connect(url)?;
    builder
        .build(GuardedManager::new(url))
        .map_err(|e| url.connect_error(&e))
}
