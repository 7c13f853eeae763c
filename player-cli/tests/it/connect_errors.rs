//! Bad connection input: one clear line (and a hint), exit status 1, the
//! password never shown, nothing changed.

use std::time::Duration;

use diesel::prelude::*;
use player_testkit::TestDatabase;
use player_testkit::cli::Run;
use player_testkit::net::{SilentListener, free_port};

use crate::common::{cli, player_cli};

const PASSWORD: &str = "Sup3r-S3cret";

/// Runs the default command (the scenarios) against `url`.
fn run_with_url(url: &str) -> Run {
    cli(url, &[])
}

/// Exit status 1, empty stdout, `error: ...` first and at most a `hint: ...` after it.
fn assert_one_line_error(out: &Run, expected: &str) -> String {
    let stderr = crate::common::without_notice(&out.stderr).to_owned();
    assert_eq!(out.code, 1, "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("error: ") && l.contains(expected)),
        "expected an error line with {expected:?}: {stderr}"
    );
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "password leaked: {stderr}");
    stderr
}

/// The server part of the test server's URL: `mysql://root@host:port`.
fn server_of(db: &TestDatabase) -> String {
    let url = db.url();
    url[..url.rfind('/').expect("path")].to_owned()
}

fn has_player_table(db: &TestDatabase) -> bool {
    let mut conn = db.connect();
    diesel::sql_query("SELECT 1 FROM player LIMIT 1")
        .execute(&mut conn)
        .is_ok()
}

#[test]
fn no_server_at_the_url() {
    let port = free_port();
    let out = run_with_url(&format!("mysql://root:{PASSWORD}@127.0.0.1:{port}/test"));
    let stderr = assert_one_line_error(&out, "cannot connect to mysql://root:***@127.0.0.1");
    assert!(
        stderr.contains("hint: ") && stderr.contains("scripts/local-db.sh start"),
        "{stderr}"
    );
}

#[test]
fn wrong_password() {
    let db = TestDatabase::create();
    let url = db
        .url()
        .replacen("mysql://root@", &format!("mysql://root:{PASSWORD}@"), 1);
    let out = run_with_url(&url);
    let stderr = assert_one_line_error(&out, "Access denied");
    assert!(stderr.contains("root:***@"), "{stderr}");
    assert!(!has_player_table(&db), "migrations must not have run");
}

#[test]
fn unknown_database() {
    let db = TestDatabase::create();
    let missing = format!("{}_missing", db.name());
    let out = run_with_url(&format!("{}/{missing}", server_of(&db)));
    let stderr = assert_one_line_error(&out, "Unknown database");
    assert!(
        stderr.contains("hint: create it and its tables with `player-cli setup`"),
        "{stderr}"
    );
    let exists = player_admin::catalog::database_exists(&mut db.connect(), &missing).unwrap();
    assert!(!exists, "the missing database must not be created");
}

#[test]
fn malformed_urls() {
    for url in [
        format!("mysql://root:{PASSWORD}@[::1/test"),
        format!("postgres://root:{PASSWORD}@127.0.0.1:4000/test"),
        "127.0.0.1:4000".to_owned(),
        "mysql:///test".to_owned(),
    ] {
        let out = run_with_url(&url);
        assert_one_line_error(&out, "is not a valid MySQL URL");
    }
}

#[test]
fn database_url_from_the_environment_is_used() {
    let db = TestDatabase::create();
    let out = player_cli()
        .env(
            "DATABASE_URL",
            format!("{}/{}_nope", server_of(&db), db.name()),
        )
        .run();
    assert_one_line_error(&out, "Unknown database");
}

/// `ping` against something that accepts TCP connections and never answers
/// used to hang forever.
#[test]
fn a_silent_server_times_out_with_a_hint() {
    let silent = SilentListener::start();
    // Killed, and the test failed, should it wait for the handshake for ever.
    let run = player_cli()
        .database_url(&silent.url("connect_timeout=1"))
        .arg("ping")
        .time_limit(Duration::from_secs(10))
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    let lines = run.stderr_lines();
    assert!(
        lines.len() == 2
            && lines[0].starts_with("error: ")
            && lines[0].contains("no answer within 1 s")
            && lines[1].starts_with("hint: ")
            && lines[1].contains("connect_timeout"),
        "{run:?}"
    );
    assert!(silent.accepted() >= 1, "ping never reached the listener");
}

/// The test database's URL with host `localhost` instead of `127.0.0.1`, or
/// `None` when the test server is elsewhere.
fn on_localhost(db: &TestDatabase) -> Option<String> {
    let mut url = url::Url::parse(db.url()).unwrap();
    if url.host_str() != Some("127.0.0.1") {
        player_testkit::need::skip("the test server is not on 127.0.0.1");
        return None;
    }
    url.set_host(Some("localhost")).unwrap();
    Some(url.to_string())
}

#[test]
fn localhost_with_a_port_connects_over_tcp() {
    let db = TestDatabase::create();
    let Some(url) = on_localhost(&db) else {
        return;
    };
    assert!(url.starts_with("mysql://root@localhost:"), "{url}");
    let out = run_with_url(&url);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(has_player_table(&db), "the scenarios ran on {url}");
}

#[test]
fn a_unix_socket_that_is_not_there_says_how_to_use_tcp() {
    let db = TestDatabase::create();
    let Some(url) = on_localhost(&db) else {
        return;
    };
    let url = format!("{url}?unix_socket=/nonexistent/mysqld.sock");
    let out = run_with_url(&url);
    let stderr = assert_one_line_error(&out, "through socket '/nonexistent/mysqld.sock'");
    assert!(
        stderr.contains("hint: host `localhost` without a port"),
        "{stderr}"
    );
    assert!(!has_player_table(&db));
}
