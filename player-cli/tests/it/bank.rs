//! `player-cli bank` end to end: the JSON contract, the readable table, the
//! users' data left alone, refused inputs, and a server that goes away.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use player_testkit::cli::{Run, Running};
use player_testkit::net::SilentListener;
use player_testkit::sql::id;
use player_testkit::{Need, PrivateServer, TestDatabase, poll_until, require};

use crate::common::player_cli;

/// Runs `player-cli --database-url URL bank ARGS...`.
fn cli(url: &str, args: &[&str]) -> Run {
    player_cli().database_url(url).arg("bank").args(args).run()
}

/// What the command printed on stderr after the line naming the database it changes.
fn stderr(out: &Run) -> String {
    crate::common::without_notice(&out.stderr).to_owned()
}

/// Asserts a failure with exit code `code`, `text` on stderr (one line for a
/// runtime error), and nothing on stdout.
fn assert_refused(out: &Run, code: i32, text: &str) {
    let err = stderr(out);
    assert_eq!(out.code, code, "stderr: {err}");
    assert!(err.contains(text), "stderr: {err}");
    if code == 1 {
        assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    }
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
}

fn database_exists(db: &mut TestDatabase, name: &str) -> bool {
    player_admin::catalog::database_exists(db.admin(), name).unwrap()
}

#[test]
fn json_report_keeps_its_contract_and_the_users_data_is_untouched() {
    let users = TestDatabase::create();
    let bank_db = TestDatabase::create();
    let mut conn = users.connect();
    player_core::migrations::run_pending(&mut conn).unwrap();
    player_core::players::create(&mut conn, &player_core::NewPlayer::new(id("mine"), 5, 6))
        .unwrap();

    let out = cli(
        users.url(),
        &[
            "--workers",
            "2",
            "--players",
            "10",
            "--seconds",
            "0.5",
            "--json",
            "--bank-database",
            bank_db.name(),
            "--hot-players",
            "3",
            "--seed",
            "42",
        ],
    );
    assert!(out.success(), "stderr: {}", stderr(&out));
    let stdout = out.stdout;
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "workers",
        "players",
        "seconds",
        "committed",
        "refused",
        "retried",
        "failed",
        "trades_per_sec",
        "p50_ms",
        "p99_ms",
        "invariants_ok",
    ] {
        assert!(report.get(key).is_some(), "no {key} in {report}");
    }
    assert_eq!(report["workers"], 2);
    assert_eq!(report["players"], 10);
    assert_eq!(report["seed"], 42);
    assert_eq!(report["invariants_ok"], true);
    assert_eq!(report["failed"], 0);
    assert!(report["committed"].as_u64().unwrap() > 0);
    assert!(report["seconds"].as_f64().unwrap() >= 0.5);
    assert!(report["p99_ms"].as_f64().unwrap() >= report["p50_ms"].as_f64().unwrap());
    // Fields added later come last.
    let at = |key: &str| stdout.find(&format!("\"{key}\":")).unwrap();
    assert!(at("aborted") < at("totals") && at("totals") < at("reconciliation"));
    assert!(
        stdout
            .trim_end()
            .ends_with(r#","interrupted":false,"keyed":false,"resolved_by_key":0}"#),
        "{stdout}"
    );
    assert_eq!(report["interrupted"], false);
    let rec = &report["reconciliation"];
    assert_eq!(rec["status"], "reconciled", "{report}");
    assert_eq!(rec["players_checked"], 10);
    assert_eq!(rec["acknowledged"], report["committed"]);
    assert_eq!(rec["unknown"], 0);
    assert_eq!(rec["mismatches"], serde_json::json!([]));

    // The users' table is as it was; the bank's holds its own players.
    let users_players = player_core::players::list(&mut conn, None, 100).unwrap();
    assert_eq!(users_players.len(), 1);
    assert_eq!(users_players[0].to_string(), "id:mine, coins:5, goods:6");
    let mut bank_conn = bank_db.connect();
    assert_eq!(player_core::players::count(&mut bank_conn).unwrap(), 10);
}

#[test]
fn table_report_for_a_number_of_trades() {
    let users = TestDatabase::create();
    let bank_db = TestDatabase::create();
    let out = cli(
        users.url(),
        &[
            "--workers",
            "3",
            "--trades",
            "300",
            "--bank-database",
            bank_db.name(),
        ],
    );
    assert!(out.success(), "stderr: {}", stderr(&out));
    let stdout = &out.stdout;
    for text in [
        "bank: 3 workers, 100 players",
        "committed",
        "latency p99",
        "invariants: ok",
        "reconciliation: ok (100 players, ",
    ] {
        assert!(stdout.contains(text), "no {text:?} in\n{stdout}");
    }
    // Progress goes to stderr, and only on a terminal.
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn the_database_of_database_url_is_refused() {
    let users = TestDatabase::create();
    let out = cli(
        users.url(),
        &["--seconds", "1", "--bank-database", users.name()],
    );
    assert_refused(&out, 1, "is the database of DATABASE_URL");
    // TiDB compares database names ignoring case.
    let upper = users.name().to_uppercase();
    let out = cli(users.url(), &["--seconds", "1", "--bank-database", &upper]);
    assert_refused(&out, 1, "is the database of DATABASE_URL");
}

#[test]
fn a_database_with_other_tables_is_refused_and_left_alone() {
    let users = TestDatabase::create();
    let other = TestDatabase::create();
    let mut conn = other.connect();
    conn.batch_execute("CREATE TABLE orders (id INT PRIMARY KEY); INSERT INTO orders VALUES (1)")
        .unwrap();
    let out = cli(
        users.url(),
        &["--seconds", "1", "--bank-database", other.name()],
    );
    assert_refused(&out, 1, "holds other tables (orders)");
}

#[test]
fn a_player_table_with_foreign_ids_is_refused() {
    let users = TestDatabase::create();
    let other = TestDatabase::create();
    let mut conn = other.connect();
    player_core::migrations::run_pending(&mut conn).unwrap();
    player_core::players::create(&mut conn, &player_core::NewPlayer::new(id("alice"), 1, 1))
        .unwrap();
    let out = cli(
        users.url(),
        &["--seconds", "1", "--bank-database", other.name()],
    );
    assert_refused(&out, 1, "holds 1 players the bank did not create");
    assert_eq!(player_core::players::count(&mut conn).unwrap(), 1);
}

#[test]
fn txn_mode_is_refused_on_a_server_that_is_not_tidb_before_any_change() {
    require!(Need::NotTidb);
    let mut users = TestDatabase::create();
    let name = format!("player_test_bank_{}", std::process::id());
    let out = cli(
        users.url(),
        &[
            "--seconds",
            "1",
            "--txn-mode",
            "optimistic",
            "--bank-database",
            &name,
        ],
    );
    assert_refused(
        &out,
        1,
        "the transaction mode can only be set on TiDB; this server is",
    );
    assert!(!database_exists(&mut users, &name), "{name} was created");
}

#[test]
fn bad_flags_are_usage_errors() {
    let users = TestDatabase::create();
    for args in [
        &["--players", "1"][..],
        &["--workers", "0"],
        &["--seconds", "0"],
        &["--seconds", "-3"],
        &["--trades", "0"],
        &["--seconds", "1", "--trades", "5"],
        &["--txn-mode", "sometimes"],
    ] {
        let out = cli(users.url(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", stderr(&out));
    }
    let long = "n".repeat(65);
    for name in [
        "",
        "a-b",
        "qa-bad",
        "x`; DROP DATABASE test; --",
        long.as_str(),
    ] {
        let out = cli(users.url(), &["--seconds", "1", "--bank-database", name]);
        assert_refused(
            &out,
            2,
            "the name must be 1 to 64 letters, digits or underscores",
        );
        // Before connecting: a URL nothing answers at changes nothing.
        let out = cli("mysql://root@127.0.0.1:1/test", &["--bank-database", name]);
        assert_eq!(out.code, 2, "{out:?}");
    }
    for args in [
        &["--hot-share", "0.9"][..],
        &["--hot-share", "0.9", "--hot-players", "0"],
    ] {
        let out = cli("mysql://root@127.0.0.1:1/test", args);
        assert_refused(&out, 2, "--hot-players");
    }
    let out = cli(users.url(), &["--hot-players", "1", "--seconds", "1"]);
    assert_refused(&out, 2, "`1` is not between 2 and 100");
}

#[test]
fn a_server_that_goes_away_ends_the_command_with_a_clear_error() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let child = player_cli()
        .database_url(&server.url("test"))
        .args([
            "bank",
            "--workers",
            "2",
            "--seconds",
            "30",
            "--connect-timeout",
            "1",
        ])
        .time_limit(Duration::from_secs(30))
        .spawn();
    std::thread::sleep(Duration::from_millis(1_500));
    server.stop(true);
    let run = child.finish();
    let err = crate::common::without_notice(&run.stderr);
    assert_eq!(run.code, 1, "stderr: {err}");
    assert!(
        err.contains("error: the run stopped early: cannot get a connection"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// Ctrl-C in the middle of a run: the workers finish their trades in flight,
/// the report is printed and the check runs on what was committed; exit 130.
#[test]
fn ctrl_c_stops_the_workers_and_the_run_is_reported_and_checked() {
    use diesel::prelude::*;
    use player_core::schema::player;

    let users = TestDatabase::create();
    let bank_db = TestDatabase::create();
    let child = player_cli()
        .database_url(users.url())
        .args([
            "bank",
            "--workers",
            "3",
            "--players",
            "20",
            "--seconds",
            "60",
            "--hot-players",
            "4",
            "--json",
            "--bank-database",
            bank_db.name(),
        ])
        .time_limit(Duration::from_secs(60))
        .spawn();
    // Trading has begun once a balance has moved (the table may not exist yet).
    let mut conn = bank_db.connect();
    poll_until("a trade", Duration::from_secs(30), || {
        player::table
            .filter(player::coins.ne(10_000))
            .count()
            .get_result::<i64>(&mut conn)
            .is_ok_and(|n| n > 0)
    });
    std::thread::sleep(Duration::from_millis(300));
    child.ctrl_c();
    let run = child.finish();

    assert_eq!(run.code, 130, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    assert!(report["seconds"].as_f64().unwrap() < 30.0, "{report}");
    assert!(report["committed"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["invariants_ok"], true, "{report}");
    let rec = &report["reconciliation"];
    assert_eq!(rec["status"], "reconciled", "{report}");
    assert_eq!(rec["players_checked"], 20, "{report}");
    assert_eq!(rec["acknowledged"], report["committed"], "{report}");
    let lines = run.stderr_lines();
    assert_eq!(
        lines,
        [
            "stopping: the workers finish their trades in flight, then the check runs \
             (Ctrl-C again to quit at once)",
            lines[1],
        ],
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("interrupted: stopped by Ctrl-C after ")
            && lines[1].ends_with("the trades in flight finished and the check passed"),
        "{run:?}"
    );

    // Nothing half-applied: every coin and good is still there.
    let (n, coins, goods): (i64, Option<i64>, Option<i64>) = player::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sum(player::coins),
            diesel::dsl::sum(player::goods),
        ))
        .first(&mut conn)
        .unwrap();
    assert_eq!((n, coins, goods), (20, Some(200_000), Some(20_000)));
}

/// Ctrl-C while a million players are seeded stops the seeding within a
/// batch (about a second at most), with no trade run: exit 130.
#[test]
fn ctrl_c_stops_the_seeding_of_a_million_players_soon() {
    let users = TestDatabase::create();
    let bank = TestDatabase::create();
    let child = player_cli()
        .database_url(users.url())
        .args(["bank", "--players", "1000000", "--seconds", "1"])
        .args(["--bank-database", bank.name()])
        .spawn();
    let mut conn = bank.connect();
    poll_until("seeding under way", Duration::from_secs(60), || {
        diesel::sql_query("SELECT 1 FROM player LIMIT 1")
            .execute(&mut conn)
            .is_ok_and(|n| n > 0)
    });
    let run = ctrl_c_ends_within(child, Duration::from_secs(2));
    let last = run
        .stderr_lines()
        .last()
        .copied()
        .unwrap_or_default()
        .to_owned();
    assert!(
        last.starts_with("interrupted: stopped by Ctrl-C: stopped while seeding: ")
            && last.ends_with(" of 1000000 players seeded, no trade run"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
}

/// Sends Ctrl-C to `child` and returns its run, once it has exited with 130
/// within `limit` of the signal.
fn ctrl_c_ends_within(child: Running, limit: Duration) -> Run {
    let signalled = std::time::Instant::now();
    child.ctrl_c();
    let run = child.finish();
    let took = signalled.elapsed();
    assert_eq!(run.code, 130, "{run:?}");
    assert!(took < limit, "took {took:?}: {run:?}");
    run
}

/// Ctrl-C before anything is in flight (here the first connection waits for a
/// server that never answers its handshake) quits at once, rather than after
/// `connect_timeout`: there is no trade or batch to finish first.
#[test]
fn ctrl_c_while_connecting_quits_at_once() {
    let silent = SilentListener::start();
    // Killed, and the test failed, should it wait out the 30 s.
    let child = player_cli()
        .database_url(&silent.url("connect_timeout=30"))
        .args(["bank", "--seconds", "1"])
        .time_limit(Duration::from_secs(20))
        .spawn();
    poll_until("the first connection", Duration::from_secs(10), || {
        silent.accepted() >= 1
    });
    let run = ctrl_c_ends_within(child, Duration::from_secs(5));
    assert_eq!(
        run.stderr_lines().last().copied(),
        Some("Ctrl-C: quitting now (nothing in flight yet)"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
}

/// On a non-terminal (a log, CI) a long run prints a plain progress line
/// every few seconds on stderr.
#[test]
fn a_long_run_prints_plain_progress_lines() {
    let users = TestDatabase::create();
    let bank = TestDatabase::create();
    let out = cli(
        users.url(),
        &[
            "--players",
            "20",
            "--workers",
            "1",
            "--seconds",
            "6",
            "--bank-database",
            bank.name(),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let progress: Vec<&str> = out
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("progress: bank: "))
        .collect();
    assert!(!progress.is_empty(), "{out:?}");
    assert!(
        progress
            .iter()
            .any(|l| l.starts_with("progress: bank: trading for ") && l.contains(" s, committed ")),
        "{progress:?}"
    );
}
