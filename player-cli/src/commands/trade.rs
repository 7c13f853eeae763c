//! `trade`: the seller gives goods to the buyer for coins, in one transaction.

use std::io::Write;

use clap::Args;
use player_core::db::{self, DatabaseUrl};
use player_core::{Refusal, Trade, TradeOutcome};

use crate::args::{self, PlayerId};

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
}

impl TradeArgs {
    /// Checks what clap cannot: seller and buyer must differ.
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
        seller: a.seller.as_str(),
        buyer: a.buyer.as_str(),
        amount: a.amount,
        price: a.price,
    };
    let outcome = player_core::trade(&mut conn, &trade)?;
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
