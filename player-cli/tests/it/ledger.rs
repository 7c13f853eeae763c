//! `trade --key`, `ledger get` and `ledger prune`: exactly once, the stored
//! outcome on a second run, one clear line for a reused key.

use player_core::Player;
use player_testkit::sql::{exec, id};

use crate::common::{cli, rows, tutorial_players_db};

fn keyed_trade(
    db: &player_testkit::TestDatabase,
    amount: &str,
    key: &str,
    json: bool,
) -> crate::common::Run {
    let mut args = vec![
        "trade", "--seller", "2", "--buyer", "1", "--amount", amount, "--price", "100", "--key",
        key,
    ];
    if json {
        args.push("--json");
    }
    cli(db.url(), &args)
}

/// The tutorial's players after player 2 sold 2 goods to player 1 for 100 coins, once.
fn traded_once() -> Vec<Player> {
    vec![
        Player {
            id: id("1"),
            coins: 0,
            goods: 2,
        },
        Player {
            id: id("2"),
            coins: 114_614,
            goods: 18,
        },
    ]
}

#[test]
fn a_second_run_with_the_key_prints_the_stored_outcome_and_changes_nothing() {
    let db = tutorial_players_db();
    let first = keyed_trade(&db, "2", "order-1", false);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (0, "trade success\n"),
        "{first:?}"
    );
    let again = keyed_trade(&db, "2", "order-1", false);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (
            0,
            "trade success\nreplayed: key \"order-1\" was traded before; this is its outcome, nothing changed now\n"
        ),
        "{again:?}"
    );
    assert_eq!(rows(&db), traded_once());

    let json = keyed_trade(&db, "2", "order-1", true);
    assert_eq!(json.code, 0, "{json:?}");
    assert_eq!(
        json.stdout,
        "{\"seller\":\"2\",\"buyer\":\"1\",\"amount\":2,\"price\":100,\"outcome\":\"done\",\"refusal\":null,\"key\":\"order-1\",\"replayed\":true}\n"
    );
    let fresh = keyed_trade(&db, "21", "order-2", true);
    assert_eq!(fresh.code, 3, "{fresh:?}");
    assert!(
        fresh
            .stdout
            .contains("\"key\":\"order-2\",\"replayed\":false"),
        "{fresh:?}"
    );
    // A refusal is stored: the second run exits as the first did.
    let again = keyed_trade(&db, "21", "order-2", false);
    assert_eq!(again.code, 3, "{again:?}");
    assert!(
        again
            .stdout
            .starts_with("sell player 2 goods not enough\nreplayed:"),
        "{again:?}"
    );
    assert_eq!(rows(&db), traded_once());
}

#[test]
fn a_key_reused_for_another_trade_exits_1_with_one_line() {
    let db = tutorial_players_db();
    assert_eq!(keyed_trade(&db, "2", "order-1", false).code, 0);
    let other = keyed_trade(&db, "1", "order-1", false);
    assert_eq!((other.code, other.stdout.as_str()), (1, ""), "{other:?}");
    assert_eq!(
        other.stderr_lines(),
        [
            "error: idempotency key \"order-1\" was already used for another trade (seller \"2\", buyer \"1\", amount 2, price 100)"
        ]
    );
    assert_eq!(rows(&db), traded_once());
}

#[test]
fn a_bad_key_is_a_usage_error() {
    let db = tutorial_players_db();
    for bad in ["", "a\tb"] {
        let run = keyed_trade(&db, "2", bad, false);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("idempotency key"), "{run:?}");
    }
    let long = "k".repeat(256);
    assert_eq!(keyed_trade(&db, "2", &long, false).code, 2);
}

#[test]
fn ledger_get_shows_a_stored_trade_and_exits_1_for_an_unknown_key() {
    let db = tutorial_players_db();
    assert_eq!(keyed_trade(&db, "21", "order-1", false).code, 3);
    let run = cli(db.url(), &["ledger", "get", "order-1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let line = run.stdout.trim_end();
    assert!(
        line.starts_with(
            "key:order-1, seller:2, buyer:1, amount:21, price:100, outcome:refused (seller_lacks_goods), recorded:20"
        ) && line.ends_with('Z'),
        "{run:?}"
    );
    assert_eq!(run.stderr, "", "get changes nothing, so says nothing");

    let run = cli(db.url(), &["ledger", "get", "order-1", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["key"], "order-1");
    assert_eq!(json["outcome"], "refused");
    assert_eq!(json["refusal"], "seller_lacks_goods");
    assert!(
        json["recorded_at"].as_str().unwrap().ends_with('Z'),
        "{json}"
    );

    let run = cli(db.url(), &["ledger", "get", "order-9"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{run:?}");
    assert_eq!(
        run.stderr_lines(),
        ["error: no trade under idempotency key \"order-9\""]
    );
}

#[test]
fn ledger_prune_deletes_the_old_keys_and_says_how_many() {
    let db = tutorial_players_db();
    for key in ["old-1", "old-2", "old-3", "recent"] {
        // Done, then refused: player 1 spends its 100 coins on the first.
        assert!([0, 3].contains(&keyed_trade(&db, "1", key, false).code));
    }
    exec(
        &mut db.connect(),
        "UPDATE keyed_trade SET created_at = NOW(6) - INTERVAL 40 DAY WHERE idempotency_key LIKE 'old-%'",
    );
    let run = cli(
        db.url(),
        &["ledger", "prune", "--older-than", "30d", "--batch", "2"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "pruned the keys recorded more than 30days ago: 3\n"),
        "{run:?}"
    );
    assert_eq!(cli(db.url(), &["ledger", "get", "old-1"]).code, 1);
    assert_eq!(cli(db.url(), &["ledger", "get", "recent"]).code, 0);
    let run = cli(
        db.url(),
        &["ledger", "prune", "--older-than", "30d", "--json"],
    );
    assert_eq!(run.stdout, "{\"deleted\":0}\n", "{run:?}");
    let run = cli(db.url(), &["ledger", "prune", "--older-than", "soon"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// The answer to COMMIT lost (a proxy cuts the connection after forwarding
/// it): without a key the hint says to use one next time; with a key, to run
/// the same command again, which then says the trade was made, once.
#[test]
fn an_unknown_outcome_hints_at_the_key() {
    use player_testkit::net::CommitCutter;
    let db = tutorial_players_db();
    let args = [
        "trade", "--seller", "2", "--buyer", "1", "--amount", "1", "--price", "1",
    ];
    let cutter = CommitCutter::start(db.url());
    let run = cli(cutter.url(), &args);
    assert_eq!(run.code, 1, "{run:?}");
    let lines = run.stderr_lines();
    assert!(
        lines[0].starts_with("error: connection lost while committing"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains("--key"),
        "{run:?}"
    );

    let cutter = CommitCutter::start(db.url());
    let run = keyed_trade_at(cutter.url(), "order-1");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr_lines()[1].starts_with("hint: run the same command again, with the same --key"),
        "{run:?}"
    );
    let again = keyed_trade_at(db.url(), "order-1");
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("replayed: key \"order-1\""),
        "{again:?}"
    );
    // Player 2 sold 1 good for 1 coin, then 2 for 99 coins, once each.
    let coins = |p: &Player| (p.coins, p.goods);
    let after: Vec<_> = rows(&db).iter().map(coins).collect();
    assert_eq!(after, [(0, 3), (114_614, 17)]);
}

fn keyed_trade_at(url: &str, key: &str) -> crate::common::Run {
    cli(
        url,
        &[
            "trade", "--seller", "2", "--buyer", "1", "--amount", "2", "--price", "99", "--key",
            key,
        ],
    )
}

/// `bank --keyed`: every trade keyed, the summary says so, and the run
/// reconciles; keyed trades are transactional.
#[test]
fn bank_keyed_runs_and_refuses_the_one_statement_form() {
    let users = player_testkit::TestDatabase::create();
    let bank_db = player_testkit::TestDatabase::create();
    let bank = |extra: &[&str]| {
        let mut args = vec![
            "bank",
            "--keyed",
            "--workers",
            "2",
            "--players",
            "10",
            "--trades",
            "200",
            "--bank-database",
            bank_db.name(),
        ];
        args.extend_from_slice(extra);
        cli(users.url(), &args)
    };
    let run = bank(&["--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["keyed"], true, "{report}");
    assert_eq!(
        (
            report["resolved_by_key"].as_u64(),
            report["unknown_outcome"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(report["reconciliation"]["status"], "reconciled", "{report}");
    let committed = report["committed"].as_i64().unwrap();
    let refused = report["refused"].as_i64().unwrap();
    // One key row per trade that ran to its end, refusals included.
    let keys: i64 = diesel::RunQueryDsl::get_result(
        diesel::QueryDsl::count(player_core::schema::keyed_trade::table),
        &mut bank_db.connect(),
    )
    .unwrap();
    assert_eq!(keys, committed + refused);

    let run = bank(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("transactional trade (keyed)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("unknown, resolved by key"), "{run:?}");

    let run = bank(&["--trade", "one-statement"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--keyed needs --trade transactional"),
        "{run:?}"
    );
}
