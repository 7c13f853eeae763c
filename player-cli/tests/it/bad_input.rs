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
        let first = run.stderr_lines().first().copied().unwrap_or_default();
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
    let msg = "is not between 1 and 1000000000";
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
            "`0` is not between 1 and 10000",
        ),
        (
            &["player", "list", "--limit", "10001"],
            2,
            "`10001` is not between 1 and 10000",
        ),
    ]);
}

#[test]
fn stall_timeouts_out_of_range_are_usage_errors() {
    let msg = "is not between 0.001 and 86400";
    check(&[
        (&["--stall-timeout", "0", "player", "list"], 2, msg),
        (&["player", "list", "--stall-timeout=-1"], 2, msg),
        (&["--stall-timeout", "86401", "scenarios"], 2, msg),
        (
            &["load", "--count", "1", "--stall-timeout", "soon"],
            2,
            "`soon` is not a number",
        ),
    ]);
}

#[test]
fn batch_sizes_out_of_range_are_usage_errors() {
    let msg = "is not between 1 and 21845 (one INSERT binds 3 values a row and at most 65535)";
    check(&[
        (&["load", "--count", "10", "--batch", "0"], 2, msg),
        (&["load", "--count", "10", "--batch", "21846"], 2, msg),
        (&["load", "--count", "10", "--batch", "65535"], 2, msg),
        (&["load", "--count", "10", "--batch=-1"], 2, msg),
    ]);
}

/// A negative number, written `--flag -1` or `--flag=-1`, is a value out of
/// range, worded the same way on every command: never "unexpected argument".
#[test]
fn negative_and_out_of_range_numbers_have_one_wording_everywhere() {
    let trade = |amount: &'static str, price: &'static str| -> Vec<&'static str> {
        vec![
            "trade", "--seller", "2", "--buyer", "1", "--amount", amount, "--price", price,
        ]
    };
    let balances = "is not between 0 and 2147483647";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (trade("0", "1"), "`0` is not between 1 and 2147483647"),
        (trade("-1", "1"), "`-1` is not between 1 and 2147483647"),
        (trade("1", "0"), "`0` is not between 1 and 2147483647"),
        (trade("1", "-5"), "`-5` is not between 1 and 2147483647"),
        (trade("1", "2147483648"), "`2147483648` is not between 1"),
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
            "`-3` is not between 1",
        ),
        (
            vec!["player", "create", "x", "--coins", "-1"],
            "`-1` is not between 0 and 2147483647",
        ),
        (vec!["player", "create", "x", "--coins=-1"], balances),
        (vec!["player", "create", "x", "--goods", "-7"], balances),
        (vec!["player", "update", "1", "--goods", "-1"], balances),
        (
            vec!["player", "update", "1", "--goods", "2147483648"],
            balances,
        ),
        (
            vec!["player", "list", "--limit", "-1"],
            "`-1` is not between 1 and 10000",
        ),
        (
            vec!["load", "--count", "-5"],
            "`-5` is not between 1 and 1000000000",
        ),
        (
            vec!["load", "--count", "5", "--batch", "-1"],
            "`-1` is not between 1 and 21845",
        ),
        (vec!["load", "--count", "5", "--coins", "-1"], balances),
        (vec!["load", "--count", "5", "--goods", "-1"], balances),
        (
            vec!["bank", "--workers", "-2"],
            "`-2` is not between 1 and 1024",
        ),
        (
            vec!["bank", "--players", "-2"],
            "`-2` is not between 2 and 1000000",
        ),
        (
            vec!["bank", "--seconds", "-3"],
            "`-3` is not between 0.001 and 86400",
        ),
        (vec!["bank", "--trades", "-1"], "`-1` is not between 1"),
        (
            vec!["bank", "--hot-players", "-1"],
            "`-1` is not between 0 and 1000000",
        ),
        (
            vec!["bank", "--hot-players", "1"],
            "`1` is not between 2 and 100",
        ),
        (
            vec!["bank", "--players", "10", "--hot-players", "11"],
            "`11` is not between 2 and 10",
        ),
        (
            vec!["bank", "--hot-share", "1.5"],
            "`1.5` is not between 0 and 1",
        ),
        (
            vec!["bank", "--hot-share", "-0.1"],
            "`-0.1` is not between 0 and 1",
        ),
        (
            vec!["bank", "--seed", "-1"],
            "`-1` is not between 0 and 18446744073709551615",
        ),
        (
            vec!["bank", "--max-retries", "-1"],
            "`-1` is not between 0 and 10000",
        ),
        (
            vec!["bank", "--connect-timeout", "0"],
            "`0` is not between 0.001 and 86400",
        ),
        (
            vec!["serve", "--pool-size", "0"],
            "`0` is not between 1 and 1024",
        ),
        (
            vec!["serve", "--async-threads", "0"],
            "`0` is not between 1 and 1024",
        ),
    ];
    let cases: Vec<(&[&str], i32, &str)> =
        cases.iter().map(|(a, m)| (a.as_slice(), 2, *m)).collect();
    check(&cases);
}

#[test]
fn ids_that_look_like_negative_numbers_are_ids() {
    let db = tutorial_players_db();
    let run = cli(db.url(), &["player", "create", "-1", "--coins", "3"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "id:-1, coins:3, goods:0\n"),
        "{run:?}"
    );
    let run = cli(
        db.url(),
        &[
            "trade", "--seller", "2", "--buyer", "-1", "--amount", "1", "--price", "3",
        ],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "trade success\n"),
        "{run:?}"
    );
    let run = cli(db.url(), &["player", "get", "-1"]);
    assert_eq!(run.stdout, "id:-1, coins:0, goods:1\n", "{run:?}");
}

#[test]
fn an_empty_database_url_is_one_clear_line() {
    use crate::common::cli_env;
    let run = cli_env(&["player", "list"], &[("DATABASE_URL", "")]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: DATABASE_URL in the environment is set but empty: set it to a URL, or remove it to use mysql://root@127.0.0.1:4000/test\n"
    );
    let run = crate::common::cli_dotenv(&["player", "list"], &[], Some("DATABASE_URL=\n"));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: DATABASE_URL in /") && run.stderr.ends_with("/.env is set but empty: set it to a URL, or remove it to use mysql://root@127.0.0.1:4000/test\n"),
        "{run:?}"
    );
    let run = cli_env(&["--database-url", "", "ping"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr_lines().len(), 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: --database-url is empty"),
        "{run:?}"
    );
    let run = cli_env(&["--database-url", "127.0.0.1:4000", "ping"], &[]);
    assert!(
        run.stderr.starts_with(
            "error: --database-url is not a valid MySQL URL: it must start with mysql://\n"
        ),
        "{run:?}"
    );
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
            &["player", "delete", "x", "--coins", "1"],
            2,
            "unexpected argument '--coins'",
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
            assert!(
                run.stderr_lines()[0].starts_with("error: "),
                "{}",
                run.stderr
            );
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

/// Every command that reads the URL, with a database of its own.
const EVERY_COMMAND: &[&[&str]] = &[
    &[],
    &["scenarios"],
    &["setup"],
    &["migrate"],
    &["migrate", "--status"],
    &["ping"],
    &["player", "list"],
    &["player", "create", "x"],
    &[
        "trade", "--seller", "a", "--buyer", "b", "--amount", "1", "--price", "1",
    ],
    &["load", "--count", "1"],
    &["bank", "--seconds", "0.1"],
];

/// URLs refused by every command alike, before connecting (no server
/// answers at port 1), and what each refusal says; none echoes a password.
#[test]
fn every_command_refuses_an_unusable_url_the_same_way() {
    for (url, says) in [
        (
            "mysql://root@127.0.0.1:0/test",
            "port 0 is no server's port",
        ),
        ("mysql://root@127.0.0.1:1/bad%20name", "does not decode"),
        (
            "mysql://root@127.0.0.1:1/bad name",
            "\"bad name\" would reach the server",
        ),
        (
            "mysql://root@127.0.0.1:1/caf%C3%A9",
            "\"caf%C3%A9\" would reach the server",
        ),
        (
            "mysql://root:s3cr%FFt@127.0.0.1:1/test",
            "the password is not valid UTF-8 after percent-decoding",
        ),
        (
            "mysql://root:s3cr%00t@127.0.0.1:1/test",
            "the password holds a NUL byte",
        ),
        (
            "mysql://r%FFot:s3cr3t@127.0.0.1:1/test",
            "the user is not valid UTF-8",
        ),
    ] {
        for args in EVERY_COMMAND {
            let run = cli(url, args);
            assert_eq!(run.code, 1, "{url} {args:?}: {run:?}");
            let lines = run.stderr_lines();
            assert!(lines[0].contains(says), "{url} {args:?}: {run:?}");
            assert!(!run.stderr.contains("s3cr"), "{url} {args:?}: {run:?}");
            assert!(
                !run.stderr.contains("Can't connect"),
                "{url} {args:?}: {run:?}"
            );
        }
    }
}

/// A second `--database-url`, before or after the command, is a usage error
/// before anything connects; the database of either URL is left as it was.
#[test]
fn one_database_url_per_command_line() {
    let db = TestDatabase::migrated();
    let unreachable = "mysql://root@127.0.0.1:1/test";
    for args in [
        vec!["--database-url", db.url(), "player", "create", "x"],
        vec!["player", "--database-url", db.url(), "create", "x"],
        vec![
            "player",
            "create",
            "x",
            &format!("--database-url={}", db.url()),
        ],
    ] {
        let run = crate::common::player_cli()
            .database_url(unreachable)
            .args(&args)
            .run();
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("cannot be used multiple times"),
            "{run:?}"
        );
    }
    assert!(rows(&db).is_empty());
    // After `--`, it is an id like any other.
    let run = cli(db.url(), &["player", "create", "--", "--database-url"]);
    assert_eq!(run.code, 0, "{run:?}");
}
