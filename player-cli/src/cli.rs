//! Command-line arguments.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    ledger::LedgerCommand, load::LoadArgs, migrate::MigrateArgs, ping::PingArgs,
    player::PlayerCommand, trade::TradeArgs,
};

/// The TiDB player tutorial with Rust and Diesel.
///
/// Without a command, runs the tutorial's two scenarios on a fresh `player` table.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Database URL [default: $DATABASE_URL from the environment or .env,
    /// else mysql://root@127.0.0.1:4000/test].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Seconds a step of the work may wait for the server before the
    /// command gives up on it.
    ///
    /// A step is a statement or a few, a batch of `load`, the migrations.
    /// Past the limit the connection is shut and the command fails: the
    /// server stopped answering, or a lock is never released. The default
    /// outlasts the server's lock wait (50 s). `trade` has its own limit,
    /// `--time-limit` plus 5 s, as has `bank`; `ping` gives the server the
    /// URL's `connect_timeout`.
    #[arg(long, global = true, default_value = "65", value_name = "SECONDS", value_parser = crate::args::seconds, allow_negative_numbers = true)]
    pub stall_timeout: f64,

    /// With no command: empty the `player` table even when it holds rows the
    /// scenarios did not write (without it, such a table is left alone).
    #[arg(long)]
    pub reset: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tutorial's scenarios (the default): empties `player` first,
    /// if it holds only what the scenarios write (or with --reset).
    Scenarios(ScenariosArgs),
    /// Run the bank workload: concurrent random trades on a database of the
    /// bank's own, then check that no coin or goods was created, destroyed or
    /// overdrawn (exit 1 if one was).
    Bank(crate::commands::bank::BankArgs),
    /// Create the database of the URL if it is missing, then apply the
    /// migrations (as `diesel setup` does).
    Setup(crate::commands::setup::SetupArgs),
    /// Apply the pending migrations, then show which are applied.
    Migrate(MigrateArgs),
    /// Create, read, list, update or delete players.
    #[command(subcommand)]
    Player(PlayerCommand),
    /// Move goods from a seller to a buyer for coins, in one transaction.
    ///
    /// Exit status 3 when the balances do not allow it (nothing changes).
    /// With `--key`, exactly once: run again with the same key, it prints the
    /// stored outcome and exits as the first run did.
    Trade(TradeArgs),
    /// Look up or prune the keyed trades of `trade --key`.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Bulk-create random players with a progress bar; ends with a rows/s line.
    Load(LoadArgs),
    /// Check the connection: server version, TLS cipher, TiDB transaction mode.
    Ping(PingArgs),
    /// Check what the code assumes of the server: one row per check, PASS,
    /// WARN or FAIL, with a hint naming what fixes it (exit 1 if one fails).
    ///
    /// Reads the server's variables and the `player` table of the URL's
    /// database, then tries the behaviours the trade relies on in a scratch
    /// database (`player_doctor_...`) that it creates and drops.
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Serve players and keyed trades over HTTP (JSON) until SIGINT or SIGTERM.
    ///
    /// Endpoints, errors and the idempotency rules: docs/http.md.
    Serve(crate::commands::serve::ServeArgs),
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell.
    ///
    /// For example: `player-cli completions bash >
    /// ~/.local/share/bash-completion/completions/player-cli`.
    Completions(CompletionsArgs),
}

impl Cli {
    /// `--stall-timeout` as a duration.
    pub fn stall_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.stall_timeout)
    }
}

impl Command {
    /// True for the commands that may change data (their own database, for
    /// `bank`): they say on stderr which database before they start.
    pub fn changes_data(&self) -> bool {
        match self {
            Command::Scenarios(_)
            | Command::Setup(_)
            | Command::Bank(_)
            | Command::Trade(_)
            | Command::Load(_)
            | Command::Doctor(_)
            | Command::Serve(_) => true,
            Command::Migrate(args) => !args.status,
            Command::Player(cmd) => cmd.changes_data(),
            Command::Ledger(cmd) => cmd.changes_data(),
            Command::Ping(_) | Command::Completions(_) => false,
        }
    }
}

/// Arguments of `scenarios`.
#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Print one JSON object instead of the tutorial's lines.
    #[arg(long)]
    pub json: bool,
    /// Empty the `player` table even when it holds rows the scenarios did
    /// not write.
    #[arg(long)]
    pub reset: bool,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
