//! Bad connection input: one clear line (and a hint), exit status 1, the
//! password never shown, nothing changed.

use std::net::TcpListener;
use std::process::{Command, Output};

use diesel::prelude::*;
use player_testkit::TestDatabase;

const PASSWORD: &str = "Sup3r-S3cret";

fn run_with_url(url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_player-cli"))
        .args(["--database-url", url])
        .env_remove("RUST_LOG")
        .output()
        .expect("run player-cli")
}

/// Exit status 1, empty stdout, `error: ...` first and at most a `hint: ...` after it.
fn assert_one_line_error(out: &Output, expected: &str) -> String {
    let stderr = crate::common::without_notice(&String::from_utf8_lossy(&out.stderr)).to_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
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
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // Nothing listens on the port once the listener is dropped.
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
        assert_one_line_error(&out, "DATABASE_URL is not a valid MySQL URL");
    }
}

#[test]
fn database_url_from_the_environment_is_used() {
    let db = TestDatabase::create();
    let out = Command::new(env!("CARGO_BIN_EXE_player-cli"))
        .env(
            "DATABASE_URL",
            format!("{}/{}_nope", server_of(&db), db.name()),
        )
        .env_remove("RUST_LOG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run player-cli");
    assert_one_line_error(&out, "Unknown database");
}

/// `ping` against something that accepts TCP connections and never answers
/// used to hang forever.
#[test]
fn a_silent_server_times_out_with_a_hint() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let url = format!("mysql://root@127.0.0.1:{port}/test?connect_timeout=1");
    let child = crate::common::spawn(&url, &["ping"]);
    // Killed, and the test failed, should it wait for the handshake for ever.
    let run = crate::common::finish(child, std::time::Duration::from_secs(10));
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
    drop(silent);
}

/// The test database's URL with host `localhost` instead of `127.0.0.1`, or
/// `None` when the test server is elsewhere.
fn on_localhost(db: &TestDatabase) -> Option<String> {
    let mut url = url::Url::parse(db.url()).unwrap();
    if url.host_str() != Some("127.0.0.1") {
        eprintln!("the test server is not on 127.0.0.1; skipped");
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
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
