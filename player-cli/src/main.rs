//! `player-cli`: the TiDB player tutorial with Diesel, and tools around it.
//!
//! Exit status: 0 on success, 1 on a runtime error, 2 on a usage error.

mod bank;
mod cli;
mod config;
mod scenarios;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let url = config::database_url(cli.database_url.as_deref())?;
    match cli.command {
        None | Some(Command::Scenarios) => {
            let mut conn = config::connect_and_migrate(&url)?;
            let mut out = std::io::stdout().lock();
            scenarios::run_all(&mut conn, &mut out)?;
            out.flush()?;
        }
        Some(Command::Bank(args)) => bank::run(&url, &args, &mut std::io::stdout().lock())?,
    }
    Ok(())
}

/// Prints an error as one line, and a hint on a second one where one helps.
fn report(err: &anyhow::Error) {
    eprintln!("error: {err:#}");
    if let Some(hint) = err
        .downcast_ref::<player_core::db::ConnectError>()
        .and_then(player_core::db::ConnectError::hint)
    {
        eprintln!("hint: {hint}");
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`; nothing is logged by default.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
