//! `player-bench`: measures the Diesel player app against the server's own limits,
//! in one run, on the same data. See docs/benchmarks.md.
//!
//! Exit status: 0 when every measurement ran (a missed target is only reported),
//! 1 when something broke (a wrong row count, a failed client, a violated
//! invariant), 2 on a usage error.

mod bank;
mod bench_db;
mod chart;
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
mod trades;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::bench_db::BenchDb;
use crate::cli::{Args, Part};
use crate::client::Client;
use crate::peewee::Peewee;
use crate::player_cli::PlayerCli;
use crate::report::Section;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(memory::WRAPPER_ARG) {
        return memory::wrapper_main(&argv[2..]);
    }
    let args = Args::parse();
    match run(&args) {
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

/// Runs the chosen parts and returns how many broke. Each part's table is
/// printed as soon as it is done; a part that breaks does not stop the others.
fn run(args: &Args) -> anyhow::Result<usize> {
    let sizes = args.sizes();
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

    let mut out = Output::new(args.markdown);
    let server = db.server_version()?;
    let settings = server_settings(&mut db);
    out.show(&machine::section(&server, &client.version()?, &settings));

    let mut broken = 0;
    for part in parts {
        eprintln!("{}:", part.name());
        let result: anyhow::Result<Option<Section>> = match part {
            Part::Load => {
                let rows = data::players(sizes.rows, data::SEED);
                load::run(&mut db, &client, peewee, &rows, sizes.repeat).map(Some)
            }
            Part::Trades => {
                trades::run(&mut db, &client, peewee, sizes.trades, sizes.repeat).map(Some)
            }
            Part::Bank => run_bank(args, &sizes, &player_cli, &mut out),
            Part::Memory => memory::run(&mut db, &player_cli, &sizes.memory_counts),
            Part::Rtt => run_rtt(args, &sizes, &mut db, peewee, &player_cli, &mut out),
        };
        match result {
            Ok(Some(section)) => out.show(&section),
            Ok(None) => {}
            Err(e) => {
                broken += 1;
                eprintln!("{}: BROKEN: {e:#}", part.name());
            }
        }
    }
    if let Some(path) = &args.write_results {
        if broken > 0 {
            eprintln!("results not written to {}: a part broke", path.display());
        } else {
            let doc = std::fs::read_to_string(path)?;
            let results = report::results_block(&out.collected, args.quick);
            std::fs::write(path, report::replace_results(&doc, &results)?)?;
            eprintln!("results written to {}", path.display());
        }
    }
    Ok(broken)
}

/// The bank part: runs, prints, writes the SVG chart if asked, and fails on a
/// violated invariant after printing what was measured.
fn run_bank(
    args: &Args,
    sizes: &cli::Sizes,
    player_cli: &PlayerCli,
    out: &mut Output,
) -> anyhow::Result<Option<Section>> {
    let Some(runs) = bank::run(
        player_cli,
        &sizes.workers,
        sizes.bank_players,
        sizes.bank_seconds,
    )?
    else {
        return Ok(None);
    };
    out.show(&bank::section(&runs));
    if let Some(path) = &args.chart {
        let svg = chart::svg(
            &bank::points(&runs),
            "Bank workload: throughput against workers (grey: p99 latency)",
            "workers",
            "committed trades/s",
        );
        std::fs::write(path, svg)?;
        eprintln!("bank: chart written to {}", path.display());
        out.collect_only(format!(
            "![Committed trades per second against workers, with p99 latency]({})\n",
            link_from(args.write_results.as_deref(), path)
        ));
    }
    bank::check(&runs)?;
    Ok(None)
}

/// The round-trip part: prints its sections, writes its chart if asked, and
/// fails on a bank run that broke, after printing what was measured.
fn run_rtt(
    args: &Args,
    sizes: &cli::Sizes,
    db: &mut BenchDb,
    peewee: Result<&Peewee, &str>,
    player_cli: &PlayerCli,
    out: &mut Output,
) -> anyhow::Result<Option<Section>> {
    let opts = rtt::Options {
        rtts_ms: sizes.rtts_ms.clone(),
        trades: sizes.rtt_trades,
        rows: sizes.rtt_rows,
        repeat: sizes.rtt_repeat,
        budget: std::time::Duration::from_secs(if args.quick { 2 } else { 10 }),
        bank_seconds: sizes.rtt_bank_seconds,
        bank_players: sizes.bank_players,
        bank_database: format!("{}_bank", args.database),
        client: args.client.clone(),
    };
    let rows = data::players(sizes.rtt_rows, data::SEED);
    let result = rtt::run(db, peewee, player_cli, &rows, &opts);
    db.drop_other(&opts.bank_database);
    let outcome = result?;
    for section in &outcome.sections {
        out.show(section);
    }
    if let Some(path) = &args.rtt_chart {
        std::fs::write(path, &outcome.chart)?;
        eprintln!("rtt: chart written to {}", path.display());
        out.collect_only(format!(
            "![Trades per second against round-trip time, one line per side]({})\n",
            link_from(args.write_results.as_deref(), path)
        ));
    }
    outcome.broken.map_or(Ok(None), Err)
}

/// Server settings that decide commit cost, where the server has them.
fn server_settings(db: &mut BenchDb) -> Vec<(String, String)> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Var {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = Variable_name)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text, column_name = Value)]
        value: String,
    }
    diesel::sql_query(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
         ('innodb_flush_log_at_trx_commit', 'sync_binlog', 'log_bin', 'innodb_buffer_pool_size', \
          'transaction_isolation', 'tx_isolation')",
    )
    .load::<Var>(db.conn())
    .unwrap_or_default()
    .into_iter()
    .map(|v| (v.name, v.value))
    .collect()
}

/// Prints each section as it comes, and keeps its Markdown for `--write-results`.
struct Output {
    markdown: bool,
    collected: Vec<String>,
}

impl Output {
    fn new(markdown: bool) -> Self {
        Self {
            markdown,
            collected: Vec::new(),
        }
    }

    fn show(&mut self, section: &Section) {
        println!("{}", section.render(self.markdown));
        self.collected.push(section.render(true));
    }

    /// Markdown for `--write-results` only.
    fn collect_only(&mut self, markdown: String) {
        self.collected.push(markdown);
    }
}

/// How a Markdown file at `doc` links to `target`: by file name when both are
/// in the same folder, else by the path as given.
fn link_from(doc: Option<&std::path::Path>, target: &std::path::Path) -> String {
    let same_dir = doc.is_some_and(|d| d.parent() == target.parent());
    match target.file_name() {
        Some(name) if same_dir => name.to_string_lossy().into_owned(),
        _ => target.to_string_lossy().into_owned(),
    }
}
