//! `pool`: a connection the server dropped is never handed out again.

use player_core::db::DatabaseUrl;
use player_testkit::TestDatabase;
use player_testkit::sql::{connection_id, kill};

#[test]
fn a_killed_connection_is_replaced_when_taken_out() {
    let mut db = TestDatabase::create();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let pool = player_guard::pool(&url, 2).unwrap();
    let killed = {
        let mut a = pool.get().unwrap();
        let mut b = pool.get().unwrap();
        // Guarded where sockets can be found, though not always: another
        // test's plain connection to the same port at the same instant makes
        // the socket ambiguous (see `is_guarded`). Never guarded elsewhere.
        if !cfg!(target_os = "linux") {
            assert!(!a.is_guarded() && !b.is_guarded());
        }
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

/// A connection whose query failed because the server dropped it: the client
/// library closed its socket, so it is not put back in the pool, even by a pool
/// that does not ping on checkout; whether the failed query was the caller's
/// own or ran in a retrying transaction (whose loop empties the statement cache
/// itself, and must not hide the failure from the pool).
#[cfg(target_os = "linux")]
#[test]
fn a_connection_the_server_dropped_does_not_go_back_to_the_pool() {
    use diesel::prelude::*;
    use player_core::RetryPolicy;

    fn plain(conn: &mut diesel::MysqlConnection) {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .expect_err("the connection was killed");
    }
    fn in_transaction(conn: &mut diesel::MysqlConnection) {
        player_core::transaction::run(conn, &RetryPolicy::default(), |c| {
            diesel::sql_query("SELECT 1").execute(c)
        })
        .expect_err("the connection was killed");
    }
    for fail in [plain, in_transaction] {
        dropped_connection_is_not_pooled(fail);
    }
}

#[cfg(target_os = "linux")]
fn dropped_connection_is_not_pooled(fail: fn(&mut diesel::MysqlConnection)) {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Unsigned};

    let mut db = TestDatabase::create();
    let url: DatabaseUrl = db.url().parse().unwrap();
    // A pool whose one connection is guarded: another test's connection to
    // the same port at the same instant can hide a socket, so a few tries.
    let pool = (0..10)
        .map(|_| {
            player_guard::build_pool(&url, player_guard::pool_builder(1).test_on_check_out(false))
                .unwrap()
        })
        .find(|pool| pool.get().unwrap().is_guarded())
        .expect("a guarded connection in ten tries");
    let first = connection_id(&mut pool.get().unwrap());
    let killed = {
        let mut conn = pool.get().unwrap();
        assert!(conn.is_guarded());
        let killed = connection_id(&mut conn);
        assert_eq!(killed, first, "a sound connection was not pooled again");
        kill(db.admin(), killed).unwrap();
        fail(&mut conn);
        killed
    };
    let mut conn = pool.get().unwrap();
    let id =
        diesel::select(sql::<Unsigned<BigInt>>("CONNECTION_ID()")).get_result::<u64>(&mut **conn);
    assert!(
        matches!(id, Ok(id) if id != killed),
        "{id:?}: the pool handed back the killed connection {killed}"
    );
}
