//! Opposite trades between the same two players from many threads at once:
//! because both rows are locked in id order in one statement, they queue
//! instead of deadlocking, so no retry is ever needed and every trade lands.

use crate::FORMS;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use player_core::retry::RetryPolicy;
use player_core::{Player, Trade, TradeOutcome};
use player_testkit::TestDatabase;
use player_testkit::sql::id;
use player_testkit::sql::{
    all, connection_id, exec, hold_row_lock, insert, session_status, wait_for_lock_wait,
};

const THREADS: usize = 8;
const TRADES_PER_THREAD: i32 = 150;

#[test]
fn opposite_trades_never_deadlock() {
    for form in FORMS {
        let db = TestDatabase::migrated();
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
                        let (a, b) = (id("a"), id("b"));
                        let (seller, buyer) = if t % 2 == 0 { (&a, &b) } else { (&b, &a) };
                        let mut retries = 0;
                        for _ in 0..TRADES_PER_THREAD {
                            let traded = form
                                .with_retry(
                                    &mut conn,
                                    &Trade {
                                        seller,
                                        buyer,
                                        amount: 1,
                                        price: 3,
                                    },
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
                    id: id("a"),
                    coins: 1_000_000,
                    goods: 1_000_000
                },
                Player {
                    id: id("b"),
                    coins: 1_000_000,
                    goods: 1_000_000
                },
            ]
        );
    }
}

/// The trade's `UPDATE` reads a buyer who does not exist yet and changes
/// nothing; while the trade then waits to lock the rows, the buyer is created.
/// Checked on the locked rows the trade is allowed after all, and it is made:
/// at exactly the balances (all the seller's goods, all the buyer's coins), so
/// that the locked-row checks are tested at their boundary.
/// (TiDB's pessimistic transactions read what is committed at each locking
/// statement, as READ COMMITTED does here.)
#[test]
fn a_trade_refused_by_its_update_is_made_if_the_locked_rows_allow_it() {
    for form in FORMS {
        let db = TestDatabase::migrated();
        let mut conn = db.connect();
        insert(&mut conn, &[("b", 100, 10)]);
        exec(
            &mut conn,
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        );
        let trade_conn_id = connection_id(&mut conn);
        let mut holder = hold_row_lock(&db, "b");
        let mut observer = db.connect();

        // TiDB keeps no session counters: there the slow path is not counted.
        let counted = player_testkit::Need::SessionCounters.unmet().is_none();
        let before = session_status(&mut conn);
        let traded = std::thread::scope(|s| {
            // Seller b, buyer a: the UPDATE reads a first (smaller id), finds no
            // row, and the trade goes on to lock both rows, where it waits for b.
            let trade = s.spawn(|| {
                form.with_retry(
                    &mut conn,
                    &Trade {
                        seller: &id("b"),
                        buyer: &id("a"),
                        amount: 10,
                        price: 100,
                    },
                    &RetryPolicy::default(),
                )
            });
            wait_for_lock_wait(&mut observer, trade_conn_id);
            insert(&mut observer, &[("a", 100, 10)]);
            holder.batch_execute("ROLLBACK").unwrap();
            trade.join().unwrap()
        })
        .unwrap();
        let after = session_status(&mut conn);

        assert_eq!(traded.outcome, TradeOutcome::Done);
        assert_eq!(traded.retries, 0);
        // The slow path ran: a locking SELECT, and the UPDATE a second time.
        let ran = |name: &str| after.get(name).unwrap_or(&0) - before.get(name).unwrap_or(&0);
        if counted {
            assert_eq!(ran("Com_select"), 1);
            assert_eq!(ran("Com_update_multi"), 2);
        }
        assert_eq!(
            all(&mut conn),
            [
                Player {
                    id: id("a"),
                    coins: 0,
                    goods: 20
                },
                Player {
                    id: id("b"),
                    coins: 200,
                    goods: 0
                },
            ]
        );
    }
}
