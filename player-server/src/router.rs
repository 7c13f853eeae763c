//! The routes and the layers around them: request ids, a tracing span per
//! request, metrics, the body limit and the request time limit, and the
//! problems for what those layers refuse.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::extract::BodyLimit;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::{health, openapi, players, telemetry};

/// The request id header, set when the client sends none and echoed back.
const REQUEST_ID: &str = "x-request-id";

/// The service's routes and layers.
pub(crate) fn router(state: AppState) -> Router {
    let config = &state.config;
    let routes = Router::new()
        .route("/players", get(players::list).post(players::create))
        .route("/players/bulk", axum::routing::post(players::create_many))
        .route(
            "/players/{id}",
            get(players::get)
                .patch(players::update)
                .delete(players::delete),
        )
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(telemetry::metrics))
        .route("/openapi.json", get(openapi::document));
    let routes = crate::trades::routes(routes);
    routes
        // Innermost first: each `route_layer` wraps the ones before it, and
        // sees the matched route.
        .route_layer(RequestBodyLimitLayer::new(config.body_limit))
        .route_layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            config.request_timeout,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), edge))
        .fallback(not_found)
        .layer(axum::Extension(BodyLimit(config.body_limit)))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(header::HeaderName::from_static(REQUEST_ID)))
        .layer(SetRequestIdLayer::new(
            header::HeaderName::from_static(REQUEST_ID),
            MakeRequestUuid,
        ))
        .with_state(state)
}

/// Around every matched route: counts the request, and gives the bare
/// answers of the layers inside (a 413 of the body limit, a 504 of the time
/// limit, axum's 405) a problem body.
async fn edge(
    State(state): State<AppState>,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = matched.as_str().to_owned();
    let mut response = next.run(req).await;
    // Every answer of the handlers that is an error is a problem; what else
    // is an error comes from a layer, bare or in plain text.
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t == crate::problem::PROBLEM_JSON);
    if !problem && let Some(error) = bare_error(response.status(), &method, &route, &state.config) {
        response = error.into_response();
    }
    state.telemetry.request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The problem for a layer's bare answer.
fn bare_error(
    status: StatusCode,
    method: &Method,
    route: &str,
    config: &crate::config::Config,
) -> Option<ApiError> {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Some(ApiError::BodyTooLarge(config.body_limit)),
        StatusCode::METHOD_NOT_ALLOWED => {
            Some(ApiError::MethodNotAllowed(format!("{method} {route}")))
        }
        StatusCode::GATEWAY_TIMEOUT => Some(ApiError::RequestTimeout(timed_out(
            method,
            route,
            config.request_timeout,
        ))),
        _ => None,
    }
}

/// What a request that ran out of time may have left behind: the database
/// work it started cannot be stopped, so a change may still be applied.
fn timed_out(method: &Method, route: &str, limit: Duration) -> String {
    let secs = limit.as_secs_f64();
    if route == "/trades" && method == Method::POST {
        format!(
            "no answer within {secs} s; the trade may still be made: send the same request with the same Idempotency-Key to learn its outcome"
        )
    } else if method == Method::GET {
        format!("no answer within {secs} s; try again")
    } else {
        format!(
            "no answer within {secs} s; the change may still be applied: read it back before sending it again"
        )
    }
}

/// Any path no route matches.
async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let response = ApiError::RouteNotFound(req.uri().path().to_owned()).into_response();
    state
        .telemetry
        .request(req.method().as_str(), "unmatched", 404, started.elapsed());
    response
}
