//! `player-bench`: measures the Diesel player app against the server's own limits,
//! in one run, on the same data. See docs/benchmarks.md.
//!
//! Exit status: 0 when every measurement ran (a missed target is only reported),
//! 1 when something broke (a wrong row count, a failed client, a violated
//! invariant), 2 on a usage error.

mod bank;
mod bench_db;
mod cli;
mod client;
mod counters;
mod data;
mod load;
mod machine;
mod memory;
mod peewee;
mod player_cli;
mod probe;
mod proxy;
mod report;
mod rtt;
mod sql_files;
mod tally;
mod trades;
mod unchecked;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::bench_db::BenchDb;
use crate::cli::{Args, Part};
use crate::client::Client;
use crate::peewee::Peewee;
use crate::player_cli::PlayerCli;
use crate::report::Show;

/// What every part is given: the arguments, the benchmark's database, and
/// the programs it measures against.
pub struct Bench {
    /// The command line.
    pub args: Args,
    /// The benchmark's database, created for this run.
    pub db: BenchDb,
    /// The command-line client, set up for the database.
    pub client: Client,
    /// The `player-cli` binary, pointed at the database.
    pub player_cli: PlayerCli,
    /// The tutorial's side, or why it is missing.
    pub peewee: Result<Peewee, String>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(memory::WRAPPER_ARG) {
        return memory::wrapper_main(&argv[2..]);
    }
    match run(Args::parse()) {
        Ok(0) => return ExitCode::SUCCESS,
        Ok(broken) => eprintln!("player-bench: {broken} part(s) broke; see the errors above"),
        Err(e) => eprintln!("error: {e:#}"),
    }
    ExitCode::FAILURE
}

/// Runs the chosen parts and returns how many broke. Each part's tables are
/// printed as soon as it is done; a part that breaks does not stop the others.
fn run(args: Args) -> anyhow::Result<usize> {
    if let Some(path) = &args.write_results {
        // Find out now, not after minutes of measuring, that the file will not do.
        let doc = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        report::replace_results(&doc, "")
            .with_context(|| format!("--write-results {}", path.display()))?;
    }
    let db = BenchDb::create(&args.database_url, &args.database)?;
    let client = Client::new(args.client.clone(), db.url())?;
    let player_cli = PlayerCli::new(args.player_cli.clone(), db.url())?;
    let peewee = Peewee::find(args.peewee_python.clone());
    let parts = args.parts();
    if let Err(why) = &peewee {
        if parts
            .iter()
            .any(|p| matches!(p, Part::Load | Part::Trades | Part::Rtt))
        {
            eprintln!("peewee: its columns are skipped ({why})");
        }
    }
    let mut b = Bench {
        args,
        db,
        client,
        player_cli,
        peewee,
    };
    let (markdown, mut collected) = (b.args.markdown, Vec::new());
    let mut show = |section: &report::Section| {
        println!("{}", section.render(markdown));
        collected.push(section.render(true));
    };
    show(&machine::section(b.db.conn(), &b.client.version)?);
    let mut broken = 0;
    for part in parts {
        let name = format!("{part:?}").to_lowercase();
        eprintln!("{name}:");
        let result = match part {
            Part::Load => load::run(&mut b, &mut show),
            Part::Trades => trades::run(&mut b, &mut show),
            Part::Bank => run_bank(&mut b, &mut show),
            Part::Memory => memory::run(&mut b, &mut show),
            Part::Rtt => rtt::run(&mut b, &mut show),
        };
        if let Err(e) = result {
            broken += 1;
            eprintln!("{name}: BROKEN: {e:#}");
        }
    }
    if let Some(path) = &b.args.write_results {
        if broken > 0 {
            eprintln!("results not written to {}: a part broke", path.display());
        } else {
            let (doc, block) = (
                std::fs::read_to_string(path)?,
                report::results_block(&collected, b.args.quick),
            );
            std::fs::write(path, report::replace_results(&doc, &block)?)?;
            eprintln!("results written to {}", path.display());
        }
    }
    Ok(broken)
}

/// The bank part: runs, prints, and fails on a violated invariant after
/// printing what was measured.
fn run_bank(b: &mut Bench, show: Show) -> anyhow::Result<()> {
    if let Some(why) = b.player_cli.missing("bank") {
        eprintln!("bank: skipped ({why})");
        return Ok(());
    }
    let a = &b.args;
    let runs = bank::run(
        &b.player_cli,
        &a.workers,
        a.bank_players,
        a.bank_seconds,
        &[],
    )?;
    show(&bank::section(&runs));
    bank::check(&runs)
}
