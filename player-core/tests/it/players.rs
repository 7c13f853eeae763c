//! The typed player queries, against the real server.

use diesel::prelude::*;
use player_core::models::PlayerChanges;
use player_core::players::{self, MAX_BATCH_SIZE};
use player_core::schema::player;
use player_core::{Error, NewPlayer, Player};
use player_testkit::sql::{id, insert, session_status};
use player_testkit::{Need, require};

/// A status counter of this session (e.g. `Com_insert`); reading it runs one
/// prepared statement (`SHOW SESSION STATUS`).
fn session_counter(conn: &mut MysqlConnection, name: &str) -> i64 {
    player_testkit::sql::session_status(conn)
        .get(name)
        .copied()
        .unwrap_or(0)
}

fn numbered(n: usize) -> impl Iterator<Item = NewPlayer> {
    (0..n).map(|i| NewPlayer::new(id(&format!("p{i:06}")), i as i32, 1))
}

#[test]
fn create_then_get_returns_the_row() {
    let (_db, mut conn) = crate::migrated();
    players::create(&mut conn, &NewPlayer::new(id("test"), 1, 1)).expect("create");
    let got = players::get(&mut conn, &id("test")).expect("get");
    assert_eq!(
        got,
        Some(Player {
            id: id("test"),
            coins: 1,
            goods: 1
        })
    );
    assert_eq!(players::get(&mut conn, &id("absent")).expect("get"), None);
}

#[test]
fn create_rejects_a_duplicate_id() {
    let (_db, mut conn) = crate::migrated();
    players::create(&mut conn, &NewPlayer::new(id("dup"), 1, 1)).expect("first");
    let err = players::create(&mut conn, &NewPlayer::new(id("dup"), 2, 2)).expect_err("second");
    assert!(
        matches!(&err, Error::AlreadyExists(taken) if taken.as_str() == "dup"),
        "{err:?}"
    );
    assert_eq!(
        players::get(&mut conn, &id("dup"))
            .expect("get")
            .map(|p| p.coins),
        Some(1)
    );
}

#[test]
fn ids_compare_byte_for_byte() {
    let (_db, mut conn) = crate::migrated();
    players::create(&mut conn, &NewPlayer::new(id("Abc"), 1, 1)).expect("create");
    players::create(&mut conn, &NewPlayer::new(id("abc"), 2, 2)).expect("a different id");
    assert_eq!(players::get(&mut conn, &id("ABC")).expect("get"), None);
}

#[test]
fn negative_balances_are_refused_before_anything_is_sent() {
    require!(Need::SessionCounters);
    let (_db, mut conn) = crate::migrated();
    insert(&mut conn, &[("pos", 1, 1)]);
    let sent = |conn: &mut MysqlConnection| session_status(conn)["Questions"];
    let before = sent(&mut conn);
    for (coins, goods) in [(-1, 0), (0, -1), (i32::MIN, 5)] {
        let err = players::create(&mut conn, &NewPlayer::new(id("neg"), coins, goods));
        assert!(matches!(err, Err(Error::NegativeBalance { .. })), "{err:?}");
        let changes = PlayerChanges {
            coins: Some(coins),
            goods: Some(goods),
        };
        let err = players::update(&mut conn, &id("pos"), &changes);
        assert!(matches!(err, Err(Error::NegativeBalance { .. })), "{err:?}");
    }
    // One statement: the second counter read.
    assert_eq!(sent(&mut conn) - before, 1);
    assert_eq!(players::count(&mut conn).expect("count"), 1);
}

/// `bulk_create` refuses a batch holding a negative balance before sending
/// it (TiDB keeps CHECK constraints only when told to); earlier batches stand.
#[test]
fn bulk_create_refuses_a_batch_with_a_negative_balance() {
    require!(Need::SessionCounters);
    let (_db, mut conn) = crate::migrated();
    let sent = |conn: &mut MysqlConnection| session_status(conn)["Questions"];
    for (coins, goods) in [(-1, 0), (0, -1), (i32::MIN, i32::MIN)] {
        let before = sent(&mut conn);
        let rows = [
            NewPlayer::new(id("ok"), 1, 1),
            NewPlayer::new(id("neg"), coins, goods),
        ];
        let err = players::bulk_create(&mut conn, rows, 2);
        assert!(
            matches!(err, Err(Error::NegativeBalance { coins: c, goods: g }) if (c, g) == (coins, goods)),
            "{err:?}"
        );
        assert_eq!(
            sent(&mut conn) - before,
            1,
            "only the counter read was sent"
        );
    }
    let rows = (0..3).map(|i| NewPlayer::new(id(&format!("p{i}")), i - 1, 0));
    let err = players::bulk_create(&mut conn, rows, 1);
    assert!(
        matches!(err, Err(Error::NegativeBalance { coins: -1, .. })),
        "{err:?}"
    );
    assert_eq!(players::count(&mut conn).expect("count"), 0);
    let rows = (0..3).map(|i| NewPlayer::new(id(&format!("p{i}")), 1 - i, 0));
    assert!(players::bulk_create(&mut conn, rows, 1).is_err());
    assert_eq!(
        players::count(&mut conn).expect("count"),
        2,
        "the batches before the bad one"
    );
}

/// The table's CHECK constraints are the second line: a row that skips the
/// library's checks is refused by the server (MariaDB and MySQL keep CHECK
/// constraints; TiDB only with `tidb_enable_check_constraint`).
#[test]
fn check_constraints_forbid_negative_balances() {
    require!(Need::CheckConstraints);
    let (_db, mut conn) = crate::migrated();
    for (coins, goods) in [(-1, 0), (0, -1)] {
        let err = diesel::insert_into(player::table)
            .values(&NewPlayer::new(id("neg"), coins, goods))
            .execute(&mut conn);
        assert!(err.is_err(), "{err:?}");
    }
    assert_eq!(players::count(&mut conn).expect("count"), 0);
}

#[test]
fn bulk_create_sends_one_insert_per_batch() {
    require!(Need::SessionCounters);
    let (_db, mut conn) = crate::migrated();
    for rows in [0usize, 1, 114, 115, 1919] {
        players::delete_all(&mut conn).expect("empty");
        let before = session_counter(&mut conn, "Com_insert");
        let ids = (0..rows).map(|i| NewPlayer::new(id(&format!("{rows}-{i}")), 10, 20));
        let inserted = players::bulk_create(&mut conn, ids, 114).expect("bulk create");
        let statements = session_counter(&mut conn, "Com_insert") - before;
        assert_eq!(inserted, rows, "{rows} rows");
        assert_eq!(players::count(&mut conn).expect("count"), rows as i64);
        assert_eq!(
            statements,
            rows.div_ceil(114) as i64,
            "INSERTs for {rows} rows"
        );
    }
    let last = players::get(&mut conn, &id("1919-1918")).expect("get");
    assert_eq!(last.map(|p| (p.coins, p.goods)), Some((10, 20)));
}

#[test]
fn bulk_create_prepares_the_full_batch_shape_once() {
    require!(Need::SessionCounters);
    let (_db, mut conn) = crate::migrated();
    let before = session_counter(&mut conn, "Com_stmt_prepare");
    let rows = (0..1919).map(|i| NewPlayer::new(id(&format!("r{i}")), 1, 1));
    players::bulk_create(&mut conn, rows, 114).expect("bulk create");
    let prepared = session_counter(&mut conn, "Com_stmt_prepare") - before;
    // 16 full batches share one prepared statement, the last 95 rows need their
    // own, and reading the counter prepares one more statement.
    assert_eq!(prepared, 2 + 1);
    assert_eq!(players::count(&mut conn).expect("count"), 1919);
}

#[test]
fn bulk_create_accepts_the_largest_batch_under_the_placeholder_limit() {
    let (_db, mut conn) = crate::migrated();
    let inserted = players::bulk_create(&mut conn, numbered(MAX_BATCH_SIZE), MAX_BATCH_SIZE)
        .expect("a batch of MAX_BATCH_SIZE rows fits in one statement");
    assert_eq!(inserted, MAX_BATCH_SIZE);
}

#[test]
fn one_row_more_than_the_largest_batch_is_refused_by_the_server() {
    // Proves MAX_BATCH_SIZE is the real limit, not a guess: the same INSERT
    // with one more row carries 65,538 placeholders and the server rejects it.
    let (_db, mut conn) = crate::migrated();
    let rows: Vec<NewPlayer> = numbered(MAX_BATCH_SIZE + 1).collect();
    let err = diesel::insert_into(player_core::schema::player::table)
        .values(&rows)
        .execute(&mut conn)
        .expect_err("too many placeholders");
    assert!(err.to_string().contains("placeholders"), "{err}");
}

#[test]
fn bulk_create_rejects_bad_batch_sizes_before_sending_anything() {
    let (_db, mut conn) = crate::migrated();
    for batch in [0, MAX_BATCH_SIZE + 1] {
        let err = players::bulk_create(&mut conn, numbered(3), batch).expect_err("bad batch");
        assert!(matches!(err, Error::InvalidBatchSize(b) if b == batch));
    }
    assert_eq!(players::count(&mut conn).expect("count"), 0);
}

#[test]
fn bulk_create_stops_at_a_failing_batch() {
    let (_db, mut conn) = crate::migrated();
    players::create(&mut conn, &NewPlayer::new(id("p000005"), 0, 0)).expect("seed");
    // Batches of 4: rows 0-3 land, the batch holding the duplicate p000005 fails whole.
    let err = players::bulk_create(&mut conn, numbered(12), 4).expect_err("duplicate");
    assert!(matches!(err, Error::Database(_)));
    assert_eq!(players::count(&mut conn).expect("count"), 5);
}

#[test]
fn list_is_ordered_by_id_and_pages_by_key() {
    let (_db, mut conn) = crate::migrated();
    for name in ["c", "a", "e", "b", "d"] {
        players::create(&mut conn, &NewPlayer::new(id(name), 0, 0)).expect("create");
    }
    let ids = |page: Vec<Player>| {
        page.into_iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(players::list(&mut conn, None, 3).expect("page 1")),
        ["a", "b", "c"]
    );
    assert_eq!(
        ids(players::list(&mut conn, Some(&id("c")), 3).expect("page 2")),
        ["d", "e"]
    );
    assert!(
        players::list(&mut conn, Some(&id("e")), 3)
            .expect("page 3")
            .is_empty()
    );
}

#[test]
fn get_many_returns_the_existing_ones_in_id_order() {
    let (_db, mut conn) = crate::migrated();
    players::create(&mut conn, &NewPlayer::new(id("2"), 114_514, 20)).expect("create");
    players::create(&mut conn, &NewPlayer::new(id("1"), 100, 0)).expect("create");
    let got = players::get_many(&mut conn, &[id("2"), id("missing"), id("1")]).expect("get many");
    assert_eq!(
        got.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert!(players::get_many(&mut conn, &[]).expect("none").is_empty());
}

#[test]
fn delete_removes_one_and_says_whether_it_existed() {
    let (_db, mut conn) = crate::migrated();
    players::bulk_create(&mut conn, numbered(3), 10).expect("seed");
    assert!(players::delete(&mut conn, &id("p000001")).expect("delete"));
    assert!(!players::delete(&mut conn, &id("p000001")).expect("delete again"));
    assert_eq!(players::count(&mut conn).expect("count"), 2);
    assert_eq!(players::delete_all(&mut conn).expect("delete all"), 2);
    assert_eq!(players::count(&mut conn).expect("count"), 0);
}

#[test]
fn migrations_apply_once() {
    let (_db, mut conn) = crate::migrated();
    let again = player_core::migrations::run_pending(&mut conn).expect("rerun");
    assert!(again.is_empty(), "nothing left to apply: {again:?}");
}
