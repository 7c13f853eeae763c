//! Opposite trades between the same two players from many threads at once:
//! because both rows are locked in id order in one statement, they queue
//! instead of deadlocking, so no retry is ever needed and every trade lands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{all, insert, migrated_db};
use diesel::prelude::*;
use player_core::retry::RetryPolicy;
use player_core::{Player, TradeOutcome, trade_with_retry};

const THREADS: usize = 8;
const TRADES_PER_THREAD: i32 = 150;

#[test]
fn opposite_trades_never_deadlock() {
    let db = migrated_db();
    insert(
        &mut db.connect(),
        &[("a", 1_000_000, 1_000_000), ("b", 1_000_000, 1_000_000)],
    );

    let url = db.url().to_owned();
    let retries: u32 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let url = url.as_str();
                s.spawn(move || {
                    let mut conn = MysqlConnection::establish(url).unwrap();
                    // Even threads sell from a to b, odd ones from b to a.
                    let (seller, buyer) = if t % 2 == 0 { ("a", "b") } else { ("b", "a") };
                    let mut retries = 0;
                    for _ in 0..TRADES_PER_THREAD {
                        let traded = trade_with_retry(
                            &mut conn,
                            seller,
                            buyer,
                            1,
                            3,
                            &RetryPolicy::default(),
                        )
                        .unwrap();
                        assert_eq!(traded.outcome, TradeOutcome::Done);
                        retries += traded.retries;
                    }
                    retries
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });

    assert_eq!(retries, 0, "a deadlock or timeout was retried");
    // As many trades went each way, so the balances are back where they started.
    assert_eq!(
        all(&mut db.connect()),
        [
            Player {
                id: "a".into(),
                coins: 1_000_000,
                goods: 1_000_000
            },
            Player {
                id: "b".into(),
                coins: 1_000_000,
                goods: 1_000_000
            },
        ]
    );
}
