//! What every handler shares: the database, the settings, the metrics, and
//! the idempotency keys whose trade is running in this process.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::Config;
use crate::database::Database;
use crate::telemetry::Telemetry;

/// The service's state, cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) config: Config,
    pub(crate) telemetry: Telemetry,
    in_flight: Mutex<HashSet<String>>,
}

impl AppState {
    pub(crate) fn new(config: Config) -> Self {
        Self(Arc::new(Inner {
            db: Database::new(&config),
            telemetry: Telemetry::new(),
            config,
            in_flight: Mutex::new(HashSet::new()),
        }))
    }

    /// Marks the trade under `key` as running, until the returned guard is
    /// dropped; `None` if it already runs. The guard goes into the database
    /// job, not the handler: a request that timed out, or whose client went
    /// away, leaves its job running, and a retry must hear 409 until the job
    /// has stored its outcome, never run the trade beside it.
    pub(crate) fn start_trade(&self, key: &str) -> Option<Running> {
        let mut keys = self
            .0
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        keys.insert(key.to_owned()).then(|| Running {
            state: self.clone(),
            key: key.to_owned(),
        })
    }

    /// Whether the trade under `key` is running in this process.
    pub(crate) fn is_running(&self, key: &str) -> bool {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A trade running under its key (see [`AppState::start_trade`]).
pub(crate) struct Running {
    state: AppState,
    key: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.state
            .0
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}
