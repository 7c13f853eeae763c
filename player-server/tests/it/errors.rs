//! Problems the layers answer (body limit, methods, routes, media type), a
//! 500 that shows nothing of what failed, and readiness.

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::common::Service;

#[test]
fn what_the_layers_refuse_is_a_problem_too() {
    let s = Service::start();
    let client = s.http.client();
    let big = format!(r#"{{"id":"a","pad":"{}"}}"#, "x".repeat(20 * 1024));
    let refused = s.http.send(
        client
            .post(s.http.url("/players"))
            .header("content-type", "application/json")
            .body(big.clone()),
    );
    refused.problem(413, "body-too-large");
    assert!(refused.detail().contains("16384 bytes"), "{refused:?}");
    // Without a length up front (chunked), the limit still holds.
    let chunks = std::io::Cursor::new(big.into_bytes());
    let chunked = s.http.send(
        client
            .post(s.http.url("/players"))
            .header("content-type", "application/json")
            .body(reqwest::blocking::Body::new(chunks)),
    );
    chunked.problem(413, "body-too-large");

    let text = s.http.send(
        client
            .post(s.http.url("/players"))
            .header("content-type", "text/plain")
            .body(r#"{"id":"a"}"#),
    );
    text.problem(415, "unsupported-media-type");
    let broken = s.http.send(
        client
            .post(s.http.url("/players"))
            .header("content-type", "application/json")
            .body(r#"{"id":"#),
    );
    broken.problem(400, "invalid-request");

    let put = s.http.send(client.put(s.http.url("/players/a")));
    put.problem(405, "method-not-allowed");
    assert_eq!(put.header("allow"), Some("GET,HEAD,PATCH,DELETE"));
    s.http.get("/nowhere").problem(404, "not-found");
    s.http.get("/players/a/b").problem(404, "not-found");
    // Every answer carries a request id, the client's own when it sent one.
    let mine = s.http.send(
        client
            .get(s.http.url("/health"))
            .header("x-request-id", "req-42"),
    );
    assert_eq!(mine.header("x-request-id"), Some("req-42"));
}

#[test]
fn a_500_shows_nothing_of_what_failed() {
    let s = Service::start();
    s.http.players(&[("a", 1, 1)]);
    s.db.connect().batch_execute("DROP TABLE player").unwrap();
    let failed = s.http.get("/players/a");
    failed.problem(500, "internal");
    for internal in ["player", "exist", "Table", "mysql", "root", s.db.name()] {
        assert!(!failed.text.contains(internal), "{internal}: {failed:?}");
    }
    // The service goes on answering.
    assert_eq!(s.http.get("/health").status, 200);
}

#[test]
fn ready_means_reachable_and_migrated() {
    let s = Service::start();
    assert_eq!(s.http.get("/ready").body, json!({"status": "ok"}));
    assert_eq!(s.http.get("/health").body, json!({"status": "ok"}));
    s.db.connect()
        .batch_execute("DELETE FROM __diesel_schema_migrations")
        .unwrap();
    let pending = s.http.get("/ready");
    pending.problem(503, "not-ready");
    assert!(pending.detail().contains("create_player"), "{pending:?}");
    assert_eq!(s.http.get("/health").status, 200);
}

#[test]
fn metrics_count_requests_by_route_and_status_and_the_pool() {
    let s = Service::start();
    s.http.players(&[("a", 1, 1)]);
    s.http.get("/players/a");
    s.http.get("/players/zz");
    s.http.get("/players/zz");
    let metrics = s.http.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text;
    for line in [
        r#"http_requests_total{method="POST",route="/players",status="201"} 1"#,
        r#"http_requests_total{method="GET",route="/players/{id}",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/players/{id}",status="404"} 2"#,
        r#"http_request_duration_seconds_count{method="GET",route="/players/{id}",status="404"} 2"#,
        "db_pool_connections{state=\"idle\"}",
        "db_pool_connections{state=\"in_use\"} 0",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}
