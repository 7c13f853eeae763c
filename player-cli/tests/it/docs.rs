//! The console examples of README.md and docs/*.md run as tests (trycmd):
//! each file in order, on a throw-away database of its own, so the docs cannot
//! drift from what the binary prints. `$ player-cli ...` lines are commands,
//! `[..]` matches what varies within a line, `? N` is an expected exit status.

use diesel::connection::SimpleConnection;
use player_testkit::TestDatabase;

/// The server the examples show; they are checked only against it.
const DOCS_SERVER: &str = "mysql://root@127.0.0.1:4000/";

/// Runs the console blocks of `file` (relative to the package folder) with
/// `DATABASE_URL` pointing at `url`, or skips when the test server is not the
/// one the examples show.
fn run_examples(file: &str, url: &str) {
    trycmd::TestCases::new()
        .register_bin("player-cli", trycmd::cargo::cargo_bin!("player-cli"))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .case(file);
}

fn on_docs_server() -> bool {
    let ok = player_testkit::test_server_url() == DOCS_SERVER;
    if !ok {
        eprintln!("the examples show {DOCS_SERVER}; skipped on another test server");
    }
    ok
}

#[test]
fn readme() {
    if !on_docs_server() {
        return;
    }
    let db = TestDatabase::create();
    run_examples("../README.md", db.url());
}

#[test]
fn cli_md() {
    if !on_docs_server() {
        return;
    }
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
