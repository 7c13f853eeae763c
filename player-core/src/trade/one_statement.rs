//! The trade's usual case as one statement: an `UPDATE` of both rows, joined,
//! that moves coins and goods only if both players exist and both balances
//! allow it.
//!
//! ```sql
//! UPDATE player AS seller JOIN player AS buyer ON seller.id = ? AND buyer.id = ?
//! SET seller.goods = seller.goods - ?, seller.coins = seller.coins + ?,
//!     buyer.goods = buyer.goods + ?, buyer.coins = buyer.coins - ?
//! WHERE seller.goods >= ? AND buyer.coins >= ?
//!   AND seller.coins <= 2147483647 - ? AND buyer.goods <= 2147483647 - ?
//!   AND seller.id <> buyer.id
//! ```
//!
//! It matches two rows (the trade is done) or none (nothing changed; the caller
//! then finds out why on locked rows). The last condition is compared by the
//! server, with the column's collation: two ids it calls equal (`a` and `a `)
//! name one row, which the join would otherwise match under both aliases,
//! letting the last assignments win and goods appear from nowhere. The player with the smaller id is named
//! first in the join (`player AS buyer JOIN player AS seller` when the buyer's id
//! is smaller): MySQL and MariaDB read and lock the two rows, which the primary
//! key makes constant, in that order, so opposite trades queue instead of
//! deadlocking, as with the `SELECT ... ORDER BY id FOR UPDATE` of the slow path.
//!
//! Diesel's DSL has no `UPDATE` with a join, and Diesel never caches the prepared
//! statement of its own `UPDATE`s. This fragment writes the SQL from the schema's
//! names and types and does not opt out of caching, so Diesel keeps its two
//! versions (seller first, buyer first) prepared: one round trip per trade.

use diesel::expression::Expression;
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{Column, QueryResult, RunQueryDsl};

use super::Trade;
use crate::schema::player;

/// The trade's `UPDATE ... JOIN`; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub(super) struct TradeUpdate<'a>(pub(super) &'a Trade<'a>);

/// SQL type of `player.id`.
type IdType = <player::id as Expression>::SqlType;
/// SQL type of `player.coins` and `player.goods`.
type BalanceType = <player::coins as Expression>::SqlType;

impl QueryId for TradeUpdate<'_> {
    // No static id: Diesel then keys its cache by the SQL text.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Writes `alias.column`.
fn column(out: &mut AstPass<'_, '_, Mysql>, alias: &str, column: &str) -> QueryResult<()> {
    out.push_identifier(alias)?;
    out.push_sql(".");
    out.push_identifier(column)
}

/// Writes `alias.column = alias.column <op> ?`.
fn assign<'b>(
    out: &mut AstPass<'_, 'b, Mysql>,
    alias: &str,
    name: &str,
    op: &str,
    value: &'b i32,
) -> QueryResult<()> {
    column(out, alias, name)?;
    out.push_sql(" = ");
    column(out, alias, name)?;
    out.push_sql(op);
    out.push_bind_param::<BalanceType, _>(value)
}

impl QueryFragment<Mysql> for TradeUpdate<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        let trade = self.0;
        let (coins, goods) = (player::coins::NAME, player::goods::NAME);
        let max = i32::MAX.to_string();

        // The smaller id first, so both rows are locked in id order.
        let (first, second) = if trade.seller <= trade.buyer {
            ("seller", "buyer")
        } else {
            ("buyer", "seller")
        };
        out.push_sql("UPDATE ");
        player::table.walk_ast(out.reborrow())?;
        out.push_sql(" AS ");
        out.push_identifier(first)?;
        out.push_sql(" JOIN ");
        player::table.walk_ast(out.reborrow())?;
        out.push_sql(" AS ");
        out.push_identifier(second)?;

        out.push_sql(" ON ");
        column(&mut out, "seller", player::id::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<IdType, _>(trade.seller)?;
        out.push_sql(" AND ");
        column(&mut out, "buyer", player::id::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<IdType, _>(trade.buyer)?;

        out.push_sql(" SET ");
        assign(&mut out, "seller", goods, " - ", &trade.amount)?;
        out.push_sql(", ");
        assign(&mut out, "seller", coins, " + ", &trade.price)?;
        out.push_sql(", ");
        assign(&mut out, "buyer", goods, " + ", &trade.amount)?;
        out.push_sql(", ");
        assign(&mut out, "buyer", coins, " - ", &trade.price)?;

        // Enough goods and coins, and no balance past INT's maximum.
        out.push_sql(" WHERE ");
        column(&mut out, "seller", goods)?;
        out.push_sql(" >= ");
        out.push_bind_param::<BalanceType, _>(&trade.amount)?;
        out.push_sql(" AND ");
        column(&mut out, "buyer", coins)?;
        out.push_sql(" >= ");
        out.push_bind_param::<BalanceType, _>(&trade.price)?;
        out.push_sql(" AND ");
        column(&mut out, "seller", coins)?;
        out.push_sql(&format!(" <= {max} - "));
        out.push_bind_param::<BalanceType, _>(&trade.price)?;
        out.push_sql(" AND ");
        column(&mut out, "buyer", goods)?;
        out.push_sql(&format!(" <= {max} - "));
        out.push_bind_param::<BalanceType, _>(&trade.amount)?;
        out.push_sql(" AND ");
        column(&mut out, "seller", player::id::NAME)?;
        out.push_sql(" <> ");
        column(&mut out, "buyer", player::id::NAME)?;
        Ok(())
    }
}

impl RunQueryDsl<MysqlConnection> for TradeUpdate<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    fn sql(seller: &str, buyer: &str) -> String {
        let (seller, buyer) = (seller.parse().expect("id"), buyer.parse().expect("id"));
        let trade = Trade {
            seller: &seller,
            buyer: &buyer,
            amount: 3,
            price: 30,
        };
        diesel::debug_query::<Mysql, _>(&TradeUpdate(&trade)).to_string()
    }

    #[test]
    fn names_the_smaller_id_first_in_the_join() {
        assert!(
            sql("a", "b").starts_with("UPDATE `player` AS `seller` JOIN `player` AS `buyer` ON")
        );
        assert!(
            sql("b", "a").starts_with("UPDATE `player` AS `buyer` JOIN `player` AS `seller` ON")
        );
    }

    #[test]
    fn moves_goods_and_coins_only_when_both_balances_allow() {
        let sql = sql("a", "b");
        assert!(
            sql.contains(
                "SET `seller`.`goods` = `seller`.`goods` - ?, `seller`.`coins` = `seller`.`coins` + ?, \
                 `buyer`.`goods` = `buyer`.`goods` + ?, `buyer`.`coins` = `buyer`.`coins` - ? \
                 WHERE `seller`.`goods` >= ? AND `buyer`.`coins` >= ? \
                 AND `seller`.`coins` <= 2147483647 - ? AND `buyer`.`goods` <= 2147483647 - ? \
                 AND `seller`.`id` <> `buyer`.`id`"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("-- binds: [\"a\", \"b\", 3, 30, 3, 30, 3, 30, 30, 3]"),
            "{sql}"
        );
    }

    /// The guard in the SQL itself, against the real server: two ids the
    /// collation calls equal match one row under both aliases. Without
    /// `seller.id <> buyer.id` that row takes the buyer's assignments (the
    /// negative control shows it); with it, nothing matches.
    #[test]
    fn the_update_never_matches_one_row_under_both_aliases() {
        let db = player_testkit::TestDatabase::migrated();
        let mut conn = db.connect();
        let balances = |conn: &mut MysqlConnection| -> (i32, i32) {
            player::table
                .select((player::coins, player::goods))
                .first(conn)
                .expect("the one row")
        };
        let reset = "DELETE FROM player; INSERT INTO player VALUES ('a', 100, 100)";
        conn.batch_execute(reset).expect("seed");
        let (seller, buyer) = ("a".parse().expect("id"), "a ".parse().expect("id"));
        let trade = Trade {
            seller: &seller,
            buyer: &buyer,
            amount: 10,
            price: 5,
        };
        assert_eq!(TradeUpdate(&trade).execute(&mut conn).expect("update"), 0);
        assert_eq!(balances(&mut conn), (100, 100));

        // The same statement without the guard, as the server would run it.
        let unguarded = diesel::debug_query::<Mysql, _>(&TradeUpdate(&trade))
            .to_string()
            .split(" -- binds")
            .next()
            .expect("sql")
            .replace(" AND `seller`.`id` <> `buyer`.`id`", "");
        let unguarded = diesel::sql_query(unguarded)
            .bind::<IdType, _>("a")
            .bind::<IdType, _>("a ")
            .bind::<BalanceType, _>(10)
            .bind::<BalanceType, _>(5)
            .bind::<BalanceType, _>(10)
            .bind::<BalanceType, _>(5)
            .bind::<BalanceType, _>(10)
            .bind::<BalanceType, _>(5)
            .bind::<BalanceType, _>(5)
            .bind::<BalanceType, _>(10);
        assert!(unguarded.execute(&mut conn).expect("unguarded update") > 0);
        assert_eq!(balances(&mut conn), (95, 110), "goods from nowhere");
    }
}
