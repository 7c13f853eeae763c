//! Which errors the retrying transaction runs again, read from the texts
//! TiDB, MySQL and MariaDB send (`player_core::retry::classify`).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use player_core::retry::{ErrorClass, Retryable, classify};

fn server_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
    DieselError::DatabaseError(kind, Box::new(message.to_owned()))
}

fn unknown(message: &str) -> ErrorClass {
    classify(&server_error(DatabaseErrorKind::Unknown, message))
}

#[test]
fn tidb_retryable_errors_are_recognised_by_their_texts() {
    let cases = [
        (
            "Write conflict, txnStartTS=449396441340575745, conflictStartTS=449396441340575746, \
             conflictCommitTS=449396441353682945, key={tableID=84, handle=1}, \
             originalKey=748000000000000054, primary={tableID=84, handle=1}, \
             originalPrimaryKey=748000000000000054, reason=Optimistic [try again later]",
            Retryable::WriteConflict,
        ),
        (
            "Write conflict, txnStartTS 449396441340575745 is stale",
            Retryable::WriteConflict,
        ),
        (
            "[449396441340575745] can not retry select for update statement",
            Retryable::ForUpdateConflict,
        ),
        (
            "Error: KV error safe to retry tikv restarts txn: Txn(Mvcc(TxnLockNotFound { \
             start_ts: 412720515987275779 })) [try again later]",
            Retryable::TxnRetryable,
        ),
        (
            "Information schema is changed during the execution of the statement(for example, \
             table definition may be updated by other DDL ran in parallel). If you see this \
             error often, try increasing `tidb_max_delta_schema_count`. [try again later]",
            Retryable::SchemaChanged,
        ),
        (
            "Deadlock found when trying to get lock; try restarting transaction",
            Retryable::Deadlock,
        ),
        (
            "Lock wait timeout exceeded; try restarting transaction",
            Retryable::LockWaitTimeout,
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(
            unknown(message),
            ErrorClass::Retryable(expected),
            "{message}"
        );
    }
}

#[test]
fn diesel_deadlock_kind_is_retryable_whatever_the_text() {
    let err = server_error(DatabaseErrorKind::SerializationFailure, "something");
    assert_eq!(classify(&err), ErrorClass::Retryable(Retryable::Deadlock));
}

#[test]
fn each_condition_carries_the_servers_error_number() {
    let codes = [
        (Retryable::WriteConflict, 9007),
        (Retryable::ForUpdateConflict, 8002),
        (Retryable::TxnRetryable, 8022),
        (Retryable::SchemaChanged, 8028),
        (Retryable::Deadlock, 1213),
        (Retryable::LockWaitTimeout, 1205),
    ];
    for (reason, code) in codes {
        assert_eq!(reason.code(), code, "{reason:?}");
    }
}

#[test]
fn diesels_closed_connection_kind_is_a_lost_connection_whatever_the_text() {
    let err = server_error(DatabaseErrorKind::ClosedConnection, "something");
    assert_eq!(classify(&err), ErrorClass::ConnectionLost);
    let err = server_error(DatabaseErrorKind::UniqueViolation, "something");
    assert_eq!(classify(&err), ErrorClass::Other);
}

#[test]
fn lost_connections_are_recognised() {
    for message in [
        "MySQL server has gone away",
        "Server has gone away",
        "Lost connection to MySQL server during query",
        "Lost connection to server during query",
        "Connection was killed",
        "Server shutdown in progress",
        "The client was disconnected by the server because of inactivity.",
    ] {
        assert_eq!(unknown(message), ErrorClass::ConnectionLost, "{message}");
    }
    assert_eq!(
        classify(&DieselError::BrokenTransactionManager),
        ErrorClass::ConnectionLost
    );
}

#[test]
fn other_errors_are_not_retried() {
    for message in [
        "Duplicate entry '1' for key 'PRIMARY'",
        "Out of range value for column 'coins' at row 1",
        "Table 'test.player' doesn't exist",
        "PD server timeout [try again later]",
        "Query execution was interrupted",
    ] {
        assert_eq!(unknown(message), ErrorClass::Other, "{message}");
    }
    assert_eq!(classify(&DieselError::NotFound), ErrorClass::Other);
}

#[test]
fn a_failed_rollback_after_commit_is_judged_by_the_commit_error() {
    let err = DieselError::RollbackErrorOnCommit {
        rollback_error: Box::new(server_error(
            DatabaseErrorKind::Unknown,
            "MySQL server has gone away",
        )),
        commit_error: Box::new(server_error(
            DatabaseErrorKind::Unknown,
            "Write conflict, txnStartTS=1, conflictStartTS=2 [try again later]",
        )),
    };
    assert_eq!(
        classify(&err),
        ErrorClass::Retryable(Retryable::WriteConflict)
    );
}
