//! Argument types and value parsers shared by the commands. Each one checks
//! its value when the command line is parsed, so bad input is a usage error
//! (exit status 2) before anything touches the database.

use std::fmt;

use player_core::players::{MAX_BATCH_SIZE, MAX_PLACEHOLDERS};

/// A balance (coins or goods): `0..=i32::MAX`, the `INT` column's non-negative range.
pub fn balance(s: &str) -> Result<i32, String> {
    whole_in(s, 0, i32::MAX)
}

/// A trade amount or price: `1..=i32::MAX`.
pub fn positive(s: &str) -> Result<i32, String> {
    whole_in(s, 1, i32::MAX)
}

/// The most players one `load` creates (a billion: far more than a test
/// needs, few enough that a typo such as an extra zero is caught).
pub const MAX_LOAD_COUNT: u64 = 1_000_000_000;

/// A `load --count`: `1..=MAX_LOAD_COUNT`.
pub fn load_count(s: &str) -> Result<u64, String> {
    whole_in(s, 1, MAX_LOAD_COUNT)
}

/// A batch size: `1..=MAX_BATCH_SIZE`, so that one multi-row INSERT stays
/// under the protocol's placeholder limit.
pub fn batch_size(s: &str) -> Result<usize, String> {
    whole_in(s, 1, MAX_BATCH_SIZE).map_err(|e| {
        format!("{e} (one INSERT binds 3 values a row and at most {MAX_PLACEHOLDERS})")
    })
}

/// The most rows one `player list` page shows.
pub const MAX_PAGE: u32 = 10_000;

/// A `player list --limit`: `1..=MAX_PAGE`.
pub fn page_size(s: &str) -> Result<u32, String> {
    whole_in(s, 1, MAX_PAGE)
}

/// A `bank --workers`: `1..=1024`.
pub fn workers(s: &str) -> Result<u32, String> {
    whole_in(s, 1, 1024)
}

/// The most players `bank` seeds.
pub const MAX_BANK_PLAYERS: u32 = 1_000_000;

/// A `bank --players`: `2..=MAX_BANK_PLAYERS` (a trade needs two).
pub fn bank_players(s: &str) -> Result<u32, String> {
    whole_in(s, 2, MAX_BANK_PLAYERS)
}

/// A `bank --hot-players`: `0..=MAX_BANK_PLAYERS` here; `BankArgs::check`
/// then refuses 1 and more than `--players`.
pub fn hot_players(s: &str) -> Result<u32, String> {
    whole_in(s, 0, MAX_BANK_PLAYERS)
}

/// A `bank --trades`: `1..=10^12`.
pub fn trades(s: &str) -> Result<u64, String> {
    whole_in(s, 1, 1_000_000_000_000)
}

/// A `bank --max-retries`: `0..=10000`.
pub fn retries(s: &str) -> Result<u32, String> {
    whole_in(s, 0, 10_000)
}

/// A seed: any `u64`.
pub fn seed(s: &str) -> Result<u64, String> {
    whole_in(s, 0, u64::MAX)
}

/// A duration in seconds, fractions allowed: a millisecond to a day.
pub fn seconds(s: &str) -> Result<f64, String> {
    number_in(s, 0.001, 86_400.0)
}

/// A share (probability): `0..=1`.
pub fn share(s: &str) -> Result<f64, String> {
    number_in(s, 0.0, 1.0)
}

/// The one wording of a number out of range, on every command.
pub fn out_of_range(s: &str, low: impl fmt::Display, high: impl fmt::Display) -> String {
    format!("`{s}` is not between {low} and {high}")
}

/// A whole number in `low..=high`, in decimal, with messages that do not
/// mention Rust types.
fn whole_in<T>(s: &str, low: T, high: T) -> Result<T, String>
where
    T: Copy + fmt::Display + TryFrom<i128>,
    i128: TryFrom<T>,
{
    let wide = |n: T| i128::try_from(n).unwrap_or(i128::MAX);
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a whole number"));
    }
    // Too many digits for an i128 is out of range too.
    s.parse::<i128>()
        .ok()
        .filter(|n| (wide(low)..=wide(high)).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| out_of_range(s, low, high))
}

/// A decimal number (fractions allowed) in `low..=high`.
fn number_in(s: &str, low: f64, high: f64) -> Result<f64, String> {
    let n: f64 = s
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| format!("`{s}` is not a number"))?;
    if (low..=high).contains(&n) {
        Ok(n)
    } else {
        Err(out_of_range(s, low, high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_have_one_wording() {
        assert_eq!(
            balance("-1"),
            Err("`-1` is not between 0 and 2147483647".into())
        );
        assert_eq!(
            positive("0"),
            Err("`0` is not between 1 and 2147483647".into())
        );
        assert_eq!(
            load_count("99999999999999999999999999999999999999999999"),
            Err(
                "`99999999999999999999999999999999999999999999` is not between 1 and 1000000000"
                    .into()
            )
        );
        assert_eq!(workers("0"), Err("`0` is not between 1 and 1024".into()));
        assert_eq!(
            seed("-1"),
            Err("`-1` is not between 0 and 18446744073709551615".into())
        );
        assert_eq!(share("1.5"), Err("`1.5` is not between 0 and 1".into()));
        assert_eq!(
            seconds("0"),
            Err("`0` is not between 0.001 and 86400".into())
        );
        assert_eq!(balance("1.5"), Err("`1.5` is not a whole number".into()));
        assert_eq!(balance(""), Err("`` is not a whole number".into()));
        assert_eq!(seconds("NaN"), Err("`NaN` is not a number".into()));
        assert_eq!(seconds("0.5"), Ok(0.5));
        assert_eq!(seed("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(balance("+7"), Ok(7));
    }

    #[test]
    fn numbers_are_range_checked() {
        assert_eq!(balance("0"), Ok(0));
        assert!(balance("-1").is_err());
        assert!(balance("2147483648").is_err());
        assert_eq!(positive("2147483647"), Ok(i32::MAX));
        assert!(positive("0").is_err());
        assert!(positive("1.5").is_err());
        assert!(load_count("0").is_err());
        assert_eq!(load_count("1000000"), Ok(1_000_000));
        assert_eq!(batch_size(&MAX_BATCH_SIZE.to_string()), Ok(MAX_BATCH_SIZE));
        assert!(batch_size(&(MAX_BATCH_SIZE + 1).to_string()).is_err());
        assert!(page_size("0").is_err());
    }
}
