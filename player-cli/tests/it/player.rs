//! `player create|get|list|update|delete`, text and JSON.

use player_core::Player;

use player_testkit::TestDatabase;

use crate::common::{cli, rows};
use player_testkit::sql::id;

#[test]
fn create_get_update_delete() {
    let db = TestDatabase::migrated();
    let url = db.url();

    let run = cli(
        url,
        &["player", "create", "alice", "--coins", "10", "--goods", "2"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "id:alice, coins:10, goods:2\n"),
        "{run:?}"
    );

    let run = cli(url, &["player", "get", "alice"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "id:alice, coins:10, goods:2\n")
    );

    let run = cli(url, &["player", "update", "alice", "--coins", "7"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "id:alice, coins:7, goods:2\n"),
        "{run:?}"
    );

    let run = cli(url, &["player", "get", "alice", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({"id": "alice", "coins": 7, "goods": 2})
    );

    let run = cli(url, &["player", "delete", "alice"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "deleted player alice\n")
    );
    assert!(rows(&db).is_empty());
}

#[test]
fn create_without_an_id_makes_a_uuid() {
    let db = TestDatabase::migrated();
    let run = cli(db.url(), &["player", "create", "--coins", "5"]);
    assert_eq!(run.code, 0, "{run:?}");
    let all = rows(&db);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id.as_str().len(), 36);
    assert_eq!(run.stdout, format!("{}\n", all[0]));
}

#[test]
fn ids_with_quotes_backslashes_and_sql_are_kept_verbatim() {
    let db = TestDatabase::migrated();
    let ids = [
        "O'Brien",
        r#"say "hi""#,
        r"back\slash\\",
        "'; DROP TABLE player; --",
        "x' OR '1'='1",
        "%_*?",
        "ünï 🦀 ✓",
        "\\' \\\" \\n",
        &"é".repeat(36),
    ];
    for id in ids {
        let run = cli(
            db.url(),
            &["player", "create", id, "--coins", "1", "--goods", "2"],
        );
        assert_eq!(run.code, 0, "create {id:?}: {run:?}");
        let run = cli(db.url(), &["player", "get", id, "--json"]);
        assert_eq!(run.code, 0, "get {id:?}: {run:?}");
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(json["id"], id, "read back");
    }
    let mut stored: Vec<String> = rows(&db).into_iter().map(|p| p.id.to_string()).collect();
    let mut expected: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected, "the table holds exactly the ids given");
}

#[test]
fn list_pages_through_every_player_in_id_order() {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    let players: Vec<_> = ["b", "a", "D", "c", "a b", "e"]
        .iter()
        .map(|name| player_core::NewPlayer::new(id(name), 1, 1))
        .collect();
    player_core::players::bulk_create(&mut conn, players, 10).expect("insert");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec!["player", "list", "--limit", "4", "--json"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let run = cli(db.url(), &args);
        assert_eq!(run.code, 0, "{run:?}");
        let page: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("JSON");
        assert!(page.len() <= 4);
        if page.is_empty() {
            break;
        }
        after = page
            .last()
            .map(|p| p["id"].as_str().expect("id").to_owned());
        seen.extend(
            page.into_iter()
                .map(|p| p["id"].as_str().expect("id").to_owned()),
        );
    }
    // Binary collation: byte order, upper case first.
    assert_eq!(seen, ["D", "a", "a b", "b", "c", "e"]);

    let run = cli(db.url(), &["player", "list", "--limit", "2"]);
    assert_eq!(
        run.stdout,
        "id:D, coins:1, goods:1\nid:a, coins:1, goods:1\n"
    );
}

#[test]
fn update_can_set_both_balances() {
    let db = TestDatabase::migrated();
    cli(
        db.url(),
        &["player", "create", "p", "--coins", "1", "--goods", "1"],
    );
    let run = cli(
        db.url(),
        &[
            "player",
            "update",
            "p",
            "--coins",
            "0",
            "--goods",
            "2147483647",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        rows(&db),
        [Player {
            id: id("p"),
            coins: 0,
            goods: i32::MAX
        }]
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_list_quietly() {
    use std::io::Read;

    let db = TestDatabase::migrated();
    let players = (0..10_000).map(|i| player_core::NewPlayer::new(id(&format!("p{i:05}")), 1, 1));
    player_core::players::bulk_create(&mut db.connect(), players, 5_000).expect("insert");
    for json in [false, true] {
        let mut args = vec!["player", "list", "--limit", "10000"];
        if json {
            args.push("--json");
        }
        // 10000 rows are far more than a pipe buffers: the writer is still
        // writing when the reader goes.
        let mut child = crate::common::player_cli()
            .database_url(db.url())
            .args(&args)
            .spawn();
        let mut first = [0u8; 16];
        child.take_stdout().read_exact(&mut first).expect("read");
        let run = child.finish();
        assert_eq!(run.code, 0, "json={json}");
        assert_eq!(run.stderr, "", "json={json}");
    }
}

/// Commands find players as the server does (`c   ` is `c`) and print the id
/// as stored, not as typed.
#[test]
fn ids_are_printed_as_stored() {
    let db = TestDatabase::migrated();
    player_testkit::sql::insert(&mut db.connect(), &[("c", 1, 2)]);
    let run = cli(db.url(), &["player", "get", "c   "]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "id:c, coins:1, goods:2\n"),
        "{run:?}"
    );
    let run = cli(db.url(), &["player", "delete", "c   "]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "deleted player c\n"),
        "{run:?}"
    );
    assert!(rows(&db).is_empty());
    let run = cli(db.url(), &["player", "create", "d "]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = cli(db.url(), &["player", "create", "d"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("already exists"), "{run:?}");
}
