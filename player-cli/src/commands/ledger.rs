//! `ledger get|prune`: the keyed trades `trade --key` records (player-core's
//! `ledger`).

use std::io::Write;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, Subcommand};
use player_core::Trade;
use player_core::db::DatabaseUrl;
use player_core::ledger::{self, IdempotencyKey, KeyedTrade};
use serde::Serialize;

use crate::commands::trade::TradeJson;
use crate::commands::{step, write_json};

/// `ledger` subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Print the trade made under an idempotency key (exit 1 if there is none).
    Get(GetArgs),
    /// Delete the keys recorded longer ago than a duration, in bounded batches.
    Prune(PruneArgs),
}

impl LedgerCommand {
    /// True for `prune`.
    pub fn changes_data(&self) -> bool {
        matches!(self, Self::Prune(_))
    }
}

/// Arguments of `ledger get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The idempotency key given to `trade --key`.
    #[arg(allow_negative_numbers = true)]
    pub key: IdempotencyKey,
    /// Print a JSON object instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `ledger prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete the keys recorded longer ago than this (`30d`, `12h`, `0s`).
    /// A pruned key is new again: keep keys longer than anyone may resend a
    /// trade.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Duration,
    /// Rows deleted per statement (each its own transaction).
    #[arg(long, default_value = "1000", value_name = "ROWS")]
    pub batch: NonZeroU32,
    /// Print a JSON object instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// Runtime errors of the `ledger` commands besides the library's.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No trade was recorded under this key (or it was pruned).
    #[error("no trade under idempotency key {:?}", .0.as_str())]
    NotFound(IdempotencyKey),
}

/// A stored trade as `ledger get --json` prints it:
/// `{"key":"order-1","seller":"2","buyer":"1","amount":2,"price":100,"outcome":"done","refusal":null,"recorded_at":"2026-12-01T09:00:00.123456Z"}`.
#[derive(Debug, Serialize)]
pub struct StoredJson<'a> {
    /// The idempotency key.
    pub key: &'a str,
    /// Id of the seller.
    pub seller: &'a str,
    /// Id of the buyer.
    pub buyer: &'a str,
    /// Goods asked to move.
    pub amount: i32,
    /// Coins asked to move.
    pub price: i32,
    /// `done` or `refused`.
    pub outcome: &'static str,
    /// Why it was refused, as `trade --json` says; null when done.
    pub refusal: Option<&'static str>,
    /// When the trade's transaction recorded it, RFC 3339 in UTC.
    pub recorded_at: String,
}

/// What `ledger prune --json` prints: `{"deleted":3}`.
#[derive(Debug, Serialize)]
pub struct PrunedJson {
    /// Keys deleted.
    pub deleted: u64,
}

/// Runs a `ledger` subcommand; `stall` bounds its work (for `prune`, all of
/// its batches together).
pub fn run(
    cmd: LedgerCommand,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut conn = player_guard::connect_guarded(url)?;
    match cmd {
        LedgerCommand::Get(a) => {
            let stored = step(&mut conn, stall, |c| ledger::get(c, &a.key))?
                .ok_or_else(|| LedgerError::NotFound(a.key.clone()))?;
            let json = stored_json(&stored);
            if a.json {
                write_json(out, &json)?;
            } else {
                let refusal = json.refusal.map(|r| format!(" ({r})")).unwrap_or_default();
                writeln!(
                    out,
                    "key:{}, seller:{}, buyer:{}, amount:{}, price:{}, outcome:{}{refusal}, recorded:{}",
                    json.key,
                    json.seller,
                    json.buyer,
                    json.amount,
                    json.price,
                    json.outcome,
                    json.recorded_at
                )?;
            }
        }
        LedgerCommand::Prune(a) => {
            let deleted = step(&mut conn, stall, |c| {
                ledger::prune(c, a.older_than, a.batch)
            })?;
            if a.json {
                write_json(out, &PrunedJson { deleted })?;
            } else {
                writeln!(
                    out,
                    "pruned the keys recorded more than {} ago: {deleted}",
                    humantime::format_duration(a.older_than)
                )?;
            }
        }
    }
    Ok(())
}

fn stored_json(stored: &KeyedTrade) -> StoredJson<'_> {
    let trade = Trade {
        seller: &stored.seller,
        buyer: &stored.buyer,
        amount: stored.amount,
        price: stored.price,
    };
    let TradeJson {
        outcome, refusal, ..
    } = TradeJson::new(&trade, stored.outcome);
    StoredJson {
        key: stored.key.as_str(),
        seller: stored.seller.as_str(),
        buyer: stored.buyer.as_str(),
        amount: stored.amount,
        price: stored.price,
        outcome,
        refusal,
        recorded_at: humantime::format_rfc3339_micros(stored.recorded_at).to_string(),
    }
}
