//! Test support: a throw-away database for each test, so tests run in
//! parallel against the real server and leave nothing behind; a private
//! server for tests that stop or reconfigure one; and helpers that bind
//! values rather than splice them into SQL.
//!
//! The server comes from `TEST_DATABASE_URL` (its database part is ignored),
//! by default the local one started by `scripts/local-db.sh start` (on
//! `LOCAL_DB_PORT`, 4000 unless set).
#![warn(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failing loudly is the point

mod database;
pub mod net;
mod server;
pub mod sql;

pub use database::{PREFIX, TestDatabase, databases_starting_with, test_server_url};
pub use server::PrivateServer;
