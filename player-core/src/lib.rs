//! Data layer of the TiDB player tutorial, written with Diesel.
//!
//! - [`schema`] and [`models`]: the `player` table and its Rust types.
//! - [`players`]: typed queries (create, get, bulk-create, count, list, delete).
//! - [`trade`](mod@trade): a trade between two players, done inside one transaction
//!   that locks both rows with `SELECT ... FOR UPDATE`.
//! - [`retry`]: which errors a transaction is retried on, and the backoff.
//! - [`bank`]: the bank workload (concurrent random trades) and its invariant checker.
//! - [`db`]: connecting with a checked `DATABASE_URL` whose password never shows.
//! - [`migrations`]: the migrations embedded in the binary.

pub mod bank;
pub mod db;
mod error;
pub mod migrations;
pub mod models;
pub mod players;
pub mod retry;
/// The `player` table, as `diesel print-schema` writes it (do not edit by hand).
#[allow(missing_docs)]
pub mod schema;
pub mod trade;

pub use error::Error;
pub use models::{NewPlayer, Player};
pub use trade::{Refusal, TradeError, TradeOutcome, Traded, trade, trade_with_retry};
