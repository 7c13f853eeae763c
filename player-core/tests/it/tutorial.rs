//! The example `tutorial` (the tutorial's script ported to Rust) against the
//! server: it prints what the tutorial prints. And the README's Rust snippets
//! are excerpts of code that compiles and runs here, so they cannot drift.

#[allow(dead_code)] // its `main` is the example's; the test calls `tutorial`
#[path = "../../examples/tutorial.rs"]
mod example;

use player_testkit::TestDatabase;

/// The tutorial's published output. The three players after the count are
/// random UUIDs (here the first three in id order), so those lines are
/// matched by shape.
const EXPECTED: [&str; 9] = [
    "id:test, coins:1, goods:1",
    "number of players: 1920",
    "id:<uuid>, coins:10000, goods:10000",
    "id:<uuid>, coins:10000, goods:10000",
    "id:<uuid>, coins:10000, goods:10000",
    "buy player 1 coins not enough",
    "trade success",
    "id:1, coins:0, goods:2",
    "id:2, coins:114614, goods:18",
];

fn matches(line: &str, expected: &str) -> bool {
    match expected.split_once("<uuid>") {
        None => line == expected,
        Some((before, after)) => line
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok() && id.len() == 36),
    }
}

#[test]
fn the_example_prints_what_the_tutorial_prints() {
    let db = TestDatabase::migrated();
    let mut out = Vec::new();
    example::tutorial(&mut db.connect(), &mut out).expect("the tutorial runs");
    let out = String::from_utf8(out).expect("UTF-8");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), EXPECTED.len(), "{out}");
    for (line, expected) in lines.iter().zip(EXPECTED) {
        assert!(
            matches(line, expected),
            "{line:?} is not {expected:?}\n{out}"
        );
    }
    // The three shown are the first three ids, in order.
    let shown: Vec<&str> = lines[2..5].iter().map(|l| &l[3..39]).collect();
    let mut sorted = shown.clone();
    sorted.sort_unstable();
    assert_eq!(shown, sorted);
}

#[test]
fn a_uuid_line_of_another_shape_does_not_match() {
    let pattern = EXPECTED[2];
    assert!(matches(
        "id:24403111-9b03-4a19-81b2-2ac04619c23b, coins:10000, goods:10000",
        pattern
    ));
    for wrong in [
        "id:test, coins:10000, goods:10000",
        "id:24403111-9b03-4a19-81b2-2ac04619c23b, coins:1, goods:10000",
        "id:24403111-9b03-4a19-81b2-2ac04619c23bX, coins:10000, goods:10000",
    ] {
        assert!(!matches(wrong, pattern), "{wrong}");
    }
}

/// Every ```rust block of the README is a verbatim excerpt (leading
/// indentation aside) of the example or of this crate's tests, which run.
#[test]
fn the_readmes_rust_snippets_are_excerpts_of_code_that_runs() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| {
        std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let normalise = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let sources: Vec<Vec<String>> = [
        "examples/tutorial.rs",
        "tests/it/transaction.rs",
        "src/schema.rs",
        "src/models.rs",
    ]
    .iter()
    .map(|p| normalise(&read(p)))
    .collect();
    let readme = read("../README.md");
    let mut blocks = 0;
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```rust\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("closed block");
        let snippet = normalise(&body[..end]);
        let found = sources
            .iter()
            .any(|src| src.windows(snippet.len()).any(|w| w == snippet.as_slice()));
        assert!(
            found,
            "README snippet is not in the sources:\n{}",
            &body[..end]
        );
        blocks += 1;
        rest = &body[end..];
    }
    assert!(
        blocks >= 5,
        "the README shows the code: {blocks} Rust blocks"
    );
}
