//! `player-cli`: the TiDB player tutorial with Diesel, and tools around it.
//!
//! Exit status: 0 on success, 1 on a runtime error or a failed `doctor`
//! check, 2 on a usage error, 3 when a trade is refused by the balances, 130
//! when Ctrl-C (143 when SIGTERM) stopped `bank` or `load` (after their report).

mod args;
mod cli;
mod commands;
mod completions;
mod config;
mod errors;
mod interrupt;
mod scenarios;
mod text;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use player_core::TradeOutcome;
use player_core::db::DatabaseUrl;

use crate::cli::{Cli, Command};
use crate::config::UrlSource;

/// The binary's name, as the shells complete it.
const BIN_NAME: &str = env!("CARGO_BIN_NAME");

/// Exit status of a trade the balances did not allow.
const EXIT_REFUSED: u8 = 3;

fn main() -> ExitCode {
    init_tracing();
    if let Err(usage) = one_database_url(std::env::args_os()) {
        let _ = usage.print();
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(usage) = err.downcast_ref::<clap::Error>() {
                let _ = usage.print();
                return ExitCode::from(2);
            }
            if errors::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            if let Some(interrupted) = err.downcast_ref::<interrupt::Interrupted>() {
                eprintln!("interrupted: {}", text::escape(&interrupted.to_string()));
                return ExitCode::from(interrupt::exit_status());
            }
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // What clap cannot check alone is checked here, before anything connects.
    if cli.reset && !matches!(cli.command, None | Some(Command::Scenarios(_))) {
        return Err(usage_error(
            "",
            "--reset is for the scenarios only (`player-cli --reset` or `player-cli scenarios --reset`)".into(),
        )
        .into());
    }
    match &cli.command {
        Some(Command::Trade(args)) => args.check().map_err(|msg| usage_error("trade", msg))?,
        Some(Command::Bank(args)) => args.check().map_err(|msg| usage_error("bank", msg))?,
        _ => {}
    }
    if let Some(Command::Completions(args)) = &cli.command {
        // Needs no database: not even the URL is read.
        print_completions(args.shell)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (url, source) = config::database_url(cli.database_url.as_deref())?;
    announce(cli.command.as_ref(), &url, &source);
    let stall = cli.stall_timeout();
    let mut out = std::io::stdout().lock();
    let mut code = ExitCode::SUCCESS;
    match cli.command {
        None => scenarios::run(&url, stall, &mut out, false, cli.reset)?,
        Some(Command::Scenarios(args)) => {
            scenarios::run(&url, stall, &mut out, args.json, args.reset || cli.reset)?
        }
        Some(Command::Bank(args)) => commands::bank::run(&url, &args, &mut out)?,
        Some(Command::Setup(args)) => commands::setup::run(&args, &url, stall, &mut out)?,
        Some(Command::Migrate(args)) => commands::migrate::run(&args, &url, stall, &mut out)?,
        Some(Command::Player(cmd)) => commands::player::run(cmd, &url, stall, &mut out)?,
        Some(Command::Ledger(cmd)) => commands::ledger::run(cmd, &url, stall, &mut out)?,
        Some(Command::Trade(args)) => {
            if let TradeOutcome::Refused(_) = commands::trade::run(&args, &url, &mut out)? {
                code = ExitCode::from(EXIT_REFUSED);
            }
        }
        Some(Command::Load(args)) => commands::load::run(&args, &url, stall, &mut out)?,
        Some(Command::Ping(args)) => commands::ping::run(&args, &url, &mut out)?,
        Some(Command::Doctor(args)) => {
            if commands::doctor::run(&args, &url, stall, &mut out)? {
                code = ExitCode::FAILURE;
            }
        }
        Some(Command::Serve(args)) => commands::serve::run(&args, &url)?,
        Some(Command::Completions(_)) => {} // printed above, before the URL was read
    }
    out.flush()?;
    Ok(code)
}

/// For a command that changes data, says on stderr which database (the
/// bank's own, for `bank`; the scratch one, for `doctor`) and where the URL
/// came from; read-only commands stay quiet.
fn announce(command: Option<&Command>, url: &DatabaseUrl, source: &UrlSource) {
    match command {
        Some(Command::Bank(args)) => {
            config::announce_bank_change(&url.with_database(&args.bank_database), source)
        }
        Some(Command::Doctor(args)) => {
            config::announce_scratch_change(&url.with_database(&args.scratch), source)
        }
        Some(command) if !command.changes_data() => {}
        _ => config::announce_change(url, source),
    }
}

/// Prints the completion script for `shell` on stdout.
fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let script = completions::script(shell, &mut Cli::command(), BIN_NAME);
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Refuses a second `--database-url`. The flag is global, so clap takes it
/// before and after the subcommand, and would keep the last one silently:
/// `player-cli --database-url PROD player --database-url TEST delete x`
/// must not leave the user guessing which database lost a player. Counted
/// on the raw arguments up to `--` (after which everything is a value).
fn one_database_url(args: impl Iterator<Item = std::ffi::OsString>) -> Result<(), clap::Error> {
    let given = args
        .skip(1)
        .take_while(|a| a != "--")
        .filter(|a| {
            a.to_str()
                .is_some_and(|a| a == "--database-url" || a.starts_with("--database-url="))
        })
        .count();
    if given > 1 {
        return Err(usage_error(
            "",
            "the argument '--database-url <URL>' cannot be used multiple times (before and after the command included)".into(),
        ));
    }
    Ok(())
}

/// A usage error (exit status 2) of `subcommand`, found after parsing.
fn usage_error(subcommand: &str, msg: String) -> clap::Error {
    let mut cli = Cli::command();
    cli.build();
    let kind = clap::error::ErrorKind::ArgumentConflict;
    match cli.find_subcommand_mut(subcommand) {
        Some(cmd) => cmd.error(kind, msg),
        None => cli.error(kind, msg),
    }
}

/// Prints an error as one line, and a hint on a second one where one helps.
fn report(err: &anyhow::Error) {
    // One line whatever the server said: its messages quote ids.
    eprintln!("error: {}", text::escape(&format!("{err:#}")));
    if let Some(hint) = errors::hint(err) {
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
