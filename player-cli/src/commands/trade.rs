//! `trade`: the seller gives goods to the buyer for coins, in one transaction.

use std::io::Write;

use clap::Args;
use player_core::db::{self, DatabaseUrl};
use player_core::retry::RetryPolicy;
use player_core::{PlayerId, Refusal, Trade, TradeOutcome};

use crate::args;

/// Arguments of `trade`.
#[derive(Debug, Args)]
pub struct TradeArgs {
    /// Id of the player who gives goods and receives coins.
    #[arg(long)]
    pub seller: PlayerId,
    /// Id of the player who gives coins and receives goods.
    #[arg(long)]
    pub buyer: PlayerId,
    /// Goods that move from the seller to the buyer (at least 1).
    #[arg(long, value_parser = args::positive)]
    pub amount: i32,
    /// Coins that move from the buyer to the seller (at least 1).
    #[arg(long, value_parser = args::positive)]
    pub price: i32,
    /// Seconds the trade may take, retries included; a retry that could not
    /// end within them is not started (a lock held elsewhere, say).
    #[arg(long, default_value = "60", value_parser = args::seconds, value_name = "SECONDS", allow_negative_numbers = true)]
    pub time_limit: std::time::Duration,
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

/// Runs the trade and prints the tutorial's line for its outcome: `trade
/// success`, `sell player ID goods not enough` or `buy player ID coins not enough`.
pub fn run(a: &TradeArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<TradeOutcome> {
    let mut conn = db::connect(url)?;
    let trade = Trade {
        seller: &a.seller,
        buyer: &a.buyer,
        amount: a.amount,
        price: a.price,
    };
    let policy = RetryPolicy::default().with_time_limit(a.time_limit);
    let outcome = player_core::trade_with_retry(&mut conn, &trade, &policy)?.outcome;
    match outcome {
        TradeOutcome::Done => writeln!(out, "trade success")?,
        TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
            writeln!(out, "sell player {} goods not enough", a.seller)?
        }
        TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
            writeln!(out, "buy player {} coins not enough", a.buyer)?
        }
    }
    Ok(outcome)
}
