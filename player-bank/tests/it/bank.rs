//! Invariants hold under many threads on a few hot players, the checker
//! catches a trade without locks, and the guard keeps the bank away from
//! other databases.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_bank::{Bank, BankError, Limit, Progress, Settings, TradeForm};
use player_core::retry::RetryPolicy;
use player_core::schema::player;
use player_core::{NewPlayer, Refusal, Trade, TradeError, TradeOutcome, Traded, players};
use player_testkit::TestDatabase;

use crate::bank_on;

/// Eight workers on ten players, two of every three sides drawn from three hot
/// players, with balances small enough that refusals happen too.
fn hot_settings(trades: u64) -> Settings {
    Settings {
        workers: 8,
        players: 10,
        limit: Limit::Trades(trades),
        initial_coins: 300,
        initial_goods: 30,
        hot_players: 3,
        hot_share: 0.67,
        seed: 7,
        ..Settings::default()
    }
}

#[test]
fn hot_players_under_many_threads_keep_the_invariants() {
    for form in [TradeForm::Transactional, TradeForm::OneStatement] {
        let db = TestDatabase::create();
        let (url, settings) = bank_on(
            &db,
            Settings {
                trade: form,
                ..hot_settings(1_500)
            },
        );
        let bank = Bank::prepare(&url, &settings).unwrap();
        let summary = bank.run(&Progress::default()).unwrap();

        assert_eq!(summary.trade, form.as_str());
        assert_eq!(
            summary.failed, 0,
            "{form:?}: errors escaped: {:?}",
            summary.errors
        );
        assert_eq!(summary.committed + summary.refused, 1_500, "{form:?}");
        assert!(summary.committed > 0 && summary.refused > 0, "{summary:?}");
        assert!(
            summary.p50_ms > 0.0 && summary.p99_ms >= summary.p50_ms,
            "{summary:?}"
        );
        assert!(summary.invariants_ok, "{form:?}: {:?}", summary.violations);
        assert_eq!(summary.totals, Some(bank.totals()));
        assert_eq!(summary.trades_limit, Some(1_500));
    }
}

/// The mistake published ports make: read balances with plain SELECTs, check
/// them, then write values computed from those reads. Two concurrent trades
/// can both read the same balance and one update is lost.
fn unlocked_trade(
    conn: &mut MysqlConnection,
    trade: &Trade,
    _policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    let Trade {
        seller,
        buyer,
        amount,
        price,
    } = *trade;
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
    let db = TestDatabase::create();
    let (url, settings) = bank_on(&db, hot_settings(1_500));
    let bank = Bank::prepare(&url, &settings).unwrap();
    let summary = bank
        .run_with(&Progress::default(), &unlocked_trade)
        .unwrap();
    assert!(summary.committed > 0, "{summary:?}");
    assert!(
        !summary.invariants_ok && !summary.violations.is_empty(),
        "lost updates went unnoticed: {summary:?}"
    );
    eprintln!("caught: {:?}", summary.violations);
}

#[test]
fn a_run_for_a_duration_stops_on_time() {
    let db = TestDatabase::create();
    let (url, settings) = bank_on(
        &db,
        Settings {
            workers: 2,
            players: 20,
            limit: Limit::Duration(Duration::from_millis(500)),
            ..Settings::default()
        },
    );
    let summary = player_bank::run(&url, &settings, &Progress::default()).unwrap();
    assert!(summary.committed > 0);
    assert!(summary.seconds >= 0.5, "{}", summary.seconds);
    assert!(summary.seconds < 5.0, "{}", summary.seconds);
    assert!(summary.invariants_ok, "{:?}", summary.violations);
}

/// The summary is what `bank --json` prints and the benchmark reads back.
#[test]
fn the_summary_reads_back_as_it_was_written() {
    let db = TestDatabase::create();
    let (url, settings) = bank_on(&db, hot_settings(50));
    let summary = player_bank::run(&url, &settings, &Progress::default()).unwrap();
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        json.starts_with(r#"{"workers":8,"players":10,"seconds":"#),
        "{json}"
    );
    let back: player_bank::Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, summary);
}

#[test]
fn the_guard_refuses_databases_that_may_hold_someones_data() {
    let users = TestDatabase::migrated();
    let url = users.url().parse().unwrap();
    let refused = |settings: &Settings| match Bank::prepare(&url, settings) {
        Err(BankError::UnsafeDatabase { reason, .. }) => reason,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("{} accepted", settings.database),
    };
    let own = Settings {
        database: users.name().to_owned(),
        ..Settings::default()
    };
    assert!(refused(&own).contains("is the database of DATABASE_URL"));
    // TiDB compares database names ignoring case: the same database to it.
    let own_upper = Settings {
        database: users.name().to_uppercase(),
        ..Settings::default()
    };
    assert!(refused(&own_upper).contains("is the database of DATABASE_URL"));

    let other = TestDatabase::create();
    other
        .connect()
        .batch_execute("CREATE TABLE orders (id INT PRIMARY KEY)")
        .unwrap();
    let with_tables = Settings {
        database: other.name().to_owned(),
        ..Settings::default()
    };
    assert!(refused(&with_tables).contains("holds other tables (orders)"));
    let mut other = other;
    let upper = other.name().to_uppercase();
    let with_tables_upper = Settings {
        database: upper.clone(),
        ..Settings::default()
    };
    assert!(refused(&with_tables_upper).contains("holds other tables (orders)"));
    // Refused before anything was created (MariaDB on Linux tells the two apart).
    let created = player_core::catalog::databases_like(other.admin(), &upper).unwrap();
    assert!(!created.contains(&upper), "{upper} was created");

    let foreign = TestDatabase::migrated();
    players::create(&mut foreign.connect(), &NewPlayer::new("alice", 1, 1)).unwrap();
    let with_players = Settings {
        database: foreign.name().to_owned(),
        ..Settings::default()
    };
    assert!(refused(&with_players).contains("holds 1 players the bank did not create"));
    assert_eq!(players::count(&mut foreign.connect()).unwrap(), 1);
}
