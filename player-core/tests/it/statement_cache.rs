//! A cached prepared statement whose execution failed must reach the server
//! again on its next use after `transaction::run` (see its module
//! documentation): after a lock wait timeout, a duplicate key, or a table that
//! was briefly gone.

use crate::migrated;
use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::schema::player;
use player_core::transaction::{self, TransactionError};
use player_core::{NewPlayer, RetryPolicy, players};
use player_testkit::sql::id;
use player_testkit::sql::{all, exec, hold_row_lock, insert};

/// Holds a row lock on player `id` from another connection while `f` runs on
/// `conn`, whose lock waits time out after a second.
fn while_locked<T>(
    db: &player_testkit::TestDatabase,
    conn: &mut MysqlConnection,
    id: &str,
    f: impl FnOnce(&mut MysqlConnection) -> T,
) -> T {
    exec(conn, "SET SESSION innodb_lock_wait_timeout = 1");
    let mut holder = hold_row_lock(db, id);
    let result = f(conn);
    holder.batch_execute("ROLLBACK").unwrap();
    result
}

const LOCK_WAIT_TIMEOUT: &str = "Lock wait timeout exceeded";

/// The upstream bug itself, on a plain Diesel `DELETE`: when this test fails,
/// Diesel has fixed it and the recovery can go.
#[test]
fn diesel_still_replays_the_error_of_a_failed_cached_statement() {
    let (db, mut conn) = migrated();
    insert(&mut conn, &[("a", 1, 1), ("b", 1, 1)]);
    let delete =
        |conn: &mut MysqlConnection, id: &str| diesel::delete(player::table.find(id)).execute(conn);
    let first = while_locked(&db, &mut conn, "a", |conn| delete(conn, "a"));
    assert!(first.unwrap_err().to_string().contains(LOCK_WAIT_TIMEOUT));
    // Nothing is locked any more, yet the same statement fails the same way.
    let replayed = delete(&mut conn, "b").unwrap_err();
    assert!(
        replayed.to_string().contains(LOCK_WAIT_TIMEOUT),
        "{replayed}"
    );
    assert_eq!(all(&mut conn).len(), 2);
}

/// One statement in a transaction that is not retried, as the tests below run it.
fn once<T>(
    conn: &mut MysqlConnection,
    body: impl FnMut(&mut MysqlConnection) -> QueryResult<T>,
) -> Result<T, TransactionError> {
    transaction::run(conn, &RetryPolicy::NEVER, body).map(|done| done.value)
}

#[test]
fn a_delete_after_a_lock_wait_timeout_reaches_the_server() {
    let (db, mut conn) = migrated();
    insert(&mut conn, &[("a", 1, 1), ("b", 1, 1)]);
    let first = while_locked(&db, &mut conn, "a", |conn| {
        once(conn, |conn| players::delete(conn, &id("a")))
    });
    assert!(
        matches!(&first, Err(TransactionError::RetriesExhausted { retries: 0, source })
            if source.to_string().contains(LOCK_WAIT_TIMEOUT)),
        "{first:?}"
    );
    assert!(once(&mut conn, |conn| players::delete(conn, &id("b"))).unwrap());
    assert!(once(&mut conn, |conn| players::delete(conn, &id("a"))).unwrap());
    assert_eq!(all(&mut conn), []);
}

#[test]
fn bulk_create_after_a_duplicate_key_inserts_the_next_batch() {
    let (_db, mut conn) = migrated();
    let rows = |prefix: &str| {
        (0..3)
            .map(|i| NewPlayer::new(id(&format!("{prefix}{i}")), 1, 1))
            .collect::<Vec<_>>()
    };
    let bulk = |conn: &mut MysqlConnection, prefix: &str| {
        once(conn, |conn| {
            players::bulk_create(conn, rows(prefix), 3).map_err(|e| match e {
                player_core::Error::Database(e) => e,
                other => panic!("{other}"),
            })
        })
    };
    assert_eq!(bulk(&mut conn, "x").unwrap(), 3);
    let duplicate = bulk(&mut conn, "x").unwrap_err();
    assert!(
        duplicate.to_string().contains("Duplicate entry"),
        "{duplicate}"
    );
    assert_eq!(bulk(&mut conn, "y").unwrap(), 3);
    assert_eq!(players::count(&mut conn).unwrap(), 6);
}

#[test]
fn a_cached_select_works_again_once_its_table_is_back() {
    let (_db, mut conn) = migrated();
    insert(&mut conn, &[("a", 1, 1)]);
    let get = |conn: &mut MysqlConnection| once(conn, |conn| players::get(conn, &id("a")));
    assert!(get(&mut conn).unwrap().is_some());
    exec(&mut conn, "RENAME TABLE player TO player_away");
    assert!(get(&mut conn).is_err());
    exec(&mut conn, "RENAME TABLE player_away TO player");
    assert!(get(&mut conn).unwrap().is_some());
}

/// A plain query that failed outside `transaction::run` (the reader's own)
/// leaves the connection's cached statement failing; the next
/// `transaction::run` on that connection reaches the server all the same.
#[test]
fn a_transaction_after_a_failed_plain_query_reaches_the_server() {
    let db = player_testkit::TestDatabase::migrated();
    let url: player_core::db::DatabaseUrl = db.url().parse().unwrap();
    let mut conn = player_core::db::connect(&url).unwrap();
    insert(&mut conn, &[("a", 1, 1), ("b", 1, 1)]);
    let first = while_locked(&db, &mut conn, "a", |conn| players::delete(conn, &id("a")));
    assert!(first.unwrap_err().to_string().contains(LOCK_WAIT_TIMEOUT));
    assert!(once(&mut conn, |conn| players::delete(conn, &id("b"))).unwrap());
    assert_eq!(all(&mut conn).len(), 1);
}
