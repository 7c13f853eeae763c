//! The player tutorial as an HTTP service: player CRUD and trades made
//! exactly once under an `Idempotency-Key`, JSON in and out, on axum over
//! tokio. `player-cli serve` parses its flags and calls [`serve`].
//!
//! What it keeps of the library's promises, and how:
//!
//! - Diesel blocks, so it never runs on the async workers: each request's
//!   database work is a job on tokio's blocking pool, on one pooled
//!   connection, in the request's tracing span (`database`).
//! - Every wait is bounded: the wait for a connection, each database step
//!   (player-guard's deadline shuts a stalled connection down), the request
//!   (tower-http's `TimeoutLayer`; its head, hyper's header timeout), the
//!   body (`RequestBodyLimitLayer`), the drain at shutdown. A
//!   database that stops answering or goes away turns into 503s and 504s,
//!   never hung requests, and the pool reconnects by itself when it is back.
//! - A job cannot be cancelled, so a request that timed out never claims
//!   that its change did not happen (the router words the 504).
//! - Errors are RFC 9457 problems with a stable `type` per error
//!   ([`problem::ApiError`]), the same checks as the CLI's (`validate`), and no
//!   internals or password in any answer or log line.
//! - SIGINT or SIGTERM stops accepting, lets the requests in flight finish
//!   (and the database jobs they started), then returns.
//!
//! `docs/http.md` has every endpoint, the error table and the idempotency rules.
#![warn(missing_docs)]

mod config;
mod database;
mod extract;
mod health;
mod links;
pub mod openapi;
mod players;
pub mod problem;
mod router;
mod serve;
mod state;
mod telemetry;
mod trades;
mod validate;

pub use config::{Config, DEFAULT_PAGE, MAX_BULK, MAX_PAGE};
pub use health::Status;
pub use players::{NewPlayerBody, PlayerBody, PlayerPage, PlayerPatch};
pub use serve::{ServeError, Server, serve};
pub use trades::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, StoredTradeBody, TradeBody, TradeRequest};
