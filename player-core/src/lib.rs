//! Data layer of the TiDB player tutorial, written with Diesel.
//!
//! - [`schema`] and [`models`]: the `player` table and its Rust types.
//! - [`players`]: typed queries (create, get, bulk-create, count, list, delete).
//! - [`trade`](mod@trade): a trade between two players, done inside one transaction
//!   whose usual case is a single `UPDATE` of both rows.
//! - [`retry`]: which errors a transaction is retried on, and the backoff.
//! - [`bank`]: the bank workload (concurrent random trades) and its invariant checker.
//! - [`db`]: connecting with a checked `DATABASE_URL` whose password never shows.
//! - [`tls`]: the `ssl_mode` / `ssl_ca` settings of a URL, refused when the
//!   linked client library could not enforce them.
//! - [`server`]: server version, session cipher and TiDB transaction mode.
//! - [`statement_cache`]: recovery from a Diesel bug that replays the error of a
//!   failed cached statement.
//! - [`migrations`]: the migrations embedded in the binary.

pub mod bank;
mod batch_insert;
pub mod db;
mod error;
pub mod migrations;
pub mod models;
pub mod players;
pub mod retry;
/// The `player` table, as `diesel print-schema` writes it (do not edit by hand).
#[allow(missing_docs)]
pub mod schema;
pub mod server;
pub mod statement_cache;
pub mod tls;
pub mod trade;

pub use error::Error;
pub use models::{NewPlayer, Player};
pub use trade::{Refusal, TradeError, TradeOutcome, Traded, trade, trade_with_retry};
