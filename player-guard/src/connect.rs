//! Connecting within the URL's `connect_timeout`.
//!
//! The MySQL client library waits for a server's handshake without limit by
//! default, and Diesel 2.3 offers no way to set `MYSQL_OPT_CONNECT_TIMEOUT`.
//! So the connection is opened on a thread of its own, and the caller stops
//! waiting at the timeout. The thread must not outlive that for long: a peer
//! that accepts TCP and never answers would keep it blocked for as long as
//! the peer keeps the session, and a pool refilling itself would pile up such
//! threads without end. So at the timeout the socket being connected is
//! found (`socket`) and shut down, and the blocked connect returns. Where it
//! cannot be found, the thread is left to the operating system, and no more
//! than [`MAX_WAITING_CONNECTS`] such connects are ever in flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use diesel::mysql::MysqlConnection;
use player_core::db::{ConnectError, ConnectFailure, DatabaseUrl};

use crate::socket::{self, Snapshot, Socket};

/// Connects in flight, the one being waited for and those given up on whose
/// socket could not be shut down; beyond this many a connect is refused
/// rather than leave one more thread blocked.
pub const MAX_WAITING_CONNECTS: usize = 4;

/// How long a connect shut down at its timeout is given to end.
const WIND_DOWN: Duration = Duration::from_secs(1);

/// Opens one connection, giving up after the URL's `connect_timeout` with
/// [`ConnectError::Timeout`]: [`player_core::db::connect`] with a bound.
pub fn connect(url: &DatabaseUrl) -> Result<MysqlConnection, ConnectError> {
    connect_finding_socket(url).map(|(conn, _)| conn)
}

/// As [`connect`], and the connection's socket when it can be told apart.
/// Connections are opened one at a time in the process, so that each new
/// socket can be told apart from another one's.
pub(crate) fn connect_finding_socket(
    url: &DatabaseUrl,
) -> Result<(MysqlConnection, Option<Socket>), ConnectError> {
    static CONNECTING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CONNECTING.lock().unwrap_or_else(PoisonError::into_inner);
    let waiting = Waiting::enter().ok_or_else(|| ConnectError::Connect {
        url: url.to_string(),
        message: format!(
            "{MAX_WAITING_CONNECTS} earlier connections are still waiting for an answer"
        ),
        failure: ConnectFailure::Other,
    })?;
    let before = Snapshot::take();
    let (sender, receiver) = mpsc::channel();
    let target = url.clone();
    std::thread::Builder::new()
        .name("guard-connect".into())
        .spawn(move || {
            let _waiting = waiting;
            // The receiver may have given up; the connection is then dropped.
            let _ = sender.send(player_core::db::connect(&target));
        })
        .map_err(|e| url.connect_error(&e))?;
    let timeout = url.connect_timeout();
    match receiver.recv_timeout(timeout) {
        Ok(connected) => {
            let conn = connected?;
            Ok((conn, socket::only(before.opened_since(url.port()))))
        }
        Err(_) => {
            match socket::only(before.opened_since(url.port())) {
                // Still one at a time: the new socket is the connect's. Once
                // shut down, the connect fails and its thread ends.
                Some(socket) if socket.shut_down() => {
                    let _ = receiver.recv_timeout(WIND_DOWN);
                }
                _ => tracing::warn!(
                    %url,
                    "a connect given up on goes on waiting: its socket is not known"
                ),
            }
            Err(ConnectError::Timeout {
                url: url.to_string(),
                after: timeout,
            })
        }
    }
}

/// One connect in flight, counted until its thread ends.
struct Waiting;

static WAITING: AtomicUsize = AtomicUsize::new(0);

impl Waiting {
    /// Counts one more connect, unless [`MAX_WAITING_CONNECTS`] are in flight.
    fn enter() -> Option<Self> {
        WAITING
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_WAITING_CONNECTS).then_some(n + 1)
            })
            .ok()
            .map(|_| Waiting)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    }
}
