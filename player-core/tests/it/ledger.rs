//! Exactly-once trades against the server: the same key twice, a key reused
//! for another trade, eight calls with one key at once, a connection lost
//! while the key waits or while COMMIT is in flight, and retention.

use std::num::NonZeroU32;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::ledger::{self, IdempotencyKey, KeyedTradeError, KeyedTraded};
use player_core::{
    Player, Refusal, RetryPolicy, Trade, TradeError, TradeOutcome, TransactionError,
};
use player_testkit::net::CommitCutter;
use player_testkit::sql::{all, connection_id, exec, hold_row_lock, id, kill, wait_for_lock_wait};

use crate::trade_retry::{FAST, setup, traded_once};

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

/// Seller "a" sells `amount` goods to buyer "b" for 30 coins under `k`.
fn a_sells_to_b(
    conn: &mut MysqlConnection,
    k: &str,
    amount: i32,
) -> Result<KeyedTraded, KeyedTradeError> {
    let (a, b) = (id("a"), id("b"));
    let trade = Trade {
        seller: &a,
        buyer: &b,
        amount,
        price: 30,
    };
    ledger::trade(conn, &key(k), &trade, &FAST)
}

fn rows(conn: &mut MysqlConnection) -> i64 {
    player_core::schema::keyed_trade::table
        .count()
        .get_result(conn)
        .unwrap()
}

#[test]
fn the_same_key_twice_applies_the_trade_once_and_returns_its_outcome() {
    let (_db, mut conn) = setup();
    let first = a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    assert_eq!((first.outcome, first.replayed), (TradeOutcome::Done, false));
    let again = a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    assert_eq!((again.outcome, again.replayed), (TradeOutcome::Done, true));
    assert_eq!(all(&mut conn), traded_once());

    // A refusal is an outcome: stored, and returned again, even once the
    // balances would allow the trade.
    let refused = TradeOutcome::Refused(Refusal::SellerLacksGoods);
    let first = a_sells_to_b(&mut conn, "order-2", 8).unwrap();
    assert_eq!((first.outcome, first.replayed), (refused, false));
    exec(&mut conn, "UPDATE player SET goods = 100 WHERE id = 'a'");
    let again = a_sells_to_b(&mut conn, "order-2", 8).unwrap();
    assert_eq!((again.outcome, again.replayed), (refused, true));

    let stored = ledger::get(&mut conn, &key("order-2")).unwrap().unwrap();
    assert_eq!(stored.outcome, refused);
    assert_eq!((stored.seller, stored.buyer), (id("a"), id("b")));
    assert_eq!((stored.amount, stored.price), (8, 30));
    let age = std::time::SystemTime::now()
        .duration_since(stored.recorded_at)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "recorded {age:?} ago");
    assert_eq!(ledger::get(&mut conn, &key("order-3")).unwrap(), None);
    // Keys compare byte for byte.
    assert_eq!(ledger::get(&mut conn, &key("order-1 ")).unwrap(), None);
    assert_eq!(rows(&mut conn), 2);
}

#[test]
fn the_same_key_with_another_trade_is_refused_and_changes_nothing() {
    let (_db, mut conn) = setup();
    a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    let before = ledger::get(&mut conn, &key("order-1")).unwrap().unwrap();
    match a_sells_to_b(&mut conn, "order-1", 4) {
        Err(KeyedTradeError::KeyReused(stored)) => assert_eq!(*stored, before),
        other => panic!("expected KeyReused, got {other:?}"),
    }
    assert_eq!(all(&mut conn), traded_once());
    assert_eq!(
        ledger::get(&mut conn, &key("order-1")).unwrap().unwrap(),
        before
    );
    assert_eq!(rows(&mut conn), 1);
}

/// A typed error is no outcome: the key is rolled back with the trade and
/// stays free for it.
#[test]
fn a_typed_error_leaves_the_key_free() {
    let (_db, mut conn) = setup();
    let (a, nobody) = (id("a"), id("nobody"));
    let trade = Trade {
        seller: &a,
        buyer: &nobody,
        amount: 1,
        price: 1,
    };
    let result = ledger::trade(&mut conn, &key("k"), &trade, &FAST);
    assert!(
        matches!(result, Err(KeyedTradeError::Trade(TradeError::UnknownPlayer(ref p))) if *p == nobody),
        "{result:?}"
    );
    assert_eq!(rows(&mut conn), 0);
    player_testkit::sql::insert(&mut conn, &[("nobody", 10, 10)]);
    let traded = ledger::trade(&mut conn, &key("k"), &trade, &FAST).unwrap();
    assert_eq!(
        (traded.outcome, traded.replayed),
        (TradeOutcome::Done, false)
    );
}

#[test]
fn eight_calls_with_one_key_at_once_apply_it_once() {
    const CALLS: usize = 8;
    let (db, mut observer) = setup();
    let start = Arc::new(Barrier::new(CALLS));
    let results: Vec<KeyedTraded> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..CALLS)
            .map(|_| {
                let (start, mut conn) = (start.clone(), db.connect());
                s.spawn(move || {
                    start.wait();
                    let (a, b) = (id("a"), id("b"));
                    let trade = Trade {
                        seller: &a,
                        buyer: &b,
                        amount: 3,
                        price: 30,
                    };
                    // On MariaDB the calls that met the duplicate together
                    // each hold a shared lock on it, and their `FOR UPDATE`s
                    // deadlock: the server rolls back all but one, and each
                    // retry reads the row (up to 3 retries seen). TiDB takes
                    // no shared locks.
                    ledger::trade(
                        &mut conn,
                        &key("once"),
                        &trade,
                        &RetryPolicy {
                            max_retries: 20,
                            ..FAST
                        },
                    )
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().unwrap().unwrap())
            .collect()
    });
    let applied = results.iter().filter(|r| !r.replayed).count();
    assert_eq!(applied, 1, "{results:?}");
    assert!(results.iter().all(|r| r.outcome == TradeOutcome::Done));
    assert_eq!(all(&mut observer), traded_once());
    assert_eq!(rows(&mut observer), 1);
}

/// Another call holds the key in an open transaction: this one waits for it,
/// and when the server's lock wait ends first, says the trade is in flight.
#[test]
fn a_key_held_by_a_transaction_in_flight_is_reported_as_such() {
    let (db, mut conn) = setup();
    exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 1");
    // The other call: a raw INSERT of the key's row in an open transaction,
    // as the first call's transaction leaves it before COMMIT.
    let mut holder = db.connect();
    holder.batch_execute("BEGIN").unwrap();
    holder
        .batch_execute(
            "INSERT INTO keyed_trade (key_hash, idempotency_key, seller, buyer, amount, price, outcome) \
             VALUES (UNHEX(SHA2('busy', 256)), 'busy', 'a', 'b', 3, 30, 'done')",
        )
        .unwrap();
    let result = a_sells_to_b(&mut conn, "busy", 3);
    assert!(
        matches!(result, Err(KeyedTradeError::InFlight(ref k)) if k.as_str() == "busy"),
        "{result:?}"
    );
    assert_eq!(all(&mut conn), untouched());
    // Once the holder rolls back, the key is free and the trade lands.
    holder.batch_execute("ROLLBACK").unwrap();
    let traded = a_sells_to_b(&mut conn, "busy", 3).unwrap();
    assert_eq!(
        (traded.outcome, traded.replayed),
        (TradeOutcome::Done, false)
    );
    assert_eq!(all(&mut conn), traded_once());
}

fn untouched() -> Vec<Player> {
    vec![
        Player {
            id: id("a"),
            coins: 100,
            goods: 10,
        },
        Player {
            id: id("b"),
            coins: 100,
            goods: 10,
        },
    ]
}

/// The connection is killed while the trade, its key row written, waits for
/// a player's lock: nothing was applied, and the same key on a new
/// connection applies the trade, once.
#[test]
fn a_connection_killed_after_the_key_was_written_then_the_same_key_applies_once() {
    let (db, mut conn) = setup();
    let own = connection_id(&mut conn);
    exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 5");
    let mut blocker = hold_row_lock(&db, "b");
    let mut observer = db.connect();
    let result = std::thread::scope(|s| {
        let trade = s.spawn(|| a_sells_to_b(&mut conn, "order-1", 3));
        wait_for_lock_wait(&mut observer, own);
        kill(&mut observer, own).unwrap();
        trade.join().unwrap()
    });
    blocker.batch_execute("ROLLBACK").unwrap();
    assert!(
        matches!(
            result,
            Err(KeyedTradeError::Trade(TradeError::Transaction(
                TransactionError::ConnectionLost(_)
            )))
        ),
        "{result:?}"
    );
    assert_eq!(ledger::get(&mut observer, &key("order-1")).unwrap(), None);
    let mut conn = db.connect();
    let traded = a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    assert_eq!(
        (traded.outcome, traded.replayed),
        (TradeOutcome::Done, false)
    );
    let again = a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    assert!(again.replayed);
    assert_eq!(all(&mut conn), traded_once());
}

/// The failure the ledger removes: the server commits, and its answer to
/// COMMIT never arrives (a proxy forwards COMMIT, then cuts the connection,
/// as TiDB closes it when a commit's result is undetermined). The trade
/// ends in an unknown outcome; the same key on a new connection says it was
/// applied, and applies nothing more.
#[test]
fn an_unknown_outcome_is_resolved_by_sending_the_same_key_again() {
    let (db, _conn) = setup();
    let cutter = CommitCutter::start(db.url());
    let mut conn = MysqlConnection::establish(cutter.url()).unwrap();
    let result = a_sells_to_b(&mut conn, "order-1", 3);
    assert!(
        matches!(
            result,
            Err(KeyedTradeError::Trade(TradeError::Transaction(
                TransactionError::OutcomeUnknown(_)
            )))
        ),
        "{result:?}"
    );
    assert!(result.unwrap_err().may_be_applied());
    let mut conn = db.connect();
    let again = a_sells_to_b(&mut conn, "order-1", 3).unwrap();
    assert_eq!((again.outcome, again.replayed), (TradeOutcome::Done, true));
    assert_eq!(all(&mut conn), traded_once());
    assert_eq!(rows(&mut conn), 1);
}

#[test]
fn prune_deletes_old_keys_in_batches_and_keeps_recent_ones() {
    let (_db, mut conn) = setup();
    for n in 0..7 {
        a_sells_to_b(&mut conn, &format!("old-{n}"), 1).unwrap();
    }
    exec(
        &mut conn,
        "UPDATE keyed_trade SET created_at = NOW(6) - INTERVAL 31 DAY",
    );
    a_sells_to_b(&mut conn, "recent", 1).unwrap();
    let month = Duration::from_secs(30 * 24 * 3600);
    let batch = NonZeroU32::new(3).unwrap();
    assert_eq!(ledger::prune(&mut conn, month, batch).unwrap(), 7);
    assert_eq!(ledger::prune(&mut conn, month, batch).unwrap(), 0);
    assert!(ledger::get(&mut conn, &key("old-0")).unwrap().is_none());
    assert!(ledger::get(&mut conn, &key("recent")).unwrap().is_some());
    // A pruned key is new again: keep keys longer than any retry.
    assert!(!a_sells_to_b(&mut conn, "old-0", 1).unwrap().replayed);
    exec(
        &mut conn,
        "UPDATE keyed_trade SET created_at = NOW(6) - INTERVAL 1 SECOND",
    );
    assert_eq!(ledger::prune(&mut conn, Duration::ZERO, batch).unwrap(), 2);
    assert_eq!(rows(&mut conn), 0);
}
