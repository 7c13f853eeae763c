//! The `player-bench` binary end to end, with tiny sizes, against the test server
//! (`TEST_DATABASE_URL`, else the local one), each run in a database of its own.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use player_testkit::cli::{Cli, Run};

/// `player-bench`, run the way every test runs a binary, killed (failing the
/// test) should a tiny run take over five minutes.
fn player_bench() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_player-bench")).time_limit(Duration::from_secs(300))
}

/// A run on the test server, in a database of its own.
fn bench(args: &[&str]) -> Run {
    let server = player_testkit::test_server_url();
    let database = format!("player_bench_smoke_{}", uuid::Uuid::new_v4().simple());
    player_bench()
        .database_url(&server)
        .args(["--database", &database])
        .args(args)
        .run()
}

#[test]
fn load_and_trades_print_their_tables() {
    let out = bench(&[
        "--quick",
        "--rows",
        "300",
        "--trades",
        "10",
        "--only",
        "load,trades",
        "--markdown",
    ]);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(out.success(), "{stderr}");
    assert!(stdout.contains("### Machine"), "{stdout}");
    assert!(stdout.contains("### Bulk load of 300 players"), "{stdout}");
    assert!(stdout.contains("| LOAD DATA LOCAL INFILE |"), "{stdout}");
    assert!(
        stdout.contains("### Trades on one connection (10 trades"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("| one transaction |").count(), 3, "{stdout}");
}

#[test]
fn the_rtt_part_prints_its_tables_and_chart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = dir.path().join("rtt.svg");
    let out = bench(&[
        "--quick",
        "--only",
        "rtt",
        "--rtt-ms",
        "1",
        // Enough work that a probe's jitter on a busy machine stays below
        // it: the client's time is the work's less one probe's.
        "--rtt-trades",
        "50",
        "--rtt-rows",
        "1140",
        "--player-cli",
        "/nonexistent/player-cli",
        "--rtt-chart",
        chart.to_str().expect("UTF-8 path"),
        "--markdown",
    ]);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(out.success(), "{stderr}");
    assert!(
        stdout.contains("### Trades against round-trip time"),
        "{stdout}"
    );
    // Every trade side at RTT 0 and 1, peewee's when its Python is there.
    for side in [
        "| ours, transactional ",
        "| ours, one statement ",
        "| client, lock then update ",
        "| client, one UPDATE ... JOIN ",
    ] {
        assert!(stdout.contains(side), "{side}: {stdout}");
    }
    assert!(
        stdout.contains("| peewee (tutorial) ")
            || stderr.contains("peewee: its columns are skipped"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("### Bulk load against round-trip time"),
        "{stdout}"
    );
    assert!(stdout.contains("### Round-trip targets"), "{stdout}");
    assert!(stderr.contains("bank: skipped"), "{stderr}");
    let svg = std::fs::read_to_string(&chart).expect("chart written");
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
}

#[test]
fn parts_without_player_cli_are_skipped() {
    let out = bench(&[
        "--quick",
        "--only",
        "bank,memory",
        "--player-cli",
        "/nonexistent/player-cli",
    ]);
    let stderr = &out.stderr;
    assert!(out.success(), "{stderr}");
    assert!(
        stderr.contains("bank: skipped") && stderr.contains("memory: skipped"),
        "{stderr}"
    );
}

#[test]
fn a_failing_reference_client_fails_the_run() {
    let out = bench(&[
        "--quick",
        "--rows",
        "100",
        "--only",
        "load",
        "--client",
        "/bin/false",
    ]);
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    assert!(stderr.contains("load: BROKEN"), "{stderr}");
}

#[test]
fn refuses_a_database_it_did_not_make() {
    let out = player_bench().args(["--database", "test", "--quick"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("must start with `player_bench`"),
        "{out:?}"
    );
}

#[test]
fn write_results_fills_the_marked_part_of_a_document() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("bench.md");
    let begin = "<!-- player-bench results: begin -->";
    let end = "<!-- player-bench results: end -->";
    std::fs::write(
        &doc,
        format!("# Before\n\n{begin}\nold\n{end}\n\n# After\n"),
    )
    .expect("write");
    let out = bench(&[
        "--quick",
        "--rows",
        "100",
        "--only",
        "load",
        "--write-results",
        doc.to_str().expect("UTF-8 path"),
    ]);
    assert!(out.success(), "{}", out.stderr);
    let written = std::fs::read_to_string(&doc).expect("read");
    assert!(
        written.starts_with(&format!("# Before\n\n{begin}\n\n_Measured on ")),
        "{written}"
    );
    assert!(
        written.contains("### Bulk load of 100 players"),
        "{written}"
    );
    assert!(!written.contains("old"), "{written}");
    assert!(
        written.ends_with(&format!("{end}\n\n# After\n")),
        "{written}"
    );
}
