//! Whether the `player` table holds only what the tutorial's scenarios leave,
//! so that running them again (which empties it) destroys nobody's data.
//!
//! A run writes exactly these rows, and nothing else changes them:
//!
//! - `test` with 1 coin and 1 goods;
//! - `1` with 100 coins and 0 goods, or 0 and 2 after its trade;
//! - `2` with 114,514 coins and 20 goods, or 114,614 and 18 after the trade;
//! - at most 1,919 players whose id is a random UUID as `Uuid::new_v4`
//!   writes it (lowercase, hyphenated, version 4), with 10,000 coins and
//!   10,000 goods each.
//!
//! Ids are compared exactly, not as the PAD SPACE column does (`test ` is
//! someone else's). A run stopped half way leaves a subset of these, so any
//! subset counts; any other row, or more than 1,922 rows, does not. A row is
//! read only up to the 1,923rd, so a big table costs one short read.

use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use player_core::schema::player;

use crate::catalog::tables;

/// Rows of the random players a run creates.
pub const SCENARIO_UUIDS: usize = 1_919;

/// Every row a run can leave: the UUIDs and `test`, `1`, `2`.
pub const SCENARIO_ROWS: usize = SCENARIO_UUIDS + 3;

/// What the `player` table holds besides what the scenarios wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    /// Rows read (at most [`SCENARIO_ROWS`] + 1).
    pub rows: usize,
    /// True when the table holds more rows than were read.
    pub more: bool,
    /// Rows among those read that no run writes.
    pub strangers: usize,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.more {
            write!(
                f,
                "more than {SCENARIO_ROWS} rows, more than a run of the scenarios leaves"
            )
        } else {
            write!(
                f,
                "{} of its {} rows are not what the scenarios write",
                self.strangers, self.rows
            )
        }
    }
}

/// The ids of the rows in `player`, when it holds only rows the scenarios
/// write (none when there is no such table), for [`delete_scenario_rows`];
/// else what else it holds. Reads only.
pub fn scenario_rows(conn: &mut MysqlConnection) -> QueryResult<Result<Vec<String>, Foreign>> {
    let exists: i64 = tables::table
        .filter(
            tables::table_schema
                .nullable()
                .eq(diesel::dsl::sql::<Nullable<Text>>("DATABASE()")),
        )
        .filter(tables::table_name.eq("player"))
        .select(count_star())
        .first(conn)?;
    if exists == 0 {
        return Ok(Ok(Vec::new()));
    }
    // Nullable: a table of another shape (peewee's allows NULL) is read too.
    let rows: Vec<(String, Option<i32>, Option<i32>)> = player::table
        .select((
            player::id,
            player::coins.nullable(),
            player::goods.nullable(),
        ))
        .limit(i64::try_from(SCENARIO_ROWS + 1).unwrap_or(i64::MAX))
        .load(conn)?;
    Ok(match judge(&rows) {
        Some(foreign) => Err(foreign),
        None => Ok(rows.into_iter().map(|(id, ..)| id).collect()),
    })
}

/// Deletes the rows [`scenario_rows`] found, by id, and returns how many went:
/// a row another client wrote since that read stays, where emptying the
/// table would take it too. (No id twin can have slipped in under the
/// column's PAD SPACE comparison: the primary key holds one of each.)
pub fn delete_scenario_rows(conn: &mut MysqlConnection, ids: &[String]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(player::table.filter(player::id.eq_any(ids))).execute(conn)
}

/// The verdict on the rows read (at most [`SCENARIO_ROWS`] + 1).
fn judge(rows: &[(String, Option<i32>, Option<i32>)]) -> Option<Foreign> {
    let uuids = rows.iter().filter(|(id, ..)| is_random_id(id)).count();
    let strangers = rows
        .iter()
        .filter(|(id, coins, goods)| !is_scenario_row(id, *coins, *goods))
        .count();
    let more = rows.len() > SCENARIO_ROWS;
    if strangers == 0 && !more && uuids <= SCENARIO_UUIDS {
        return None;
    }
    Some(Foreign {
        rows: rows.len(),
        more: more || uuids > SCENARIO_UUIDS,
        strangers,
    })
}

/// A row a run of the scenarios writes, as it can be left.
fn is_scenario_row(id: &str, coins: Option<i32>, goods: Option<i32>) -> bool {
    let Some(balance) = coins.zip(goods) else {
        return false;
    };
    match id {
        "test" => balance == (1, 1),
        "1" => matches!(balance, (100, 0) | (0, 2)),
        "2" => matches!(balance, (114_514, 20) | (114_614, 18)),
        id => is_random_id(id) && balance == (10_000, 10_000),
    }
}

/// An id as `PlayerId::random` makes it: a v4 UUID, lowercase and hyphenated.
fn is_random_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id)
        .is_ok_and(|u| u.get_version_num() == 4 && u.hyphenated().to_string() == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, coins: i32, goods: i32) -> (String, Option<i32>, Option<i32>) {
        (id.to_owned(), Some(coins), Some(goods))
    }

    fn uuid() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    #[test]
    fn what_a_run_leaves_is_the_scenarios() {
        let mut rows = vec![row("test", 1, 1), row("1", 0, 2), row("2", 114_614, 18)];
        rows.extend((0..SCENARIO_UUIDS).map(|_| row(&uuid(), 10_000, 10_000)));
        assert_eq!(judge(&rows), None);
        // Stopped before the trades, or half way through the bulk insert.
        assert_eq!(judge(&[row("1", 100, 0), row("2", 114_514, 20)]), None);
        assert_eq!(judge(&[]), None);
        // One more random player than a run makes.
        rows.truncate(SCENARIO_UUIDS + 2);
        rows.push(row(&uuid(), 10_000, 10_000));
        rows.push(row(&uuid(), 10_000, 10_000));
        assert!(judge(&rows).is_some_and(|f| f.more));
    }

    #[test]
    fn anything_else_is_foreign() {
        for stranger in [
            row("alice", 1, 1),
            row("test ", 1, 1),
            row("test", 2, 1),
            row("1", 100, 2),
            row("2", 0, 0),
            row(&uuid(), 10_000, 9_999),
            row(&uuid().to_uppercase(), 10_000, 10_000),
            row(&uuid().replace('-', ""), 10_000, 10_000),
            // Version 1, not 4.
            row("c232ab00-9414-11ec-b3c8-9f6bdeced846", 10_000, 10_000),
            ("test".to_owned(), None, Some(1)),
        ] {
            let found = judge(&[row("test", 1, 1), stranger.clone()]);
            assert_eq!(
                found,
                Some(Foreign {
                    rows: 2,
                    more: false,
                    strangers: 1
                }),
                "{stranger:?}"
            );
        }
    }
}
