//! End-to-end tests of the `player-cli` binary against the real server: each
//! test gets its own database (or its own private server for TLS and faults).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod bank;
mod causes;
mod common;
mod completions;
mod connect_errors;
mod docs;
mod doctor;
mod guards;
mod json;
mod ledger;
mod load;
mod migrate_ping;
mod notice;
mod player;
mod scenarios;
mod secrets;
mod setup;
mod stalls;
mod terminal;
mod tls;
mod trade;
