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
