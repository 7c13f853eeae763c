//! `trade`: the tutorial's lines and exit statuses.

use player_core::Player;

use crate::common::{cli, rows, tutorial_players_db};

fn trade(db: &player_testkit::TestDatabase, amount: &str, price: &str) -> crate::common::Run {
    cli(
        db.url(),
        &[
            "trade", "--seller", "2", "--buyer", "1", "--amount", amount, "--price", price,
        ],
    )
}

#[test]
fn the_tutorial_trades() {
    let db = tutorial_players_db();
    let run = trade(&db, "10", "500");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (3, "buy player 1 coins not enough\n"),
        "{run:?}"
    );
    assert_eq!(
        run.stderr,
        format!("changing {} (URL from --database-url)\n", db.url())
    );

    let run = trade(&db, "2", "100");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "trade success\n"),
        "{run:?}"
    );
    assert_eq!(
        rows(&db),
        [
            Player {
                id: "1".into(),
                coins: 0,
                goods: 2
            },
            Player {
                id: "2".into(),
                coins: 114_614,
                goods: 18
            },
        ]
    );
}

#[test]
fn a_seller_without_the_goods_is_refused() {
    let db = tutorial_players_db();
    let before = rows(&db);
    let run = trade(&db, "21", "1");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (3, "sell player 2 goods not enough\n")
    );
    assert_eq!(rows(&db), before);
}
