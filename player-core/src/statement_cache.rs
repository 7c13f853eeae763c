//! Recovery from a Diesel 2.3 bug on MySQL: a cached prepared statement whose
//! execution failed keeps failing.
//!
//! Diesel's MySQL backend binds the parameters of a statement from its cache and
//! then reads `mysql_stmt_error()` before executing it. The client library
//! clears a statement's error only when the statement is executed again or its
//! result freed. So once the server has answered one `EXECUTE` of a cached
//! statement with an error (a lock wait timeout, a deadlock, a duplicate key,
//! TiDB's write conflict), every later use of that statement on the connection
//! returns the same error without reaching the server: retries cannot succeed,
//! and a pooled connection stays poisoned. Checked against diesel 2.3.14 with
//! the bundled libmysqlclient 9.5 (`tests/it/statement_cache.rs`).
//!
//! Diesel caches `DELETE`s and `SELECT`s, and this crate caches its multi-row
//! `INSERT` and the trade's `UPDATE`. A `SELECT` on MySQL or MariaDB usually
//! fails after the server has sent its result-set header, when Diesel frees the
//! result and with it the error; TiDB sends that header only with the first
//! rows, so there a failed `SELECT ... FOR UPDATE` is poisoned too.
//!
//! The way out, with Diesel's public API only: after a database error, empty
//! the connection's statement cache, so the next use prepares each statement
//! afresh. Errors are rare, and preparing again costs one round trip per
//! statement, once. [`recover`] wraps an operation that way; every query of
//! [`players`](crate::players) and the trade's retry loop use it.

use diesel::connection::{CacheSize, Connection};
use diesel::mysql::MysqlConnection;
use diesel::result::{Error, QueryResult};

/// Runs `op` on the connection and, if it fails with a database error, empties
/// the connection's prepared-statement cache (see the module documentation)
/// before returning the error.
pub fn recover<T>(
    conn: &mut MysqlConnection,
    op: impl FnOnce(&mut MysqlConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    let result = op(conn);
    if let Err(error) = &result {
        forget_after(conn, error);
    }
    result
}

/// Empties the connection's prepared-statement cache if `error` came from the
/// server or the client library, which may have left a cached statement
/// poisoned. Other errors (a row that cannot be deserialized, a query that
/// cannot be built) leave the cache as it is.
pub fn forget_after(conn: &mut MysqlConnection, error: &Error) {
    if matches!(error, Error::DatabaseError(..)) {
        forget_all(conn);
    }
}

/// Closes every prepared statement the connection has cached; later queries
/// prepare theirs again. The closes need no answer from the server, so this
/// makes no round trip. The cache is left unbounded, Diesel's default.
pub fn forget_all(conn: &mut MysqlConnection) {
    tracing::debug!("emptying the prepared-statement cache after a database error");
    // Changing the cache's size replaces the cache, dropping (closing) what it held.
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
    conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
}
