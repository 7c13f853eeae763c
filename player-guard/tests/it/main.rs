//! player-guard against the real server, private servers that are frozen, and
//! listeners that never answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod connect;
mod pool;
mod stalls;
