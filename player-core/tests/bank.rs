//! The bank workload against the real server: invariants hold under many
//! threads on a few hot players, and the checker catches a trade without locks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::migrated_db;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::bank::{self, Config, Counters, Limit};
use player_core::db::DatabaseUrl;
use player_core::retry::RetryPolicy;
use player_core::schema::player;
use player_core::{Refusal, TradeError, TradeOutcome, Traded, players};

/// Eight workers on ten players, two of every three sides drawn from three hot
/// players, with balances small enough that refusals happen too.
fn hot_config(trades: u64) -> Config {
    Config {
        workers: 8,
        players: 10,
        limit: Limit::Trades(trades),
        initial_coins: 300,
        initial_goods: 30,
        hot_players: 3,
        hot_share: 0.67,
        seed: 7,
        ..Config::default()
    }
}

#[test]
fn hot_players_under_many_threads_keep_the_invariants() {
    let db = migrated_db();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let config = hot_config(1_500);
    let totals = bank::seed(&mut db.connect(), &config).unwrap();
    let pool = bank::pool(&url, &config).unwrap();
    let counters = Counters::default();
    let report = bank::run(&pool, &config, &counters).unwrap();

    assert_eq!(report.failed, 0, "errors escaped: {:?}", report.errors);
    assert_eq!(report.committed + report.refused, 1_500);
    assert!(report.committed > 0 && report.refused > 0, "{report:?}");
    assert_eq!(report.latency_us.len(), 1_500);
    let check = bank::check(&mut db.connect(), &totals).unwrap();
    assert!(check.ok(), "{:?}", check.violations());
    assert_eq!(check.found, totals);
}

/// The mistake published ports make: read balances with plain SELECTs, check
/// them, then write values computed from those reads. Two concurrent trades
/// can both read the same balance and one update is lost.
fn unlocked_trade(
    conn: &mut MysqlConnection,
    seller: &str,
    buyer: &str,
    amount: i32,
    price: i32,
    _policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    let outcome = conn.transaction(|conn| {
        let s = players::get(conn, seller)?.ok_or(TradeError::UnknownPlayer(seller.into()))?;
        let b = players::get(conn, buyer)?.ok_or(TradeError::UnknownPlayer(buyer.into()))?;
        if s.goods < amount {
            return Ok(TradeOutcome::Refused(Refusal::SellerLacksGoods));
        }
        if b.coins < price {
            return Ok(TradeOutcome::Refused(Refusal::BuyerLacksCoins));
        }
        diesel::update(player::table.find(seller))
            .set((
                player::coins.eq(s.coins + price),
                player::goods.eq(s.goods - amount),
            ))
            .execute(conn)?;
        diesel::update(player::table.find(buyer))
            .set((
                player::coins.eq(b.coins - price),
                player::goods.eq(b.goods + amount),
            ))
            .execute(conn)?;
        Ok::<_, TradeError>(TradeOutcome::Done)
    })?;
    Ok(Traded {
        outcome,
        retries: 0,
    })
}

#[test]
fn negative_control_the_checker_catches_a_trade_without_locks() {
    let db = migrated_db();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let config = hot_config(1_500);
    let totals = bank::seed(&mut db.connect(), &config).unwrap();
    let pool = bank::pool(&url, &config).unwrap();
    let report = bank::run_with(&pool, &config, &Counters::default(), &unlocked_trade).unwrap();
    assert!(report.committed > 0, "{report:?}");
    let check = bank::check(&mut db.connect(), &totals).unwrap();
    assert!(
        !check.ok(),
        "lost updates went unnoticed: {check:?} after {report:?}"
    );
    eprintln!("caught: {:?}", check.violations());
}

#[test]
fn a_run_for_a_duration_stops_on_time() {
    let db = migrated_db();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let config = Config {
        workers: 2,
        players: 20,
        limit: Limit::Duration(Duration::from_millis(500)),
        ..Config::default()
    };
    let totals = bank::seed(&mut db.connect(), &config).unwrap();
    let pool = bank::pool(&url, &config).unwrap();
    let report = bank::run(&pool, &config, &Counters::default()).unwrap();
    assert!(report.committed > 0);
    assert!(
        report.elapsed >= Duration::from_millis(500),
        "{:?}",
        report.elapsed
    );
    assert!(
        report.elapsed < Duration::from_secs(5),
        "{:?}",
        report.elapsed
    );
    assert!(bank::check(&mut db.connect(), &totals).unwrap().ok());
}
