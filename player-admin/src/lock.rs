//! Named locks (`GET_LOCK`/`RELEASE_LOCK`): one session at a time may do a
//! thing to a database, whichever client or machine it runs from.
//!
//! A lock belongs to the session that took it and ends with it, so a process
//! that dies cannot leave one behind. TiDB documents these functions from
//! v6.1 on (locking functions, MySQL compatibility), cluster-wide, with two
//! differences from MySQL that matter here: a wait is at least 1 s and at most
//! 3600 s (0 is taken as 1), and names are at most 64 characters. So a name
//! is `player.PURPOSE.` followed by the MD5 of what it guards (a database
//! name may be 64 characters itself), and a "do not wait" costs up to a second.
//! TiDB before v6.1 (pingcap/tidb#33947) refuses the functions unless they are
//! made no-ops (error 1235, "has only noop implementation"); there the lock is
//! not held ([`NamedLock::is_held`]) and the work goes on unguarded, as it always
//! did there, with a warning in the log.

use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// The longest wait TiDB allows.
pub const MAX_WAIT: Duration = Duration::from_secs(3_600);

/// A named lock this session holds; [`NamedLock::release`] gives it back
/// (closing the connection does too).
#[derive(Debug)]
#[must_use = "a lock is held until released or the connection closes"]
pub struct NamedLock {
    /// The lock's name on the server.
    name: String,
    /// False where the server has no named locks.
    held: bool,
}

/// A lock another session holds: its name on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held(pub String);

#[derive(QueryableByName)]
struct Answer {
    #[diesel(sql_type = Nullable<BigInt>)]
    answer: Option<i64>,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Released {
    #[diesel(sql_type = Nullable<BigInt>)]
    #[allow(dead_code)]
    answer: Option<i64>,
}

impl NamedLock {
    /// Takes the lock for `purpose` on `key`, waiting up to `wait` (whole
    /// seconds, at least 1 on TiDB) for another session to release it;
    /// [`Held`] if another session still holds it then.
    pub fn acquire(
        conn: &mut MysqlConnection,
        purpose: &str,
        key: &str,
        wait: Duration,
    ) -> QueryResult<Result<Self, Held>> {
        let seconds = i64::try_from(wait.min(MAX_WAIT).as_secs()).unwrap_or(0);
        let got = diesel::sql_query(
            "SELECT GET_LOCK(CONCAT('player.', ?, '.', MD5(?)), ?) AS answer, \
             CONCAT('player.', ?, '.', MD5(?)) AS name",
        )
        .bind::<Text, _>(purpose)
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(seconds)
        .bind::<Text, _>(purpose)
        .bind::<Text, _>(key)
        .get_result::<Answer>(conn);
        let got = match got {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("only noop implementation") =>
            {
                tracing::warn!(
                    purpose,
                    "the server has no named locks (TiDB before v6.1): going on without one"
                );
                return Ok(Ok(Self {
                    name: format!("player.{purpose}"),
                    held: false,
                }));
            }
            got => got?,
        };
        Ok(if got.answer == Some(1) {
            Ok(Self {
                name: got.name,
                held: true,
            })
        } else {
            Err(Held(got.name))
        })
    }

    /// The lock's name on the server, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the server holds it for this session: false on a server
    /// without named locks (see the module documentation).
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Gives the lock back.
    pub fn release(self, conn: &mut MysqlConnection) -> QueryResult<()> {
        if !self.held {
            return Ok(());
        }
        diesel::sql_query("SELECT RELEASE_LOCK(?) AS answer")
            .bind::<Text, _>(&self.name)
            .get_result::<Released>(conn)
            .map(drop)
    }
}
