//! The checks the CLI makes on its arguments, made on JSON: ids through
//! [`PlayerId`], balances `0..=2147483647`, amounts and prices
//! `1..=2147483647`, seller and buyer two players as the column compares ids,
//! in the CLI's words. JSON numbers are read as `i64`, so that `-1` or
//! `2147483648` is refused here with the range, not by the parser.

use player_core::PlayerId;

use crate::problem::ApiError;

/// A balance (coins or goods) named `field`: `0..=i32::MAX`.
pub(crate) fn balance(field: &str, n: i64) -> Result<i32, ApiError> {
    within(field, n, 0)
}

/// A trade amount or price named `field`: `1..=i32::MAX`.
pub(crate) fn positive(field: &str, n: i64) -> Result<i32, ApiError> {
    within(field, n, 1)
}

fn within(field: &str, n: i64, low: i32) -> Result<i32, ApiError> {
    i32::try_from(n).ok().filter(|n| *n >= low).ok_or_else(|| {
        ApiError::Invalid(format!(
            "{field}: `{n}` is not between {low} and {}",
            i32::MAX
        ))
    })
}

/// A player id named `field`, checked as the column holds it.
pub(crate) fn player_id(field: &str, id: String) -> Result<PlayerId, ApiError> {
    PlayerId::new(id).map_err(|e| ApiError::Invalid(format!("{field}: {e}")))
}

/// The query's page size: `1..=max`.
pub(crate) fn page_size(n: i64, max: u32) -> Result<u32, ApiError> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| ApiError::Invalid(format!("limit: `{n}` is not between 1 and {max}")))
}

/// Seller and buyer must be two players, as the column compares ids (`a`
/// and `a ` are one).
pub(crate) fn two_players(seller: &PlayerId, buyer: &PlayerId) -> Result<(), ApiError> {
    if seller == buyer {
        return Err(ApiError::Invalid(format!(
            "the seller and the buyer must be different players (both are {:?})",
            seller.as_str()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_the_clis() {
        assert_eq!(balance("coins", 0), Ok(0));
        assert_eq!(balance("coins", i64::from(i32::MAX)), Ok(i32::MAX));
        assert_eq!(
            balance("coins", -1),
            Err(ApiError::Invalid(
                "coins: `-1` is not between 0 and 2147483647".into()
            ))
        );
        assert!(balance("goods", 2_147_483_648).is_err());
        assert!(positive("amount", 0).is_err());
        assert_eq!(positive("price", 1), Ok(1));
        assert_eq!(page_size(10_000, 10_000), Ok(10_000));
        assert!(page_size(0, 10_000).is_err());
        assert!(page_size(10_001, 10_000).is_err());
    }

    #[test]
    fn twins_are_one_player() {
        let a = player_id("seller", "a".into()).expect("id");
        let twin = player_id("buyer", "a  ".into()).expect("id");
        assert!(two_players(&a, &twin).is_err());
        let other = player_id("buyer", "A".into()).expect("id");
        assert!(two_players(&a, &other).is_ok());
        assert!(player_id("id", String::new()).is_err());
        assert!(player_id("id", "x".repeat(37)).is_err());
    }
}
