//! End to end: the built binary runs the tutorial's scenarios on a fresh
//! database and prints exactly the tutorial's lines, twice in a row.

use player_testkit::TestDatabase;
use player_testkit::cli::Run;

fn run_cli(db: &TestDatabase, args: &[&str]) -> Run {
    crate::common::cli(db.url(), args)
}

/// `id:<id>, coins:<n>, goods:<n>` with the tutorial's spacing; returns the three fields.
fn player_line(line: &str) -> Option<(&str, i64, i64)> {
    let rest = line.strip_prefix("id:")?;
    let (id, rest) = rest.split_once(", coins:")?;
    let (coins, goods) = rest.split_once(", goods:")?;
    Some((id, coins.parse().ok()?, goods.parse().ok()?))
}

fn is_uuid_v4(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            14 => c == '4',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

fn assert_tutorial_output(stdout: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 9, "nine lines:\n{stdout}");
    assert_eq!(lines[0], "id:test, coins:1, goods:1");
    assert_eq!(lines[1], "number of players: 1920");
    let mut previous = "";
    for line in &lines[2..5] {
        let (id, coins, goods) =
            player_line(line).unwrap_or_else(|| panic!("not a player line: {line:?}"));
        if id == "test" {
            assert_eq!((coins, goods), (1, 1), "{line}");
        } else {
            assert!(is_uuid_v4(id), "not a UUID: {line:?}");
            assert_eq!((coins, goods), (10_000, 10_000), "{line}");
        }
        assert!(id > previous, "ordered by id: {lines:?}");
        previous = id;
    }
    assert_eq!(
        &lines[5..],
        [
            "buy player 1 coins not enough",
            "trade success",
            "id:1, coins:0, goods:2",
            "id:2, coins:114614, goods:18",
        ]
    );
}

#[test]
fn scenarios_print_the_tutorial_lines_and_can_be_repeated() {
    let db = TestDatabase::create();
    for run in 1..=2 {
        let out = run_cli(&db, &[]);
        assert!(out.success(), "run {run} failed: {}", out.stderr);
        assert_eq!(
            out.stderr,
            format!("changing {} (URL from --database-url)\n", db.url()),
            "run {run}: only the database it changes on stderr"
        );
        assert_tutorial_output(&out.stdout);
    }
}

#[test]
fn scenarios_subcommand_is_the_default() {
    let db = TestDatabase::create();
    let out = run_cli(&db, &["scenarios"]);
    assert!(out.success(), "{}", out.stderr);
    assert_tutorial_output(&out.stdout);
}

#[test]
fn uuid_pattern_rejects_non_uuids() {
    assert!(is_uuid_v4("24403111-9b03-4a19-81b2-2ac04619c23b"));
    assert!(!is_uuid_v4("24403111-9b03-1a19-81b2-2ac04619c23b"));
    assert!(!is_uuid_v4("test"));
    assert!(player_line("id:1,coins:0, goods:2").is_none());
}
