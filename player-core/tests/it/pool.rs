//! `db::pool`: connections for many threads, a dropped connection replaced on
//! checkout, and a stopped server reported at once. (Bounded waits for a
//! server that never answers: player-guard's tests.)

use std::time::{Duration, Instant};

use player_core::db::{self, ConnectError, ConnectFailure, DatabaseUrl};
use player_testkit::TestDatabase;
use player_testkit::sql::{connection_id, kill};

#[test]
fn a_killed_connection_is_replaced_when_taken_out() {
    let mut db = TestDatabase::create();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let pool = db::pool(&url, 2).unwrap();
    let killed = {
        let mut a = pool.get().unwrap();
        let mut b = pool.get().unwrap();
        let ids = (connection_id(&mut a), connection_id(&mut b));
        assert_ne!(ids.0, ids.1);
        ids.0
    };
    kill(db.admin(), killed).unwrap();
    // Both idle connections are handed out again; the killed one is noticed by
    // the ping on checkout and replaced by a fresh one.
    let mut a = pool.get().unwrap();
    let mut b = pool.get().unwrap();
    let ids = [connection_id(&mut a), connection_id(&mut b)];
    assert!(
        !ids.contains(&killed),
        "{ids:?} includes the killed {killed}"
    );
}

#[test]
fn an_unreachable_server_is_reported_at_once_with_a_hint() {
    let port = player_testkit::net::free_port();
    let url: DatabaseUrl = format!("mysql://root:s3cret@127.0.0.1:{port}/test")
        .parse()
        .unwrap();
    let started = Instant::now();
    let err = db::pool(&url, 4).expect_err("no server there");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(
            err,
            ConnectError::Connect {
                failure: ConnectFailure::Unreachable,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

/// A statement that failed on a pooled connection (Diesel 2.3 would replay
/// its error on every later use) does not follow the connection to its next
/// user: the pool empties its statement cache when it comes back.
#[test]
fn a_failed_statement_does_not_follow_a_connection_to_its_next_user() {
    use player_core::players;
    use player_testkit::sql::{exec, id, insert};
    let db = TestDatabase::migrated();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let pool = db::pool(&url, 1).unwrap();
    {
        let mut conn = pool.get().unwrap();
        insert(&mut conn, &[("a", 1, 1)]);
        assert!(players::get(&mut conn, &id("a")).unwrap().is_some());
        exec(&mut conn, "RENAME TABLE player TO player_away");
        assert!(players::get(&mut conn, &id("a")).is_err());
        exec(&mut conn, "RENAME TABLE player_away TO player");
    }
    // The one connection, taken out again.
    let mut conn = pool.get().unwrap();
    assert!(players::get(&mut conn, &id("a")).unwrap().is_some());
}
