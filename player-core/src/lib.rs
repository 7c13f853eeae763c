//! The data layer of the TiDB player tutorial, written with Diesel: what a
//! Rust application on TiDB needs, in the order a reader meets it.
//!
//! - [`schema`] and [`models`]: the `player` table and its Rust types, with
//!   [`PlayerId`], an id that compares as the column's collation does.
//! - [`players`]: typed queries (create, get, bulk-create, count, list, update, delete).
//! - [`trade`](mod@trade): a [`Trade`] between two players in one transaction, whose
//!   usual case is a single `UPDATE` of both rows.
//! - [`transaction`]: the retrying transaction the trade runs in, for a body of
//!   your own; [`retry`] says which errors make it run again.
//! - [`ledger`]: exactly-once trades, an idempotency key recorded in the
//!   trade's own transaction.
//! - [`db`]: connecting from a checked `DATABASE_URL` (TLS settings included)
//!   whose password never shows, and a connection pool.
//! - [`migrations`]: the migrations embedded in the binary.
#![warn(missing_docs)]

mod batch_insert;
pub mod db;
mod error;
mod id;
pub mod ledger;
pub mod migrations;
pub mod models;
pub mod players;
pub mod retry;
/// The tables, as `diesel print-schema` writes it (do not edit by hand).
#[allow(missing_docs)]
pub mod schema;
mod statement_cache;
pub mod trade;
pub mod transaction;

pub use error::Error;
pub use models::{NewPlayer, Player, PlayerId};
pub use retry::RetryPolicy;
pub use trade::{Refusal, Trade, TradeError, TradeOutcome, Traded, trade, trade_in_one_statement};
pub use transaction::TransactionError;
