//! Every error the service answers, as an RFC 9457 problem: one
//! `application/problem+json` body with a stable `type` per kind of error,
//! the status, a title that never changes for the type, and a detail for
//! this occurrence. `docs/http.md` has the table.
//!
//! A 500 says nothing of what failed (the log line does, under the request's
//! id); no detail ever holds the database URL, whose password only
//! `DatabaseUrl::expose` shows.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of a problem (RFC 9457 section 3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// How long a client is told to wait before trying again (`Retry-After`,
/// seconds) after a 503: the pool's wait and a connect are of that order.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// What went wrong, one variant per problem type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read as the endpoint's shape: not JSON, a field
    /// of the wrong type, a missing or unknown field, a bad query string.
    #[error("{0}")]
    BadRequest(String),
    /// `POST /trades` without an `Idempotency-Key` header.
    #[error(
        "POST /trades needs an Idempotency-Key header: a key of your own (a UUID, say) that names this trade, sent again unchanged on every retry"
    )]
    MissingIdempotencyKey,
    /// An `Idempotency-Key` the ledger cannot hold.
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// The body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body passes the service's limit.
    #[error("the request body is larger than the {0} bytes this service accepts")]
    BodyTooLarge(usize),
    /// A value the shape allows but the rules refuse: an id of no or too many
    /// characters, a balance or amount out of range, collation twins.
    #[error("{0}")]
    Invalid(String),
    /// A trade naming a player who does not exist; nothing changed.
    #[error("no player has id {0:?}")]
    UnknownPlayer(String),
    /// A trade that would take a balance past the INT maximum; nothing changed.
    #[error("the trade would take the {balance} of player {player:?} past 2147483647")]
    Overflow {
        /// `coins` or `goods`.
        balance: String,
        /// The player's id.
        player: String,
    },
    /// The key already names another trade; nothing changed.
    #[error(
        "idempotency key {key:?} already names another trade (seller {seller:?}, buyer {buyer:?}, amount {amount}, price {price}); use a new key for a new trade"
    )]
    KeyReused {
        /// The key.
        key: String,
        /// The stored trade's seller.
        seller: String,
        /// The stored trade's buyer.
        buyer: String,
        /// The stored trade's amount.
        amount: i32,
        /// The stored trade's price.
        price: i32,
    },
    /// No such player.
    #[error("no player has id {0:?}")]
    PlayerNotFound(String),
    /// No trade is stored under the key.
    #[error("no trade is stored under idempotency key {0:?}")]
    TradeNotFound(String),
    /// No such endpoint.
    #[error("no endpoint at {0}")]
    RouteNotFound(String),
    /// The endpoint exists, not with this method.
    #[error("{0} is not allowed here")]
    MethodNotAllowed(String),
    /// A player with the id exists (as the column compares ids: `a` and `a `
    /// are one).
    #[error("{0}")]
    PlayerExists(String),
    /// The key's first request is still running.
    #[error(
        "the trade under idempotency key {0:?} is still running; send the same request again shortly to get its outcome"
    )]
    TradeInFlight(String),
    /// The database cannot be reached, did not answer within the bound, or
    /// no pooled connection freed up in time; nothing was applied.
    #[error("{0}")]
    Unavailable(String),
    /// The database kept answering that the transaction conflicted (write
    /// conflicts, deadlocks, lock waits) until the retry budget was spent;
    /// nothing was applied.
    #[error("{0}")]
    Contention(String),
    /// The connection was lost while a change was committing: it may or may
    /// not have been applied.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// `/ready`: the database answers but is not ready (pending migrations).
    #[error("{0}")]
    NotReady(String),
    /// The request ran past the service's time limit.
    #[error("{0}")]
    RequestTimeout(String),
    /// Anything else: the log has it, the answer does not.
    #[error("the service failed; the log has the details under this request's id")]
    Internal,
}

/// A problem as it goes on the wire (RFC 9457), with the extension member
/// `retry_after_seconds` beside the header for the 503s.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// The problem type, a stable URI reference (`/problems/<name>`): what a
    /// client matches on. It names the type; nothing is served there.
    #[serde(rename = "type")]
    #[schema(example = "/problems/player-not-found")]
    pub kind: String,
    /// The type's title, the same for every occurrence.
    #[schema(example = "Player not found")]
    pub title: String,
    /// The HTTP status, repeated.
    #[schema(example = 404)]
    pub status: u16,
    /// This occurrence, in words.
    #[schema(example = "no player has id \"alice\"")]
    pub detail: String,
}

impl ApiError {
    /// The problem type's name (the last part of its `type`), status and title.
    pub fn kind(&self) -> (&'static str, StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            Self::BadRequest(_) => ("invalid-request", S::BAD_REQUEST, "Malformed request"),
            Self::MissingIdempotencyKey => (
                "missing-idempotency-key",
                S::BAD_REQUEST,
                "Idempotency-Key header required",
            ),
            Self::InvalidIdempotencyKey(_) => (
                "invalid-idempotency-key",
                S::BAD_REQUEST,
                "Invalid Idempotency-Key",
            ),
            Self::UnsupportedMediaType(_) => (
                "unsupported-media-type",
                S::UNSUPPORTED_MEDIA_TYPE,
                "Body must be JSON",
            ),
            Self::BodyTooLarge(_) => ("body-too-large", S::PAYLOAD_TOO_LARGE, "Body too large"),
            Self::Invalid(_) => ("invalid-input", S::UNPROCESSABLE_ENTITY, "Invalid input"),
            Self::UnknownPlayer(_) => (
                "unknown-player",
                S::UNPROCESSABLE_ENTITY,
                "Trade names an unknown player",
            ),
            Self::Overflow { .. } => (
                "balance-overflow",
                S::UNPROCESSABLE_ENTITY,
                "Trade would overflow a balance",
            ),
            Self::KeyReused { .. } => (
                "idempotency-key-reused",
                S::UNPROCESSABLE_ENTITY,
                "Idempotency key names another trade",
            ),
            Self::PlayerNotFound(_) => ("player-not-found", S::NOT_FOUND, "Player not found"),
            Self::TradeNotFound(_) => ("trade-not-found", S::NOT_FOUND, "Trade not found"),
            Self::RouteNotFound(_) => ("not-found", S::NOT_FOUND, "No such endpoint"),
            Self::MethodNotAllowed(_) => (
                "method-not-allowed",
                S::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            Self::PlayerExists(_) => ("player-exists", S::CONFLICT, "Player already exists"),
            Self::TradeInFlight(_) => ("trade-in-flight", S::CONFLICT, "Trade still running"),
            Self::Unavailable(_) => (
                "database-unavailable",
                S::SERVICE_UNAVAILABLE,
                "Database unavailable",
            ),
            Self::Contention(_) => (
                "database-contention",
                S::SERVICE_UNAVAILABLE,
                "Too much contention",
            ),
            Self::OutcomeUnknown(_) => {
                ("outcome-unknown", S::SERVICE_UNAVAILABLE, "Outcome unknown")
            }
            Self::NotReady(_) => ("not-ready", S::SERVICE_UNAVAILABLE, "Not ready"),
            Self::RequestTimeout(_) => (
                "request-timeout",
                S::GATEWAY_TIMEOUT,
                "Request took too long",
            ),
            Self::Internal => (
                "internal",
                S::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ),
        }
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.kind().1
    }

    /// The problem body.
    pub fn problem(&self) -> Problem {
        let (name, status, title) = self.kind();
        Problem {
            kind: format!("/problems/{name}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        }
    }

    /// The database could not be used within `waited`: a 503.
    pub fn no_connection(waited: Duration) -> Self {
        Self::Unavailable(format!(
            "no database connection could be had within {} s (the database is unreachable, or every connection is busy); nothing was applied, try again",
            waited.as_secs_f64()
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(kind = %problem.kind, detail = %problem.detail, "answered with a problem");
        } else {
            tracing::debug!(kind = %problem.kind, "answered with a problem");
        }
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}
