//! Rust types for rows of the `player` table.

use diesel::prelude::*;

pub use crate::id::{InvalidId, MAX_ID_LEN, PlayerId};
use crate::schema::player;

/// A row of `player`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = player, check_for_backend(diesel::mysql::Mysql))]
pub struct Player {
    /// Primary key, as stored: a UUID, or any string of 1 to 36 characters.
    pub id: PlayerId,
    /// Coins held; never negative.
    pub coins: i32,
    /// Goods held; never negative.
    pub goods: i32,
}

/// A player to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = player, check_for_backend(diesel::mysql::Mysql))]
pub struct NewPlayer {
    /// Primary key.
    pub id: PlayerId,
    /// Coins to start with.
    pub coins: i32,
    /// Goods to start with.
    pub goods: i32,
}

/// New balances for a player; a `None` field leaves that column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = player, check_for_backend(diesel::mysql::Mysql))]
pub struct PlayerChanges {
    /// New coins, if any.
    pub coins: Option<i32>,
    /// New goods, if any.
    pub goods: Option<i32>,
}

impl NewPlayer {
    /// A player with the given id and balances.
    pub fn new(id: PlayerId, coins: i32, goods: i32) -> Self {
        Self { id, coins, goods }
    }

    /// A player with a random (v4) UUID as id, as the tutorial's `random_player` makes them.
    pub fn random(coins: i32, goods: i32) -> Self {
        Self::new(PlayerId::random(), coins, goods)
    }
}

impl std::fmt::Display for Player {
    /// The tutorial's line format: `id:test, coins:1, goods:1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "id:{}, coins:{}, goods:{}",
            self.id, self.coins, self.goods
        )
    }
}
