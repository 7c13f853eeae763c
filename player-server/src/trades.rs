//! `/trades`: a trade made exactly once under the client's
//! `Idempotency-Key`, with player-core's ledger (the key's row and the trade
//! in one transaction), and read back by its key.
//!
//! The rules, as the IETF's Idempotency-Key draft and payment APIs have them:
//!
//! - no key: 400; a key the ledger cannot hold: 400;
//! - the first request with a key makes the trade, or is refused by the
//!   balances: either way the outcome is stored with the key, and the answer
//!   is 201 with the trade (`outcome` `done` or `refused`) and `Location:
//!   /trades/{key}`;
//! - the same key and the same trade again: the stored answer, 201 and the
//!   same body, with `Idempotent-Replayed: true`; nothing changes;
//! - the same key with another trade: 422, nothing changes;
//! - the same key while its first request still runs (in this process; in
//!   another one the ledger waits for it): 409, try again shortly;
//! - a typed refusal (an unknown player, an overflow) or a failure that
//!   applied nothing stores nothing: the key stays free for that trade;
//! - a failure that may have applied it (a lost `COMMIT`, a request past its
//!   time limit): 503 or 504 saying so; the same request with the same key
//!   tells which.
//!
//! A refusal is 201 like a trade that is done, not a 4xx: the request was
//! valid and the ledger stored its outcome, which every retry gets back, as
//! the library returns a refusal as an outcome and not an error; a client
//! branches on `outcome`. A 4xx would tell generic client code to change the
//! request, when sending it again changes nothing.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use player_core::ledger::{self, IdempotencyKey, KeyedTrade, KeyedTradeError};
use player_core::{Refusal, RetryPolicy, Trade, TradeError, TradeOutcome, TransactionError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::database::transaction_error;
use crate::extract::{Json, Path};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::{links, validate};

/// The request header naming a trade.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The answer header of a stored answer sent again.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Adds the trade routes.
pub(crate) fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/trades", post(create))
        .route("/trades/{key}", get(get_one))
}

/// A trade to make: the seller gives `amount` goods to the buyer for
/// `price` coins.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TradeRequest {
    /// Id of the player who gives goods and receives coins.
    #[schema(example = "2")]
    pub seller: String,
    /// Id of the player who gives coins and receives goods; not the seller
    /// (`a` and `a ` are one player).
    #[schema(example = "1")]
    pub buyer: String,
    /// Goods that move, 1 to 2147483647.
    #[schema(example = 2)]
    pub amount: i64,
    /// Coins that move, 1 to 2147483647.
    #[schema(example = 100)]
    pub price: i64,
}

/// A trade and how it came out, as stored under its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TradeBody {
    /// The Idempotency-Key it was made under.
    #[schema(example = "order-1")]
    pub key: String,
    /// The seller, as the first request named it.
    #[schema(example = "2")]
    pub seller: String,
    /// The buyer, as the first request named it.
    #[schema(example = "1")]
    pub buyer: String,
    /// Goods asked to move.
    #[schema(example = 2)]
    pub amount: i32,
    /// Coins asked to move.
    #[schema(example = 100)]
    pub price: i32,
    /// `done` (coins and goods moved) or `refused` (the balances did not
    /// allow it; nothing moved).
    #[schema(example = "done")]
    pub outcome: String,
    /// Why it was refused: `seller_lacks_goods` or `buyer_lacks_coins`;
    /// null when done.
    pub refusal: Option<String>,
}

/// A stored trade, with when its transaction wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredTradeBody {
    /// The trade.
    #[serde(flatten)]
    pub trade: TradeBody,
    /// When the ledger recorded it (the database's clock), RFC 3339.
    #[schema(example = "2026-12-01T10:30:00.123456Z")]
    pub recorded_at: String,
}

impl TradeBody {
    fn new(key: &IdempotencyKey, trade: &Trade, outcome: TradeOutcome) -> Self {
        let (outcome, refusal) = match outcome {
            TradeOutcome::Done => ("done", None),
            TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
                ("refused", Some("seller_lacks_goods"))
            }
            TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
                ("refused", Some("buyer_lacks_coins"))
            }
        };
        Self {
            key: key.to_string(),
            seller: trade.seller.to_string(),
            buyer: trade.buyer.to_string(),
            amount: trade.amount,
            price: trade.price,
            outcome: outcome.to_owned(),
            refusal: refusal.map(str::to_owned),
        }
    }

    fn stored(row: &KeyedTrade) -> Self {
        let trade = Trade {
            seller: &row.seller,
            buyer: &row.buyer,
            amount: row.amount,
            price: row.price,
        };
        Self::new(&row.key, &trade, row.outcome)
    }
}

/// The request's Idempotency-Key: its value as sent (quotes, if any, are
/// part of it), 1 to 255 characters of UTF-8 without control characters.
fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let value = values.next().ok_or(ApiError::MissingIdempotencyKey)?;
    if values.next().is_some() {
        return Err(ApiError::InvalidIdempotencyKey(
            "send one Idempotency-Key header, not several".into(),
        ));
    }
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| ApiError::InvalidIdempotencyKey("the Idempotency-Key is not UTF-8".into()))?;
    IdempotencyKey::new(text).map_err(|e| ApiError::InvalidIdempotencyKey(e.to_string()))
}

/// The answer for a keyed trade's error.
fn trade_error(error: KeyedTradeError) -> ApiError {
    match error {
        KeyedTradeError::KeyReused(row) => ApiError::KeyReused {
            key: row.key.to_string(),
            seller: row.seller.to_string(),
            buyer: row.buyer.to_string(),
            amount: row.amount,
            price: row.price,
        },
        KeyedTradeError::InFlight(key) => ApiError::TradeInFlight(key.to_string()),
        KeyedTradeError::Trade(e) => match e {
            TradeError::Invalid(e) => ApiError::Invalid(e.to_string()),
            TradeError::UnknownPlayer(id) => ApiError::UnknownPlayer(id.to_string()),
            TradeError::Overflow { balance, player } => ApiError::Overflow {
                balance: balance.to_string(),
                player: player.to_string(),
            },
            TradeError::Transaction(TransactionError::OutcomeUnknown(_)) => ApiError::OutcomeUnknown(
                "the connection to the database was lost while the trade was committing: it may or may not have been made; send the same request with the same Idempotency-Key to learn which".into(),
            ),
            TradeError::Transaction(TransactionError::ConnectionLost(_)) => ApiError::Unavailable(
                "the connection to the database was lost before the trade committed; nothing was applied, send it again with the same Idempotency-Key".into(),
            ),
            TradeError::Transaction(e) => transaction_error(&e),
            e @ TradeError::UnexpectedRowCount { .. } => {
                tracing::error!(error = %e, "trade");
                ApiError::Internal
            }
        },
    }
}

/// Makes a trade exactly once under the request's Idempotency-Key.
#[utoipa::path(post, path = "/trades", tag = "trades", request_body = TradeRequest,
    params(("Idempotency-Key" = String, Header, description = "A key of the client's own naming this trade (a UUID, say), sent again unchanged on every retry; 1 to 255 characters")),
    responses(
        (status = 201, description = "Made or refused by the balances (see `outcome`), and stored under the key; a replay carries `Idempotent-Replayed: true`", body = TradeBody),
        (status = 400, description = "No Idempotency-Key, or one the ledger cannot hold", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key's first request is still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key names another trade, a player is unknown, a balance would overflow, or a value is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Nothing applied (database unavailable, contention), or the outcome is unknown (`outcome-unknown`): send the same request again", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Past the request's time limit; the trade may still be made: send the same request again", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<TradeRequest>,
) -> Result<Response, ApiError> {
    let answer = make(&state, &headers, body).await;
    state.telemetry.trade(match &answer {
        Ok((_, true)) => "replayed",
        Ok((body, false)) if body.outcome == "done" => "done",
        Ok(_) => "refused",
        // The problem's type name: `trade-in-flight`, `unknown-player`, ...
        Err(e) => e.kind().0,
    });
    let (body, replayed) = answer?;
    let mut response = (
        StatusCode::CREATED,
        [(header::LOCATION, links::location("/trades", &body.key))],
        axum::Json(body),
    )
        .into_response();
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static(IDEMPOTENT_REPLAYED),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// The trade's answer, and whether it was stored by an earlier request.
async fn make(
    state: &AppState,
    headers: &HeaderMap,
    body: TradeRequest,
) -> Result<(TradeBody, bool), ApiError> {
    let key = idempotency_key(headers)?;
    let seller = validate::player_id("seller", body.seller)?;
    let buyer = validate::player_id("buyer", body.buyer)?;
    let amount = validate::positive("amount", body.amount)?;
    let price = validate::positive("price", body.price)?;
    validate::two_players(&seller, &buyer)?;
    let running = state
        .start_trade(key.as_str())
        .ok_or_else(|| ApiError::TradeInFlight(key.to_string()))?;
    let policy = RetryPolicy::default().with_time_limit(state.config.trade_time_limit);
    let deadline = player_guard::deadline_for(&policy);
    state
        .db
        .run(deadline, move |c| {
            // Held until the trade's outcome is stored, whoever waits for it.
            let _running = running;
            let trade = Trade {
                seller: &seller,
                buyer: &buyer,
                amount,
                price,
            };
            let traded = ledger::trade(c, &key, &trade, &policy).map_err(trade_error)?;
            if !traded.replayed {
                return Ok((TradeBody::new(&key, &trade, traded.outcome), false));
            }
            // The answer the first request got: the stored trade, ids as
            // that request named them.
            let row =
                ledger::get(c, &key).map_err(|e| crate::database::database_error(&e, false))?;
            let body = row.as_ref().map_or_else(
                || TradeBody::new(&key, &trade, traded.outcome),
                TradeBody::stored,
            );
            Ok((body, true))
        })
        .await
}

/// Reads the trade stored under a key.
#[utoipa::path(get, path = "/trades/{key}", tag = "trades",
    params(("key" = String, Path, description = "The Idempotency-Key, percent-encoded")),
    responses(
        (status = 200, description = "The stored trade", body = StoredTradeBody),
        (status = 404, description = "No trade is stored under the key (it was never sent, applied nothing, or was pruned)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key's first request is still running", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<axum::Json<StoredTradeBody>, ApiError> {
    let key =
        IdempotencyKey::new(key).map_err(|e| ApiError::InvalidIdempotencyKey(e.to_string()))?;
    if state.is_running(key.as_str()) {
        return Err(ApiError::TradeInFlight(key.to_string()));
    }
    let row = state
        .db
        .run(state.config.step_timeout, move |c| {
            ledger::get(c, &key)
                .map_err(|e| crate::database::database_error(&e, false))?
                .ok_or_else(|| ApiError::TradeNotFound(key.to_string()))
        })
        .await?;
    Ok(axum::Json(StoredTradeBody {
        trade: TradeBody::stored(&row),
        recorded_at: humantime::format_rfc3339_micros(row.recorded_at).to_string(),
    }))
}
