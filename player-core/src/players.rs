//! Typed queries on the `player` table, each one statement (a bulk create,
//! one per batch).
//!
//! Each runs on its own in autocommit, or inside your transaction if you call
//! it in one: to make several of them one unit that is retried when TiDB says
//! so, run them in [`transaction::run`](crate::transaction::run).

use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::Error;
use crate::batch_insert::CachedBatchInsert;
use crate::models::{NewPlayer, Player, PlayerChanges, PlayerId};
use crate::schema::player;

/// Placeholders one statement may carry in the MySQL protocol (TiDB has the same limit).
pub const MAX_PLACEHOLDERS: usize = 65_535;

/// Columns bound per inserted row.
const COLUMNS_PER_ROW: usize = 3;

/// The largest batch [`bulk_create`] accepts: one multi-row INSERT must stay
/// under [`MAX_PLACEHOLDERS`].
pub const MAX_BATCH_SIZE: usize = MAX_PLACEHOLDERS / COLUMNS_PER_ROW;

/// Inserts one player; [`Error::AlreadyExists`] if the id is taken,
/// [`Error::NegativeBalance`] (before anything is sent) for a balance below zero.
pub fn create(conn: &mut MysqlConnection, new: &NewPlayer) -> Result<(), Error> {
    non_negative(Some(new.coins), Some(new.goods))?;
    match diesel::insert_into(player::table).values(new).execute(conn) {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(Error::AlreadyExists(new.id.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The player with this id, if there is one.
pub fn get(conn: &mut MysqlConnection, id: &PlayerId) -> QueryResult<Option<Player>> {
    player::table
        .find(id)
        .select(Player::as_select())
        .first(conn)
        .optional()
}

/// Inserts every player the iterator yields, `batch_size` rows per multi-row
/// INSERT, and returns how many rows were inserted. A batch holding a
/// negative balance is refused with [`Error::NegativeBalance`] before it is
/// sent: TiDB drops the table's CHECK constraints unless
/// `tidb_enable_check_constraint` was on when the table was made, and would
/// store it (the benchmark measures what the check costs at batch 1,000).
///
/// Only one batch is held in memory at a time, so the iterator may be of any
/// length. Each statement commits on its own unless the caller wraps the call in
/// a transaction. `batch_size` must be in `1..=MAX_BATCH_SIZE`; it is checked
/// before anything is sent.
pub fn bulk_create<I>(
    conn: &mut MysqlConnection,
    players: I,
    batch_size: usize,
) -> Result<usize, Error>
where
    I: IntoIterator<Item = NewPlayer>,
{
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        return Err(Error::InvalidBatchSize(batch_size));
    }
    let mut players = players.into_iter();
    let mut batch = Vec::with_capacity(batch_size);
    let mut inserted = 0;
    loop {
        batch.clear();
        batch.extend(players.by_ref().take(batch_size));
        if batch.is_empty() {
            return Ok(inserted);
        }
        if let Some(negative) = batch.iter().find(|p| p.coins < 0 || p.goods < 0) {
            return Err(Error::NegativeBalance {
                coins: negative.coins,
                goods: negative.goods,
            });
        }
        inserted += if batch.len() == batch_size {
            // The repeated shape: prepared once per connection, then only executed.
            CachedBatchInsert(&batch).execute(conn)?
        } else {
            diesel::insert_into(player::table)
                .values(&batch)
                .execute(conn)?
        };
        tracing::debug!(rows = batch.len(), inserted, "inserted batch");
    }
}

/// Sets the balances `changes` names on the player with this id, in one
/// statement; true if there is such a player. `changes` must name at least one
/// column (Diesel refuses an empty change set); a negative one is refused with
/// [`Error::NegativeBalance`] before anything is sent.
pub fn update(
    conn: &mut MysqlConnection,
    id: &PlayerId,
    changes: &PlayerChanges,
) -> Result<bool, Error> {
    non_negative(changes.coins, changes.goods)?;
    let updated = diesel::update(player::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(updated > 0)
}

/// Refuses a balance below zero.
fn non_negative(coins: Option<i32>, goods: Option<i32>) -> Result<(), Error> {
    if coins.unwrap_or(0) < 0 || goods.unwrap_or(0) < 0 {
        return Err(Error::NegativeBalance {
            coins: coins.unwrap_or(0),
            goods: goods.unwrap_or(0),
        });
    }
    Ok(())
}

/// Number of players.
pub fn count(conn: &mut MysqlConnection) -> QueryResult<i64> {
    player::table.select(count_star()).first(conn)
}

/// Up to `limit` players ordered by id, starting after the id `after` (keyset
/// paging: pass the last id of one page to get the next).
pub fn list(
    conn: &mut MysqlConnection,
    after: Option<&PlayerId>,
    limit: u32,
) -> QueryResult<Vec<Player>> {
    let mut query = player::table
        .select(Player::as_select())
        .order(player::id)
        .limit(i64::from(limit))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(player::id.gt(after));
    }
    query.load(conn)
}

/// The players among `ids` that exist, ordered by id.
pub fn get_many(conn: &mut MysqlConnection, ids: &[PlayerId]) -> QueryResult<Vec<Player>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    player::table
        .filter(player::id.eq_any(ids))
        .select(Player::as_select())
        .order(player::id)
        .load(conn)
}

/// Deletes the player with this id; true if there was one.
pub fn delete(conn: &mut MysqlConnection, id: &PlayerId) -> QueryResult<bool> {
    diesel::delete(player::table.find(id))
        .execute(conn)
        .map(|rows| rows > 0)
}

/// Deletes every player and returns how many there were.
pub fn delete_all(conn: &mut MysqlConnection) -> QueryResult<usize> {
    diesel::delete(player::table).execute(conn)
}
