//! `/health` (the process answers) and `/ready` (the database answers and
//! has every migration this binary embeds).

use axum::extract::State;
use player_core::migrations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// What `/health` and `/ready` answer when all is well.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

fn ok() -> axum::Json<Status> {
    axum::Json(Status {
        status: "ok".into(),
    })
}

/// The process answers; asks nothing of the database (a liveness probe).
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process answers", body = Status)))]
pub(crate) async fn health() -> axum::Json<Status> {
    ok()
}

/// The database answers, within the pool's wait and the step deadline, and
/// its migrations are all applied (a readiness probe).
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "The database cannot be reached, did not answer in time, or has pending migrations; `Retry-After` says when to ask again", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<axum::Json<Status>, ApiError> {
    state
        .db
        .run(state.config.step_timeout, |c| {
            let status = migrations::status(c).map_err(|e| {
                tracing::warn!(error = %e, "cannot read the migrations");
                ApiError::Unavailable("the database's migrations cannot be read".into())
            })?;
            let pending: Vec<String> = status
                .into_iter()
                .filter(|m| !m.applied)
                .map(|m| m.name)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            Err(ApiError::NotReady(format!(
                "the database answers but lacks migrations {}: run `player-cli migrate`",
                pending.join(", ")
            )))
        })
        .await?;
    Ok(ok())
}
