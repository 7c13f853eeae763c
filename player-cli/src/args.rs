//! Argument types and value parsers shared by the commands. Each one checks
//! its value when the command line is parsed, so bad input is a usage error
//! (exit status 2) before anything touches the database.

use player_core::players::{MAX_BATCH_SIZE, MAX_PLACEHOLDERS};

/// A balance (coins or goods): `0..=i32::MAX`, the `INT` column's non-negative range.
pub fn balance(s: &str) -> Result<i32, String> {
    let n = parse_int(s)?;
    i32::try_from(n)
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("must be between 0 and {}", i32::MAX))
}

/// A trade amount or price: `1..=i32::MAX`.
pub fn positive(s: &str) -> Result<i32, String> {
    let n = parse_int(s)?;
    i32::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("must be between 1 and {}", i32::MAX))
}

/// A duration in seconds, fractions allowed: above 0 and up to a day.
pub fn seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(v))
        }
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

/// The most players one `load` creates (a billion: far more than a test
/// needs, few enough that a typo such as an extra zero is caught).
pub const MAX_LOAD_COUNT: u64 = 1_000_000_000;

/// A `load --count`: `1..=MAX_LOAD_COUNT`.
pub fn load_count(s: &str) -> Result<u64, String> {
    let n = parse_int(s)?;
    u64::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_LOAD_COUNT).contains(n))
        .ok_or_else(|| format!("must be between 1 and {MAX_LOAD_COUNT}"))
}

/// A batch size: `1..=MAX_BATCH_SIZE`, so that one multi-row INSERT stays
/// under the protocol's placeholder limit.
pub fn batch_size(s: &str) -> Result<usize, String> {
    let n = parse_int(s)?;
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_BATCH_SIZE).contains(n))
        .ok_or_else(|| {
            format!(
                "must be between 1 and {MAX_BATCH_SIZE} (one INSERT binds 3 values a row and at most {MAX_PLACEHOLDERS})"
            )
        })
}

/// The most rows one `player list` page shows.
pub const MAX_PAGE: i64 = 10_000;

/// A `player list --limit`: `1..=MAX_PAGE`.
pub fn page_size(s: &str) -> Result<i64, String> {
    let n = parse_int(s)?;
    i64::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| format!("must be between 1 and {MAX_PAGE}"))
}

/// An integer in decimal, with a message that does not mention Rust types.
fn parse_int(s: &str) -> Result<i128, String> {
    s.parse::<i128>()
        .map_err(|_| format!("`{s}` is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
