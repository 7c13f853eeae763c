//! No part of a password shows, whatever the URL looks like and whichever
//! command runs: unencoded special characters that a parser would misplace,
//! passwords equal to the user, the host or one character, with every log
//! line on (`RUST_LOG=trace`).

use player_testkit::TestDatabase;

use crate::common::{Run, cli_env};

/// Every command, with arguments that would change data if it connected.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["scenarios"],
    &["migrate"],
    &["migrate", "--status", "--json"],
    &["player", "create", "x", "--coins", "1"],
    &["player", "get", "x", "--json"],
    &["player", "list"],
    &["player", "update", "x", "--coins", "1"],
    &["player", "delete", "x"],
    &[
        "trade", "--seller", "a", "--buyer", "b", "--amount", "1", "--price", "1",
    ],
    &["load", "--count", "10"],
    &["ping"],
    &["ping", "--json"],
    &["doctor"],
    &["doctor", "--json"],
    &[
        "bank",
        "--seconds",
        "1",
        "--json",
        "--bank-database",
        "player_test_never_made",
    ],
];

/// The test server's `host:port`.
fn server_address(db: &TestDatabase) -> String {
    db.server_url()
        .trim_start_matches("mysql://root@")
        .trim_end_matches('/')
        .to_owned()
}

/// Runs every command against `url` with all logs on, and hands each run to `check`.
fn every_command(url: &str, check: impl Fn(&[&str], &Run, &str)) {
    for args in COMMANDS {
        let run = cli_env(args, &[("DATABASE_URL", url), ("RUST_LOG", "trace")]);
        let output = format!("{}{}", run.stdout, run.stderr);
        assert_ne!(run.code, 0, "{args:?} with {url}: {run:?}");
        check(args, &run, &output);
    }
}

/// Every piece of four characters or more of `secret` (raw and as the URL
/// carries it, percent-encoded), which no output may hold.
fn pieces(secret: &str, encoded: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for s in [secret, encoded] {
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(4) {
            pieces.push(w.iter().collect());
        }
    }
    pieces
}

#[test]
fn distinctive_passwords_never_show_in_any_part() {
    let db = TestDatabase::create();
    let host = server_address(&db);
    let name = db.name();
    // (password as written in the URL, the password it means). Every piece
    // of four holds a letter past `f`, so that no log timestamp, port or hex
    // database name can hold one by chance.
    let cases = [
        // Not percent-encoded: refused before anything is tried.
        ("q3g0#s3cr3t", "q3g0#s3cr3t"),
        ("9g7k?zq9x", "9g7k?zq9x"),
        ("9g7k/zq9x", "9g7k/zq9x"),
        ("ab/cd?ef#gh", "ab/cd?ef#gh"),
        // Encoded, or harmless where they stand: refused by the server.
        ("q3g0%23s3cr3t", "q3g0#s3cr3t"),
        ("p%40ss%2Fw0rd%3F", "p@ss/w0rd?"),
        ("x:yq@zw", "x:yq@zw"),
        ("9h7k5zzq", "9h7k5zzq"),
    ];
    for (written, secret) in cases {
        let url = format!("mysql://root:{written}@{host}/{name}");
        let forbidden = pieces(secret, written);
        every_command(&url, |args, run, output| {
            for piece in &forbidden {
                assert!(
                    !output.contains(piece.as_str()),
                    "{args:?} with password {secret:?} showed {piece:?}: {run:?}"
                );
            }
        });
    }
}

/// Passwords that are also other parts of the URL: the password slot is
/// masked, and nothing else is masked in its place (masking the server's text
/// by substring would turn `127.0.0.1` into `***27.0.0.***`, and tell the
/// password by what it hides).
#[test]
fn passwords_equal_to_the_user_the_host_or_one_character_mangle_nothing() {
    let db = TestDatabase::create();
    let host = server_address(&db);
    let address = host.split(':').next().unwrap_or_default().to_owned();
    for password in ["root", address.as_str(), "1", "0"] {
        let url = format!("mysql://root:{password}@{host}/{}", db.name());
        every_command(&url, |args, run, output| {
            assert!(
                !output.contains(&format!(":{password}@")),
                "{args:?}: the password slot shows: {run:?}"
            );
            assert!(
                !output.replace("root:***@", "").contains("***"),
                "{args:?}: something else was masked: {run:?}"
            );
        });
        // The server's own words come through whole.
        let run = cli_env(&["ping"], &[("DATABASE_URL", url.as_str())]);
        assert!(
            run.stderr
                .contains(&format!("Access denied for user 'root'@'{address}'")),
            "{run:?}"
        );
    }
}
