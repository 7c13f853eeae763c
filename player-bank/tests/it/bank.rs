//! Invariants hold under many threads on a few hot players, the checker
//! catches a trade without locks, the reconciliation catches a trade whose
//! report lies, a stop request ends a run early, and the guard keeps the bank
//! away from other databases.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_bank::{Bank, BankError, Limit, Progress, ReconcileStatus, Settings, TradeForm};
use player_core::retry::RetryPolicy;
use player_core::schema::player;
use player_core::{NewPlayer, Refusal, Trade, TradeError, TradeOutcome, Traded, players};
use player_testkit::TestDatabase;

use crate::bank_on;
use player_testkit::sql::id;

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
        let rec = summary.reconciliation.as_ref().expect("reconciled");
        assert!(rec.ok(), "{rec:?}");
        assert_eq!(
            (rec.players_checked, rec.acknowledged, rec.unknown),
            (10, summary.committed, 0)
        );
        assert!(!summary.interrupted);
    }
}

/// The mistake published ports make: read balances with plain SELECTs, check
/// them, then write values computed from those reads. Two concurrent trades
/// can both read the same balance and one update is lost.
fn unlocked_trade(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    let Trade {
        seller,
        buyer,
        amount,
        price,
    } = *trade;
    let done = player_core::transaction::run(conn, policy, |conn| {
        let (Some(s), Some(b)) = (players::get(conn, seller)?, players::get(conn, buyer)?) else {
            return Err(diesel::result::Error::NotFound);
        };
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
        Ok(TradeOutcome::Done)
    })?;
    Ok(Traded {
        outcome: done.value,
        retries: done.retries,
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

/// How a trade function misreports one trade.
#[derive(Debug, Clone, Copy)]
enum Lie {
    /// Applies the trade and reports it refused.
    AppliedReportedRefused,
    /// Applies the trade twice and reports it done once.
    AppliedTwice,
    /// Reports the trade done without applying it.
    DoneNotApplied,
}

/// `player_core::trade`, except for the first trade that is done,
/// which it misreports as `lie` says; the ids of that trade go to `lied`.
fn lying_trade(
    lie: Lie,
    lied: Arc<Mutex<Option<[String; 2]>>>,
) -> impl Fn(&mut MysqlConnection, &Trade, &RetryPolicy) -> Result<Traded, TradeError> + Sync {
    move |conn, trade, policy| {
        let mut once = lied.lock().unwrap();
        if once.is_some() {
            drop(once);
            return player_core::trade(conn, trade, policy);
        }
        let ids = [trade.seller.to_string(), trade.buyer.to_string()];
        if let Lie::DoneNotApplied = lie {
            *once = Some(ids);
            return Ok(Traded {
                outcome: TradeOutcome::Done,
                retries: 0,
            });
        }
        let traded = player_core::trade(conn, trade, policy)?;
        if traded.outcome != TradeOutcome::Done {
            return Ok(traded);
        }
        *once = Some(ids);
        match lie {
            Lie::AppliedReportedRefused => Ok(Traded {
                outcome: TradeOutcome::Refused(Refusal::SellerLacksGoods),
                ..traded
            }),
            Lie::AppliedTwice => {
                let again = player_core::trade(conn, trade, policy)?;
                assert_eq!(again.outcome, TradeOutcome::Done, "balances are ample");
                Ok(traded)
            }
            Lie::DoneNotApplied => unreachable!("handled above"),
        }
    }
}

/// Negative control of the reconciliation: one trade misreported, totals
/// intact (a trade moves coins and goods, it creates none), and the check
/// still fails, naming the trade's two players.
#[test]
fn negative_control_the_reconciliation_catches_a_misreported_trade() {
    for lie in [
        Lie::AppliedReportedRefused,
        Lie::AppliedTwice,
        Lie::DoneNotApplied,
    ] {
        let db = TestDatabase::create();
        let (url, settings) = bank_on(
            &db,
            Settings {
                workers: 4,
                players: 10,
                limit: Limit::Trades(200),
                seed: 3,
                ..Settings::default()
            },
        );
        let bank = Bank::prepare(&url, &settings).unwrap();
        let lied = Arc::new(Mutex::new(None));
        let summary = bank
            .run_with(&Progress::default(), &lying_trade(lie, Arc::clone(&lied)))
            .unwrap();
        let [seller, buyer] = lied.lock().unwrap().clone().expect("a trade was done");

        assert_eq!(summary.totals, Some(bank.totals()), "{lie:?}");
        assert!(
            !summary.invariants_ok,
            "{lie:?} went unnoticed: {summary:?}"
        );
        let rec = summary.reconciliation.as_ref().unwrap();
        assert_eq!(rec.status, ReconcileStatus::Mismatch, "{lie:?}: {rec:?}");
        assert_eq!(rec.mismatched_players, 2, "{lie:?}: {rec:?}");
        let mut named: Vec<&str> = rec.mismatches.iter().map(|m| m.player.as_str()).collect();
        let mut expected = [seller.as_str(), buyer.as_str()];
        named.sort_unstable();
        expected.sort_unstable();
        assert_eq!(named, expected, "{lie:?}");
        // The totals check alone passes; the violations are the reconciliation's.
        assert!(
            summary.violations[0].starts_with("2 of 10 players do not hold"),
            "{:?}",
            summary.violations
        );
        eprintln!("{lie:?} caught: {:?}", summary.violations);
    }
}

#[test]
fn a_stop_request_ends_the_run_early_and_it_is_still_checked() {
    let db = TestDatabase::create();
    let (url, settings) = bank_on(
        &db,
        Settings {
            workers: 2,
            players: 20,
            limit: Limit::Duration(Duration::from_secs(60)),
            ..Settings::default()
        },
    );
    let bank = Bank::prepare(&url, &settings).unwrap();
    let progress = Progress::default();
    let summary = std::thread::scope(|s| {
        let run = s.spawn(|| bank.run(&progress).unwrap());
        player_testkit::poll_until("20 trades", Duration::from_secs(30), || {
            progress
                .committed
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 20
        });
        progress.request_stop();
        run.join().unwrap()
    });
    assert!(summary.interrupted, "{summary:?}");
    assert!(summary.seconds < 10.0, "{}", summary.seconds);
    assert!(summary.committed >= 20, "{summary:?}");
    assert!(summary.invariants_ok, "{:?}", summary.violations);
    assert!(summary.reconciliation.as_ref().unwrap().ok());
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
    // A summary written before the last two fields existed still reads.
    let mut old = serde_json::to_value(&summary).unwrap();
    let fields = old.as_object_mut().unwrap();
    assert!(fields.remove("reconciliation").is_some() && fields.remove("interrupted").is_some());
    let back: player_bank::Summary = serde_json::from_value(old).unwrap();
    assert_eq!((back.reconciliation, back.interrupted), (None, false));
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
    let created = player_testkit::databases_starting_with(other.admin(), &upper).unwrap();
    assert!(!created.contains(&upper), "{upper} was created");

    let foreign = TestDatabase::migrated();
    players::create(&mut foreign.connect(), &NewPlayer::new(id("alice"), 1, 1)).unwrap();
    let with_players = Settings {
        database: foreign.name().to_owned(),
        ..Settings::default()
    };
    assert!(refused(&with_players).contains("holds 1 players the bank did not create"));
    assert_eq!(players::count(&mut foreign.connect()).unwrap(), 1);
}
