//! player-guard against the real server, private servers that are frozen, and
//! listeners that never answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod connect;
mod deadline;
mod pool;
// The stall needs a guarded connection and a server that can be frozen.
#[cfg(target_os = "linux")]
mod stalls;
