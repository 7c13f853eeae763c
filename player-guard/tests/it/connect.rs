//! `connect` and `pool` against a peer that accepts TCP connections and never
//! says a word: each gives up at the URL's `connect_timeout`, and what was left
//! waiting ends too.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use player_core::db::{ConnectError, DatabaseUrl};
use player_testkit::net::SilentListener;

/// The client library would wait for the handshake forever; `connect` gives
/// up at the URL's `connect_timeout`.
/// Connects are opened one at a time in the process, so the fifty silent
/// connects of the other test would hold up this one's timing: they take turns.
static SILENT_PEERS: Mutex<()> = Mutex::new(());

#[test]
fn a_server_that_never_answers_times_out() {
    let _turn = SILENT_PEERS.lock().unwrap_or_else(PoisonError::into_inner);
    let silent = SilentListener::start();
    let url: DatabaseUrl = silent
        .url("connect_timeout=1")
        .replacen("root@", "root:s3cret@", 1)
        .parse()
        .unwrap();
    let connect = || player_guard::connect(&url).map(drop);
    let guarded = || player_guard::connect_guarded(&url).map(drop);
    let pool = || player_guard::pool(&url, 2).map(drop);
    for attempt in [
        &connect as &dyn Fn() -> Result<(), ConnectError>,
        &guarded,
        &pool,
    ] {
        let started = Instant::now();
        let err = attempt().expect_err("nothing answers");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "{took:?}"
        );
        assert!(
            matches!(err, ConnectError::Timeout { after, .. } if after == Duration::from_secs(1)),
            "{err}"
        );
        assert!(err.to_string().contains("no answer within 1 s"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}

/// This process's threads that are opening a connection.
#[cfg(target_os = "linux")]
fn connect_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim_end() == "guard-connect")
        })
        .count()
}

#[cfg(target_os = "linux")]
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Each connect given up on at its timeout leaves no thread behind: r2d2
/// refilling a pool from a server that never answers would otherwise add one
/// per attempt for as long as the server keeps the sessions.
#[cfg(target_os = "linux")]
#[test]
fn connects_given_up_on_leave_no_thread_waiting() {
    let _turn = SILENT_PEERS.lock().unwrap_or_else(PoisonError::into_inner);
    let silent = SilentListener::start();
    let url: DatabaseUrl = silent.url("connect_timeout=0.2").parse().unwrap();
    let before = threads();
    for attempt in 0..50 {
        let err = player_guard::connect(&url)
            .map(drop)
            .expect_err("nothing answers");
        // Not refused for the connects still waiting: each one ended.
        assert!(
            matches!(err, ConnectError::Timeout { .. }),
            "attempt {attempt}: {err}"
        );
    }
    assert_eq!(silent.accepted(), 50);
    let waited = Instant::now();
    while connect_threads() > 1 && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = threads();
    eprintln!(
        "threads: {before} before 50 silent connects, {after} after ({} connecting)",
        connect_threads()
    );
    // At most one other test's connect in flight, not one per attempt.
    assert!(
        connect_threads() <= 1,
        "{} still connecting",
        connect_threads()
    );
    assert!(
        after < before + 20,
        "{before} threads before, {after} after"
    );
}
