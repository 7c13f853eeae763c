//! A database that stops answering, goes away, or holds a lock: every
//! request is answered within its bounds, with a 503 or a 504 that says
//! whether anything may have been applied, and the service recovers by
//! itself when the database is back.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use player_testkit::sql::hold_row_lock;
use player_testkit::{Need, PrivateServer, poll_until, require};
use serde_json::json;

use crate::common::{Http, Service, serve_on};

/// The longest a request may take while the database is frozen: the step
/// deadline (2 s), two pings within the pool's wait (2 s each), and slack
/// for a loaded machine.
const FROZEN_BOUND: Duration = Duration::from_secs(8);

/// As [`FROZEN_BOUND`], for a trade, whose deadline is 8 s.
const TRADE_BOUND: Duration = Duration::from_secs(14);

#[track_caller]
fn timed(
    what: &str,
    bound: Duration,
    call: impl FnOnce() -> crate::common::Answer,
) -> crate::common::Answer {
    let started = Instant::now();
    let answer = call();
    let took = started.elapsed();
    assert!(took < bound, "{what} took {took:?}: {answer:?}");
    answer
}

fn ready(http: &Http) -> bool {
    http.get("/ready").status == 200
}

#[test]
fn a_frozen_then_stopped_database_is_503_within_the_bound_then_200_again() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    // A short connect timeout: the pool's connects to a frozen server give up soon.
    let url = format!("{}?connect_timeout=1", server.url("test"));
    let mut conn = player_core::db::connect(&url.parse().unwrap()).unwrap();
    player_core::migrations::run_pending(&mut conn).unwrap();
    drop(conn);
    let (_service, http) = serve_on(&url, |_| {});
    http.players(&[("a", 10, 10), ("b", 10, 10)]);
    assert!(ready(&http));

    server.pause();
    let frozen = timed("/ready, frozen", FROZEN_BOUND, || http.get("/ready"));
    frozen.problem(503, "database-unavailable");
    timed("a read, frozen", FROZEN_BOUND, || http.get("/players/a"))
        .problem(503, "database-unavailable");
    let write = timed("a write, frozen", FROZEN_BOUND, || {
        http.patch("/players/a", &json!({"coins": 11}))
    });
    assert_eq!(write.status, 503, "{write:?}");
    // A trade gets no connection that answers, or meets its deadline (its
    // time limit, 3 s, plus 5 s) before its COMMIT: either way nothing was
    // applied, and the key stays free for it.
    let body = json!({"seller": "a", "buyer": "b", "amount": 1, "price": 1});
    let traded = timed("a trade, frozen", TRADE_BOUND, || {
        http.trade(Some("frozen"), &body)
    });
    traded.problem(503, "database-unavailable");
    assert!(
        traded.detail().contains("nothing was applied"),
        "{traded:?}"
    );
    assert_eq!(http.get("/health").status, 200);
    server.resume();
    poll_until(
        "/ready once the server runs again",
        Duration::from_secs(20),
        || ready(&http),
    );
    let a = http.get("/players/a");
    assert_eq!(a.status, 200, "{a:?}");
    let again = http.trade(Some("frozen"), &body);
    assert_eq!(
        (again.status, again.header("idempotent-replayed")),
        (201, None),
        "{again:?}"
    );
    assert_eq!(http.get("/players/a").body["goods"], 9);

    server.stop(false);
    let stopped = timed("/ready, stopped", FROZEN_BOUND, || http.get("/ready"));
    stopped.problem(503, "database-unavailable");
    timed("a read, stopped", FROZEN_BOUND, || http.get("/players/a"))
        .problem(503, "database-unavailable");
    server.restart();
    poll_until(
        "/ready once the server is back",
        Duration::from_secs(20),
        || ready(&http),
    );
    assert_eq!(http.get("/players/a").status, 200);
}

#[test]
fn a_request_that_finds_every_connection_taken_waits_briefly_then_503() {
    let s = Service::with(|c| {
        c.pool_size = 1;
        c.pool_wait = Duration::from_millis(500);
        c.step_timeout = Duration::from_secs(3);
    });
    s.http.players(&[("a", 1, 1), ("b", 1, 1)]);
    let mut holder = hold_row_lock(&s.db, "a");
    let blocked = {
        let http = s.http.clone();
        std::thread::spawn(move || http.patch("/players/a", &json!({"coins": 2})))
    };
    // The one connection waits on the lock: the next request gets none.
    poll_until(
        "the PATCH to hold the only connection",
        Duration::from_secs(10),
        || {
            let answer = s.http.get("/players/b");
            answer.status == 503
        },
    );
    let busy = timed(
        "a request without a connection",
        Duration::from_secs(2),
        || s.http.get("/players/b"),
    );
    busy.problem(503, "database-unavailable");
    assert!(busy.detail().contains("0.5 s"), "{busy:?}");
    // The PATCH meets its deadline inside its transaction: nothing applied.
    let patched = blocked.join().unwrap();
    patched.problem(503, "database-unavailable");
    assert!(
        patched.detail().contains("nothing was applied"),
        "{patched:?}"
    );
    holder.batch_execute("ROLLBACK").unwrap();
    // The pool replaces the connection the deadline shut.
    poll_until("the pool to answer again", Duration::from_secs(10), || {
        s.http.get("/players/b").status == 200
    });
    assert_eq!(s.http.get("/players/a").body["coins"], 1);
}

#[test]
fn a_request_past_its_time_limit_is_504_and_does_not_claim_nothing_happened() {
    let s = Service::with(|c| {
        c.request_timeout = Duration::from_secs(1);
        c.step_timeout = Duration::from_secs(8);
    });
    s.http.players(&[("a", 1, 1)]);
    let mut holder = hold_row_lock(&s.db, "a");
    let late = timed("a PATCH behind a lock", Duration::from_secs(4), || {
        s.http.patch("/players/a", &json!({"coins": 2}))
    });
    late.problem(504, "request-timeout");
    assert!(late.detail().contains("may still be applied"), "{late:?}");
    // Its database work goes on, and applies the change once the lock is free.
    holder.batch_execute("ROLLBACK").unwrap();
    poll_until(
        "the timed-out PATCH to be applied",
        Duration::from_secs(10),
        || s.http.get("/players/a").body["coins"] == 2,
    );
    let slow_read = {
        let mut holder = hold_row_lock(&s.db, "a");
        holder.batch_execute("SELECT 1").unwrap();
        s.http.get("/players/a")
    };
    // A plain read takes no lock: it is answered at once.
    assert_eq!(slow_read.status, 200);
}
