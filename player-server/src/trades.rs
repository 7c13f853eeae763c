//! `/trades`: waits for player-core's ledger.

use axum::Router;

use crate::state::AppState;

/// Adds the trade routes.
pub(crate) fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
