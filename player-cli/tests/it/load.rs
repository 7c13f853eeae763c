//! `load`: bulk creation and its closing rows/s line.

use std::time::Duration;

use player_testkit::cli::Running;
use player_testkit::{Need, TestDatabase, poll_until, require};

use crate::common::{cli, player_cli, rows};

#[test]
fn load_creates_count_players_in_batches_and_reports_rows_per_second() {
    let db = TestDatabase::migrated();
    let run = cli(db.url(), &["load", "--count", "2500", "--batch", "1000"]);
    assert_eq!(run.code, 0, "{run:?}");
    let last = run.stdout.lines().last().expect("a line");
    assert!(last.starts_with("loaded 2,500 players in "), "{last}");
    assert!(last.ends_with(" rows/s"), "{last}");
    assert_eq!(
        crate::common::without_notice(&run.stderr),
        "",
        "no progress bar when stderr is not a terminal"
    );
    let all = rows(&db);
    assert_eq!(all.len(), 2500);
    assert!(
        all.iter()
            .all(|p| p.coins == 10_000 && p.goods == 10_000 && p.id.as_str().len() == 36)
    );
}

#[test]
fn load_in_one_transaction_with_the_largest_batch() {
    let db = TestDatabase::migrated();
    let max = player_core::players::MAX_BATCH_SIZE.to_string();
    let run = cli(
        db.url(),
        &[
            "load",
            "--count",
            "21846",
            "--batch",
            &max,
            "--transaction",
            "--coins",
            "3",
            "--goods",
            "4",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("loaded 21,846 players"),
        "{}",
        run.stdout
    );
    let all = rows(&db);
    assert_eq!(all.len(), 21846);
    assert!(all.iter().all(|p| (p.coins, p.goods) == (3, 4)));
}

/// Runs `load` and returns the peak resident memory the kernel recorded for
/// it (`VmHWM`, which only grows), read until the process exits.
fn peak_rss_kib(url: &str, count: &str) -> u64 {
    let mut child = player_cli()
        .database_url(url)
        .args(["load", "--count", count, "--batch", "1000"])
        .spawn();
    let status = format!("/proc/{}/status", child.pid());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if child.has_exited() {
            let run = child.finish();
            assert!(run.success(), "load {count} failed: {run:?}");
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn load_memory_does_not_grow_with_the_count() {
    let db = TestDatabase::migrated();
    let small = peak_rss_kib(db.url(), "5000");
    // 30 times more rows; holding them would take well over 10 MB more.
    let large = peak_rss_kib(db.url(), "150000");
    assert_eq!(rows(&db).len(), 155_000);
    assert!(
        large < small + 4 * 1024,
        "peak RSS grew from {small} KiB to {large} KiB"
    );
}

/// Starts `load ARGS...` on `db` with its output piped, killed (failing the
/// test) should it run for over a minute.
fn spawn_load(db: &TestDatabase, args: &[&str]) -> Running {
    player_cli()
        .database_url(db.url())
        .arg("load")
        .args(args)
        .time_limit(Duration::from_secs(60))
        .spawn()
}

/// Ctrl-C, or SIGTERM (what `kill`, `timeout` and container runtimes send),
/// during a load: the batch in flight finishes, the batches committed stay,
/// and the command says how many; exit 128 + the signal's number.
#[test]
fn a_signal_stops_a_load_after_the_batch_in_flight() {
    use nix::sys::signal::Signal;

    for (signal, code, name) in [
        (Signal::SIGINT, 130, "Ctrl-C"),
        (Signal::SIGTERM, 143, "SIGTERM"),
    ] {
        let db = TestDatabase::migrated();
        // About 5 s at full speed, should the signal be missed.
        let child = spawn_load(&db, &["--count", "600000", "--batch", "1000"]);
        let mut conn = db.connect();
        poll_until("a batch committed", Duration::from_secs(30), || {
            player_core::players::count(&mut conn).is_ok_and(|n| n > 0)
        });
        child.signal(signal);
        let run = child.finish();

        assert_eq!(run.code, code, "{run:?}");
        let committed = rows(&db).len();
        assert!(committed > 0 && committed < 600_000, "{committed}");
        assert_eq!(committed % 1000, 0, "only whole batches: {committed}");
        assert!(
            run.stdout.starts_with(&format!(
                "loaded {} players in ",
                indicatif::HumanCount(committed as u64)
            )),
            "{run:?}"
        );
        assert_eq!(
            run.stderr_lines(),
            [
                format!(
                    "stopping: the batch in flight finishes; the batches committed stay \
                     ({name} again to quit at once)"
                ),
                format!(
                    "interrupted: stopped by {name} after the batch in flight: \
                     {committed} of 600000 players committed"
                ),
            ],
            "{run:?}"
        );
    }
}

/// A second signal quits at once, even while the batch in flight waits on
/// the server (here for a table lock): exit 128 + its number, no report.
#[test]
fn a_second_signal_quits_at_once() {
    use player_testkit::sql::{exec, wait_for_blocked_statement};
    use std::io::{BufRead, BufReader, Read};

    require!(Need::TableLocks);
    let db = TestDatabase::migrated();
    let mut holder = db.connect();
    exec(&mut holder, "LOCK TABLES player WRITE");
    let mut child = spawn_load(&db, &["--count", "10"]);
    wait_for_blocked_statement(&mut db.connect(), db.name(), "INSERT%");

    child.signal(nix::sys::signal::Signal::SIGTERM);
    let mut stderr = BufReader::new(child.take_stderr());
    let mut line = String::new();
    while !line.starts_with("stopping:") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("read") > 0,
            "no stopping line"
        );
    }
    assert!(
        line.ends_with("(SIGTERM again to quit at once)\n"),
        "{line}"
    );
    // Still blocked: only a second signal ends it now.
    child.ctrl_c();
    let run = child.finish();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("read");
    exec(&mut holder, "UNLOCK TABLES");

    assert_eq!(run.code, 130, "{run:?} {rest}");
    assert_eq!(run.stdout, "", "no report");
    assert_eq!(rest, "Ctrl-C again: quitting now\n");
}

/// Ctrl-C during a `--transaction` load: the transaction is rolled back,
/// nothing is committed, and the command says so; exit 130.
#[test]
fn ctrl_c_rolls_a_transactional_load_back() {
    let db = TestDatabase::migrated();
    let child = spawn_load(
        &db,
        &["--count", "600000", "--batch", "1000", "--transaction"],
    );
    // Rows inserted inside the open transaction show only in the server's
    // list of transactions.
    player_testkit::sql::wait_for_uncommitted_rows(
        &mut db.connect(),
        db.name(),
        Duration::from_secs(30),
    );
    child.ctrl_c();
    let run = child.finish();

    assert_eq!(run.code, 130, "{run:?}");
    assert_eq!(rows(&db).len(), 0, "nothing committed");
    assert_eq!(run.stdout, "", "{run:?}");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 2, "{run:?}");
    assert!(
        lines[1]
            .starts_with("interrupted: the transaction was rolled back: no players committed (")
            && lines[1].ends_with(" of 600000 were inserted in it before Ctrl-C)"),
        "{run:?}"
    );
}

/// A report that cannot be written (stdout on a full disk) after the rows
/// were committed: stderr still says how many are in the database.
#[test]
fn a_load_whose_report_cannot_be_written_says_what_it_committed() {
    let db = TestDatabase::migrated();
    for json in [false, true] {
        let mut args = vec![
            "-c",
            r#"exec "$0" "$@" > /dev/full"#,
            env!("CARGO_BIN_EXE_player-cli"),
            "--database-url",
            db.url(),
            "load",
            "--count",
            "10",
        ];
        if json {
            args.push("--json");
        }
        let run = player_testkit::cli::Cli::new("bash").args(&args).run();
        assert_eq!(run.code, 1, "{run:?}");
        let lines = run.stderr_lines();
        assert_eq!(
            lines.first().copied(),
            Some("10 players committed; the report could not be written to stdout"),
            "{run:?}"
        );
        assert!(
            lines
                .get(1)
                .is_some_and(|l| l.starts_with("error: ") && l.contains("No space left")),
            "{run:?}"
        );
    }
    assert_eq!(rows(&db).len(), 20);
}

/// An interrupted `load --json` says so, and what was committed: the whole
/// batches, or with `--transaction` none.
#[test]
fn an_interrupted_json_load_says_interrupted_and_what_was_committed() {
    for transaction in [false, true] {
        let db = TestDatabase::migrated();
        let mut args = vec!["--count", "600000", "--batch", "1000", "--json"];
        if transaction {
            args.push("--transaction");
        }
        let child = spawn_load(&db, &args);
        if transaction {
            player_testkit::sql::wait_for_uncommitted_rows(
                &mut db.connect(),
                db.name(),
                Duration::from_secs(30),
            );
        } else {
            let mut conn = db.connect();
            poll_until("a batch committed", Duration::from_secs(30), || {
                player_core::players::count(&mut conn).is_ok_and(|n| n > 0)
            });
        }
        child.ctrl_c();
        let run = child.finish();
        assert_eq!(run.code, 130, "{run:?}");
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(json["interrupted"], true, "{json}");
        let committed = rows(&db).len() as u64;
        assert_eq!(json["loaded"].as_u64(), Some(committed), "{json}");
        assert_eq!(committed == 0, transaction, "{json}");
        let seconds = json["seconds"].as_f64().expect("seconds");
        assert_eq!((seconds * 1000.0).round() / 1000.0, seconds, "{json}");
    }
}
