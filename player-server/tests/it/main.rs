//! player-server over TCP against the real database: each test starts a
//! service of its own on a free port, on a throw-away database (or a private
//! server it freezes and stops), and talks to it with a real HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod docs;
mod errors;
mod faults;
mod load;
mod openapi;
mod players;
#[cfg(unix)]
mod shutdown;
mod trades;
