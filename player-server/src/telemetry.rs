//! Prometheus metrics: requests and their latency by route and status,
//! the pool's connections, trade outcomes. Each service has a recorder of its
//! own (no global one), so that several services in one process (the tests)
//! count apart; `GET /metrics` renders it.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics::{Recorder, counter, gauge, histogram};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::state::AppState;

/// Latency buckets, seconds: from a loopback read to the request time limit.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
];

/// How often held histogram samples are folded into their buckets. The
/// recorder keeps each sample (about 16 bytes a request) until then, and only
/// this or a scrape of `/metrics` folds them: a service nobody scrapes would
/// otherwise grow by gigabytes a day.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The service's recorder and the handle that renders it.
pub(crate) struct Telemetry {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Telemetry {
    pub(crate) fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let telemetry = Self { recorder, handle };
        telemetry.with(|| {
            metrics::describe_counter!(
                "http_requests_total",
                "Requests answered, by method, route and status"
            );
            metrics::describe_histogram!(
                "http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time from a request to its answer, by method, route and status"
            );
            metrics::describe_gauge!(
                "db_pool_connections",
                "Pooled database connections, by state (in_use, idle)"
            );
            metrics::describe_counter!("trades_total", "Trades answered, by outcome");
        });
        telemetry
    }

    /// Folds the held samples every [`UPKEEP_EVERY`], for as long as it is
    /// polled: the service spawns it beside the server.
    pub(crate) fn upkeep(&self) -> impl Future<Output = ()> + Send + 'static {
        let handle = self.handle.clone();
        async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        }
    }

    fn with(&self, f: impl FnOnce()) {
        metrics::with_local_recorder(&self.recorder as &dyn Recorder, f);
    }

    /// One request answered.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let (method, route, status) = (method.to_owned(), route.to_owned(), status.to_string());
        self.with(|| {
            let labels = [("method", method), ("route", route), ("status", status)];
            counter!("http_requests_total", &labels).increment(1);
            histogram!("http_request_duration_seconds", &labels).record(took.as_secs_f64());
        });
    }

    /// One trade answered, by how it came out (`done`, `refused`,
    /// `replayed`, or the problem's type name).
    pub(crate) fn trade(&self, outcome: &str) {
        let outcome = outcome.to_owned();
        self.with(|| counter!("trades_total", "outcome" => outcome).increment(1));
    }

    fn render(&self, (open, idle): (u32, u32)) -> String {
        self.with(|| {
            gauge!("db_pool_connections", "state" => "in_use")
                .set(f64::from(open.saturating_sub(idle)));
            gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
        });
        self.handle.render()
    }
}

/// The metrics, in Prometheus's text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain; version=0.0.4")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.telemetry.render(state.db.connections());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

#[cfg(test)]
mod tests {
    use std::alloc::System;

    use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

    use super::*;

    #[global_allocator]
    static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

    /// Bytes allocated and not freed since `region` began.
    fn held(region: &Region<'_, System>) -> isize {
        let change = region.change();
        change.bytes_allocated.cast_signed() - change.bytes_deallocated.cast_signed()
            + change.bytes_reallocated
    }

    #[tokio::test(start_paused = true)]
    async fn the_samples_of_requests_are_let_go_at_each_upkeep() {
        let telemetry = Telemetry::new();
        let requests = |n| {
            for _ in 0..n {
                telemetry.request("GET", "/health", 200, Duration::from_micros(80));
            }
        };
        // The registry's entries exist before counting starts.
        requests(1_000);
        tokio::spawn(telemetry.upkeep());
        tokio::time::sleep(UPKEEP_EVERY / 2).await;
        let region = Region::new(HEAP);
        requests(200_000);
        let before = held(&region);
        assert!(
            before > 1_000_000,
            "200,000 samples hold only {before} bytes before an upkeep"
        );
        // The recorder frees drained samples once no thread can still be
        // reading them (crossbeam's epochs): after the next few samples.
        tokio::time::sleep(UPKEEP_EVERY).await;
        requests(1_000);
        tokio::time::sleep(UPKEEP_EVERY).await;
        let after = held(&region);
        assert!(
            after < before / 10,
            "200,000 samples still hold {after} bytes after an upkeep ({before} before)"
        );
    }
}
