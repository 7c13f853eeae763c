//! Recovery from a Diesel 2.3 bug on MySQL: a cached prepared statement whose
//! execution failed keeps failing.
//!
//! Diesel's MySQL backend binds the parameters of a cached statement and then
//! reads `mysql_stmt_error()` before executing it, and the client library
//! clears a statement's error only when the statement is executed again or its
//! result freed. So once the server has answered one `EXECUTE` of a cached
//! statement with an error (a lock wait timeout, a deadlock, a duplicate key,
//! TiDB's write conflict), every later use of that statement on the connection
//! returns the same error without reaching the server: a retry cannot succeed,
//! and a pooled connection stays poisoned. Checked against diesel 2.3.14 with
//! the bundled libmysqlclient 9.5 (`tests/it/statement_cache.rs`, whose first
//! test fails the day Diesel fixes it).
//!
//! The way out, with Diesel's public API only, in one place: every connection
//! this crate opens carries a [`FailedStatements`] instrumentation, which
//! notes that a statement failed; [`recover`] then empties the connection's
//! statement cache, so the next use prepares each statement afresh. The retry
//! loop of [`transaction::run`](crate::transaction::run) calls it before each
//! run, and the pool when a connection comes back. Your own queries need
//! nothing.

use diesel::connection::{CacheSize, Connection, Instrumentation, InstrumentationEvent};
use diesel::mysql::MysqlConnection;
use diesel::result::Error;

/// Notes whether a statement on its connection failed with a database error
/// since the last [`recover`], and since the connection last came back to a
/// pool ([`failed_since_recycled`]).
#[derive(Debug, Default)]
pub(crate) struct FailedStatements {
    failed: bool,
    since_recycled: bool,
}

impl Instrumentation for FailedStatements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error: Some(Error::DatabaseError(..)),
            ..
        } = event
        {
            self.failed = true;
            self.since_recycled = true;
        }
    }
}

/// Gives `conn` the instrumentation that [`recover`] reads. It replaces
/// Diesel's default one (none unless set with `set_default_instrumentation`).
pub(crate) fn watch(conn: &mut MysqlConnection) {
    conn.set_instrumentation(FailedStatements::default());
}

/// Empties the connection's prepared-statement cache if a statement failed
/// on it since the last call (or, on a connection not [`watch`]ed, if
/// `failed` says so). The closes need no answer from the server, so this makes
/// no round trip. The cache is left unbounded, Diesel's default.
pub(crate) fn recover(conn: &mut MysqlConnection, failed: bool) {
    let noted = conn
        .instrumentation()
        .downcast_mut::<FailedStatements>()
        .is_some_and(|watch| std::mem::take(&mut watch.failed));
    if failed || noted {
        tracing::debug!("emptying the prepared-statement cache after a failed statement");
        // Changing the cache's size replaces the cache, dropping (closing) what it held.
        conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
    }
}

/// Whether a statement failed on `conn` since the last call (always true on a
/// connection not [`watch`]ed: nothing says otherwise).
pub(crate) fn failed_since_recycled(conn: &mut MysqlConnection) -> bool {
    conn.instrumentation()
        .downcast_mut::<FailedStatements>()
        .is_none_or(|watch| std::mem::take(&mut watch.since_recycled))
}
