//! `POST /trades` and `GET /trades/{key}`: the idempotency rules, refusals
//! stored like trades, and what is checked before anything is sent.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use player_testkit::poll_until;
use player_testkit::sql::hold_row_lock;
use serde_json::{Value, json};

use crate::common::{Http, Service, path_of};

fn balances(http: &Http, id: &str) -> (i64, i64) {
    let p = http.get(&path_of(id)).body;
    (p["coins"].as_i64().unwrap(), p["goods"].as_i64().unwrap())
}

fn trade(seller: &str, buyer: &str, amount: i64, price: i64) -> Value {
    json!({"seller": seller, "buyer": buyer, "amount": amount, "price": price})
}

#[test]
fn a_trade_is_made_once_and_every_retry_gets_its_answer() {
    let s = Service::start();
    s.http.players(&[("1", 200, 0), ("2", 0, 10)]);
    let first = s.http.trade(Some("order-1"), &trade("2", "1", 2, 100));
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(
        first.body,
        json!({"key": "order-1", "seller": "2", "buyer": "1", "amount": 2, "price": 100, "outcome": "done", "refusal": null})
    );
    assert_eq!(first.header("location"), Some("/trades/order-1"));
    assert_eq!(first.header("idempotent-replayed"), None);

    // The same request, and the same trade with the ids' collation twins.
    for body in [trade("2", "1", 2, 100), trade("2 ", "1  ", 2, 100)] {
        let again = s.http.trade(Some("order-1"), &body);
        assert_eq!((again.status, &again.body), (201, &first.body), "{again:?}");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(balances(&s.http, "1"), (100, 2));
    assert_eq!(balances(&s.http, "2"), (100, 8));

    // Another trade under the key: refused, nothing changes.
    let reused = s.http.trade(Some("order-1"), &trade("2", "1", 3, 100));
    reused.problem(422, "idempotency-key-reused");
    assert!(reused.detail().contains("amount 2"), "{reused:?}");
    assert_eq!(balances(&s.http, "1"), (100, 2));

    let stored = s.http.get("/trades/order-1");
    assert_eq!(stored.status, 200, "{stored:?}");
    let recorded = stored.body["recorded_at"].as_str().unwrap();
    assert!(
        recorded.len() >= 20 && recorded.ends_with('Z'),
        "{recorded}"
    );
    let mut without_time = stored.body.clone();
    without_time.as_object_mut().unwrap().remove("recorded_at");
    assert_eq!(without_time, first.body);
    s.http
        .get("/trades/order-2")
        .problem(404, "trade-not-found");
    // Keys compare byte for byte: a trailing space is another key.
    s.http
        .get(&format!("/trades/{}", "order-1%20"))
        .problem(404, "trade-not-found");
}

#[test]
fn a_refusal_is_an_outcome_stored_and_replayed() {
    let s = Service::start();
    s.http.players(&[("buyer", 50, 0), ("seller", 0, 10)]);
    let refused = s.http.trade(Some("k"), &trade("seller", "buyer", 1, 60));
    assert_eq!(refused.status, 201, "{refused:?}");
    assert_eq!(
        (
            refused.body["outcome"].as_str(),
            refused.body["refusal"].as_str()
        ),
        (Some("refused"), Some("buyer_lacks_coins"))
    );
    // Once the buyer could pay, the key still answers what it answered.
    s.http.patch("/players/buyer", &json!({"coins": 1000}));
    let again = s.http.trade(Some("k"), &trade("seller", "buyer", 1, 60));
    assert_eq!((again.status, &again.body), (201, &refused.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(balances(&s.http, "buyer"), (1000, 0));
    let goods = s.http.trade(Some("k2"), &trade("seller", "buyer", 11, 1));
    assert_eq!(goods.body["refusal"], "seller_lacks_goods");
    let done = s.http.trade(Some("k3"), &trade("seller", "buyer", 1, 60));
    assert_eq!(done.body["outcome"], "done");
    assert_eq!(balances(&s.http, "buyer"), (940, 1));
}

#[test]
fn keys_and_trades_are_checked_before_anything_is_stored() {
    let s = Service::start();
    s.http.players(&[("a", 10, 10), ("b", 10, 10)]);
    s.http
        .trade(None, &trade("a", "b", 1, 1))
        .problem(400, "missing-idempotency-key");
    for bad in [String::new(), "k".repeat(256)] {
        s.http
            .trade(Some(&bad), &trade("a", "b", 1, 1))
            .problem(400, "invalid-idempotency-key");
    }
    let two = s.http.send(
        s.http
            .client()
            .post(s.http.url("/trades"))
            .header("Idempotency-Key", "x")
            .header("Idempotency-Key", "y")
            .json(&trade("a", "b", 1, 1)),
    );
    two.problem(400, "invalid-idempotency-key");
    assert_eq!(
        s.http
            .trade(Some(&"é".repeat(255)), &trade("a", "b", 1, 1))
            .status,
        201
    );
    for (body, wording) in [
        (
            trade("a", "a ", 1, 1),
            "the seller and the buyer must be different players (both are \"a\")",
        ),
        (
            trade("a", "b", 0, 1),
            "amount: `0` is not between 1 and 2147483647",
        ),
        (
            trade("a", "b", 1, 2_147_483_648),
            "price: `2147483648` is not between 1 and 2147483647",
        ),
        (
            trade("a", "", 1, 1),
            "buyer: a player id cannot be empty or only spaces",
        ),
    ] {
        let refused = s.http.trade(Some("checked"), &body);
        refused.problem(422, "invalid-input");
        assert_eq!(refused.detail(), wording);
    }
    s.http
        .get("/trades/checked")
        .problem(404, "trade-not-found");
    s.http
        .trade(
            Some("k"),
            &json!({"seller": "a", "buyer": "b", "amount": 1}),
        )
        .problem(400, "invalid-request");

    // A typed refusal stores nothing: the key stays free for the trade.
    let unknown = s.http.trade(Some("later"), &trade("a", "nobody", 1, 1));
    unknown.problem(422, "unknown-player");
    assert!(unknown.detail().contains("\"nobody\""), "{unknown:?}");
    s.http.get("/trades/later").problem(404, "trade-not-found");
    s.http.players(&[("nobody", 10, 0)]);
    assert_eq!(
        s.http
            .trade(Some("later"), &trade("a", "nobody", 1, 1))
            .body["outcome"],
        "done"
    );

    s.http.players(&[("rich", i32::MAX, 0)]);
    let overflow = s.http.trade(Some("o"), &trade("rich", "b", 1, 1));
    // rich has no goods to sell: a refusal, not an overflow.
    assert_eq!(overflow.body["refusal"], "seller_lacks_goods");
    s.http.patch("/players/rich", &json!({"goods": 5}));
    let overflow = s.http.trade(Some("o2"), &trade("rich", "b", 1, 1));
    overflow.problem(422, "balance-overflow");
    assert!(
        overflow.detail().contains("coins of player \"rich\""),
        "{overflow:?}"
    );
}

#[test]
fn a_key_whose_first_request_still_runs_is_409() {
    let s = Service::start();
    s.http.players(&[("a", 10, 10), ("b", 10, 10)]);
    let mut holder = hold_row_lock(&s.db, "b");
    let first = {
        let http = s.http.clone();
        std::thread::spawn(move || http.trade(Some("slow"), &trade("a", "b", 1, 1)))
    };
    poll_until("the first request to run", Duration::from_secs(10), || {
        s.http.get("/trades/slow").status == 409
    });
    s.http
        .trade(Some("slow"), &trade("a", "b", 1, 1))
        .problem(409, "trade-in-flight");
    // Another body under the running key: still "in flight", not "reused".
    s.http
        .trade(Some("slow"), &trade("a", "b", 2, 1))
        .problem(409, "trade-in-flight");
    // Other keys go on.
    holder.batch_execute("ROLLBACK").unwrap();
    let first = first.join().unwrap();
    assert_eq!(first.status, 201, "{first:?}");
    let again = s.http.trade(Some("slow"), &trade("a", "b", 1, 1));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(balances(&s.http, "b"), (9, 11));
}

#[test]
fn a_client_that_disconnects_mid_trade_and_retries_gets_it_made_once() {
    let s = Service::start();
    s.http.players(&[("a", 10, 10), ("b", 10, 10)]);
    let mut holder = hold_row_lock(&s.db, "b");
    let body = trade("a", "b", 3, 4).to_string();
    let request = format!(
        "POST /trades HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nIdempotency-Key: gone\r\nContent-Length: {}\r\n\r\n{body}",
        s.server.addr(),
        body.len()
    );
    let mut socket = TcpStream::connect(s.server.addr()).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    poll_until("the trade to run", Duration::from_secs(10), || {
        s.http.get("/trades/gone").status == 409
    });
    drop(socket);
    // The retry meets the trade its job still runs, and then its answer.
    s.http
        .trade(Some("gone"), &trade("a", "b", 3, 4))
        .problem(409, "trade-in-flight");
    holder.batch_execute("ROLLBACK").unwrap();
    let mut answer = None;
    poll_until(
        "the retry to get the stored answer",
        Duration::from_secs(10),
        || {
            let retry = s.http.trade(Some("gone"), &trade("a", "b", 3, 4));
            let done = retry.status == 201;
            answer = Some(retry);
            done
        },
    );
    let answer = answer.unwrap();
    assert_eq!(
        answer.header("idempotent-replayed"),
        Some("true"),
        "{answer:?}"
    );
    assert_eq!(balances(&s.http, "a"), (14, 7));
    assert_eq!(balances(&s.http, "b"), (6, 13));
    // And a client that disconnects at once: applied once too.
    let mut socket = TcpStream::connect(s.server.addr()).unwrap();
    socket
        .write_all(request.replace("gone", "gone2").as_bytes())
        .unwrap();
    drop(socket);
    poll_until("the second trade", Duration::from_secs(10), || {
        let retry = s.http.trade(Some("gone2"), &trade("a", "b", 3, 4));
        retry.status == 201
    });
    assert_eq!(balances(&s.http, "a"), (18, 4));
}

#[test]
fn trade_outcomes_are_counted() {
    let s = Service::start();
    s.http.players(&[("a", 10, 10), ("b", 10, 10)]);
    s.http.trade(Some("1"), &trade("a", "b", 1, 1));
    s.http.trade(Some("1"), &trade("a", "b", 1, 1));
    s.http.trade(Some("2"), &trade("a", "b", 100, 1));
    s.http.trade(Some("3"), &trade("a", "zz", 1, 1));
    let text = s.http.get("/metrics").text;
    for line in [
        r#"trades_total{outcome="done"} 1"#,
        r#"trades_total{outcome="replayed"} 1"#,
        r#"trades_total{outcome="refused"} 1"#,
        r#"trades_total{outcome="unknown-player"} 1"#,
        r#"http_requests_total{method="POST",route="/trades",status="201"} 3"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}
