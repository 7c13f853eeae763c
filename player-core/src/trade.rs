//! A trade: the seller gives `amount` goods to the buyer for `price` coins.
//!
//! It runs in one transaction that locks both rows with `SELECT ... FOR UPDATE`
//! (in id order, in one statement), checks balances on the locked rows, and
//! moves coins and goods with one relative `UPDATE`: four round trips in all
//! (BEGIN, SELECT, UPDATE, COMMIT) and no window for a lost update.

use diesel::dsl::case_when;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

use crate::models::{MAX_ID_LEN, Player};
use crate::schema::player;

/// How a trade that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeOutcome {
    /// Coins and goods moved.
    Done,
    /// The balances did not allow it; nothing changed.
    Refused(Refusal),
}

/// Why a trade was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The seller holds fewer goods than the amount.
    SellerLacksGoods,
    /// The buyer holds fewer coins than the price.
    BuyerLacksCoins,
}

/// Errors of [`trade`]; none of them leaves a change behind.
#[derive(Debug, thiserror::Error)]
pub enum TradeError {
    /// Amount or price not positive, seller equal to buyer, or an id that cannot exist.
    #[error("invalid trade: {0}")]
    InvalidTrade(&'static str),
    /// No player has this id.
    #[error("unknown player {0:?}")]
    UnknownPlayer(String),
    /// The seller's coins or the buyer's goods would pass the INT maximum.
    #[error("trade would overflow the {0} of player {1:?}")]
    Overflow(&'static str, String),
    /// The database failed the transaction.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Moves `amount` goods from `seller` to `buyer` and `price` coins back, in one
/// transaction, if the seller has the goods and the buyer the coins.
pub fn trade(
    conn: &mut MysqlConnection,
    seller: &str,
    buyer: &str,
    amount: i32,
    price: i32,
) -> Result<TradeOutcome, TradeError> {
    validate(seller, buyer, amount, price)?;
    conn.transaction(|conn| {
        // One statement locks both rows, always in id order, so two opposite
        // trades cannot each hold one lock and wait for the other.
        let locked: Vec<Player> = player::table
            .filter(player::id.eq_any([seller, buyer]))
            .order(player::id)
            .select(Player::as_select())
            .for_update()
            .load(conn)?;
        let find = |id: &str| {
            locked
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| TradeError::UnknownPlayer(id.to_owned()))
        };
        let (seller_row, buyer_row) = (find(seller)?, find(buyer)?);

        if seller_row.goods < amount {
            return Ok(TradeOutcome::Refused(Refusal::SellerLacksGoods));
        }
        if buyer_row.coins < price {
            return Ok(TradeOutcome::Refused(Refusal::BuyerLacksCoins));
        }
        if seller_row.coins.checked_add(price).is_none() {
            return Err(TradeError::Overflow("coins", seller.to_owned()));
        }
        if buyer_row.goods.checked_add(amount).is_none() {
            return Err(TradeError::Overflow("goods", buyer.to_owned()));
        }

        let is_seller = player::id.eq(seller);
        diesel::update(player::table.filter(player::id.eq_any([seller, buyer])))
            .set((
                player::coins
                    .eq(case_when(is_seller, player::coins + price)
                        .otherwise(player::coins - price)),
                player::goods
                    .eq(case_when(is_seller, player::goods - amount)
                        .otherwise(player::goods + amount)),
            ))
            .execute(conn)?;
        Ok(TradeOutcome::Done)
    })
}

/// Rejects what no database state could make valid, before a round trip.
fn validate(seller: &str, buyer: &str, amount: i32, price: i32) -> Result<(), TradeError> {
    if amount <= 0 {
        return Err(TradeError::InvalidTrade("amount must be positive"));
    }
    if price <= 0 {
        return Err(TradeError::InvalidTrade("price must be positive"));
    }
    if seller == buyer {
        return Err(TradeError::InvalidTrade("seller and buyer must differ"));
    }
    for id in [seller, buyer] {
        if id.is_empty() || id.chars().count() > MAX_ID_LEN {
            return Err(TradeError::UnknownPlayer(id.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_what_no_state_allows() {
        let invalid = |r| matches!(r, Err(TradeError::InvalidTrade(_)));
        assert!(invalid(validate("a", "b", 0, 1)));
        assert!(invalid(validate("a", "b", -1, 1)));
        assert!(invalid(validate("a", "b", 1, 0)));
        assert!(invalid(validate("a", "a", 1, 1)));
        assert!(matches!(
            validate("", "b", 1, 1),
            Err(TradeError::UnknownPlayer(_))
        ));
        assert!(validate("a", "b", 1, 1).is_ok());
    }
}
