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
//! Where the socket cannot be told apart (another thread opened a socket at
//! the same moment, or the system has no `/proc`, as macOS), the connection
//! works as any other, only without the deadline: [`GuardedConnection::is_guarded`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};
use std::os::fd::RawFd;
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use nix::sys::socket::{Shutdown, SockaddrStorage, getpeername, shutdown};

use super::{ConnectError, DatabaseUrl};

/// A connection whose operations can be given a deadline; it dereferences to
/// the `MysqlConnection` every query takes.
pub struct GuardedConnection {
    conn: MysqlConnection,
    /// The connection's socket, when it could be told apart.
    socket: Option<RawFd>,
    /// The deadline an operation overran, after which the socket was shut down.
    stalled: Option<Duration>,
}

/// Opens one connection, as [`super::connect`] does, and finds its socket.
/// Guarded connections are opened one at a time in the process, so that
/// each new socket can be told apart from another one's.
pub fn connect_guarded(url: &DatabaseUrl) -> Result<GuardedConnection, ConnectError> {
    static CONNECTING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CONNECTING.lock().unwrap_or_else(PoisonError::into_inner);
    let before = sockets();
    let conn = super::connect(url)?;
    let port = url.port();
    let opened: Vec<RawFd> = sockets()
        .into_iter()
        .filter(|(fd, inode)| before.get(fd) != Some(inode))
        .map(|(fd, _)| fd)
        .filter(|fd| port.is_none_or(|port| peer_port(*fd) == Some(port)))
        .collect();
    let socket = match opened.as_slice() {
        [one] => Some(*one),
        _ => {
            tracing::debug!(
                candidates = opened.len(),
                "no deadline: the connection's socket is not known"
            );
            None
        }
    };
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
    /// `OutcomeUnknown`), and [`stalled`](Self::stalled) says so.
    pub fn within<T>(&mut self, limit: Duration, op: impl FnOnce(&mut MysqlConnection) -> T) -> T {
        let Some(socket) = self.socket else {
            return op(&mut self.conn);
        };
        let watch = Watchdog::global().arm(socket, Instant::now() + limit);
        let result = op(&mut self.conn);
        // After this, the watchdog no longer touches the socket, which the
        // connection (borrowed by `op` until now) still owns.
        if Watchdog::global().disarm(watch) {
            tracing::warn!(?limit, "the server stopped answering; connection shut down");
            self.stalled = Some(limit);
        }
        result
    }
}

/// One thread for the whole process that shuts down the sockets of
/// operations past their deadline; arming and disarming cost a lock each.
struct Watchdog {
    state: Mutex<Watches>,
    wake: Condvar,
}

/// The operations being watched, by the number `arm` gave them.
struct Watches {
    next: u64,
    armed: BTreeMap<u64, (RawFd, Instant)>,
    /// Operations whose socket was shut down, until they are disarmed.
    fired: BTreeSet<u64>,
}

impl Watchdog {
    fn global() -> &'static Watchdog {
        static WATCHDOG: Watchdog = Watchdog {
            state: Mutex::new(Watches {
                next: 0,
                armed: BTreeMap::new(),
                fired: BTreeSet::new(),
            }),
            wake: Condvar::new(),
        };
        static STARTED: Once = Once::new();
        STARTED.call_once(|| {
            let started = std::thread::Builder::new()
                .name("player-core-watchdog".into())
                .spawn(|| WATCHDOG.run());
            if let Err(e) = started {
                tracing::error!(%e, "no watchdog thread: deadlines will not be kept");
            }
        });
        &WATCHDOG
    }

    fn lock(&self) -> MutexGuard<'_, Watches> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Watches `socket` until `deadline`; returns the watch's number.
    fn arm(&self, socket: RawFd, deadline: Instant) -> u64 {
        let mut watches = self.lock();
        watches.next += 1;
        let id = watches.next;
        watches.armed.insert(id, (socket, deadline));
        self.wake.notify_one();
        id
    }

    /// Stops watching; true if the deadline had passed and the socket was shut down.
    fn disarm(&self, id: u64) -> bool {
        let mut watches = self.lock();
        watches.armed.remove(&id);
        watches.fired.remove(&id)
    }

    fn run(&self) {
        let mut watches = self.lock();
        loop {
            let now = Instant::now();
            let due: Vec<(u64, RawFd)> = watches
                .armed
                .iter()
                .filter(|(_, (_, deadline))| *deadline <= now)
                .map(|(id, (socket, _))| (*id, *socket))
                .collect();
            for (id, socket) in due {
                // Under the lock: the operation has not been disarmed, so its
                // connection, which owns the socket, is still open.
                let _ = shutdown(socket, Shutdown::Both);
                watches.armed.remove(&id);
                watches.fired.insert(id);
            }
            let next = watches.armed.values().map(|(_, deadline)| *deadline).min();
            watches = match next {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    self.wake
                        .wait_timeout(watches, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .wake
                    .wait(watches)
                    .unwrap_or_else(PoisonError::into_inner),
            };
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

/// Opens [`GuardedConnection`]s for an r2d2 pool ([`super::pool`]).
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

    fn has_broken(&self, conn: &mut GuardedConnection) -> bool {
        std::thread::panicking() || conn.stalled.is_some() || conn.conn.is_broken()
    }
}

/// The port a TCP socket is connected to.
fn peer_port(fd: RawFd) -> Option<u16> {
    let peer: SockaddrStorage = getpeername(fd).ok()?;
    peer.as_sockaddr_in()
        .map(|a| a.port())
        .or_else(|| peer.as_sockaddr_in6().map(|a| a.port()))
}

/// The process's open sockets: file descriptor and socket inode.
fn sockets() -> BTreeMap<RawFd, u64> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let inode = target
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some((fd, inode))
        })
        .collect()
}
