//! A multi-row `INSERT` of players that Diesel's statement cache keeps.
//!
//! Diesel marks `insert_into(player).values(&vec)` unsafe to cache, because its
//! SQL depends on the number of rows, so every batch is prepared anew: one more
//! round trip per batch, and the server answers each PREPARE with one definition
//! per placeholder (3,000 for 1,000 rows). This fragment writes the same SQL
//! from the schema's names and types and does not opt out of caching, so Diesel
//! caches it under its SQL text: one prepared statement per batch length.
//! [`bulk_create`](crate::players::bulk_create) uses it for full batches only,
//! so a connection keeps at most one such statement per batch size it is given.

use diesel::expression::Expression;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{Column, QueryResult, RunQueryDsl};

use crate::models::NewPlayer;
use crate::schema::player;

/// `INSERT INTO player (id, coins, goods) VALUES (?, ?, ?), ...` for these rows.
pub(crate) struct CachedBatchInsert<'a>(pub(crate) &'a [NewPlayer]);

impl QueryId for CachedBatchInsert<'_> {
    // No static id: Diesel then keys its cache by the SQL text, which differs
    // for each batch length.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Mysql> for CachedBatchInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        out.push_sql("INSERT INTO ");
        player::table.walk_ast(out.reborrow())?;
        out.push_sql(" (");
        out.push_identifier(player::id::NAME)?;
        out.push_sql(", ");
        out.push_identifier(player::coins::NAME)?;
        out.push_sql(", ");
        out.push_identifier(player::goods::NAME)?;
        out.push_sql(") VALUES ");
        for (i, row) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<<player::id as Expression>::SqlType, _>(&row.id)?;
            out.push_sql(", ");
            out.push_bind_param::<<player::coins as Expression>::SqlType, _>(&row.coins)?;
            out.push_sql(", ");
            out.push_bind_param::<<player::goods as Expression>::SqlType, _>(&row.goods)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

impl RunQueryDsl<MysqlConnection> for CachedBatchInsert<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_same_sql_as_diesels_batch_insert() {
        let id = |s: &str| s.parse().expect("id");
        let rows = vec![NewPlayer::new(id("a"), 1, 2), NewPlayer::new(id("b"), 3, 4)];
        let ours = diesel::debug_query::<Mysql, _>(&CachedBatchInsert(&rows)).to_string();
        let diesels =
            diesel::debug_query::<Mysql, _>(&diesel::insert_into(player::table).values(&rows))
                .to_string();
        assert_eq!(ours, diesels);
    }
}
