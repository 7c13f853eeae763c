//! Errors by cause, each said once: wrong credentials (1045) apart from a
//! user without privileges on the database (1044), a server out of
//! connections (1040), and the URL's source named where a hint names the URL.

use diesel::prelude::*;
use player_core::db;
use player_testkit::{Need, PrivateServer, require};

use crate::common::{Run, cli, cli_dotenv, cli_env};

/// The `error:` and `hint:` lines, and no cause said twice in the error.
fn lines(run: &Run) -> (String, String) {
    // Progress lines (a run waiting on the pool) aside.
    let mut lines = run.stderr_lines();
    lines.retain(|l| !l.starts_with("progress: "));
    let error = lines.first().copied().unwrap_or_default().to_owned();
    let hint = lines.get(1).copied().unwrap_or_default().to_owned();
    assert!(error.starts_with("error: "), "{run:?}");
    assert!(lines.len() <= 2, "{run:?}");
    // Each `: `-separated part of the chain once.
    let parts: Vec<&str> = error.trim_start_matches("error: ").split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..]
                .iter()
                .any(|p| p.len() > 12 && (p.contains(part) || part.contains(p))),
            "repeated cause {part:?}: {error}"
        );
    }
    (error, hint)
}

/// A private server with `limited`@`127.0.0.1` (password `pw`), who may use
/// database `test` only, and a database `other` it may not.
fn server() -> PrivateServer {
    let server = PrivateServer::start(&[]);
    let mut root = db::connect(&server.url("test").parse().expect("URL")).expect("root");
    for stmt in [
        "CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY 'pw'",
        "GRANT ALL PRIVILEGES ON test.* TO 'limited'@'127.0.0.1'",
        "GRANT ALL PRIVILEGES ON bank2.* TO 'limited'@'127.0.0.1'",
        "CREATE DATABASE other",
    ] {
        diesel::sql_query(stmt).execute(&mut root).expect(stmt);
    }
    server
}

fn limited(server: &PrivateServer, password: &str, database: &str) -> String {
    format!(
        "mysql://limited:{password}@127.0.0.1:{}/{database}",
        server.port()
    )
}

#[test]
fn credentials_privileges_and_connections_have_their_own_words() {
    require!(Need::PrivateMariaDb);
    let server = server();

    let run = cli(&limited(&server, "wrong", "test"), &["ping"]);
    let (error, hint) = lines(&run);
    assert!(error.contains("(using password: YES)"), "{error}");
    assert!(
        hint.contains("check the user and password in --database-url"),
        "{hint}"
    );

    let run = cli(&limited(&server, "pw", "other"), &["ping"]);
    let (error, hint) = lines(&run);
    assert!(error.contains("to database 'other'"), "{error}");
    assert!(hint.contains("no privileges on that database"), "{hint}");
    assert!(!hint.contains("check the user and password"), "{hint}");

    let run = cli(&limited(&server, "pw", "newdb"), &["setup"]);
    assert_eq!(run.code, 1, "{run:?}");
    let (error, hint) = lines(&run);
    assert!(error.contains("to database 'newdb'"), "{error}");
    assert!(hint.contains("no privileges"), "{hint}");

    // The bank creates a database of its own, which this user may not.
    let run = cli(
        &limited(&server, "pw", "test"),
        &["bank", "--seconds", "0.2"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let (error, hint) = lines(&run);
    assert!(error.contains("Access denied"), "{error}");
    assert!(hint.contains("no privileges"), "{run:?}");

    let mut root = db::connect(&server.url("test").parse().expect("URL")).expect("root");
    diesel::sql_query("SET GLOBAL max_connections = 10")
        .execute(&mut root)
        .expect("max_connections");
    let run = cli(
        &limited(&server, "pw", "test"),
        &[
            "bank",
            "--workers",
            "20",
            "--seconds",
            "0.5",
            "--bank-database",
            "bank2",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let (error, hint) = lines(&run);
    assert!(error.contains("Too many connections"), "{error}");
    assert!(hint.contains("lower --workers"), "{hint}");
}

/// A hint about the URL names where it came from.
#[test]
fn hints_name_the_urls_real_source() {
    let bad = "mysql://root@127.0.0.1:4000/test?connect_timeout=0";
    let run = cli(bad, &["ping"]);
    let (error, _) = lines(&run);
    assert!(
        error.starts_with("error: --database-url is not a valid MySQL URL"),
        "{error}"
    );
    let run = cli_env(&["ping"], &[("DATABASE_URL", bad)]);
    let (error, _) = lines(&run);
    assert!(
        error.starts_with("error: DATABASE_URL in the environment is not a valid MySQL URL"),
        "{error}"
    );
    let run = cli_dotenv(&["ping"], &[], Some(&format!("DATABASE_URL={bad}\n")));
    let (error, _) = lines(&run);
    assert!(error.contains("/.env is not a valid MySQL URL"), "{error}");

    let unknown = "mysql://root@127.0.0.1:4000/no_such_database_here";
    let run = cli_dotenv(&["ping"], &[], Some(&format!("DATABASE_URL={unknown}\n")));
    let (_, hint) = lines(&run);
    assert!(
        hint.contains("change the database in DATABASE_URL in /"),
        "{hint}"
    );
    assert!(hint.contains("/.env"), "{hint}");
}
