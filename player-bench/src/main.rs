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
use crate::report::Section;
use crate::tally::Setup;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(memory::WRAPPER_ARG) {
        return memory::wrapper_main(&argv[2..]);
    }
    match run(&Args::parse()) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(broken) => {
            eprintln!("player-bench: {broken} part(s) broke; see the errors above");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen parts and returns how many broke. Each part's tables are
/// printed as soon as it is done; a part that breaks does not stop the others.
fn run(args: &Args) -> anyhow::Result<usize> {
    if let Some(path) = &args.write_results {
        // Find out now, not after minutes of measuring, that the file will not do.
        let doc = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        report::replace_results(&doc, "")
            .with_context(|| format!("--write-results {}", path.display()))?;
    }
    let mut db = BenchDb::create(&args.database_url, &args.database)?;
    let client = Client::new(args.client.clone(), db.url())?;
    let player_cli = PlayerCli::new(args.player_cli.clone(), db.url())?;
    let parts = args.parts();
    let peewee = Peewee::find(args.peewee_python.clone());
    if let Err(why) = &peewee {
        if parts
            .iter()
            .any(|p| matches!(p, Part::Load | Part::Trades | Part::Rtt))
        {
            eprintln!("peewee: its columns are skipped ({why})");
        }
    }
    let peewee = peewee.as_ref().map_err(String::as_str);
    let mut out = Output {
        markdown: args.markdown,
        collected: Vec::new(),
    };
    out.show(&machine::section(db.conn(), client.version())?);

    let mut broken = 0;
    for part in parts {
        let name = format!("{part:?}").to_lowercase();
        eprintln!("{name}:");
        let (repeat, prefix, probed) = (args.repeat, String::new(), false);
        let (url, client) = (db.url().clone(), &client);
        let mut at = Setup {
            db: &mut db,
            url,
            client,
            probed,
            peewee,
            repeat,
            prefix,
        };
        let result = match part {
            Part::Load => {
                let rows = data::players(args.rows, data::SEED);
                load::run(&mut at, &rows).map(|s| s.iter().for_each(|s| out.show(s)))
            }
            Part::Trades => trades::run(&mut at, args.trades).map(|s| out.show(&s)),
            Part::Bank => run_bank(args, &player_cli, &mut out),
            Part::Memory => memory::run(at.db, &player_cli, &args.memory_counts)
                .map(|s| s.iter().for_each(|s| out.show(s))),
            Part::Rtt => rtt::run(at.db, peewee, &player_cli, args, &mut |s| out.show(s)),
        };
        if let Err(e) = result {
            broken += 1;
            eprintln!("{name}: BROKEN: {e:#}");
        }
    }
    if let Some(path) = &args.write_results {
        if broken > 0 {
            eprintln!("results not written to {}: a part broke", path.display());
        } else {
            let results = report::results_block(&out.collected, args.quick);
            std::fs::write(
                path,
                report::replace_results(&std::fs::read_to_string(path)?, &results)?,
            )?;
            eprintln!("results written to {}", path.display());
        }
    }
    Ok(broken)
}

/// The bank part: runs, prints, and fails on a violated invariant after
/// printing what was measured.
fn run_bank(args: &Args, player_cli: &PlayerCli, out: &mut Output) -> anyhow::Result<()> {
    if let Some(why) = player_cli.missing("bank") {
        eprintln!("bank: skipped ({why})");
        return Ok(());
    }
    let runs = bank::run(
        player_cli,
        &args.workers,
        args.bank_players,
        args.bank_seconds,
        &[],
    )?;
    out.show(&bank::section(&runs));
    bank::check(&runs)
}

/// Prints each section as it comes, and keeps its Markdown for `--write-results`.
struct Output {
    markdown: bool,
    collected: Vec<String>,
}

impl Output {
    fn show(&mut self, section: &Section) {
        println!("{}", section.render(self.markdown));
        self.collected.push(section.render(true));
    }
}
