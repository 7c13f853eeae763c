//! With no command (or `scenarios`), the tutorial's output.

use player_testkit::TestDatabase;

use crate::common::cli;

#[test]
fn no_command_runs_the_tutorial_scenarios() {
    let db = TestDatabase::create();
    for args in [&[][..], &["scenarios"]] {
        let run = cli(db.url(), args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 9, "{}", run.stdout);
        assert_eq!(
            lines[..2],
            ["id:test, coins:1, goods:1", "number of players: 1920"]
        );
        assert!(
            lines[2..5].iter().all(|l| l.starts_with("id:")),
            "{}",
            run.stdout
        );
        assert_eq!(
            lines[5..],
            [
                "buy player 1 coins not enough",
                "trade success",
                "id:1, coins:0, goods:2",
                "id:2, coins:114614, goods:18",
            ]
        );
    }
}
