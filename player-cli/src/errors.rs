//! What the user reads when something fails: a next step for the errors where
//! one is known. The texts name this project's scripts, so they live here,
//! not in the libraries.

use diesel::result::Error as DieselError;
use player_admin::doctor::DoctorError;
use player_bank::BankError;
use player_core::db::{ConnectError, ConnectFailure, TlsError};
use player_core::ledger::KeyedTradeError;
use player_core::{TradeError, TransactionError};

use crate::commands::Stalled;
use crate::config::BadUrl;

/// A next step for `err`: for a [`Stalled`] step, else found by walking its
/// chain once and looking at the libraries' public error variants. Where it
/// names the URL, it names where the URL came from.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    let source = crate::config::source_name();
    hint_text(err).map(|h| h.replace("DATABASE_URL", &source))
}

fn hint_text(err: &anyhow::Error) -> Option<&'static str> {
    if err.downcast_ref::<Stalled>().is_some() {
        return Some(
            "the server stopped answering, or the work waited on a lock never released (a table lock, a DDL, a transaction left open); if the server is only slow, raise --stall-timeout (for `trade`, --time-limit)",
        );
    }
    err.chain().find_map(|e| {
        if let Some(e) = e.downcast_ref::<ConnectError>() {
            return connect_hint(e);
        }
        if let Some(e) = e.downcast_ref::<BadUrl>() {
            return connect_hint(&e.error);
        }
        if let Some(DoctorError::Connect(e)) = e.downcast_ref::<DoctorError>() {
            return connect_hint(e);
        }
        if let Some(hint) = trade_hint(e) {
            return Some(hint);
        }
        let database = match e.downcast_ref::<BankError>() {
            Some(BankError::Connect(e)) => return connect_hint(e),
            Some(BankError::Database(e)) => Some(e),
            _ => None,
        };
        let database = database
            .or_else(|| match e.downcast_ref::<TransactionError>() {
                Some(TransactionError::Failed(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match e.downcast_ref::<player_core::Error>() {
                Some(player_core::Error::Database(e)) => Some(e),
                _ => None,
            })
            .or_else(|| e.downcast_ref::<DieselError>());
        database.and_then(database_hint)
    })
}

/// What to do after a trade whose outcome is unknown, or whose key is busy.
fn trade_hint(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    if let Some(TradeError::Transaction(TransactionError::OutcomeUnknown(_))) = err.downcast_ref() {
        return Some(
            "read the balances back to learn whether it was applied (`player-cli player get ID`); next time give the trade --key KEY: run again with the same key, it prints the outcome and applies the trade at most once",
        );
    }
    match err.downcast_ref::<KeyedTradeError>()? {
        e if e.may_be_applied() => Some(
            "run the same command again, with the same --key: it prints the trade's outcome and applies it at most once",
        ),
        KeyedTradeError::InFlight(_) => Some(
            "another run with this key has not finished: look it up with `player-cli ledger get KEY`, or run the same command again later",
        ),
        _ => None,
    }
}

fn connect_hint(err: &ConnectError) -> Option<&'static str> {
    match err {
        // These say what to do themselves.
        ConnectError::InvalidUrl(why)
            if why.contains("database name") || why.contains("port 0") =>
        {
            None
        }
        ConnectError::InvalidUrl(_) => Some(
            "the form is mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, with special characters percent-encoded",
        ),
        ConnectError::Tls(TlsError::NotEnforceable(_)) => Some(
            "build with the workspace's mysqlclient-sys `bundled` feature (the default here), or lower ssl_mode to preferred knowing it may fall back to plaintext",
        ),
        ConnectError::Tls(TlsError::MissingCa(_) | TlsError::UnreadableFile { .. }) => Some(
            "ssl_ca is the CA bundle: /etc/ssl/certs/ca-certificates.crt on Debian/Ubuntu, /etc/ssl/cert.pem on macOS",
        ),
        ConnectError::Tls(_) | ConnectError::Session(_) => None,
        ConnectError::Timeout { .. } => Some(
            "something took the connection but never answered: check that host and port are a MySQL server's, or raise connect_timeout (seconds) in DATABASE_URL",
        ),
        ConnectError::Connect { failure, .. } => match failure {
            ConnectFailure::Unreachable => Some(
                "is the server running? Start the local one with `scripts/local-db.sh start`, or set DATABASE_URL",
            ),
            ConnectFailure::Socket => Some(
                "host `localhost` without a port (or with unix_socket) means the server's Unix socket; for TCP give a port (localhost:4000) or 127.0.0.1, or point unix_socket at the server's socket file",
            ),
            ConnectFailure::AccessDenied => Some(
                "check the user and password in DATABASE_URL (percent-encode special characters; TiDB Cloud users carry a prefix such as `xxxxxxxx.root`)",
            ),
            ConnectFailure::DatabaseDenied => Some(
                "the user and password are right, but the user has no privileges on that database: have them granted (GRANT ALL ON db.* TO user), or use a database the user may use",
            ),
            ConnectFailure::TooManyConnections => Some(TOO_MANY_CONNECTIONS),
            ConnectFailure::ServerWithoutTls => Some(
                "the server does not offer TLS: enable it there, or lower ssl_mode to preferred for a local test server",
            ),
            ConnectFailure::Tls => Some(
                "check ssl_ca (the CA that signed the server's certificate; for TiDB Cloud the system bundle) and that the URL's host is the name in the certificate",
            ),
            ConnectFailure::UnknownDatabase => Some(
                "create it and its tables with `player-cli setup`, or change the database in DATABASE_URL",
            ),
            ConnectFailure::Other => None,
        },
    }
}

/// The server's `max_connections` is reached.
const TOO_MANY_CONNECTIONS: &str = "the server has all the connections its max_connections allows: lower --workers (for `bank`), close other clients, or raise max_connections";

fn database_hint(err: &DieselError) -> Option<&'static str> {
    match err {
        DieselError::DatabaseError(_, info)
            if info.message().contains("Access denied")
                && info.message().contains(" to database ") =>
        {
            Some(
                "the user has no privileges for this (creating a database needs CREATE on it): have them granted, or use a database that exists and the user may use",
            )
        }
        DieselError::DatabaseError(_, info) if info.message().contains("doesn't exist") => {
            Some("apply the migrations first: player-cli migrate")
        }
        _ => None,
    }
}

/// True when `err` is a closed stdout (e.g. `player-cli player list | head -1`):
/// the reader has what it wanted, so that is not worth a message.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
