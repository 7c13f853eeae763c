//! Faults during the bank workload: connections killed with `KILL` on the
//! shared server, and a private server killed and restarted mid-run. No
//! partial trade, invariants hold afterwards, and the run recovers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{connection_id, migrated_db};
use diesel::prelude::*;
use player_core::bank::{self, Config, Counters, Limit};
use player_core::db::DatabaseUrl;
use player_core::retry::RetryPolicy;
use player_testkit::PrivateServer;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Unsigned<diesel::sql_types::BigInt>)]
    id: u64,
}

fn config(workers: usize, run_for: Duration) -> Config {
    Config {
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
        ..Config::default()
    }
}

#[test]
fn connections_killed_during_the_workload() {
    let mut db = migrated_db();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let name = db.name().to_owned();
    let config = config(4, Duration::from_secs(3));
    let totals = bank::seed(&mut db.connect(), &config).unwrap();
    let pool = bank::pool(&url, &config).unwrap();
    let counters = Counters::default();
    let done = AtomicBool::new(false);
    let kills = AtomicU64::new(0);

    let report = std::thread::scope(|s| {
        let killer = db.admin();
        let own = connection_id(killer);
        let (done, kills) = (&done, &kills);
        s.spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(150));
                let ids: Vec<Id> = diesel::sql_query(format!(
                    "SELECT ID AS id FROM information_schema.PROCESSLIST \
                     WHERE DB = '{name}' AND ID <> {own} AND COMMAND <> 'Killed'"
                ))
                .load(killer)
                .unwrap();
                if let Some(victim) =
                    ids.get(kills.load(Ordering::Relaxed) as usize % ids.len().max(1))
                {
                    // The victim may have gone already: ignore "Unknown thread id".
                    if diesel::sql_query(format!("KILL {}", victim.id))
                        .execute(killer)
                        .is_ok()
                    {
                        kills.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        let report = bank::run(&pool, &config, &counters).unwrap();
        done.store(true, Ordering::Relaxed);
        report
    });

    eprintln!("{} kills; {report:?}", kills.load(Ordering::Relaxed));
    assert!(kills.load(Ordering::Relaxed) >= 5);
    assert!(report.aborted.is_none(), "{report:?}");
    // The kills were felt: trades were run again on new connections, or lost
    // their connection while committing.
    assert!(report.retried + report.unknown > 0, "{report:?}");
    // Every other error would be a bug.
    assert_eq!(report.failed, report.unknown, "{:?}", report.errors);
    assert!(report.committed > 100, "{report:?}");
    let check = bank::check(&mut db.connect(), &totals).unwrap();
    assert!(check.ok(), "{:?}", check.violations());
}

#[test]
fn server_killed_and_restarted_during_a_run() {
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let mut conn = player_core::db::connect(&url).unwrap();
    player_core::migrations::run_pending(&mut conn).unwrap();
    let config = Config {
        connect_timeout: Duration::from_secs(30),
        ..config(4, Duration::from_secs(6))
    };
    let totals = bank::seed(&mut conn, &config).unwrap();
    drop(conn);
    let pool = bank::pool(&url, &config).unwrap();
    let counters = Counters::default();

    let (report, committed_before) = std::thread::scope(|s| {
        let run = s.spawn(|| bank::run(&pool, &config, &counters).unwrap());
        std::thread::sleep(Duration::from_millis(700));
        // SIGKILL: InnoDB recovers from its redo log at the next start.
        server.stop(true);
        let committed_before = counters.committed.load(Ordering::Relaxed);
        server.restart();
        (run.join().unwrap(), committed_before)
    });

    eprintln!("{committed_before} committed before the crash; {report:?}");
    assert!(report.aborted.is_none(), "{report:?}");
    assert!(committed_before > 0);
    assert!(
        report.committed > committed_before,
        "no trade after the restart: {report:?}"
    );
    assert!(report.retried + report.failed > 0, "{report:?}");
    assert_eq!(report.failed, report.unknown, "{:?}", report.errors);
    let mut conn = player_core::db::connect(&url).unwrap();
    let check = bank::check(&mut conn, &totals).unwrap();
    assert!(check.ok(), "{:?}", check.violations());
}

#[test]
fn a_server_that_stays_down_stops_the_run_with_an_error() {
    let mut server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let mut conn = player_core::db::connect(&url).unwrap();
    player_core::migrations::run_pending(&mut conn).unwrap();
    let config = Config {
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::default()
        },
        ..config(2, Duration::from_secs(30))
    };
    bank::seed(&mut conn, &config).unwrap();
    drop(conn);
    let pool = bank::pool(&url, &config).unwrap();
    let started = std::time::Instant::now();
    let report = std::thread::scope(|s| {
        let run = s.spawn(|| bank::run(&pool, &config, &Counters::default()).unwrap());
        std::thread::sleep(Duration::from_millis(500));
        server.stop(true);
        run.join().unwrap()
    });
    let aborted = report.aborted.as_deref().expect("the run must stop early");
    assert!(aborted.contains("cannot get a connection"), "{aborted}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
