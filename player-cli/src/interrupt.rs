//! Ctrl-C for the long commands, `bank` and `load`: the first one asks the
//! command to stop at the next safe point (the trades or the batch in flight
//! finish), and the command then reports what it did and exits with
//! [`EXIT_INTERRUPTED`]; a second one quits at once.
//!
//! Quitting at once is safe too, only less informative: a trade or a batch is
//! one transaction, which the server rolls back when the connection drops
//! (or has committed whole), so nothing is ever half-applied.

use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a command stopped by Ctrl-C: 128 + SIGINT, what shells
/// report for a program that SIGINT killed.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The error a command returns when it stopped on Ctrl-C after reporting what
/// it did; `main` prints `interrupted: MESSAGE` and exits with
/// [`EXIT_INTERRUPTED`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// On the first Ctrl-C (SIGINT) prints `stopping: WHAT (Ctrl-C again to quit
/// at once)` on stderr and calls `stop`, from a thread of its own; on the
/// second, exits with [`EXIT_INTERRUPTED`]. Called once, by the one command
/// that runs.
pub fn on_ctrl_c(what: &'static str, stop: impl Fn() + Send + 'static) -> anyhow::Result<()> {
    let pressed = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if pressed.swap(true, Ordering::Relaxed) {
            eprintln!("interrupted again: quitting now");
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        eprintln!("stopping: {what} (Ctrl-C again to quit at once)");
        stop();
    })?;
    Ok(())
}
