//! `load`: bulk creation and its closing rows/s line.

use crate::common::{cli, migrated_db, rows};

#[test]
fn load_creates_count_players_in_batches_and_reports_rows_per_second() {
    let db = migrated_db();
    let run = cli(db.url(), &["load", "--count", "2500", "--batch", "1000"]);
    assert_eq!(run.code, 0, "{run:?}");
    let last = run.stdout.lines().last().expect("a line");
    assert!(last.starts_with("loaded 2500 players in "), "{last}");
    assert!(last.ends_with(" rows/s"), "{last}");
    assert_eq!(
        run.stderr, "",
        "no progress bar when stderr is not a terminal"
    );
    let all = rows(&db);
    assert_eq!(all.len(), 2500);
    assert!(
        all.iter()
            .all(|p| p.coins == 10_000 && p.goods == 10_000 && p.id.len() == 36)
    );
}

#[test]
fn load_in_one_transaction_with_the_largest_batch() {
    let db = migrated_db();
    let max = player_core::players::MAX_BATCH_SIZE.to_string();
    let run = cli(
        db.url(),
        &[
            "load",
            "--count",
            "21846",
            "--batch",
            &max,
            "--transaction",
            "--coins",
            "3",
            "--goods",
            "4",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("loaded 21846 players"),
        "{}",
        run.stdout
    );
    let all = rows(&db);
    assert_eq!(all.len(), 21846);
    assert!(all.iter().all(|p| (p.coins, p.goods) == (3, 4)));
}
