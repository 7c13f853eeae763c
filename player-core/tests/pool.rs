//! `db::pool`: connections for many threads, a dropped connection replaced on
//! checkout, and a stopped server reported at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{connection_id, exec};
use player_core::db::{self, ConnectError, DatabaseUrl};
use player_testkit::TestDatabase;

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
    exec(db.admin(), &format!("KILL {killed}"));
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
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url: DatabaseUrl = format!("mysql://root:s3cret@127.0.0.1:{port}/test")
        .parse()
        .unwrap();
    let started = Instant::now();
    let err = db::pool(&url, 4).expect_err("no server there");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, ConnectError::Connect { .. }), "{err}");
    assert!(err.hint().unwrap().contains("is the server running"));
    assert!(!err.to_string().contains("s3cret"), "{err}");
}
