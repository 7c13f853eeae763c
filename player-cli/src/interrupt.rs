//! Ctrl-C (SIGINT) and SIGTERM for the long commands, `bank` and `load`: the
//! first signal asks the command to stop at the next safe point (the trades or
//! the batch in flight finish), and the command then reports what it did and
//! exits with [`exit_status`]; a second one quits at once.
//!
//! SIGTERM is what `kill`, `timeout`, systemd and Kubernetes send before they
//! kill: handled like Ctrl-C, a stopped container still prints its report.
//! Quitting at once is safe too, only less informative: a trade or a batch is
//! one transaction, which the server rolls back when the connection drops
//! (or has committed whole), so nothing is ever half-applied.

use std::sync::atomic::{AtomicI32, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The first signal received, 0 before any.
static FIRST: AtomicI32 = AtomicI32::new(0);

/// The error a command returns when a signal stopped it after it reported
/// what it did; `main` prints `interrupted: MESSAGE` and exits with
/// [`exit_status`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// On the first SIGINT or SIGTERM calls `stop`, from a thread of its own,
/// and prints `stopping: WHAT (... again to quit at once)` on stderr; on the
/// second, exits with 128 + its number. `stop` returns whether the command
/// has a safe point ahead to stop at; when it has none (nothing in flight
/// yet: it is still connecting, and a silent server would keep it there for
/// `connect_timeout`), the first signal quits at once too. Called once, by
/// the one command that runs.
pub fn on_signal(
    what: &'static str,
    stop: impl Fn() -> bool + Send + 'static,
) -> anyhow::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("player-cli-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if FIRST
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    eprintln!("{} again: quitting now", name(signal));
                    std::process::exit(128 + signal);
                }
                if !stop() {
                    eprintln!("{}: quitting now (nothing in flight yet)", name(signal));
                    std::process::exit(128 + signal);
                }
                eprintln!("stopping: {what} ({} again to quit at once)", name(signal));
            }
        })?;
    Ok(())
}

/// What stopped the command: `Ctrl-C` or `SIGTERM`, for its messages.
pub fn cause() -> &'static str {
    name(FIRST.load(Ordering::SeqCst))
}

/// Exit status of a command a signal stopped: 128 + the signal's number, what
/// shells report for a program that signal killed (130 for Ctrl-C, 143 for
/// SIGTERM).
pub fn exit_status() -> u8 {
    match FIRST.load(Ordering::SeqCst) {
        SIGTERM => 128 + 15,
        _ => 128 + 2,
    }
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        _ => "Ctrl-C",
    }
}
