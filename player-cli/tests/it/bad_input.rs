//! Bad input: usage errors exit 2, runtime errors exit 1, each with one clear
//! `error:` line, and the database is left as it was.

use player_testkit::TestDatabase;

use crate::common::{Run, cli, rows, tables, tutorial_players_db};

const LONG_ID: &str = "0123456789012345678901234567890123456"; // 37 characters

/// Runs every case on one database and checks status, message and that no
/// row or table changed.
fn check(cases: &[(&[&str], i32, &str)]) {
    let db = tutorial_players_db();
    let (before_rows, before_tables) = (rows(&db), tables(&db));
    for (args, code, needle) in cases {
        let run = cli(db.url(), args);
        assert_eq!(run.code, *code, "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?} printed on stdout");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{args:?}: expected {needle:?} in {}",
            run.stderr
        );
        if *code == 1 {
            assert_one_line(args, &run);
        }
        assert_eq!(rows(&db), before_rows, "{args:?} changed rows");
        assert_eq!(tables(&db), before_tables, "{args:?} changed tables");
    }
}

fn assert_one_line(args: &[&str], run: &Run) {
    assert_eq!(run.stderr_lines().len(), 1, "{args:?}: {}", run.stderr);
}

#[test]
fn ids_too_long_are_usage_errors() {
    let msg = "at most 36 characters, this one has 37";
    check(&[
        (&["player", "get", LONG_ID], 2, msg),
        (&["player", "create", LONG_ID], 2, msg),
        (&["player", "update", LONG_ID, "--coins", "1"], 2, msg),
        (&["player", "delete", LONG_ID], 2, msg),
        (&["player", "list", "--after", LONG_ID], 2, msg),
        (
            &[
                "trade", "--seller", LONG_ID, "--buyer", "1", "--amount", "1", "--price", "1",
            ],
            2,
            msg,
        ),
        (
            &[
                "trade", "--seller", "2", "--buyer", LONG_ID, "--amount", "1", "--price", "1",
            ],
            2,
            msg,
        ),
    ]);
}

#[test]
fn empty_ids_are_usage_errors() {
    let msg = "a player id cannot be empty";
    check(&[
        (&["player", "get", ""], 2, msg),
        (&["player", "create", ""], 2, msg),
        (&["player", "delete", ""], 2, msg),
        (
            &[
                "trade", "--seller", "", "--buyer", "1", "--amount", "1", "--price", "1",
            ],
            2,
            msg,
        ),
    ]);
}

#[test]
fn counts_out_of_range_are_usage_errors() {
    let msg = "must be between 1 and 1000000000";
    check(&[
        (&["load", "--count", "0"], 2, msg),
        (&["load", "--count=-5"], 2, msg),
        (&["load", "--count", "1000000001"], 2, msg),
        (
            &["load", "--count", "lots"],
            2,
            "`lots` is not a whole number",
        ),
        (&["load"], 2, "--count"),
        (
            &["player", "list", "--limit", "0"],
            2,
            "must be between 1 and 10000",
        ),
        (
            &["player", "list", "--limit", "10001"],
            2,
            "must be between 1 and 10000",
        ),
    ]);
}

#[test]
fn batch_sizes_out_of_range_are_usage_errors() {
    let msg = "must be between 1 and 21845 (one INSERT binds 3 values a row and at most 65535)";
    check(&[
        (&["load", "--count", "10", "--batch", "0"], 2, msg),
        (&["load", "--count", "10", "--batch", "21846"], 2, msg),
        (&["load", "--count", "10", "--batch", "65535"], 2, msg),
        (&["load", "--count", "10", "--batch=-1"], 2, msg),
    ]);
}

#[test]
fn zero_or_negative_amounts_and_balances_are_usage_errors() {
    let trade = |amount: &'static str, price: &'static str| -> Vec<&'static str> {
        vec![
            "trade", "--seller", "2", "--buyer", "1", "--amount", amount, "--price", price,
        ]
    };
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (trade("0", "1"), 2, "must be between 1 and 2147483647"),
        (trade("-1", "1"), 2, "'-1'"),
        (trade("1", "0"), 2, "must be between 1 and 2147483647"),
        (
            trade("1", "2147483648"),
            2,
            "must be between 1 and 2147483647",
        ),
        (
            vec![
                "trade",
                "--seller",
                "2",
                "--buyer",
                "1",
                "--amount=-3",
                "--price",
                "1",
            ],
            2,
            "must be between 1",
        ),
        (
            vec!["player", "create", "x", "--coins=-1"],
            2,
            "must be between 0 and 2147483647",
        ),
        (
            vec!["player", "update", "1", "--goods=-1"],
            2,
            "must be between 0 and 2147483647",
        ),
        (
            vec!["player", "update", "1", "--goods", "2147483648"],
            2,
            "must be between 0",
        ),
    ];
    let cases: Vec<(&[&str], i32, &str)> = cases
        .iter()
        .map(|(a, c, m)| (a.as_slice(), *c, *m))
        .collect();
    check(&cases);
}

#[test]
fn a_trade_with_oneself_and_missing_arguments_are_usage_errors() {
    check(&[
        (
            &[
                "trade", "--seller", "1", "--buyer", "1", "--amount", "1", "--price", "1",
            ],
            2,
            "must be different players",
        ),
        (
            &["trade", "--seller", "2", "--buyer", "1", "--amount", "1"],
            2,
            "--price",
        ),
        (&["player", "update", "1"], 2, "--coins"),
    ]);
}

#[test]
fn unknown_flags_and_commands_are_usage_errors() {
    check(&[
        (
            &["player", "get", "1", "--bogus"],
            2,
            "unexpected argument '--bogus'",
        ),
        (&["--frobnicate"], 2, "unexpected argument '--frobnicate'"),
        (&["ping", "--verbose"], 2, "unexpected argument '--verbose'"),
        (
            &["player", "create", "x", "--json"],
            2,
            "unexpected argument '--json'",
        ),
        (
            &["player", "rename", "1"],
            2,
            "unrecognized subcommand 'rename'",
        ),
        (&["player", "get", "1", "2"], 2, "unexpected argument '2'"),
    ]);
}

#[test]
fn players_that_do_not_exist_are_runtime_errors() {
    check(&[
        (
            &["player", "get", "nobody"],
            1,
            r#"error: no player with id "nobody""#,
        ),
        (
            &["player", "update", "nobody", "--coins", "5"],
            1,
            r#"no player with id "nobody""#,
        ),
        (
            &["player", "delete", "nobody"],
            1,
            r#"no player with id "nobody""#,
        ),
        (&["player", "get", "1'--"], 1, r#"no player with id "1'--""#),
        (
            &[
                "trade", "--seller", "nobody", "--buyer", "1", "--amount", "1", "--price", "1",
            ],
            1,
            r#"unknown player "nobody""#,
        ),
        (
            &[
                "trade", "--seller", "2", "--buyer", "nobody", "--amount", "1", "--price", "1",
            ],
            1,
            r#"unknown player "nobody""#,
        ),
    ]);
}

#[test]
fn a_taken_id_is_a_runtime_error() {
    check(&[(
        &["player", "create", "1", "--coins", "5"],
        1,
        r#"error: a player with id "1" already exists"#,
    )]);
}

#[test]
fn bad_database_urls_are_refused_before_connecting() {
    let db = tutorial_players_db();
    let (before_rows, before_tables) = (rows(&db), tables(&db));
    let with_query = |q: &str| format!("{}?{q}", db.url());
    let cases = [
        ("not a url".to_owned(), "is not a valid MySQL URL"),
        ("postgres://h/db".to_owned(), "it must start with mysql://"),
        (
            with_query("ssl_mode=verify-full"),
            "unknown ssl_mode `verify-full`",
        ),
        (
            with_query("sslmode=required"),
            "unknown query parameter `sslmode`",
        ),
        (
            with_query("ssl_mode=verify_identity"),
            "ssl_mode=verify_identity needs ssl_ca",
        ),
        (
            with_query("ssl_ca=/no/such/ca.pem"),
            "cannot read ssl_ca file /no/such/ca.pem",
        ),
    ];
    for (url, needle) in cases {
        for args in [
            &["ping"][..],
            &["player", "delete", "1"],
            &["load", "--count", "5"],
        ] {
            let run = cli(&url, args);
            assert_eq!(run.code, 1, "{url} {args:?}: {run:?}");
            assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
            assert!(run.stderr.contains(needle), "{url}: {}", run.stderr);
            assert_eq!(run.stdout, "");
        }
    }
    assert_eq!(rows(&db), before_rows);
    assert_eq!(tables(&db), before_tables);
}

#[test]
fn commands_on_a_database_without_the_table_say_to_migrate() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["player", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: cannot list players: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: apply the migrations first: player-cli migrate"),
        "{}",
        run.stderr
    );
    assert!(tables(&db).is_empty());
}
