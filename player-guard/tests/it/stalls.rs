//! A server that stops answering in the middle of a trade: the trade ends
//! within the deadline `GuardedConnection::within` gives it, and says what
//! the lost connection means for it.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use player_core::db::{self, DatabaseUrl};
use player_core::retry::RetryPolicy;
use player_core::schema::player;
use player_core::{Trade, TradeError, TransactionError};
use player_guard::connect_guarded;
use player_testkit::PrivateServer;
use player_testkit::sql::{all, connection_id, id, insert, wait_for_lock_wait};
use player_testkit::trade_form::Form;
use player_testkit::{Need, require};

/// player-core's two forms of the trade.
#[test]
fn a_server_that_stops_answering_mid_trade_ends_it_at_the_deadline() {
    require!(Need::PrivateMariaDb);
    let server = PrivateServer::start(&[]);
    let url: DatabaseUrl = server.url("test").parse().unwrap();
    let mut observer = db::connect(&url).unwrap();
    player_core::migrations::run_pending(&mut observer).unwrap();
    insert(&mut observer, &[("a", 100, 10), ("b", 100, 10)]);
    let before = all(&mut observer);
    let deadline = Duration::from_secs(2);

    for form in [Form::Transactional, Form::OneStatement] {
        let mut conn = connect_guarded(&url).unwrap();
        assert!(conn.is_guarded(), "the connection's socket was not found");
        let trade_conn = connection_id(&mut conn);
        // A lock held elsewhere keeps the trade's statement in flight.
        let mut holder = db::connect(&url).unwrap();
        holder.batch_execute("BEGIN").unwrap();
        let locked: Vec<String> = player::table
            .filter(player::id.eq(id("b")))
            .select(player::id)
            .for_update()
            .load::<player_core::PlayerId>(&mut holder)
            .unwrap()
            .into_iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(locked, ["b"]);

        let (result, took) = std::thread::scope(|s| {
            let trade = s.spawn(|| {
                let started = Instant::now();
                let (a, b) = (id("a"), id("b"));
                let trade = Trade {
                    seller: &a,
                    buyer: &b,
                    amount: 3,
                    price: 30,
                };
                let result = conn.within(deadline, |c| {
                    form.with_retry(c, &trade, &RetryPolicy::default())
                });
                (result, started.elapsed())
            });
            wait_for_lock_wait(&mut observer, trade_conn);
            server.pause();
            // Should the deadline not end the trade, the server runs again
            // (so the trade ends on the lock wait) and the test fails.
            let paused = Instant::now();
            while !trade.is_finished() && paused.elapsed() < deadline * 10 {
                std::thread::sleep(Duration::from_millis(20));
            }
            server.resume();
            trade.join().unwrap()
        });

        assert!(
            took < deadline + Duration::from_secs(3),
            "{form:?}: {took:?}"
        );
        assert_eq!(conn.stalled(), Some(deadline), "{form:?}");
        match form {
            // Before COMMIT was sent: nothing applied, and the caller knows it.
            Form::Transactional => assert!(
                matches!(
                    result,
                    Err(TradeError::Transaction(TransactionError::ConnectionLost(_)))
                ),
                "{form:?}: {result:?}"
            ),
            // The lone UPDATE commits as the server answers: unknown.
            Form::OneStatement => assert!(
                matches!(
                    result,
                    Err(TradeError::Transaction(TransactionError::OutcomeUnknown(_)))
                ),
                "{form:?}: {result:?}"
            ),
        }
        holder.batch_execute("ROLLBACK").unwrap();
        let after = all(&mut observer);
        match form {
            Form::Transactional => assert_eq!(after, before, "{form:?}"),
            // The server went on with the statement once it ran again and the
            // lock was free, and committed it, with nobody left to tell: so
            // "unknown" it is. Applied once or not at all, never twice or half.
            Form::OneStatement => {
                let traded = |s: &str, coins, goods| (s.to_owned(), coins, goods);
                let rows: Vec<_> = after
                    .iter()
                    .map(|p| (p.id.to_string(), p.coins, p.goods))
                    .collect();
                assert!(
                    after == before || rows == [traded("a", 130, 7), traded("b", 70, 13)],
                    "{rows:?}"
                );
            }
        }
    }
}
