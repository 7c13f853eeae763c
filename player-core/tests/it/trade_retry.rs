//! The retry paths taken for real on the server: TiDB's 9007 injected by a
//! trigger, a lock wait timeout, a deadlock whose victim is the trade, and a
//! connection killed mid-trade. Each proves the retry count and that the trade
//! landed exactly once (or not at all).

use crate::{FORMS, Form};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use player_core::retry::RetryPolicy;
use player_core::{Player, TradeError, TradeOutcome, TransactionError};
use player_testkit::sql::id;
use player_testkit::sql::{
    all, connection_id, exec, hold_row_lock, insert, kill, wait_for_lock_wait,
};
use player_testkit::{Need, TestDatabase, require};

/// Short pauses so the tests stay quick.
pub(crate) const FAST: RetryPolicy = RetryPolicy {
    max_retries: 5,
    base_backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(20),
    time_limit: Duration::from_secs(60),
};

/// The balances after seller "a" sold 3 goods to buyer "b" for 30 coins, once,
/// from a: 100 coins, 10 goods and b: 100 coins, 10 goods.
pub(crate) fn traded_once() -> Vec<Player> {
    vec![
        Player {
            id: id("a"),
            coins: 130,
            goods: 7,
        },
        Player {
            id: id("b"),
            coins: 70,
            goods: 13,
        },
    ]
}

pub(crate) fn setup() -> (player_testkit::TestDatabase, MysqlConnection) {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    insert(&mut conn, &[("a", 100, 10), ("b", 100, 10)]);
    (db, conn)
}

/// A trigger that fails the next `@inject_9007` updates of `player` with
/// TiDB's error 9007 and its message, as TiDB reports a write conflict.
pub(crate) fn install_write_conflict_trigger(conn: &mut MysqlConnection) {
    conn.batch_execute(
        "CREATE TRIGGER inject_write_conflict BEFORE UPDATE ON player FOR EACH ROW \
         BEGIN \
           IF @inject_9007 > 0 THEN \
             SET @inject_9007 = @inject_9007 - 1; \
             SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 9007, MESSAGE_TEXT = \
               'Write conflict, txnStartTS=1, conflictStartTS=2, conflictCommitTS=3, key={tableID=1, handle=1}, reason=Optimistic [try again later]'; \
           END IF; \
         END",
    )
    .expect("create trigger");
}

#[test]
fn tidb_write_conflict_9007_is_retried_and_the_trade_lands_once() {
    require!(Need::Triggers);
    for form in FORMS {
        let (_db, mut conn) = setup();
        install_write_conflict_trigger(&mut conn);
        conn.batch_execute("SET @inject_9007 = 2").unwrap();
        let traded = form.a_sells_3_to_b(&mut conn, &FAST).unwrap();
        assert_eq!(traded.outcome, TradeOutcome::Done);
        assert_eq!(traded.retries, 2);
        assert_eq!(all(&mut conn), traded_once());
    }
}

#[test]
fn retries_are_bounded_and_the_last_error_is_kept() {
    require!(Need::Triggers);
    for form in FORMS {
        let (_db, mut conn) = setup();
        install_write_conflict_trigger(&mut conn);
        conn.batch_execute("SET @inject_9007 = 1000").unwrap();
        let before = all(&mut conn);
        match form.a_sells_3_to_b(
            &mut conn,
            &RetryPolicy {
                max_retries: 3,
                ..FAST
            },
        ) {
            Err(TradeError::Transaction(TransactionError::RetriesExhausted {
                retries,
                source,
            })) => {
                assert_eq!(retries, 3);
                assert!(source.to_string().contains("Write conflict"), "{source}");
            }
            other => panic!("expected RetriesExhausted, got {other:?}"),
        }
        assert_eq!(all(&mut conn), before);
        // With retries off, the error is reported at the first failure.
        assert!(matches!(
            form.a_sells_3_to_b(&mut conn, &RetryPolicy::NEVER),
            Err(TradeError::Transaction(
                TransactionError::RetriesExhausted { retries: 0, .. }
            ))
        ));
    }
}

#[test]
fn lock_wait_timeout_1205_is_retried() {
    for form in FORMS {
        let (db, mut conn) = setup();
        exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 1");
        let mut blocker = hold_row_lock(&db, "b");

        let trade_conn_id = connection_id(&mut conn);
        let mut observer = db.connect();
        let started = Instant::now();
        let traded = std::thread::scope(|s| {
            let trade = s.spawn(|| form.a_sells_3_to_b(&mut conn, &FAST));
            // Hold the lock well past one timeout (1 s) after the trade started
            // waiting, then let the retry through.
            wait_for_lock_wait(&mut observer, trade_conn_id);
            std::thread::sleep(Duration::from_millis(2_000));
            blocker.batch_execute("ROLLBACK").unwrap();
            trade.join().unwrap()
        })
        .unwrap();
        assert_eq!(traded.outcome, TradeOutcome::Done);
        assert!(
            traded.retries >= 1,
            "no retry after {:?}",
            started.elapsed()
        );
        assert_eq!(all(&mut conn), traded_once());
    }
}

#[test]
fn deadlock_1213_with_the_trade_as_victim_is_retried() {
    require!(Need::InnoDbDeadlockVictim);
    for form in FORMS {
        let (db, mut conn) = setup();
        let trade_conn_id = connection_id(&mut conn);
        // Bounds the test's time should the deadlock not happen as planned.
        exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 5");
        let mut other = db.connect();
        let mut observer = db.connect();
        exec(&mut other, "CREATE TABLE ballast (n INT PRIMARY KEY)");

        // The other transaction writes 50 rows first, so InnoDB, which rolls back
        // the transaction that changed less, picks the trade as the victim.
        other.batch_execute("BEGIN").unwrap();
        exec(
            &mut other,
            "INSERT INTO ballast WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50) SELECT n FROM s",
        );
        exec(&mut other, "SELECT * FROM player WHERE id = 'b' FOR UPDATE");

        let traded = std::thread::scope(|s| {
            // The trade locks a, then waits for b.
            let trade = s.spawn(|| form.a_sells_3_to_b(&mut conn, &FAST));
            wait_for_lock_wait(&mut observer, trade_conn_id);
            // Now the other transaction asks for a: a cycle, which InnoDB breaks by
            // rolling the trade back; the other transaction gets a and goes on.
            exec(&mut other, "SELECT * FROM player WHERE id = 'a' FOR UPDATE");
            // The trade's retry waits for the rows until the other transaction ends.
            other.batch_execute("ROLLBACK").unwrap();
            trade.join().unwrap()
        })
        .unwrap();
        assert_eq!(traded.outcome, TradeOutcome::Done);
        assert_eq!(traded.retries, 1);
        assert_eq!(all(&mut observer), traded_once());
    }
}

/// Runs trade a→b in `form` while another session holds b's row lock, kills
/// the trade's connection as it waits, and returns what the trade said and
/// whether the balances changed.
fn killed_while_waiting_for_a_lock(form: Form) -> (Result<player_core::Traded, TradeError>, bool) {
    let (db, mut conn) = setup();
    let trade_conn_id = connection_id(&mut conn);
    exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 5");
    let mut blocker = hold_row_lock(&db, "b");
    let mut observer = db.connect();
    let before = all(&mut observer);

    let result = std::thread::scope(|s| {
        let trade = s.spawn(|| form.a_sells_3_to_b(&mut conn, &FAST));
        wait_for_lock_wait(&mut observer, trade_conn_id);
        kill(&mut observer, trade_conn_id).unwrap();
        trade.join().unwrap()
    });
    blocker.batch_execute("ROLLBACK").unwrap();
    (result, all(&mut observer) != before)
}

#[test]
fn a_connection_killed_before_commit_applies_nothing() {
    let (result, changed) = killed_while_waiting_for_a_lock(Form::Transactional);
    assert!(
        matches!(
            result,
            Err(TradeError::Transaction(TransactionError::ConnectionLost(_)))
        ),
        "expected ConnectionLost, got {result:?}"
    );
    assert!(!changed);
}

/// The one-statement trade's UPDATE commits as the server answers it, so a
/// connection lost while it is in flight leaves the outcome unknown, even
/// when (as here, blocked on a lock) it was not applied: the caller cannot
/// tell, and must not run it again blindly.
#[test]
fn a_connection_lost_during_the_lone_update_is_an_unknown_outcome() {
    let (result, changed) = killed_while_waiting_for_a_lock(Form::OneStatement);
    assert!(
        matches!(
            result,
            Err(TradeError::Transaction(TransactionError::OutcomeUnknown(_)))
        ),
        "expected OutcomeUnknown, got {result:?}"
    );
    assert!(!changed);
}

/// A lock held elsewhere for longer than the server's lock wait: the trade
/// waits, retries only while another wait still fits its time limit, then
/// gives up with nothing applied. Here the server's wait is 1 s and the limit
/// 2.5 s: two waits, then `TimeLimit` at about 2 s (with the defaults, 50 s
/// and 60 s, that is one wait).
#[test]
fn a_lock_held_past_the_time_limit_ends_the_trade_within_it() {
    for form in FORMS {
        let (db, mut conn) = setup();
        exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 1");
        let before = all(&mut conn);
        let _blocker = hold_row_lock(&db, "b");
        let policy = FAST.with_time_limit(Duration::from_millis(2_500));
        let started = Instant::now();
        let result = form.a_sells_3_to_b(&mut conn, &policy);
        let took = started.elapsed();
        match result {
            Err(TradeError::Transaction(TransactionError::TimeLimit {
                retries, source, ..
            })) => {
                assert_eq!(retries, 1, "{source}");
                assert!(source.to_string().contains("Lock wait timeout"), "{source}");
            }
            other => panic!("expected TimeLimit, got {other:?} after {took:?}"),
        }
        assert!(took >= Duration::from_millis(1_900), "{took:?}");
        assert!(took <= policy.time_limit, "{took:?}");
        assert_eq!(all(&mut conn), before);
    }
}
