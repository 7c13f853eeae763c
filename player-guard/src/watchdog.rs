//! One thread for the whole process that shuts down the sockets of
//! operations past their deadline; arming and disarming cost a lock each.
//!
//! The thread is woken only when an operation is armed with a deadline
//! earlier than the one it sleeps until. Deadlines are mostly "now plus the
//! same limit", so each new one is later than the earliest already armed, and
//! arming a trade wakes nobody: a wake-up per operation would cost the
//! process two context switches per trade. The thread still wakes at the
//! earliest deadline it saw, even if that operation was disarmed since, and
//! then sleeps until the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::Instant;

use crate::socket::Socket;

pub(crate) struct Watchdog {
    state: Mutex<Watches>,
    wake: Condvar,
}

/// The operations being watched, by the number `arm` gave them.
struct Watches {
    next: u64,
    armed: BTreeMap<u64, (Socket, Instant)>,
    /// Operations whose socket was shut down, until they are disarmed.
    fired: BTreeSet<u64>,
    /// When the thread wakes by itself; `None` while it sleeps until woken
    /// (nothing armed, or not started yet).
    wakes_at: Option<Instant>,
}

impl Watchdog {
    pub(crate) fn global() -> &'static Watchdog {
        static WATCHDOG: Watchdog = Watchdog {
            state: Mutex::new(Watches {
                next: 0,
                armed: BTreeMap::new(),
                fired: BTreeSet::new(),
                wakes_at: None,
            }),
            wake: Condvar::new(),
        };
        static STARTED: Once = Once::new();
        STARTED.call_once(|| {
            let started = std::thread::Builder::new()
                .name("guard-watchdog".into())
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
    pub(crate) fn arm(&self, socket: Socket, deadline: Instant) -> u64 {
        let mut watches = self.lock();
        watches.next += 1;
        let id = watches.next;
        watches.armed.insert(id, (socket, deadline));
        if watches.wakes_at.is_none_or(|wakes| deadline < wakes) {
            self.wake.notify_one();
        }
        id
    }

    /// Stops watching; true if the deadline had passed and the socket was shut down.
    pub(crate) fn disarm(&self, id: u64) -> bool {
        let mut watches = self.lock();
        watches.armed.remove(&id);
        watches.fired.remove(&id)
    }

    fn run(&self) {
        let mut watches = self.lock();
        loop {
            let now = Instant::now();
            let due: Vec<(u64, Socket)> = watches
                .armed
                .iter()
                .filter(|(_, (_, deadline))| *deadline <= now)
                .map(|(id, (socket, _))| (*id, *socket))
                .collect();
            for (id, socket) in due {
                // Under the lock the operation is not disarmed, so its
                // connection is open; the socket is shut down only if the
                // client library has not closed it (its number may be
                // another socket's by now).
                socket.shut_down();
                watches.armed.remove(&id);
                watches.fired.insert(id);
            }
            let next = watches.armed.values().map(|(_, deadline)| *deadline).min();
            watches.wakes_at = next;
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
