//! `trade`: the seller gives goods to the buyer for coins, in one transaction.

use std::io::Write;

use clap::Args;
use player_core::db::{self, DatabaseUrl};
use player_core::{Refusal, TradeOutcome};

use crate::args::{self, PlayerId};

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
}

/// How a trade that ran ended, as an exit status tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traded {
    /// Coins and goods moved.
    Done,
    /// The balances did not allow it; nothing changed.
    Refused,
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
pub fn run(a: &TradeArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<Traded> {
    let mut conn = db::connect(url)?;
    let outcome = player_core::trade(
        &mut conn,
        a.seller.as_str(),
        a.buyer.as_str(),
        a.amount,
        a.price,
    )?;
    Ok(match outcome {
        TradeOutcome::Done => {
            writeln!(out, "trade success")?;
            Traded::Done
        }
        TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
            writeln!(out, "sell player {} goods not enough", a.seller)?;
            Traded::Refused
        }
        TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
            writeln!(out, "buy player {} coins not enough", a.buyer)?;
            Traded::Refused
        }
    })
}
