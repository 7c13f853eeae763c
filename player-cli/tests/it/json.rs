//! `--json` on every command that prints: one line of JSON on stdout, in the
//! shape and key order docs/cli.md documents.

use player_testkit::TestDatabase;

use crate::common::{Run, cli, rows, tutorial_players_db};

/// The one line of JSON `run` printed, parsed, after checking that `keys`
/// appear in this order at the top level of the text.
fn json_line(run: &Run, keys: &[&str]) -> serde_json::Value {
    assert_eq!(run.stdout.lines().count(), 1, "one line: {run:?}");
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let at: Vec<usize> = keys
        .iter()
        .map(|k| {
            run.stdout
                .find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("no key {k} in {}", run.stdout))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "key order {keys:?}: {}",
        run.stdout
    );
    value
}

#[test]
fn player_create_update_delete() {
    let db = TestDatabase::migrated();
    let run = cli(
        db.url(),
        &["player", "create", "alice", "--coins", "100", "--json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "{\"id\":\"alice\",\"coins\":100,\"goods\":0}\n");

    let run = cli(db.url(), &["player", "create", "--goods", "3", "--json"]);
    let json = json_line(&run, &["id", "coins", "goods"]);
    assert_eq!(json["id"].as_str().map(str::len), Some(36), "{json}");

    let run = cli(
        db.url(),
        &["player", "update", "alice", "--goods", "7", "--json"],
    );
    assert_eq!(
        run.stdout, "{\"id\":\"alice\",\"coins\":100,\"goods\":7}\n",
        "{run:?}"
    );

    let run = cli(db.url(), &["player", "delete", "alice", "--json"]);
    assert_eq!(
        run.stdout, "{\"id\":\"alice\",\"deleted\":true}\n",
        "{run:?}"
    );
    assert_eq!(rows(&db).len(), 1);
}

#[test]
fn trade_done_and_refused() {
    let db = tutorial_players_db();
    let trade = |amount: &str, price: &str| {
        cli(
            db.url(),
            &[
                "trade", "--seller", "2", "--buyer", "1", "--amount", amount, "--price", price,
                "--json",
            ],
        )
    };
    let run = trade("10", "500");
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        run.stdout,
        "{\"seller\":\"2\",\"buyer\":\"1\",\"amount\":10,\"price\":500,\"outcome\":\"refused\",\"refusal\":\"buyer_lacks_coins\",\"key\":null,\"replayed\":null}\n"
    );
    let run = trade("21", "1");
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        json_line(&run, &["outcome", "refusal"])["refusal"],
        "seller_lacks_goods"
    );
    let run = trade("2", "100");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "{\"seller\":\"2\",\"buyer\":\"1\",\"amount\":2,\"price\":100,\"outcome\":\"done\",\"refusal\":null,\"key\":null,\"replayed\":null}\n"
    );
}

#[test]
fn load() {
    let db = TestDatabase::migrated();
    let run = cli(
        db.url(),
        &["load", "--count", "250", "--batch", "100", "--json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let json = json_line(
        &run,
        &[
            "loaded",
            "batch",
            "transaction",
            "seconds",
            "rows_per_sec",
            "interrupted",
        ],
    );
    assert_eq!(json["loaded"], 250);
    assert_eq!(json["batch"], 100);
    assert_eq!(json["transaction"], false);
    assert!(json["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{json}");
    assert!(
        json["rows_per_sec"].as_f64().is_some_and(|r| r > 0.0),
        "{json}"
    );
    assert_eq!(rows(&db).len(), 250);
}

#[test]
fn migrate() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["migrate", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = json_line(
        &run,
        &["migrations", "name", "version", "applied", "applied_now"],
    );
    let m = &json["migrations"][0];
    assert_eq!(
        (m["applied"].as_bool(), m["applied_now"].as_bool()),
        (Some(true), Some(true))
    );
}

#[test]
fn scenarios() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["scenarios", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = json_line(
        &run,
        &[
            "simple_example",
            "test",
            "players",
            "first_three",
            "trade_example",
            "trades",
        ],
    );
    let simple = &json["simple_example"];
    assert_eq!(
        simple["test"],
        serde_json::json!({"id": "test", "coins": 1, "goods": 1})
    );
    assert_eq!(simple["players"], 1920);
    assert_eq!(simple["first_three"].as_array().map(Vec::len), Some(3));
    let traded = &json["trade_example"];
    assert_eq!(traded["trades"][0]["refusal"], "buyer_lacks_coins");
    assert_eq!(traded["trades"][1]["outcome"], "done");
    assert_eq!(
        traded["players"],
        serde_json::json!([
            {"id": "1", "coins": 0, "goods": 2},
            {"id": "2", "coins": 114_614, "goods": 18},
        ])
    );
}
