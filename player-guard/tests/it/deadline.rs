//! The deadline `within` is given: none too long.

use std::time::Duration;

use player_core::db::DatabaseUrl;
use player_core::retry::RetryPolicy;
use player_guard::connect_guarded;
use player_testkit::TestDatabase;
use player_testkit::sql::connection_id;

/// A limit too far off for a point in time, as `RetryPolicy::NEVER`'s, is no
/// deadline: the operation runs as it would unguarded.
#[test]
fn no_limit_is_too_long() {
    let db = TestDatabase::create();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let mut conn = connect_guarded(&url).unwrap();
    // (Guarded or not: another test's connection to the same port at the
    // same instant can hide the socket; either way no limit may panic.)
    assert!(cfg!(target_os = "linux") || !conn.is_guarded());
    let limit = player_guard::deadline_for(&RetryPolicy::NEVER);
    assert_eq!(limit, Duration::MAX);
    let id = conn.within(limit, connection_id);
    assert!(id > 0);
    assert_eq!(conn.stalled(), None);
    assert_eq!(conn.within(Duration::MAX, connection_id), id);
}

/// A deadline armed after a later one is kept: the one thread that keeps
/// them wakes for the earlier one, though it was sleeping until the later.
#[cfg(target_os = "linux")]
#[test]
fn an_earlier_deadline_armed_after_a_later_one_is_kept() {
    use std::time::Instant;

    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    let db = TestDatabase::create();
    let url: DatabaseUrl = db.url().parse().unwrap();
    // Another test's connection to the same port at the same instant can hide
    // a socket: a few tries for each.
    let guarded = || {
        (0..10)
            .map(|_| connect_guarded(&url).unwrap())
            .find(|c| c.is_guarded())
            .expect("a guarded connection in ten tries")
    };
    let (mut late, mut early) = (guarded(), guarded());
    let sleep = |conn: &mut diesel::MysqlConnection| {
        diesel::select(diesel::dsl::sql::<Integer>("SLEEP(4)")).get_result::<i32>(conn)
    };
    let (early_took, late_result) = std::thread::scope(|s| {
        let late = s.spawn(|| late.within(Duration::from_secs(60), sleep));
        // The later deadline is armed first.
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let result = early.within(Duration::from_millis(300), sleep);
        assert!(result.is_err(), "{result:?}");
        (started.elapsed(), late.join().unwrap())
    });
    assert!(early_took < Duration::from_secs(2), "{early_took:?}");
    assert_eq!(early.stalled(), Some(Duration::from_millis(300)));
    // The other ran to its end, untouched.
    assert_eq!(late_result.ok(), Some(0));
    assert_eq!(late.stalled(), None);
}
