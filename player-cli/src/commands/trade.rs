//! `trade`: the seller gives goods to the buyer for coins, in one transaction;
//! with `--key`, exactly once (player-core's `ledger`).

use std::io::Write;
use std::time::Duration;

use clap::Args;
use player_core::db::DatabaseUrl;
use player_core::ledger::{self, IdempotencyKey};
use player_core::retry::RetryPolicy;
use player_core::{PlayerId, Refusal, Trade, TradeOutcome};

use serde::Serialize;

use crate::args;
use crate::commands::{InFlight, write_json};

/// Arguments of `trade`.
#[derive(Debug, Args)]
pub struct TradeArgs {
    /// Id of the player who gives goods and receives coins.
    #[arg(long, allow_negative_numbers = true)]
    pub seller: PlayerId,
    /// Id of the player who gives coins and receives goods.
    #[arg(long, allow_negative_numbers = true)]
    pub buyer: PlayerId,
    /// Goods that move from the seller to the buyer (at least 1).
    #[arg(long, allow_negative_numbers = true, value_parser = args::positive)]
    pub amount: i32,
    /// Coins that move from the buyer to the seller (at least 1).
    #[arg(long, allow_negative_numbers = true, value_parser = args::positive)]
    pub price: i32,
    /// Seconds the trade may take, retries included; a retry that could not
    /// end within them is not started (a lock held elsewhere, say).
    #[arg(long, default_value = "60", value_parser = args::seconds, value_name = "SECONDS", allow_negative_numbers = true)]
    pub time_limit: f64,
    /// Make the trade exactly once under this idempotency key (1 to 255
    /// characters): run again with the same key, the command prints the
    /// stored outcome and changes nothing. Use it to learn the outcome of a
    /// trade whose connection was lost.
    #[arg(long, value_name = "KEY", allow_negative_numbers = true)]
    pub key: Option<IdempotencyKey>,
    /// Print a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// What `trade --json` prints, keys in this order:
/// `{"seller":"2","buyer":"1","amount":2,"price":100,"outcome":"done","refusal":null,"key":null,"replayed":null}`.
#[derive(Debug, Serialize)]
pub struct TradeJson<'a> {
    /// Id of the player who gives goods.
    pub seller: &'a str,
    /// Id of the player who gives coins.
    pub buyer: &'a str,
    /// Goods asked to move.
    pub amount: i32,
    /// Coins asked to move.
    pub price: i32,
    /// `done` or `refused`.
    pub outcome: &'static str,
    /// Why it was refused: `seller_lacks_goods` or `buyer_lacks_coins`; null when done.
    pub refusal: Option<&'static str>,
    /// The idempotency key of a keyed trade; null without `--key`.
    pub key: Option<&'a str>,
    /// For a keyed trade, whether an earlier run with the key made (or
    /// refused) it and this one only read its outcome; null without `--key`.
    pub replayed: Option<bool>,
}

impl<'a> TradeJson<'a> {
    /// The JSON form of `trade` and how it came out.
    pub fn new(trade: &Trade<'a>, outcome: TradeOutcome) -> Self {
        let (outcome, refusal) = match outcome {
            TradeOutcome::Done => ("done", None),
            TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
                ("refused", Some("seller_lacks_goods"))
            }
            TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
                ("refused", Some("buyer_lacks_coins"))
            }
        };
        Self {
            seller: trade.seller.as_str(),
            buyer: trade.buyer.as_str(),
            amount: trade.amount,
            price: trade.price,
            outcome,
            refusal,
            key: None,
            replayed: None,
        }
    }
}

impl TradeArgs {
    /// Checks what clap cannot: seller and buyer must be two players, as the
    /// column's collation tells ids apart (`a` and `a ` are one).
    pub fn check(&self) -> Result<(), String> {
        if self.seller == self.buyer {
            return Err(format!(
                "the seller and the buyer must be different players (both are {:?})",
                self.seller.as_str()
            ));
        }
        Ok(())
    }
}

/// Runs the trade and prints the tutorial's line for its outcome (`trade
/// success`, `sell player ID goods not enough` or `buy player ID coins not
/// enough`), or with `--json` a [`TradeJson`].
pub fn run(a: &TradeArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<TradeOutcome> {
    let mut conn = player_guard::connect_guarded(url)?;
    let trade = Trade {
        seller: &a.seller,
        buyer: &a.buyer,
        amount: a.amount,
        price: a.price,
    };
    let policy = RetryPolicy::default().with_time_limit(Duration::from_secs_f64(a.time_limit));
    // The time limit bounds retries against a server that answers; the
    // deadline, a server that stops answering in the middle of a statement.
    // The trade's error says whether it may have been applied.
    let deadline = player_guard::deadline_for(&policy);
    let (outcome, replayed) = match &a.key {
        None => {
            let traded = super::step_as(&mut conn, deadline, InFlight::Described, |c| {
                player_core::trade(c, &trade, &policy)
            })?;
            (traded.outcome, None)
        }
        Some(key) => {
            let traded = super::step_as(&mut conn, deadline, InFlight::Described, |c| {
                ledger::trade(c, key, &trade, &policy)
            })?;
            (traded.outcome, Some(traded.replayed))
        }
    };
    if a.json {
        let json = TradeJson {
            key: a.key.as_ref().map(IdempotencyKey::as_str),
            replayed,
            ..TradeJson::new(&trade, outcome)
        };
        write_json(out, &json)?;
    } else {
        writeln!(out, "{}", crate::scenarios::outcome_line(&trade, outcome))?;
        if let (Some(key), Some(true)) = (&a.key, replayed) {
            writeln!(
                out,
                "replayed: key {:?} was traded before; this is its outcome, nothing changed now",
                key.as_str()
            )?;
        }
    }
    Ok(outcome)
}
