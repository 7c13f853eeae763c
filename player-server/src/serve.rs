//! Starting and stopping the service: a runtime whose blocking threads match
//! the pool, the listener and its connections (each request's head within a
//! time limit), and a graceful shutdown on SIGINT or SIGTERM that ends within
//! a bound.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use player_core::db::{ConnectError, ConnectFailure};

use axum::serve::ListenerExt;

use crate::config::Config;
use crate::router::router;
use crate::state::AppState;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The runtime could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The address cannot be listened on (in use, not ours, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The database refused the service's settings (user or password, TLS,
    /// an unknown database): waiting would not help, so the service does not
    /// start. A database that is only unreachable is waited for instead.
    #[error("the database refuses the connection")]
    Database(#[source] ConnectError),
    /// The signal handlers could not be installed.
    #[error("cannot watch for SIGINT and SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
}

/// How long shutdown waits, past the request time limit, for database jobs
/// that answered requests which timed out: their deadline ends them.
const JOBS_PAST_THE_LIMIT: Duration = Duration::from_secs(5);

/// Runs the service until SIGINT or SIGTERM, then stops accepting, lets the
/// requests in flight finish, waits for the database jobs still running (each
/// within its deadline), and returns. `on_listening` is called with the
/// bound address once the service accepts connections (port 0 picks one).
///
/// Blocks the calling thread: the runtime is the service's own, its blocking
/// threads sized to the pool ([`Config::blocking_threads`]).
pub fn serve(config: Config, on_listening: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    check_database(&config)?;
    let runtime = runtime(&config)?;
    let grace = config.request_timeout + config.trade_time_limit + JOBS_PAST_THE_LIMIT;
    let result = runtime.block_on(async move {
        let signals = signals()?;
        let listener = bind(config.listen).await?;
        let addr = listener.local_addr().map_err(ServeError::Serve)?;
        on_listening(addr);
        run(listener, config, signals).await
    });
    runtime.shutdown_timeout(grace);
    result
}

/// Connects once, within the URL's `connect_timeout`: a refusal that no
/// wait can cure ends the start; an unreachable database is only logged, and
/// `/ready` answers 503 until it is back.
fn check_database(config: &Config) -> Result<(), ServeError> {
    let fatal = |e: &ConnectError| match e {
        ConnectError::InvalidUrl(_) | ConnectError::Tls(_) => true,
        ConnectError::Connect { failure, .. } => matches!(
            failure,
            ConnectFailure::AccessDenied
                | ConnectFailure::UnknownDatabase
                | ConnectFailure::Tls
                | ConnectFailure::ServerWithoutTls
        ),
        ConnectError::Timeout { .. } | ConnectError::Session(_) => false,
    };
    match player_guard::connect(&config.database_url) {
        Ok(_) => Ok(()),
        Err(e) if fatal(&e) => Err(ServeError::Database(e)),
        Err(e) => {
            tracing::warn!(error = %e, "the database does not answer yet; /ready says 503 until it does");
            Ok(())
        }
    }
}

fn runtime(config: &Config) -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(config.async_threads.max(1))
        .max_blocking_threads(config.blocking_threads())
        .thread_name("player-server")
        .build()
        .map_err(ServeError::Runtime)
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

/// Resolves at the first SIGINT or SIGTERM.
fn signals() -> Result<impl Future<Output = ()>, ServeError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signals)?;
        let mut int = signal(SignalKind::interrupt()).map_err(ServeError::Signals)?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// How long the connections still open after the stop signal may take,
/// past the request time limit, to finish: every request in flight has its
/// answer by then, and a client that does not read it is cut off.
const DRAIN_PAST_THE_LIMIT: Duration = Duration::from_secs(5);

/// Serves until `stop`, then drains the connections within the request time
/// limit and [`DRAIN_PAST_THE_LIMIT`].
///
/// hyper's connections, not `axum::serve`: axum 0.8 gives hyper no timer, so
/// a client that sends half a request head keeps its connection for ever, and
/// a graceful shutdown waits for it for ever too. Here the head must arrive
/// within the request time limit, as the rest of the request must.
async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use axum::serve::Listener;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    tracing::info!(url = %config.database_url, listen = ?listener.local_addr().ok(), "serving");
    let drain = config.request_timeout + DRAIN_PAST_THE_LIMIT;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.request_timeout);
    let state = AppState::new(config);
    // Ends with the runtime, after the server.
    tokio::spawn(state.telemetry.upkeep());
    let app = router(state)
        .map_request(|req: hyper::Request<hyper::body::Incoming>| req.map(axum::body::Body::new));
    // axum's listener: it waits out accept errors (too many open files) and
    // goes on; answers are small and each waits for the next request, so no
    // Nagle delay.
    let mut listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    let connections = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, _peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = connections.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!(after = ?drain, "connections still open at shutdown are closed");
        }
    }
    Ok(())
}

/// A service running on a thread of its own, for tests and embedding: it
/// stops when [`stop`](Self::stop) is called or the value is dropped, as
/// after a signal.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Starts the service on `config.listen` (port 0 for a free one) and
    /// returns once it accepts connections.
    pub fn start(config: Config) -> Result<Self, ServeError> {
        let runtime = runtime(&config)?;
        let listener = runtime.block_on(bind(config.listen))?;
        let addr = listener.local_addr().map_err(ServeError::Serve)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let grace = config.request_timeout + config.trade_time_limit + JOBS_PAST_THE_LIMIT;
        let thread = std::thread::Builder::new()
            .name("player-server".into())
            .spawn(move || {
                let result = runtime.block_on(run(listener, config, async {
                    let _ = stopped.await;
                }));
                runtime.shutdown_timeout(grace);
                result
            })
            .map_err(ServeError::Runtime)?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it as a signal would, and waits until it has.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shut()
    }

    fn shut(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ServeError::Serve(std::io::Error::other(
                "the server thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_has_the_async_threads_asked_for() {
        let url = "mysql://root@127.0.0.1:4000/test"
            .parse()
            .expect("a valid URL");
        let mut config = Config::new(url);
        for n in [1, 3] {
            config.async_threads = n;
            let runtime = runtime(&config).expect("a runtime");
            assert_eq!(runtime.metrics().num_workers(), n);
        }
    }
}
