//! `transaction::run` with a body of the reader's own, against the server:
//! what it commits, what it rolls back, what it runs again and what a lost
//! connection means.

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::schema::player;
use player_core::transaction::{self, TransactionError};
use player_core::{Player, RetryPolicy};
use player_testkit::sql::{all, connection_id, exec, hold_row_lock, id, kill, wait_for_lock_wait};
use player_testkit::{Need, require};

use crate::trade_retry::{FAST, install_write_conflict_trigger, setup};

/// The reader's own transaction: `coins` from player a to player b, in two
/// statements, counting the runs of the body.
fn move_coins(
    conn: &mut MysqlConnection,
    coins: i32,
    policy: &RetryPolicy,
    runs: &mut u32,
) -> Result<transaction::Retried<usize>, TransactionError> {
    transaction::run(conn, policy, |conn| {
        *runs += 1;
        let from = diesel::update(player::table.find(id("a")))
            .set(player::coins.eq(player::coins - coins))
            .execute(conn)?;
        let to = diesel::update(player::table.find(id("b")))
            .set(player::coins.eq(player::coins + coins))
            .execute(conn)?;
        Ok(from + to)
    })
}

fn coins(conn: &mut MysqlConnection) -> Vec<i32> {
    all(conn).iter().map(|p: &Player| p.coins).collect()
}

#[test]
fn a_body_that_returns_ok_commits_once() {
    let (_db, mut conn) = setup();
    let mut runs = 0;
    let done = move_coins(&mut conn, 25, &FAST, &mut runs).unwrap();
    assert_eq!((done.value, done.retries, runs), (2, 0, 1));
    assert_eq!(coins(&mut conn), [75, 125]);
}

#[test]
fn a_body_that_returns_an_error_rolls_back_all_it_wrote() {
    let (_db, mut conn) = setup();
    let mut runs = 0;
    let result = transaction::run(&mut conn, &FAST, |conn| {
        runs += 1;
        diesel::update(player::table)
            .set(player::coins.eq(0))
            .execute(conn)?;
        Err::<(), _>(diesel::result::Error::RollbackTransaction)
    });
    assert!(
        matches!(
            result,
            Err(TransactionError::Failed(
                diesel::result::Error::RollbackTransaction
            ))
        ),
        "{result:?}"
    );
    assert_eq!(runs, 1, "not retried");
    assert_eq!(coins(&mut conn), [100, 100]);
}

/// TiDB's write conflict (9007, injected by a trigger on the second
/// statement's table) rolls the whole body back; it runs again and lands once.
#[test]
fn a_write_conflict_runs_the_whole_body_again_and_it_lands_once() {
    require!(Need::Triggers);
    let (_db, mut conn) = setup();
    install_write_conflict_trigger(&mut conn);
    // Each run's first UPDATE meets the conflict until the count is spent.
    conn.batch_execute("SET @inject_9007 = 3").unwrap();
    let mut runs = 0;
    let done = move_coins(&mut conn, 10, &FAST, &mut runs).unwrap();
    assert_eq!((done.retries, runs), (3, 4));
    assert_eq!(coins(&mut conn), [90, 110]);

    conn.batch_execute("SET @inject_9007 = 100").unwrap();
    let mut runs = 0;
    let result = move_coins(
        &mut conn,
        10,
        &RetryPolicy {
            max_retries: 2,
            ..FAST
        },
        &mut runs,
    );
    assert!(
        matches!(result, Err(TransactionError::RetriesExhausted { retries: 2, ref source })
            if source.to_string().contains("Write conflict")),
        "{result:?}"
    );
    assert_eq!(runs, 3);
    assert_eq!(coins(&mut conn), [90, 110], "nothing more applied");
}

/// A connection killed while the body waits for a lock: nothing was applied,
/// and the error says so.
#[test]
fn a_connection_lost_in_the_body_applied_nothing() {
    let (db, mut conn) = setup();
    let own = connection_id(&mut conn);
    exec(&mut conn, "SET SESSION innodb_lock_wait_timeout = 5");
    let mut blocker = hold_row_lock(&db, "b");
    let mut observer = db.connect();
    let result = std::thread::scope(|s| {
        let body = s.spawn(|| {
            let mut runs = 0;
            move_coins(&mut conn, 10, &FAST, &mut runs)
        });
        wait_for_lock_wait(&mut observer, own);
        kill(&mut observer, own).unwrap();
        body.join().unwrap()
    });
    blocker.batch_execute("ROLLBACK").unwrap();
    assert!(
        matches!(result, Err(TransactionError::ConnectionLost(_))),
        "{result:?}"
    );
    assert_eq!(coins(&mut observer), [100, 100]);
}
