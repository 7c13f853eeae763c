//! Text output is safe for a terminal: ids and server strings holding control
//! characters (C0, DEL, C1), line separators or bidi controls come out
//! escaped, one line per line, in every text form; JSON keeps them exact.

use player_core::NewPlayer;
use player_testkit::TestDatabase;
use player_testkit::sql::id;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{Run, cli};

/// What no text output may hold raw (besides the newline ending a line).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every character that must come out escaped.
fn unsafe_chars() -> Vec<char> {
    (0..=0x10ffff_u32)
        .filter_map(char::from_u32)
        .filter(|c| is_unsafe(*c))
        .collect()
}

/// `run` printed `lines` lines on stdout and nothing raw on either stream.
fn assert_safe(what: &str, run: &Run, lines: usize) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| *c != '\n' && is_unsafe(*c))
            .collect();
        assert!(raw.is_empty(), "{what}: raw {raw:?} on {name}: {run:?}");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{what}: {name} ends mid-line: {run:?}"
        );
    }
    assert_eq!(run.stdout.lines().count(), lines, "{what}: {run:?}");
}

/// Runs every text form on `raw` (an id the command line can carry: no NUL)
/// and checks each one's output; `player get --json` gives the id back exactly.
fn check_id(db: &TestDatabase, raw: &str) {
    let url = db.url();
    let run = cli(url, &["player", "create", raw, "--coins", "1"]);
    assert_eq!(run.code, 0, "{raw:?}: {run:?}");
    assert_safe("create", &run, 1);
    let again = cli(url, &["player", "create", raw]);
    assert_eq!(again.code, 1, "{raw:?}: {again:?}");
    assert_safe("create twice", &again, 0);
    assert_eq!(again.stderr_lines().len(), 1, "{raw:?}: {again:?}");

    let run = cli(url, &["player", "get", raw]);
    assert_safe("get", &run, 1);
    let json = cli(url, &["player", "get", raw, "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["id"], raw, "{json:?}");

    let run = cli(url, &["player", "update", raw, "--coins", "2"]);
    assert_safe("update", &run, 1);
    for (side, other) in [("--seller", "--buyer"), ("--buyer", "--seller")] {
        let args = [
            "trade", side, raw, other, "peer", "--amount", "5", "--price", "5",
        ];
        let run = cli(url, &args);
        assert_eq!(run.code, 3, "{raw:?} {side}: {run:?}");
        assert_safe("trade", &run, 1);
    }
    let run = cli(url, &["player", "list"]);
    assert_safe("list", &run, 2);

    let run = cli(url, &["player", "delete", raw]);
    assert_eq!(run.code, 0, "{raw:?}: {run:?}");
    assert_safe("delete", &run, 1);
    let gone = cli(url, &["player", "get", raw]);
    assert_eq!(gone.code, 1, "{raw:?}: {gone:?}");
    assert_safe("get a deleted player", &gone, 0);
    assert_eq!(gone.stderr_lines().len(), 1, "{raw:?}: {gone:?}");
}

fn peer_db() -> TestDatabase {
    let db = TestDatabase::migrated();
    player_core::players::create(&mut db.connect(), &NewPlayer::new(id("peer"), 0, 0))
        .expect("insert");
    db
}

/// Every unsafe character but NUL (which no argument can carry), 30 to an
/// id, behind a printable one and in front of one.
#[test]
fn every_control_character_is_escaped_in_every_text_form() {
    let db = peer_db();
    let chars: Vec<char> = unsafe_chars().into_iter().filter(|c| *c != '\0').collect();
    for chunk in chars.chunks(30) {
        let body: String = chunk.iter().collect();
        check_id(&db, &format!("x{body}"));
        check_id(&db, &format!("{body}y"));
    }
    // The attacks as typed.
    check_id(&db, "evil\x1b]0;pwned\x07\x1b[2J");
    check_id(&db, "fake\nid:bob, coins:999999");
}

/// Ids drawn from control, bidi and printable characters, 1 to 36 of them.
#[test]
fn drawn_ids_come_out_one_line_each() {
    let db = peer_db();
    let mut pool = unsafe_chars();
    pool.retain(|c| *c != '\0');
    pool.extend(['a', ' ', '\\', '"', '\'', 'é', '🦀', '\u{a0}', '\u{200f}']);
    let chars = proptest::sample::select(pool);
    let ids = proptest::collection::vec(chars, 1..=36)
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("not only spaces", |s| !s.trim_end_matches(' ').is_empty())
        .prop_filter("not the peer", |s| s.trim_end_matches(' ') != "peer");
    let cases = std::env::var("PLAYER_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    TestRunner::new(Config::with_cases(cases))
        .run(&ids, |raw| {
            check_id(&db, &raw);
            Ok(())
        })
        .expect("every drawn id");
}

/// Ids no command line could carry (NUL), written by another client, are
/// listed escaped too.
#[test]
fn ids_another_client_wrote_are_listed_escaped() {
    let db = TestDatabase::migrated();
    let ids = ["nul\0byte", "\0", "line\u{2028}sep", "\u{202e}evil"];
    for raw in ids {
        player_core::players::create(&mut db.connect(), &NewPlayer::new(id(raw), 1, 1))
            .expect("insert");
    }
    let run = cli(db.url(), &["player", "list"]);
    assert_safe("list", &run, ids.len());
    assert!(run.stdout.contains(r"nul\0byte"), "{run:?}");
    let json = cli(db.url(), &["player", "list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let listed: Vec<&str> = value
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert!(listed.contains(&"nul\0byte"), "{json:?}");
}

/// Printable ids keep the tutorial's lines exactly.
#[test]
fn printable_ids_print_as_the_tutorial_does() {
    let db = TestDatabase::migrated();
    let run = cli(db.url(), &["player", "create", r"a\nb é", "--coins", "3"]);
    assert_eq!(run.stdout, "id:a\\nb é, coins:3, goods:0\n", "{run:?}");
    let run = cli(db.url(), &["player", "create", "evil\x1b[2J"]);
    assert_eq!(
        run.stdout, "id:evil\\u{1b}[2J, coins:0, goods:0\n",
        "{run:?}"
    );
}

/// An id of only spaces is the empty id to the column, and refused as one.
#[test]
fn an_id_of_only_spaces_is_refused_like_the_empty_one() {
    let db = TestDatabase::migrated();
    for raw in ["", " ", "   "] {
        let run = cli(db.url(), &["player", "create", raw]);
        assert_eq!(run.code, 2, "{raw:?}: {run:?}");
        assert!(
            run.stderr.contains("cannot be empty or only spaces"),
            "{run:?}"
        );
    }
    assert!(crate::common::rows(&db).is_empty());
}
