//! The `player-bench` binary end to end, with tiny sizes, against the test server
//! (`TEST_DATABASE_URL`, else the local one), each run in a database of its own.
//!
//! The assertions are on structure and invariants (tables printed, row counts,
//! ratios finite and positive), never on timings, so a busy machine cannot fail them.

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
        .args(["--database-url", &server, "--database", &database])
        .args(args)
        .run()
}

/// The rows of the Markdown table under the heading that starts with `title`,
/// as (column, cell) pairs; empty cells are left out.
fn table(markdown: &str, title: &str) -> Vec<Vec<(String, String)>> {
    let start = markdown
        .find(&format!("### {title}"))
        .unwrap_or_else(|| panic!("no table {title}: {markdown}"));
    let lines: Vec<&str> = markdown[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |l: &str| {
        l.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect::<Vec<_>>()
    };
    let header = cells(lines[0]);
    let rows = lines[2..].iter().map(|l| {
        header
            .iter()
            .cloned()
            .zip(cells(l))
            .filter(|(_, c)| !c.is_empty())
            .collect()
    });
    rows.collect()
}

/// The cells of `column` that hold something, each a finite positive number.
fn positive(rows: &[Vec<(String, String)>], column: &str) -> Vec<f64> {
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|row| row.iter().find(|(c, _)| c == column))
        .map(|(_, v)| {
            v.replace(',', "")
                .parse()
                .unwrap_or_else(|_| panic!("{column}: {v:?} is not a number"))
        })
        .collect();
    assert!(
        values.iter().all(|v: &f64| v.is_finite() && *v > 0.0),
        "{column}: {values:?}"
    );
    values
}

#[test]
fn load_and_trades_print_their_tables_with_finite_ratios() {
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
    let (stdout, stderr) = (out.stdout.as_str(), out.stderr.as_str());
    assert!(out.success(), "{stderr}");
    assert!(stdout.contains("### Machine"), "{stdout}");
    let load = table(stdout, "Bulk load of 300 players");
    assert_eq!(load.len(), 7, "six shapes and LOAD DATA: {stdout}");
    assert_eq!(positive(&load, "Diesel / client").len(), 6);
    assert_eq!(positive(&load, "Diesel round trips / batch").len(), 6);
    assert_eq!(
        positive(&load, "client").len(),
        7,
        "LOAD DATA ran: {stdout}"
    );
    let check = table(
        stdout,
        "Refusing negative balances in bulk_create (batch 1,000, one transaction",
    );
    assert_eq!(positive(&check, "vs unchecked").len(), 2, "{stdout}");
    let trades = table(stdout, "Trades on one connection (10 trades");
    assert!(positive(&trades, "vs client").len() >= 3, "{stdout}");
    // Diesel's two forms send 3 statements and 1, as the counters tell.
    assert_eq!(
        positive(&trades, "statements / trade")[..2],
        [3.0, 1.0],
        "{stdout}"
    );
}

#[test]
fn the_rtt_part_prints_its_tables() {
    let out = bench(&[
        "--quick",
        "--only",
        "rtt",
        "--rtt-ms",
        "1",
        "--rtt-trades",
        "20",
        "--player-cli",
        "/nonexistent/player-cli",
        "--markdown",
    ]);
    let (stdout, stderr) = (out.stdout.as_str(), out.stderr.as_str());
    assert!(out.success(), "{stderr}");
    let trades = table(stdout, "Trades against round-trip time");
    let peewee = usize::from(stdout.contains("| peewee (tutorial) "));
    assert!(
        peewee == 1 || stderr.contains("peewee: its columns are skipped"),
        "{stderr}"
    );
    assert_eq!(
        trades.len(),
        2 * (5 + peewee),
        "every side at RTT 0 and 1: {stdout}"
    );
    assert_eq!(positive(&trades, "measured ÷ model").len(), 5 + peewee);
    // The client's lone UPDATE ... JOIN is one round trip, counted by its probes.
    let join: Vec<_> = trades
        .iter()
        .skip_while(|r| !r[0].1.starts_with("client, one UPDATE"))
        .collect();
    assert!(
        join.iter().all(|r| r
            .iter()
            .any(|(c, v)| c == "round trips / trade" && v == "1.00")),
        "{stdout}"
    );
    let load = table(stdout, "Bulk load against round-trip time");
    assert_eq!(
        positive(&load, "round trips / batch").len(),
        2 * (2 + peewee),
        "{stdout}"
    );
    assert_eq!(table(stdout, "Round-trip targets").len(), 3, "{stdout}");
    assert!(stderr.contains("RTT 1 ms, bank: skipped"), "{stderr}");
}

#[test]
fn parts_without_player_cli_are_skipped() {
    for (cli, why) in [
        ("/nonexistent/player-cli", "not found"),
        ("/bin/false", "has no bank command"),
    ] {
        let out = bench(&["--quick", "--only", "bank,memory", "--player-cli", cli]);
        let stderr = out.stderr.as_str();
        assert!(out.success(), "{stderr}");
        assert!(
            stderr.contains("bank: skipped") && stderr.contains("memory: skipped"),
            "{stderr}"
        );
        assert!(stderr.contains(why), "{stderr}");
    }
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
    let stderr = out.stderr.as_str();
    assert_eq!(out.code, 1, "{stderr}");
    assert!(stderr.contains("load: BROKEN"), "{stderr}");
}

#[test]
fn refuses_a_database_it_did_not_make() {
    let out = player_bench().args(["--database", "test", "--quick"]).run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("must start with `player_bench`"));
}

#[test]
fn write_results_fills_the_marked_part_of_a_document() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("bench.md");
    let (begin, end) = (
        "<!-- player-bench results: begin -->",
        "<!-- player-bench results: end -->",
    );
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
        doc.to_str().expect("UTF-8"),
    ]);
    assert!(out.success(), "{}", out.stderr);
    let written = std::fs::read_to_string(&doc).expect("read");
    assert!(
        written.starts_with(&format!("# Before\n\n{begin}\n\n_Measured on 2")),
        "{written}"
    );
    assert!(
        written.contains("### Bulk load of 100 players") && !written.contains("old"),
        "{written}"
    );
    assert!(
        written.ends_with(&format!("{end}\n\n# After\n")),
        "{written}"
    );
}
