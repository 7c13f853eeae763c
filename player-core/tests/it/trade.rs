//! The trade against the real server: outcomes, refusals, invalid input,
//! overflow, and how many statements one trade sends.

use std::collections::BTreeMap;

use crate::FORMS;
use crate::trade;
use diesel::mysql::MysqlConnection;
use player_core::trade::Balance;
use player_core::{Refusal, TradeError, TradeOutcome};
use player_testkit::TestDatabase;
use player_testkit::sql::id;
use player_testkit::sql::{all, insert, session_status};
use player_testkit::{Need, require};

/// Counter differences over `f`, less what reading the counters itself costs.
fn counted(
    conn: &mut MysqlConnection,
    f: impl FnOnce(&mut MysqlConnection),
) -> BTreeMap<String, i64> {
    let diff = |a: &BTreeMap<String, i64>, b: &BTreeMap<String, i64>| -> BTreeMap<String, i64> {
        b.iter()
            .map(|(k, v)| (k.clone(), v - a.get(k).copied().unwrap_or(0)))
            .collect()
    };
    let s0 = session_status(conn);
    let s1 = session_status(conn);
    f(conn);
    let s2 = session_status(conn);
    let overhead = diff(&s0, &s1);
    let work = diff(&s1, &s2);
    work.iter()
        .map(|(k, v)| (k.clone(), v - overhead.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v != 0)
        .collect()
}

/// Client-server round trips in counter differences: every command but
/// `COM_STMT_CLOSE`, which gets no answer.
fn round_trips(c: &BTreeMap<String, i64>) -> i64 {
    [
        "Com_stmt_prepare",
        "Com_stmt_execute",
        "Com_set_option",
        "Com_begin",
        "Com_commit",
        "Com_rollback",
    ]
    .iter()
    .map(|k| c.get(*k).copied().unwrap_or(0))
    .sum()
}

#[test]
fn a_trade_takes_seven_round_trips_and_a_refusal_eight() {
    require!(Need::SessionCounters);
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    insert(&mut conn, &[("a", 1000, 1000), ("b", 1000, 1000)]);
    // Warm Diesel's prepared-statement cache, as a long-lived connection is:
    // a trade that is done, and one that is refused.
    trade(&mut conn, "a", "b", 1, 1).unwrap();
    trade(&mut conn, "a", "b", 5000, 1).unwrap();

    let done = counted(&mut conn, |c| {
        assert_eq!(trade(c, "a", "b", 1, 1).unwrap(), TradeOutcome::Done);
    });
    eprintln!("done trade: {done:?}");
    // BEGIN and COMMIT: Diesel sends each with multi-statements switched on
    // and off around it (3 round trips each); the UPDATE ... JOIN: 1 (cached
    // prepared statement), and no SELECT.
    assert_eq!(done.get("Com_begin"), Some(&1));
    assert_eq!(done.get("Com_commit"), Some(&1));
    assert_eq!(done.get("Com_update_multi"), Some(&1));
    assert_eq!(done.get("Com_select"), None);
    assert_eq!(round_trips(&done), 7, "{done:?}");

    let refused = counted(&mut conn, |c| {
        assert_eq!(
            trade(c, "a", "b", 5000, 1).unwrap(),
            TradeOutcome::Refused(Refusal::SellerLacksGoods)
        );
    });
    eprintln!("refused trade: {refused:?}");
    // The UPDATE changes nothing; the SELECT ... FOR UPDATE finds out why.
    assert_eq!(refused.get("Com_update_multi"), Some(&1));
    assert_eq!(refused.get("Com_select"), Some(&1));
    assert_eq!(round_trips(&refused), 8, "{refused:?}");
}

#[test]
fn the_one_statement_trade_takes_one_round_trip() {
    require!(Need::SessionCounters);
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    insert(&mut conn, &[("a", 1000, 1000), ("b", 1000, 1000)]);
    let form = crate::Form::OneStatement;
    // Warm the statement cache: a done trade and a refused one.
    form.trade(&mut conn, "a", "b", 1, 1).unwrap();
    form.trade(&mut conn, "a", "b", 5000, 1).unwrap();

    let done = counted(&mut conn, |c| {
        assert_eq!(form.trade(c, "a", "b", 1, 1).unwrap(), TradeOutcome::Done);
    });
    eprintln!("done trade: {done:?}");
    // The cached UPDATE ... JOIN alone: no BEGIN, no COMMIT, no SELECT.
    assert_eq!(done.get("Com_update_multi"), Some(&1));
    assert_eq!(done.get("Com_begin"), None);
    assert_eq!(done.get("Com_commit"), None);
    assert_eq!(done.get("Com_select"), None);
    assert_eq!(round_trips(&done), 1, "{done:?}");

    let refused = counted(&mut conn, |c| {
        assert_eq!(
            form.trade(c, "a", "b", 5000, 1).unwrap(),
            TradeOutcome::Refused(Refusal::SellerLacksGoods)
        );
    });
    eprintln!("refused trade: {refused:?}");
    // The lone UPDATE changes nothing; then BEGIN, the locking SELECT, COMMIT.
    assert_eq!(refused.get("Com_update_multi"), Some(&1));
    assert_eq!(refused.get("Com_select"), Some(&1));
    assert_eq!(round_trips(&refused), 8, "{refused:?}");
}

/// Runs `f` on players a (100 coins, 10 goods) and b (50 coins, 5 goods) and
/// asserts their balances did not change.
fn unchanged(f: impl FnOnce(&mut MysqlConnection)) {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    insert(&mut conn, &[("a", 100, 10), ("b", 50, 5)]);
    let before = all(&mut conn);
    f(&mut conn);
    assert_eq!(all(&mut conn), before);
}

#[test]
fn refusals_change_nothing_and_are_not_retried() {
    for form in FORMS {
        unchanged(|conn| {
            let t = form
                .with_retry(
                    conn,
                    &player_core::Trade {
                        seller: &id("a"),
                        buyer: &id("b"),
                        amount: 11,
                        price: 1,
                    },
                    &player_core::retry::RetryPolicy::default(),
                )
                .unwrap();
            assert_eq!(t.outcome, TradeOutcome::Refused(Refusal::SellerLacksGoods));
            assert_eq!(t.retries, 0);
            assert_eq!(
                form.trade(conn, "a", "b", 1, 51).unwrap(),
                TradeOutcome::Refused(Refusal::BuyerLacksCoins)
            );
            assert_eq!(
                form.trade(conn, "b", "a", 6, 1).unwrap(),
                TradeOutcome::Refused(Refusal::SellerLacksGoods)
            );
        });
    }
}

#[test]
fn invalid_trades_are_rejected_before_any_change() {
    for form in FORMS {
        unchanged(|conn| {
            for (seller, buyer, amount, price) in [
                ("a", "b", 0, 1),
                ("a", "b", -1, 1),
                ("a", "b", 1, 0),
                ("a", "b", 1, -5),
                ("a", "a", 1, 1),
            ] {
                let r = form.trade(conn, seller, buyer, amount, price);
                assert!(
                    matches!(r, Err(TradeError::Invalid(_))),
                    "{seller} {buyer} {amount} {price}: {r:?}"
                );
            }
        });
    }
}

#[test]
fn unknown_players_are_reported_by_id() {
    for form in FORMS {
        unchanged(|conn| {
            let longest = "x".repeat(36);
            for (seller, buyer, missing) in [
                ("nobody", "b", "nobody"),
                ("a", "nobody", "nobody"),
                ("a", longest.as_str(), longest.as_str()),
            ] {
                match form.trade(conn, seller, buyer, 1, 1) {
                    Err(TradeError::UnknownPlayer(unknown)) => {
                        assert_eq!(unknown.as_str(), missing)
                    }
                    other => panic!("{seller} -> {buyer}: {other:?}"),
                }
            }
        });
    }
}

#[test]
fn overflowing_balances_are_refused_with_an_error() {
    for form in FORMS {
        let db = TestDatabase::migrated();
        let mut conn = db.connect();
        insert(
            &mut conn,
            &[
                ("rich", i32::MAX - 5, 10),
                ("buyer", 100, 10),
                ("hoarder", 100, i32::MAX),
            ],
        );
        let before = all(&mut conn);
        assert!(matches!(
            form.trade(&mut conn, "rich", "buyer", 1, 6),
            Err(TradeError::Overflow { balance: Balance::Coins, ref player }) if player.as_str() == "rich"
        ));
        assert!(matches!(
            form.trade(&mut conn, "buyer", "hoarder", 1, 1),
            Err(TradeError::Overflow { balance: Balance::Goods, ref player }) if player.as_str() == "hoarder"
        ));
        assert_eq!(all(&mut conn), before);
        // Up to the maximum exactly is fine.
        assert_eq!(
            form.trade(&mut conn, "rich", "buyer", 1, 5).unwrap(),
            TradeOutcome::Done
        );
    }
}

#[test]
fn a_trade_may_spend_everything() {
    for form in FORMS {
        let db = TestDatabase::migrated();
        let mut conn = db.connect();
        insert(&mut conn, &[("s", 0, 3), ("b", 7, 0)]);
        assert_eq!(
            form.trade(&mut conn, "s", "b", 3, 7).unwrap(),
            TradeOutcome::Done
        );
        let rows: Vec<(String, i32, i32)> = all(&mut conn)
            .into_iter()
            .map(|p| (p.id.to_string(), p.coins, p.goods))
            .collect();
        assert_eq!(rows, [("b".into(), 0, 3), ("s".into(), 7, 0)]);
    }
}

/// `a` and `a ` are one row to the column's collation (PAD SPACE): a trade
/// between them is refused before any statement runs, and nothing moves.
#[test]
fn a_trade_between_collation_twins_is_refused_and_changes_nothing() {
    require!(Need::SessionCounters);
    for form in FORMS {
        let (_db, mut conn) = crate::migrated();
        insert(&mut conn, &[("a", 100, 100), ("b", 100, 100)]);
        let before = all(&mut conn);
        let sent = player_testkit::sql::session_status(&mut conn)["Questions"];
        for (seller, buyer) in [("a", "a "), ("a   ", "a"), ("b ", "b  ")] {
            match form.trade(&mut conn, seller, buyer, 10, 5) {
                Err(TradeError::Invalid(_)) => {}
                other => panic!("{seller:?} -> {buyer:?}: {other:?}"),
            }
        }
        let after_sent = player_testkit::sql::session_status(&mut conn)["Questions"];
        // Only the two counter reads reached the server.
        assert_eq!(after_sent - sent, 1, "a statement was sent");
        assert_eq!(all(&mut conn), before);
    }
}

/// Ids the collation tells apart stay two players: case, leading spaces,
/// other trailing whitespace, and the longest id the column holds.
#[test]
fn ids_the_collation_tells_apart_trade_as_two_players() {
    for form in FORMS {
        let (_db, mut conn) = crate::migrated();
        let longest = "é".repeat(36);
        for (seller, buyer) in [
            ("a", "A"),
            ("a", " a"),
            ("a", "a\t"),
            ("a", longest.as_str()),
        ] {
            insert(&mut conn, &[(seller, 100, 100), (buyer, 100, 100)]);
            assert_eq!(
                form.trade(&mut conn, seller, buyer, 10, 5).unwrap(),
                TradeOutcome::Done,
                "{seller:?} -> {buyer:?}"
            );
            let rows = all(&mut conn);
            let balance = |name: &str| {
                let p = rows.iter().find(|p| p.id.as_str() == name).unwrap();
                (p.coins, p.goods)
            };
            assert_eq!(balance(seller), (105, 90), "{seller:?}");
            assert_eq!(balance(buyer), (95, 110), "{buyer:?}");
            player_core::players::delete_all(&mut conn).unwrap();
        }
    }
}
