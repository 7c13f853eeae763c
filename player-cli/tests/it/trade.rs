//! `trade`: the tutorial's lines and exit statuses.

use player_core::Player;

use crate::common::{cli, rows, tutorial_players_db};
use player_testkit::TestDatabase;
use player_testkit::sql::{id, insert};

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
                id: id("1"),
                coins: 0,
                goods: 2
            },
            Player {
                id: id("2"),
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

/// The example: `a` and `a ` are one row to the column's collation, so
/// the trade is a usage error and nothing moves.
#[test]
fn a_seller_and_buyer_the_server_calls_equal_are_refused() {
    let db = TestDatabase::migrated();
    insert(&mut db.connect(), &[("a", 100, 100)]);
    let before = rows(&db);
    for buyer in ["a ", "a   "] {
        let run = cli(
            db.url(),
            &[
                "trade", "--seller", "a", "--buyer", buyer, "--amount", "10", "--price", "5",
            ],
        );
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("must be different players"), "{run:?}");
        assert_eq!(run.stdout, "");
    }
    assert_eq!(rows(&db), before);
}

#[test]
fn the_time_limit_is_checked_before_connecting() {
    for bad in ["0", "-1", "abc", "90000"] {
        let run = cli(
            "mysql://root@127.0.0.1:1/never",
            &[
                "trade",
                "--seller",
                "a",
                "--buyer",
                "b",
                "--amount",
                "1",
                "--price",
                "1",
                "--time-limit",
                bad,
            ],
        );
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stderr.contains("--time-limit <SECONDS>"), "{bad}: {run:?}");
    }
}
