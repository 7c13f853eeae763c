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
        assert!(
            run.stderr.contains("--time-limit <SECONDS>"),
            "{bad}: {run:?}"
        );
    }
}

/// A server that stops answering while the trade's statement is in flight:
/// the trade gives up at its time limit plus a few seconds, says that nothing
/// was applied, and exits 1, instead of waiting for ever.
#[test]
fn a_server_that_stops_answering_ends_the_trade_at_its_deadline() {
    use diesel::connection::SimpleConnection;
    use std::time::{Duration, Instant};

    player_testkit::require!(player_testkit::Need::PrivateMariaDb);
    let server = player_testkit::PrivateServer::start(&[]);
    let url = server.url("test");
    let mut observer = diesel::Connection::establish(&url).unwrap();
    player_core::migrations::run_pending(&mut observer).unwrap();
    insert(&mut observer, &[("a", 100, 10), ("b", 100, 10)]);
    let mut holder: diesel::MysqlConnection = diesel::Connection::establish(&url).unwrap();
    holder
        .batch_execute("BEGIN; SELECT * FROM player WHERE id = 'b' FOR UPDATE")
        .unwrap();

    let started = Instant::now();
    // Killed, and the test failed, should the trade wait for ever.
    let child = crate::common::player_cli()
        .database_url(&url)
        .args([
            "trade",
            "--seller",
            "a",
            "--buyer",
            "b",
            "--amount",
            "3",
            "--price",
            "30",
            "--time-limit",
            "1",
        ])
        .time_limit(Duration::from_secs(30))
        .spawn();
    // Once the trade waits for the lock, freeze the server.
    player_testkit::sql::wait_for_any_lock_wait(&mut observer);
    server.pause();
    let run = child.finish();
    let took = started.elapsed();
    server.resume();

    let stderr = run.stderr;
    assert_eq!(run.code, 1, "{stderr}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(
        stderr.contains("the server did not answer within 6 s")
            && stderr.contains("nothing was applied"),
        "{stderr}"
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        player_testkit::sql::all(&mut observer)
            .iter()
            .map(|p| (p.coins, p.goods))
            .collect::<Vec<_>>(),
        [(100, 10), (100, 10)]
    );
}
