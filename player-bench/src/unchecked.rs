//! A bulk insert that never checks balances, to price the check in
//! `players::bulk_create`: the same multi-row `INSERT` of the same rows, kept
//! by Diesel's statement cache as `bulk_create` keeps its full batches (one
//! PREPARE per connection and batch length, then one EXECUTE per batch), so the
//! two differ only in what `bulk_create` does before it sends a batch.

use diesel::expression::Expression;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{Column, Connection, QueryResult, RunQueryDsl};
use player_core::NewPlayer;
use player_core::schema::player;

use crate::sql_files::Commit;

/// `INSERT INTO player (id, coins, goods) VALUES (?, ?, ?), ...` for these rows.
struct Insert<'a>(&'a [NewPlayer]);

impl QueryId for Insert<'_> {
    // No static id: Diesel then caches the statement under its SQL text, one
    // per batch length, where it marks `insert_into(..).values(&vec)` uncacheable.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Mysql> for Insert<'_> {
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

impl RunQueryDsl<MysqlConnection> for Insert<'_> {}

/// Inserts `rows` in batches of `batch`, committed as `commit` says, and
/// returns how many rows were inserted.
pub fn bulk_insert(
    conn: &mut MysqlConnection,
    rows: &[NewPlayer],
    batch: usize,
    commit: Commit,
) -> QueryResult<usize> {
    let all = |conn: &mut MysqlConnection| {
        rows.chunks(batch)
            .map(|chunk| Insert(chunk).execute(conn))
            .sum()
    };
    match commit {
        Commit::PerBatch => all(conn),
        Commit::OneTransaction => conn.transaction(all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_same_sql_as_diesels_batch_insert() {
        let id = |s: &str| s.parse().expect("id");
        let rows = vec![NewPlayer::new(id("a"), 1, 2), NewPlayer::new(id("b"), 3, 4)];
        let ours = diesel::debug_query::<Mysql, _>(&Insert(&rows)).to_string();
        let diesels =
            diesel::debug_query::<Mysql, _>(&diesel::insert_into(player::table).values(&rows))
                .to_string();
        assert_eq!(ours, diesels);
    }
}
