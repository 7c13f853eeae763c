//! A service per test, and a client for it.

use std::time::Duration;

use player_core::db::DatabaseUrl;
use player_server::{Config, Server};
use player_testkit::{TestDatabase, poll_until};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

/// Bounds short enough for a test to wait them out, in the order the
/// service nests them.
pub fn config(url: &str) -> Config {
    let url: DatabaseUrl = url.parse().unwrap();
    let mut config = Config::new(url);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.pool_size = 8;
    config.pool_wait = Duration::from_secs(2);
    config.step_timeout = Duration::from_secs(2);
    config.trade_time_limit = Duration::from_secs(3);
    config.request_timeout = Duration::from_secs(10);
    config.body_limit = 16 * 1024;
    config
}

/// A migrated database and a service on it.
pub struct Service {
    pub db: TestDatabase,
    pub server: Server,
    pub http: Http,
}

impl Service {
    pub fn start() -> Self {
        Self::with(|_| {})
    }

    pub fn with(change: impl FnOnce(&mut Config)) -> Self {
        let db = TestDatabase::migrated();
        let mut config = config(db.url());
        change(&mut config);
        let server = Server::start(config).unwrap();
        let http = Http::new(&server.base_url());
        // The pool connects in the background; tests start once it answers.
        poll_until("the service to be ready", Duration::from_secs(30), || {
            http.get("/ready").status == 200
        });
        Self { db, server, http }
    }
}

/// A service on a database of the test's own making (a private server's).
pub fn serve_on(url: &str, change: impl FnOnce(&mut Config)) -> (Server, Http) {
    let mut config = config(url);
    change(&mut config);
    let server = Server::start(config).unwrap();
    let http = Http::new(&server.base_url());
    (server, http)
}

/// A blocking HTTP client bound to one service; every call is bounded.
#[derive(Clone)]
pub struct Http {
    base: String,
    client: Client,
}

/// What a call answered: status, headers, and the body as JSON (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    fn from(r: Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem of `kind` with `status`, as RFC 9457 lays it out.
    #[track_caller]
    pub fn problem(&self, status: u16, kind: &str) -> &Self {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["type"], format!("/problems/{kind}"), "{self:?}");
        assert_eq!(self.body["status"], status, "{self:?}");
        assert!(self.body["title"].is_string(), "{self:?}");
        assert!(self.body["detail"].is_string(), "{self:?}");
        if status == 503 {
            assert_eq!(self.header("retry-after"), Some("1"), "{self:?}");
        }
        self
    }

    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

impl Http {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Answer {
        Answer::from(self.client.get(self.url(path)).send().unwrap())
    }

    pub fn delete(&self, path: &str) -> Answer {
        Answer::from(self.client.delete(self.url(path)).send().unwrap())
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        Answer::from(self.client.post(self.url(path)).json(body).send().unwrap())
    }

    pub fn patch(&self, path: &str, body: &Value) -> Answer {
        Answer::from(self.client.patch(self.url(path)).json(body).send().unwrap())
    }

    /// `POST /trades` with `key` as its Idempotency-Key (none when `None`).
    pub fn trade(&self, key: Option<&str>, body: &Value) -> Answer {
        let mut request = self.client.post(self.url("/trades")).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        Answer::from(request.send().unwrap())
    }

    /// Any request, built by the test.
    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Answer {
        Answer::from(request.send().unwrap())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates players `(id, coins, goods)`.
    pub fn players(&self, rows: &[(&str, i32, i32)]) {
        for (id, coins, goods) in rows {
            let made = self.post(
                "/players",
                &serde_json::json!({"id": id, "coins": coins, "goods": goods}),
            );
            assert_eq!(made.status, 201, "{made:?}");
        }
    }
}

/// A path segment for an id, percent-encoded.
pub fn path_of(id: &str) -> String {
    let mut url = reqwest::Url::parse("http://h/players/").unwrap();
    url.path_segments_mut().unwrap().pop_if_empty().push(id);
    url.path().to_owned()
}
