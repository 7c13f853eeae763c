//! A deadline for a server that stops answering in the middle of a statement.
//!
//! The MySQL client library waits for an answer as long as a year by default,
//! and Diesel 2.3 can neither set its `MYSQL_OPT_READ_TIMEOUT` nor hand out
//! the connection's socket. So [`connect_guarded`] finds the socket itself:
//! the one socket that appeared in the process (`/proc/self/fd`) while the
//! connection was opened. [`GuardedConnection::within`] then runs an
//! operation and, if it has not returned by the deadline, shuts the socket
//! down: the blocked read returns, the client library reports a lost
//! connection, and the trade says what that means (`ConnectionLost` before
//! `COMMIT` was sent, `OutcomeUnknown` after).
//!
//! Where the socket cannot be told apart (another thread opened a socket to
//! the same port at the same moment, or the system has no `/proc`, as macOS),
//! the connection works as any other, only without the deadline:
//! [`GuardedConnection::is_guarded`].

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use player_core::db::{ConnectError, DatabaseUrl, Recycled};

use crate::connect::connect_finding_socket;
use crate::socket::Socket;
use crate::watchdog::Watchdog;

/// A connection whose operations can be given a deadline; it dereferences to
/// the `MysqlConnection` every query takes.
pub struct GuardedConnection {
    conn: MysqlConnection,
    /// The connection's socket, when it could be told apart.
    socket: Option<Socket>,
    /// The deadline an operation overran, after which the socket was shut down.
    stalled: Option<Duration>,
}

/// Opens one connection within the URL's `connect_timeout`, as
/// [`connect`](crate::connect) does, and finds its socket.
pub fn connect_guarded(url: &DatabaseUrl) -> Result<GuardedConnection, ConnectError> {
    let (conn, socket) = connect_finding_socket(url)?;
    Ok(GuardedConnection {
        conn,
        socket,
        stalled: None,
    })
}

impl GuardedConnection {
    /// Whether [`within`](Self::within) can end a stalled operation.
    pub fn is_guarded(&self) -> bool {
        self.socket.is_some()
    }

    /// The deadline an operation overran, if one did: the connection was shut
    /// down then, and is of no further use.
    pub fn stalled(&self) -> Option<Duration> {
        self.stalled
    }

    /// Runs `op` and returns what it returns. If it has not returned after
    /// `limit`, the connection's socket is shut down so that it does, with a
    /// lost-connection error (which the trade reports as `ConnectionLost` or
    /// `OutcomeUnknown`), and [`stalled`](Self::stalled) says so. A limit too
    /// far off to be a point in time (`Duration::MAX`) is no deadline.
    pub fn within<T>(&mut self, limit: Duration, op: impl FnOnce(&mut MysqlConnection) -> T) -> T {
        let (Some(socket), Some(deadline)) = (self.socket, Instant::now().checked_add(limit))
        else {
            return op(&mut self.conn);
        };
        let watch = Watchdog::global().arm(socket, deadline);
        let result = op(&mut self.conn);
        // After this, the watchdog no longer touches the socket, which the
        // connection (borrowed by `op` until now) still owns.
        if Watchdog::global().disarm(watch) {
            tracing::warn!(?limit, "the server stopped answering; connection shut down");
            self.stalled = Some(limit);
        }
        result
    }

    /// Readies the connection for its next user, as it comes back to a pool
    /// (`db::recycle`); false if it is of no further use: shut down at a
    /// deadline, Diesel's verdict (a transaction left broken), or its socket
    /// closed by the client library (the server dropped it, or a `KILL`).
    /// The socket is looked at only after a failed statement, since the
    /// client library closes it only then: a look is a system call, which
    /// a connection checked in after each request would pay every time.
    pub(crate) fn recycle(&mut self) -> bool {
        if self.stalled.is_some() {
            return false;
        }
        match player_core::db::recycle(&mut self.conn) {
            Recycled::Ready => true,
            Recycled::AfterFailure => self.socket.is_none_or(|s| s.is_open()),
            Recycled::Broken => false,
        }
    }
}

impl Deref for GuardedConnection {
    type Target = MysqlConnection;

    fn deref(&self) -> &MysqlConnection {
        &self.conn
    }
}

impl DerefMut for GuardedConnection {
    fn deref_mut(&mut self) -> &mut MysqlConnection {
        &mut self.conn
    }
}
