//! The one bounded wait of the tests: poll a condition until it holds, and
//! fail the test, naming what never happened, when it does not in time.

use std::time::{Duration, Instant};

/// How long a poll sleeps between two looks: fast enough that no test notices
/// the wait. (Looks at `INNODB_TRX`, which MariaDB and MySQL serve from a
/// cache, also take turns across tests: see `sql::wait_for_lock_wait`.)
pub const POLL_EVERY: Duration = Duration::from_millis(150);

/// Calls `ready` until it returns true, every [`POLL_EVERY`], and panics with
/// "never saw {what}" once `limit` has passed: a test waits for the thing it
/// expects, never for ever.
pub fn poll_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "never saw {what} within {limit:?}"
        );
        std::thread::sleep(POLL_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_once_the_condition_holds() {
        let mut looks = 0;
        poll_until("the third look", Duration::from_secs(5), || {
            looks += 1;
            looks == 3
        });
        assert_eq!(looks, 3);
    }

    #[test]
    #[should_panic(expected = "never saw a miracle within")]
    fn fails_after_the_limit() {
        poll_until("a miracle", Duration::from_millis(200), || false);
    }
}
