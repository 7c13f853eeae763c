//! The console examples of README.md and docs/*.md run as tests (trycmd):
//! each file in order, on a throw-away database of its own, so the docs cannot
//! drift from what the binary prints. `$ player-cli ...` lines are commands,
//! `[..]` matches what varies within a line, `? N` is an expected exit status.

use diesel::connection::SimpleConnection;
use player_testkit::{Need, TestDatabase, require};

/// Runs the console blocks of `file` (relative to the package folder) with
/// `DATABASE_URL` pointing at `url`.
fn run_examples(file: &str, url: &str) {
    trycmd::TestCases::new()
        .register_bin("player-cli", trycmd::cargo::cargo_bin!("player-cli"))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .case(file);
}

#[test]
fn readme() {
    // The examples show the local MariaDB stand-in's URL and version.
    require!(Need::DocsServer);
    let db = TestDatabase::create();
    run_examples("../README.md", db.url());
}

#[test]
fn cli_md() {
    // The examples show the local MariaDB stand-in's URL and version.
    require!(Need::DocsServer);
    // `setup` comes first and creates the database: give it a missing one
    // whose name the testkit's sweep knows, dropped when `db` is.
    let mut db = TestDatabase::create();
    let drop = format!("DROP DATABASE `{}`", db.name());
    db.admin().batch_execute(&drop).expect("drop");
    run_examples("../docs/cli.md", db.url());
}

#[test]
fn bank_and_benchmarks_md() {
    // No console blocks today; this keeps every other block tagged with a
    // language (an untagged block would be parsed as a test and fail).
    let db = TestDatabase::create();
    run_examples("../docs/bank.md", db.url());
    run_examples("../docs/benchmarks.md", db.url());
}
