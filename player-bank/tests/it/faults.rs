//! Faults during the bank workload: connections killed with `KILL` on the
//! shared server, and a private server killed and restarted mid-run. No
//! partial trade, invariants hold afterwards, every player's balances
//! reconcile with the trades acknowledged (each unknown outcome found applied
//! or not), and the run recovers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use player_bank::{Bank, Limit, Progress, Settings, Summary, TradeForm};
use player_core::db::DatabaseUrl;
use player_core::retry::RetryPolicy;
use player_testkit::sql::{connection_id, connections_to, kill};
use player_testkit::{Need, PrivateServer, TestDatabase, poll_until, require};

use crate::bank_on;

/// `workers` workers on 20 players, half the sides drawn from 4 hot ones, with
/// enough retries to ride out a killed connection.
fn settings(workers: usize, run_for: Duration) -> Settings {
    Settings {
        workers,
        players: 20,
        limit: Limit::Duration(run_for),
        initial_coins: 1_000,
        initial_goods: 100,
        hot_players: 4,
        hot_share: 0.5,
        retry: RetryPolicy {
            max_retries: 20,
            ..RetryPolicy::default()
        },
        ..Settings::default()
    }
}

/// Asserts that a run survived its faults: it was not aborted, every failed
/// trade is one whose outcome is unknown (any other error would be a bug), the
/// invariants hold, and the balances reconcile.
fn assert_recovered(summary: &Summary) {
    assert!(summary.aborted.is_none(), "{summary:?}");
    assert_eq!(
        summary.failed, summary.unknown_outcome,
        "{:?}",
        summary.errors
    );
    assert!(summary.invariants_ok, "{:?}", summary.violations);
    assert_reconciled(summary);
}

/// Asserts that every player's balances were explained by the acknowledged
/// trades and an assignment of the unknown ones.
fn assert_reconciled(summary: &Summary) {
    let rec = summary.reconciliation.as_ref().expect("a reconciliation");
    assert!(rec.ok(), "{rec:?}");
    assert_eq!(rec.acknowledged, summary.committed, "{rec:?}");
    assert_eq!(rec.unknown, summary.unknown_outcome, "{rec:?}");
    assert_eq!(
        (
            rec.unknown_applied + rec.unknown_not_applied,
            rec.unknown_undecided
        ),
        (rec.unknown, 0),
        "{rec:?}"
    );
    assert_eq!(rec.players_checked, summary.players as u64);
    eprintln!("reconciled: {rec}");
}

/// Runs `settings` for 3 s on the shared server while another session kills
/// one of the run's connections every 150 ms; returns the summary and the
/// number of kills.
fn run_through_kills(settings: Settings) -> (Summary, u64) {
    let mut db = TestDatabase::create();
    let name = db.name().to_owned();
    let (url, settings) = bank_on(
        &db,
        Settings {
            limit: Limit::Duration(Duration::from_secs(3)),
            ..settings
        },
    );
    let bank = Bank::prepare(&url, &settings).unwrap();
    let done = AtomicBool::new(false);
    let kills = AtomicU64::new(0);

    let summary = std::thread::scope(|s| {
        let killer = db.admin();
        let own = connection_id(killer);
        let (done, kills) = (&done, &kills);
        s.spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(150));
                let ids = connections_to(killer, &name, own);
                if let Some(&victim) =
                    ids.get(kills.load(Ordering::Relaxed) as usize % ids.len().max(1))
                {
                    // The victim may have gone already: ignore "Unknown thread id".
                    if kill(killer, victim).is_ok() {
                        kills.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        let summary = bank.run(&Progress::default()).unwrap();
        done.store(true, Ordering::Relaxed);
        summary
    });
    let kills = kills.into_inner();
    eprintln!("{kills} kills; {summary:?}");
    (summary, kills)
}

#[test]
fn connections_killed_during_the_workload() {
    let (summary, kills) = run_through_kills(settings(4, Duration::from_secs(3)));
    assert!(kills >= 5);
    // The kills were felt: trades were run again on new connections, or lost
    // their connection while committing.
    assert!(summary.retried + summary.unknown_outcome > 0, "{summary:?}");
    assert!(summary.committed > 100, "{summary:?}");
    assert_recovered(&summary);
}

/// The same kills on a keyed run: a trade whose `COMMIT` lost its answer is
/// sent again with its key on a new connection, so no outcome stays unknown,
/// and the reconciliation has nothing to search: it is exact.
#[test]
fn a_keyed_run_through_killed_connections_leaves_no_unknown_outcome() {
    let (summary, kills) = run_through_kills(Settings {
        keyed: true,
        ..settings(4, Duration::from_secs(3))
    });
    assert!(kills >= 5);
    assert!(summary.keyed);
    assert!(summary.retried + summary.resolved_by_key > 0, "{summary:?}");
    assert!(summary.committed > 100, "{summary:?}");
    assert_eq!(
        (summary.failed, summary.unknown_outcome),
        (0, 0),
        "{:?}",
        summary.errors
    );
    assert_recovered(&summary);
    let rec = summary.reconciliation.as_ref().unwrap();
    assert_eq!(
        (rec.unknown, rec.acknowledged),
        (0, summary.committed),
        "{rec:?}"
    );
}

#[test]
fn server_killed_and_restarted_during_a_run() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(30),
        ..settings(4, Duration::from_secs(6))
    };
    let bank = Bank::prepare(&url, &settings).unwrap();
    let progress = Progress::default();

    let (summary, committed_before) = std::thread::scope(|s| {
        let run = s.spawn(|| bank.run(&progress).unwrap());
        std::thread::sleep(Duration::from_millis(700));
        // SIGKILL: InnoDB recovers from its redo log at the next start.
        server.stop(true);
        let committed_before = progress.committed.load(Ordering::Relaxed);
        server.restart();
        (run.join().unwrap(), committed_before)
    });

    eprintln!("{committed_before} committed before the crash; {summary:?}");
    assert!(committed_before > 0);
    assert!(
        summary.committed > committed_before,
        "no trade after the restart: {summary:?}"
    );
    assert!(summary.retried + summary.failed > 0, "{summary:?}");
    assert_recovered(&summary);
}

/// A bank run on `server` that is crashed (`kill -9`) and restarted twice,
/// each time once 200 more trades have committed; its summary.
fn crash_twice(server: &mut PrivateServer, url: &DatabaseUrl, settings: &Settings) -> Summary {
    let bank = Bank::prepare(url, settings).unwrap();
    let progress = Progress::default();
    std::thread::scope(|s| {
        let run = s.spawn(|| bank.run(&progress).unwrap());
        for _ in 0..2 {
            let before = progress.committed.load(Ordering::Relaxed);
            // Wait for trades to flow (again), then crash the server mid-run.
            poll_until("200 more trades", Duration::from_secs(30), || {
                progress.committed.load(Ordering::Relaxed) >= before + 200
            });
            server.stop(true);
            server.restart();
        }
        run.join().unwrap()
    })
}

/// `kill -9` twice in a run of the one-statement trade, whose `UPDATE` commits
/// on its own (so a lost answer is an unknown outcome), on hot players (so the
/// unknown trades share players and the search has to untangle them). After
/// each crash recovery every acknowledged trade is there exactly once.
#[test]
fn server_killed_twice_mid_run_and_every_balance_reconciles() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(30),
        trade: TradeForm::OneStatement,
        hot_players: 3,
        hot_share: 0.8,
        ..settings(6, Duration::from_secs(7))
    };
    let summary = crash_twice(&mut server, &url, &settings);

    eprintln!("{summary:?}");
    assert_recovered(&summary);
}

/// `kill -9` twice in a keyed run: a trade whose `COMMIT` was in flight when
/// the server died is sent again with its key once the server is back, and
/// the crash recovery says whether its key (and so the trade) committed. No
/// outcome stays unknown, and the reconciliation is exact.
#[test]
fn a_keyed_run_through_two_server_crashes_leaves_no_unknown_outcome() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(30),
        keyed: true,
        ..settings(4, Duration::from_secs(7))
    };
    let summary = crash_twice(&mut server, &url, &settings);

    eprintln!("{summary:?}");
    assert_eq!(
        (summary.failed, summary.unknown_outcome),
        (0, 0),
        "{:?}",
        summary.errors
    );
    assert_recovered(&summary);
    assert_eq!(summary.reconciliation.as_ref().unwrap().unknown, 0);
}

#[test]
fn a_server_that_stays_down_stops_the_run_with_an_error() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::default()
        },
        ..settings(2, Duration::from_secs(30))
    };
    let bank = Bank::prepare(&url, &settings).unwrap();
    let started = std::time::Instant::now();
    let summary = std::thread::scope(|s| {
        let run = s.spawn(|| bank.run(&Progress::default()).unwrap());
        std::thread::sleep(Duration::from_millis(500));
        server.stop(true);
        run.join().unwrap()
    });
    assert!(
        !summary.invariants_ok && summary.totals.is_none(),
        "{summary:?}"
    );
    let aborted = summary.aborted.as_deref().expect("the run must stop early");
    assert!(aborted.contains("cannot get a connection"), "{aborted}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A server that stops answering (frozen, as a network that drops packets
/// would leave it) in the middle of a run: each trade in flight is cut off at
/// its deadline (time limit + 5 s), no new connection can be had, and the run
/// stops with an error instead of hanging for ever.
#[test]
fn a_server_that_stops_answering_ends_the_run_instead_of_hanging() {
    require!(Need::PrivateMariaDb);
    let server = PrivateServer::start(&[]);
    let url: DatabaseUrl = format!("{}?connect_timeout=1", server.url("test"))
        .parse()
        .unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy::default().with_time_limit(Duration::from_secs(1)),
        ..settings(2, Duration::from_secs(120))
    };
    let bank = Bank::prepare(&url, &settings).unwrap();
    let progress = Progress::default();

    let (summary, took) = std::thread::scope(|s| {
        let run = s.spawn(|| bank.run(&progress).unwrap());
        poll_until("100 trades", Duration::from_secs(30), || {
            progress.committed.load(Ordering::Relaxed) >= 100
        });
        server.pause();
        let frozen = std::time::Instant::now();
        // Should the deadlines not end the run, the server runs again after
        // a minute (the run then ends at its 120 s) and the test fails.
        while !run.is_finished() && frozen.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = frozen.elapsed();
        server.resume();
        (run.join().unwrap(), took)
    });

    eprintln!("ended {took:?} after the freeze: {summary:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let aborted = summary.aborted.as_deref().expect("the run must stop early");
    assert!(aborted.contains("cannot get a connection"), "{aborted}");
    // The trades in flight were cut off: lost before COMMIT (retried on a new
    // connection, which could not be had) or with their outcome unknown.
    assert!(summary.retried + summary.unknown_outcome > 0, "{summary:?}");
}
