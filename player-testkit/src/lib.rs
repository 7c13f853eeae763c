//! Test support: a throw-away database for each test, so tests run in
//! parallel against the real server and leave nothing behind; a private
//! server for tests that stop or reconfigure one; the one way tests run the
//! workspace's binaries ([`cli::Cli`]) and wait for things ([`poll_until`]);
//! the server's kind and the skip of the tests it cannot run ([`require!`]);
//! and helpers that bind values rather than splice them into SQL.
//!
//! The server comes from `TEST_DATABASE_URL` (its database part is ignored),
//! by default the local one started by `scripts/local-db.sh start` (on
//! `LOCAL_DB_PORT`, 4000 unless set). It may be TiDB, MySQL or MariaDB.
#![warn(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failing loudly is the point

pub mod cli;
mod database;
pub mod need;
pub mod net;
mod poll;
#[cfg(unix)]
mod server;
pub mod sql;
pub mod trade_form;

pub use database::{PREFIX, TestDatabase, databases_starting_with, test_server_url};
pub use need::{Need, ServerKind};
pub use poll::{POLL_EVERY, poll_until};
#[cfg(unix)]
pub use server::PrivateServer;
