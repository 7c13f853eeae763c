//! `player-cli serve` as a process: SIGTERM under load loses no trade it
//! acknowledged, and no answer or log line shows the password. And a client
//! that sends half a request, or nothing after an answer, holds neither its
//! connection nor the shutdown past the request time limit.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use nix::sys::signal::Signal;
use player_core::ledger::{self, IdempotencyKey};
use player_testkit::cli::Cli;
use player_testkit::net::{SilentListener, free_port};
use player_testkit::sql::hold_row_lock;
use player_testkit::{TestDatabase, poll_until};
use serde_json::json;

use crate::common::{Http, Service};

/// The `player-cli` binary, built beside this test (`cargo test --workspace`,
/// `scripts/test.sh` and CI build it; alone: `cargo build -p player-cli`).
fn player_cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join(format!("player-cli{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build -p player-cli`",
        bin.display()
    );
    bin
}

fn serve(url: &str, port: u16) -> Cli {
    Cli::new(player_cli())
        .database_url(url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .time_limit(Duration::from_secs(90))
}

#[test]
fn sigterm_under_load_loses_no_acknowledged_trade() {
    let db = TestDatabase::migrated();
    let port = free_port();
    let mut running = serve(db.url(), port).spawn();
    let http = Http::new(&format!("http://127.0.0.1:{port}"));
    poll_until("the service to answer", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http.get("/ready").status == 200
    });
    let players = ["p0", "p1", "p2", "p3"];
    for id in players {
        http.players(&[(id, 1_000_000, 1_000_000)]);
    }
    // One trade held in flight by a row lock across the signal: it must
    // still be answered, and the process wait for it.
    http.players(&[("s1", 10, 10), ("s2", 10, 10)]);
    let mut holder = hold_row_lock(&db, "s2");
    let slow = {
        let http = http.clone();
        std::thread::spawn(move || {
            http.trade(
                Some("slow"),
                &json!({"seller": "s1", "buyer": "s2", "amount": 1, "price": 1}),
            )
        })
    };
    poll_until("the slow trade to run", Duration::from_secs(10), || {
        http.get("/trades/slow").status == 409
    });
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let base = format!("http://127.0.0.1:{port}");
            std::thread::spawn(move || {
                let client_http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                let (mut sent, mut acknowledged) = (Vec::new(), Vec::new());
                for n in 0..10_000 {
                    let key = format!("c{client}-{n}");
                    let (seller, buyer) =
                        (players[(client + n) % 4], players[(client + n + 1) % 4]);
                    sent.push((key.clone(), seller, buyer));
                    let answer = client_http
                        .post(format!("{base}/trades"))
                        .header("Idempotency-Key", &key)
                        .json(&json!({"seller": seller, "buyer": buyer, "amount": 1, "price": 1}))
                        .send();
                    match answer {
                        Ok(r) if r.status() == 201 => acknowledged.push(key),
                        Ok(r) => panic!("{key}: {} {:?}", r.status(), r.text()),
                        // The service closed: stop.
                        Err(_) => break,
                    }
                }
                (sent, acknowledged)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1_500));
    let signalled = Instant::now();
    running.signal(Signal::SIGTERM);
    // It stops accepting at once, and waits for the slow trade.
    poll_until("the listener to close", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!running.has_exited(), "exited with a trade in flight");
    holder.batch_execute("ROLLBACK").unwrap();
    let slow = slow.join().unwrap();
    assert_eq!(
        (slow.status, slow.body["outcome"].as_str()),
        (201, Some("done")),
        "{slow:?}"
    );
    let run = running.finish();
    let took = signalled.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let mut conn = db.connect();
    let mut applied = 0_usize;
    let (mut acknowledged_total, mut sent_total) = (0, 0);
    let mut moved = std::collections::BTreeMap::<&str, i64>::new();
    for client in clients {
        let (sent, acknowledged) = client.join().unwrap();
        sent_total += sent.len();
        acknowledged_total += acknowledged.len();
        for key in &acknowledged {
            let stored =
                ledger::get(&mut conn, &IdempotencyKey::new(key.clone()).unwrap()).unwrap();
            let outcome = stored.map(|t| t.outcome);
            assert_eq!(
                outcome,
                Some(player_core::TradeOutcome::Done),
                "acknowledged trade {key}"
            );
        }
        for (key, seller, buyer) in &sent {
            let stored =
                ledger::get(&mut conn, &IdempotencyKey::new(key.clone()).unwrap()).unwrap();
            if stored.is_some_and(|t| t.outcome == player_core::TradeOutcome::Done) {
                applied += 1;
                *moved.entry(seller).or_default() += 1;
                *moved.entry(buyer).or_default() -= 1;
            }
        }
    }
    assert!(
        acknowledged_total > 0,
        "no trade was made before the signal"
    );
    // Applied: the acknowledged ones, and perhaps the few in flight when the
    // service closed (their clients saw the connection go).
    assert!(
        (acknowledged_total..=sent_total).contains(&applied),
        "{acknowledged_total} acknowledged, {applied} applied, {sent_total} sent"
    );
    // Every balance is its seed plus the trades the ledger holds: none made
    // without its key, none half made.
    let all = player_testkit::sql::all(&mut conn);
    let slow_pair: Vec<_> = all
        .iter()
        .filter(|p| p.id.as_str().starts_with('s'))
        .map(|p| (p.coins, p.goods))
        .collect();
    assert_eq!(slow_pair, [(11, 9), (9, 11)]);
    for p in all.iter().filter(|p| p.id.as_str().starts_with('p')) {
        let delta = moved.get(p.id.as_str()).copied().unwrap_or(0);
        assert_eq!(
            (i64::from(p.coins), i64::from(p.goods)),
            (1_000_000 + delta, 1_000_000 - delta),
            "{}",
            p.id
        );
    }
}

#[test]
fn no_answer_or_log_line_shows_the_password() {
    // A wrong password: the start is refused, the password not shown.
    let db = TestDatabase::migrated();
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_password(Some("s3cr3t-pw")).unwrap();
    let run = serve(url.as_str(), free_port())
        .env("RUST_LOG", "debug")
        .time_limit(Duration::from_secs(30))
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Access denied"), "{run:?}");
    assert!(
        !run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"),
        "{run:?}"
    );

    // A database that does not answer: the service starts, says 503, and
    // neither its answers nor its debug log show the password.
    let silent = SilentListener::start();
    let url = format!(
        "mysql://root:s3cr3t-pw@127.0.0.1:{}/test?connect_timeout=1",
        silent.port()
    );
    let port = free_port();
    let running = serve(&url, port).env("RUST_LOG", "debug").spawn();
    let http = Http::new(&format!("http://127.0.0.1:{port}"));
    poll_until("the service to answer", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    for path in ["/ready", "/players/a", "/metrics"] {
        let answer = http.get(path);
        assert!(!answer.text.contains("s3cr3t"), "{path}: {answer:?}");
        if path != "/metrics" {
            answer.problem(503, "database-unavailable");
        }
    }
    running.signal(Signal::SIGTERM);
    let run = running.finish();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("listening on http://127.0.0.1:"),
        "{run:?}"
    );
    assert!(run.stderr.contains("root:***@"), "{run:?}");
    assert!(!run.stderr.contains("s3cr3t"), "{run:?}");
}

/// A connection to the service that has sent `bytes` and no more, its reads
/// bounded.
fn sent(s: &Service, bytes: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut tcp = std::net::TcpStream::connect(s.server.addr()).unwrap();
    tcp.write_all(bytes).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp
}

/// `GET /health` and half its head.
const HALF_A_HEAD: &[u8] = b"GET /health HTTP/1.1\r\nHost: a\r\n";

/// The service closed the connection after `took`, about its 2-s limit.
#[track_caller]
fn closed_at_the_limit(closed: &std::io::Result<usize>, took: Duration) {
    assert!(closed.is_ok(), "{closed:?} after {took:?}");
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_secs(10),
        "closed after {took:?}"
    );
}

#[test]
fn a_half_sent_request_head_is_cut_off_at_the_request_time_limit() {
    use std::io::Read;
    let s = Service::with(|c| c.request_timeout = Duration::from_secs(2));
    let mut tcp = sent(&s, HALF_A_HEAD);
    let started = Instant::now();
    let closed = tcp.read_to_end(&mut Vec::new());
    closed_at_the_limit(&closed, started.elapsed());
    // The service answers the others all the while.
    assert_eq!(s.http.get("/health").status, 200);
}

#[test]
fn a_connection_idle_past_the_request_time_limit_is_closed() {
    use std::io::Read;
    let s = Service::with(|c| c.request_timeout = Duration::from_secs(2));
    let mut tcp = sent(&s, b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut answer = [0; 512];
    let n = tcp.read(&mut answer).unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer[..n])
    );
    let started = Instant::now();
    let closed = tcp.read(&mut answer);
    closed_at_the_limit(&closed, started.elapsed());
    assert!(matches!(closed, Ok(0)), "more after the answer: {closed:?}");
}

#[test]
fn a_stop_waits_for_a_half_sent_request_head_no_longer_than_the_time_limit() {
    let s = Service::with(|c| c.request_timeout = Duration::from_secs(2));
    let tcp = sent(&s, HALF_A_HEAD);
    // An idle keep-alive connection beside it closes at once.
    assert_eq!(s.http.get("/health").status, 200);
    let (done, stopped) = std::sync::mpsc::channel();
    let server = s.server;
    let started = Instant::now();
    std::thread::spawn(move || done.send(server.stop()));
    let result = stopped.recv_timeout(Duration::from_secs(10));
    let took = started.elapsed();
    // Lets a stop that waits for the connection end, should it wait.
    drop(tcp);
    assert!(
        matches!(result, Ok(Ok(()))),
        "{result:?}: not stopped after {took:?}"
    );
}
