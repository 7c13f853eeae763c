//! `serve`: the player tutorial as an HTTP service (player-server), until
//! SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use player_core::db::DatabaseUrl;

use crate::args;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Pooled database connections: requests whose database work runs at once.
    #[arg(long, default_value = "16", value_parser = args::workers)]
    pub pool_size: u32,
    /// Seconds a request waits for a pooled connection before a 503.
    #[arg(long, default_value = "2", value_name = "SECONDS", value_parser = args::seconds, allow_negative_numbers = true)]
    pub pool_wait: f64,
    /// Seconds one database step of a player endpoint may take before the
    /// connection is shut and the request answered (`--stall-timeout` does not
    /// apply to `serve`).
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = args::seconds, allow_negative_numbers = true)]
    pub step_timeout: f64,
    /// Seconds a trade may retry; its deadline is this plus 5 s.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = args::seconds, allow_negative_numbers = true)]
    pub trade_time_limit: f64,
    /// Seconds a request may take in all before a 504 (its head: before the
    /// connection is closed).
    #[arg(long, default_value = "20", value_name = "SECONDS", value_parser = args::seconds, allow_negative_numbers = true)]
    pub request_timeout: f64,
    /// Async worker threads, which parse requests and hand their database
    /// work to the blocking threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = args::workers)]
    pub async_threads: Option<u32>,
}

/// Serves until a signal; says on stderr where it listens.
pub fn run(a: &ServeArgs, url: &DatabaseUrl) -> anyhow::Result<()> {
    let mut config = player_server::Config::new(url.clone());
    config.listen = a.listen;
    config.pool_size = a.pool_size;
    config.pool_wait = Duration::from_secs_f64(a.pool_wait);
    config.step_timeout = Duration::from_secs_f64(a.step_timeout);
    config.trade_time_limit = Duration::from_secs_f64(a.trade_time_limit);
    config.request_timeout = Duration::from_secs_f64(a.request_timeout);
    if let Some(n) = a.async_threads {
        config.async_threads = usize::try_from(n)?;
    }
    player_server::serve(config, |addr| eprintln!("listening on http://{addr}"))?;
    Ok(())
}
