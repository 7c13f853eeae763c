//! `/players`: create (one or a list), read, page through, change and
//! delete players, each one statement or one short transaction of
//! player-core's `players` queries, within the step deadline.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use player_core::models::PlayerChanges;
use player_core::transaction::{self, Retried};
use player_core::{NewPlayer, Player, PlayerId, TransactionError, players};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::config::{DEFAULT_PAGE, MAX_BULK, MAX_PAGE};
use crate::database::{database_error, step_policy, transaction_error};
use crate::extract::{Json, Path, Query};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::{links, validate};

/// Rows per INSERT of a bulk create. Fixed, so that each connection
/// prepares one statement for full batches (the rest goes uncached): a batch
/// the size of each list would cache a statement per list length, on every
/// connection, towards the server's `max_prepared_stmt_count`.
const BULK_BATCH: usize = 100;

/// A player, as every endpoint shows one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlayerBody {
    /// The id as stored (1 to 36 characters; trailing spaces do not tell
    /// two ids apart).
    #[schema(example = "alice")]
    pub id: String,
    /// Coins held.
    #[schema(example = 100)]
    pub coins: i32,
    /// Goods held.
    #[schema(example = 0)]
    pub goods: i32,
}

impl From<&Player> for PlayerBody {
    fn from(p: &Player) -> Self {
        Self {
            id: p.id.to_string(),
            coins: p.coins,
            goods: p.goods,
        }
    }
}

impl From<&NewPlayer> for PlayerBody {
    fn from(p: &NewPlayer) -> Self {
        Self {
            id: p.id.to_string(),
            coins: p.coins,
            goods: p.goods,
        }
    }
}

/// A player to create: the CLI's `player create` defaults (a random UUID,
/// no coins, no goods).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlayerBody {
    /// 1 to 36 characters; a random UUID when absent.
    #[schema(example = "alice")]
    pub id: Option<String>,
    /// Coins to start with, 0 to 2147483647 (0 when absent).
    #[serde(default)]
    #[schema(example = 100)]
    pub coins: i64,
    /// Goods to start with, 0 to 2147483647 (0 when absent).
    #[serde(default)]
    #[schema(example = 0)]
    pub goods: i64,
}

impl NewPlayerBody {
    fn check(self, at: &str) -> Result<NewPlayer, ApiError> {
        let coins = validate::balance(&format!("{at}coins"), self.coins)?;
        let goods = validate::balance(&format!("{at}goods"), self.goods)?;
        let id = match self.id {
            Some(id) => validate::player_id(&format!("{at}id"), id)?,
            None => PlayerId::random(),
        };
        Ok(NewPlayer::new(id, coins, goods))
    }
}

/// New balances: at least one of the two.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlayerPatch {
    /// New coins, 0 to 2147483647.
    #[schema(example = 50)]
    pub coins: Option<i64>,
    /// New goods, 0 to 2147483647.
    pub goods: Option<i64>,
}

/// One page of players in id order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlayerPage {
    /// Up to `limit` players, after the cursor.
    pub players: Vec<PlayerBody>,
    /// The `after` of the next page; null on the last one.
    #[schema(example = "bob")]
    pub next: Option<String>,
}

/// Where a page starts and how long it is.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Start after this id (the `next` of the page before).
    pub after: Option<String>,
    /// Players per page, 1 to 10000 (20 when absent).
    pub limit: Option<i64>,
}

/// A query's error as the transaction's body returns it. The values were
/// checked before (balances, batch size), so only the database's remain.
fn into_diesel(error: player_core::Error) -> DieselError {
    match error {
        player_core::Error::Database(e) => e,
        other => DieselError::QueryBuilderError(other.into()),
    }
}

/// The 409 for an id the table holds, naming the stored ids.
fn exists(ids: &[String]) -> ApiError {
    ApiError::PlayerExists(format!(
        "a player with id {} already exists (ids that differ only in trailing spaces are one id); nothing was created",
        ids.iter()
            .map(|id| format!("{id:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Creates a player.
#[utoipa::path(post, path = "/players", tag = "players", request_body = NewPlayerBody,
    responses(
        (status = 201, description = "Created; `Location` names it", body = PlayerBody),
        (status = 409, description = "The id exists (`a` and `a ` are one id)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An id or balance out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Json(body): Json<NewPlayerBody>,
) -> Result<Response, ApiError> {
    let new = body.check("")?;
    let player = PlayerBody::from(&new);
    let at = links::location("/players", new.id.as_str());
    state
        .db
        .run(state.config.step_timeout, move |c| {
            players::create(c, &new).map_err(|e| match e {
                player_core::Error::AlreadyExists(id) => exists(&[id.to_string()]),
                player_core::Error::Database(e) => database_error(&e, true),
                other => ApiError::Invalid(other.to_string()),
            })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, at)],
        axum::Json(player),
    )
        .into_response())
}

/// Creates every player of the list, or none.
#[utoipa::path(post, path = "/players/bulk", tag = "players", request_body = Vec<NewPlayerBody>,
    responses(
        (status = 201, description = "All created, in one transaction", body = Vec<PlayerBody>),
        (status = 409, description = "An id exists already; nothing was created", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or too long list, a value out of range, or two ids that are one; nothing was created", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_many(
    State(state): State<AppState>,
    Json(body): Json<Vec<NewPlayerBody>>,
) -> Result<Response, ApiError> {
    if body.is_empty() || body.len() > MAX_BULK {
        return Err(ApiError::Invalid(format!(
            "a bulk create takes 1 to {MAX_BULK} players, this one has {}",
            body.len()
        )));
    }
    let new = body
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.check(&format!("[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    // Twins within the list: the collation's equality, so `a` and `a `.
    let mut seen: HashMap<&PlayerId, usize> = HashMap::new();
    for (i, p) in new.iter().enumerate() {
        if let Some(first) = seen.insert(&p.id, i) {
            return Err(ApiError::Invalid(format!(
                "[{first}].id {:?} and [{i}].id {:?} are one id (trailing spaces do not count); nothing was created",
                new[first].id.as_str(),
                p.id.as_str()
            )));
        }
    }
    let created: Vec<PlayerBody> = new.iter().map(PlayerBody::from).collect();
    let policy = step_policy(state.config.step_timeout);
    state
        .db
        .run(state.config.step_timeout, move |c| {
            let inserted = transaction::run(c, &policy, |c| {
                players::bulk_create(c, new.iter().cloned(), BULK_BATCH).map_err(into_diesel)
            });
            match inserted {
                Ok(_) => Ok(()),
                Err(TransactionError::Failed(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _,
                ))) => {
                    let ids: Vec<PlayerId> = new.iter().map(|p| p.id.clone()).collect();
                    let taken =
                        players::get_many(c, &ids).map_err(|e| database_error(&e, false))?;
                    Err(exists(
                        &taken.iter().map(|p| p.id.to_string()).collect::<Vec<_>>(),
                    ))
                }
                Err(e) => Err(transaction_error(&e)),
            }
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Reads one player.
#[utoipa::path(get, path = "/players/{id}", tag = "players",
    params(("id" = String, Path, description = "The player's id, percent-encoded")),
    responses(
        (status = 200, description = "The player", body = PlayerBody),
        (status = 404, description = "No such player", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<PlayerBody>, ApiError> {
    let id = validate::player_id("id", id)?;
    let player = state
        .db
        .run(state.config.step_timeout, move |c| {
            players::get(c, &id)
                .map_err(|e| database_error(&e, false))?
                .ok_or_else(|| ApiError::PlayerNotFound(id.to_string()))
        })
        .await?;
    Ok(axum::Json(PlayerBody::from(&player)))
}

/// Pages through the players in id order (keyset pagination: the page
/// after an id, however many players were created or deleted meanwhile).
#[utoipa::path(get, path = "/players", tag = "players", params(PageQuery),
    responses(
        (status = 200, description = "A page, and the cursor of the next", body = PlayerPage),
        (status = 422, description = "An invalid cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<PlayerPage>, ApiError> {
    let limit = validate::page_size(query.limit.unwrap_or(i64::from(DEFAULT_PAGE)), MAX_PAGE)?;
    let after = query
        .after
        .map(|a| validate::player_id("after", a))
        .transpose()?;
    let mut page = state
        .db
        .run(state.config.step_timeout, move |c| {
            // One more than the page: whether there is a next page is known
            // without asking again.
            players::list(c, after.as_ref(), limit + 1).map_err(|e| database_error(&e, false))
        })
        .await?;
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let next = more
        .then(|| page.last().map(|p| p.id.to_string()))
        .flatten();
    Ok(axum::Json(PlayerPage {
        players: page.iter().map(PlayerBody::from).collect(),
        next,
    }))
}

/// Sets a player's coins and/or goods.
#[utoipa::path(patch, path = "/players/{id}", tag = "players", request_body = PlayerPatch,
    params(("id" = String, Path, description = "The player's id, percent-encoded")),
    responses(
        (status = 200, description = "The player as this change left it", body = PlayerBody),
        (status = 404, description = "No such player", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No change, or a balance out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<PlayerPatch>,
) -> Result<axum::Json<PlayerBody>, ApiError> {
    let id = validate::player_id("id", id)?;
    let changes = PlayerChanges {
        coins: patch
            .coins
            .map(|n| validate::balance("coins", n))
            .transpose()?,
        goods: patch
            .goods
            .map(|n| validate::balance("goods", n))
            .transpose()?,
    };
    if changes == PlayerChanges::default() {
        return Err(ApiError::Invalid(
            "name at least one of coins and goods".into(),
        ));
    }
    let policy = step_policy(state.config.step_timeout);
    let player = state
        .db
        .run(state.config.step_timeout, move |c| {
            // The row stays locked from the UPDATE to the read: what comes
            // back is what this change left, not a concurrent trade's.
            let updated = transaction::run(c, &policy, |c| {
                if !players::update(c, &id, &changes).map_err(into_diesel)? {
                    return Ok(None);
                }
                players::get(c, &id)
            });
            match updated {
                Ok(Retried {
                    value: Some(player),
                    ..
                }) => Ok(player),
                Ok(Retried { value: None, .. }) => Err(ApiError::PlayerNotFound(id.to_string())),
                Err(e) => Err(transaction_error(&e)),
            }
        })
        .await?;
    Ok(axum::Json(PlayerBody::from(&player)))
}

/// Deletes a player.
#[utoipa::path(delete, path = "/players/{id}", tag = "players",
    params(("id" = String, Path, description = "The player's id, percent-encoded")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such player", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = validate::player_id("id", id)?;
    state
        .db
        .run(state.config.step_timeout, move |c| {
            match players::delete(c, &id).map_err(|e| database_error(&e, true))? {
                true => Ok(()),
                false => Err(ApiError::PlayerNotFound(id.to_string())),
            }
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, HeaderMap::new()).into_response())
}
