//! The OpenAPI 3 document, written by utoipa from the handlers' and bodies'
//! annotations, so that it cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

/// The service's API.
#[derive(OpenApi)]
#[openapi(
    info(title = "player-server", description = "The TiDB player tutorial over HTTP: players, keyed trades, readiness and metrics. Errors are RFC 9457 problems (application/problem+json)."),
    paths(
        crate::players::create,
        crate::players::create_many,
        crate::players::get,
        crate::players::list,
        crate::players::update,
        crate::players::delete,
        crate::trades::create,
        crate::trades::get_one,
        crate::health::health,
        crate::health::ready,
        crate::telemetry::metrics,
        document,
    ),
    components(schemas(crate::problem::Problem)),
    tags(
        (name = "players", description = "Player CRUD"),
        (name = "trades", description = "Trades made exactly once under an Idempotency-Key"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
