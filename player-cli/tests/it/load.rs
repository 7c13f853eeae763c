//! `load`: bulk creation and its closing rows/s line.

use player_testkit::TestDatabase;

use crate::common::{cli, rows};

#[test]
fn load_creates_count_players_in_batches_and_reports_rows_per_second() {
    let db = TestDatabase::migrated();
    let run = cli(db.url(), &["load", "--count", "2500", "--batch", "1000"]);
    assert_eq!(run.code, 0, "{run:?}");
    let last = run.stdout.lines().last().expect("a line");
    assert!(last.starts_with("loaded 2,500 players in "), "{last}");
    assert!(last.ends_with(" rows/s"), "{last}");
    assert_eq!(
        crate::common::without_notice(&run.stderr),
        "",
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
    let db = TestDatabase::migrated();
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
        run.stdout.contains("loaded 21,846 players"),
        "{}",
        run.stdout
    );
    let all = rows(&db);
    assert_eq!(all.len(), 21846);
    assert!(all.iter().all(|p| (p.coins, p.goods) == (3, 4)));
}

/// Runs `load` and returns the peak resident memory the kernel recorded for
/// it (`VmHWM`, which only grows), read until the process exits.
fn peak_rss_kib(url: &str, count: &str) -> u64 {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_player-cli"))
        .args([
            "--database-url",
            url,
            "load",
            "--count",
            count,
            "--batch",
            "1000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "load {count} failed");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn load_memory_does_not_grow_with_the_count() {
    let db = TestDatabase::migrated();
    let small = peak_rss_kib(db.url(), "5000");
    // 30 times more rows; holding them would take well over 10 MB more.
    let large = peak_rss_kib(db.url(), "150000");
    assert_eq!(rows(&db).len(), 155_000);
    assert!(
        large < small + 4 * 1024,
        "peak RSS grew from {small} KiB to {large} KiB"
    );
}
