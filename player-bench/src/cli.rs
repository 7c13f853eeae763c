//! Command-line arguments, and the sizes they resolve to.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use player_core::db::DatabaseUrl;

/// Benchmarks the Diesel player app against the server's own limits, in one run, on the same data.
///
/// Creates the database `player_bench` on the server (dropping an old one of that name), runs the
/// migrations, measures, prints tables of absolute figures and ratios, and drops the database.
/// Absolute figures are machine-specific; the ratios are what carry over.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// The server to measure. Its database part is ignored: the benchmark uses its own.
    #[arg(
        long,
        value_name = "URL",
        default_value = "mysql://root@127.0.0.1:4000/"
    )]
    pub database_url: DatabaseUrl,

    /// The database to create, use and drop; must start with `player_bench`.
    #[arg(long, value_name = "NAME", default_value = "player_bench")]
    pub database: String,

    /// Small sizes for a smoke run of the harness (under a minute); its figures mean little.
    #[arg(long)]
    pub quick: bool,

    /// Run only these parts (comma-separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,

    /// Print the tables as Markdown, to paste into docs/benchmarks.md.
    #[arg(long)]
    pub markdown: bool,

    /// Players per bulk load [default: 100000; --quick: 10000].
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,

    /// Times each load and trade measurement is repeated; the median is shown
    /// [default: 5; --quick: 1].
    #[arg(long, value_name = "N")]
    pub repeat: Option<usize>,

    /// Trades per one-connection trade measurement [default: 5000; --quick: 300].
    #[arg(long, value_name = "N")]
    pub trades: Option<usize>,

    /// Worker counts of the bank workload [default: 1,2,4,8,16,32].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub workers: Option<Vec<usize>>,

    /// Seconds each bank run lasts [default: 10; --quick: 1].
    #[arg(long, value_name = "S")]
    pub bank_seconds: Option<u64>,

    /// Players of the bank workload [default: 1000; --quick: 100].
    #[arg(long, value_name = "N")]
    pub bank_players: Option<usize>,

    /// Player counts `player-cli load` is measured with [default: 100000,1000000;
    /// --quick: 10000,50000].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub memory_counts: Option<Vec<usize>>,

    /// Round-trip times in ms of the `rtt` part (e.g. 0,1,5), which runs every side
    /// through a latency proxy on 127.0.0.1 adding half of each to each direction;
    /// 0 is added when missing. The part runs when this is given, or with
    /// `--only rtt` (then 0,1,5); a run without either leaves it out.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = rtt_ms)]
    pub rtt_ms: Option<Vec<f64>>,

    /// Trades per run of the round-trip part, fewer at long RTTs [default: 200; --quick: 20].
    #[arg(long, value_name = "N")]
    pub rtt_trades: Option<usize>,

    /// Players per load of the round-trip part, fewer at long RTTs [default: 11400; --quick: 1140].
    #[arg(long, value_name = "N")]
    pub rtt_rows: Option<usize>,

    /// Repetitions of each round-trip measurement [default: 3; --quick: 1].
    #[arg(long, value_name = "N")]
    pub rtt_repeat: Option<usize>,

    /// Seconds of each bank run through the proxy [default: 5; --quick: 1].
    #[arg(long, value_name = "S")]
    pub rtt_bank_seconds: Option<u64>,

    /// Python with peewee and PyMySQL for the tutorial's side [default:
    /// .local/peewee-venv/bin/python, which `scripts/bench.sh` installs]. Without
    /// it the peewee columns are skipped with the reason.
    #[arg(long, value_name = "PATH")]
    pub peewee_python: Option<PathBuf>,

    /// Also write the chart of trades/s against RTT as SVG to this file (e.g. docs/rtt-trades.svg).
    #[arg(long, value_name = "PATH")]
    pub rtt_chart: Option<PathBuf>,

    /// The command-line client [default: `mariadb`, else `mysql`, from PATH].
    #[arg(long, value_name = "PATH")]
    pub client: Option<PathBuf>,

    /// The `player-cli` binary [default: the one next to this binary].
    #[arg(long, value_name = "PATH")]
    pub player_cli: Option<PathBuf>,

    /// Also write the tables as Markdown into this file, between its
    /// `<!-- player-bench results: begin -->` and `end` markers (e.g. docs/benchmarks.md).
    /// Nothing is written when a part broke.
    #[arg(long, value_name = "PATH")]
    pub write_results: Option<PathBuf>,

    /// Also write the bank throughput chart as SVG to this file (e.g. docs/bank-throughput.svg).
    #[arg(long, value_name = "PATH")]
    pub chart: Option<PathBuf>,
}

/// A part of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Bulk load: Diesel vs the client's multi-row INSERTs vs LOAD DATA.
    Load,
    /// Trades on one connection: Diesel vs the client running the same statements.
    Trades,
    /// The bank workload of `player-cli bank` at growing worker counts.
    Bank,
    /// Peak memory of `player-cli load`.
    Memory,
    /// Trades, loads and the bank through a latency proxy, against round-trip time.
    Rtt,
}

impl Part {
    /// The name `--only` takes.
    pub fn name(self) -> &'static str {
        match self {
            Part::Load => "load",
            Part::Trades => "trades",
            Part::Bank => "bank",
            Part::Memory => "memory",
            Part::Rtt => "rtt",
        }
    }
}

/// Every part, in the order they run.
pub const ALL_PARTS: [Part; 5] = [
    Part::Load,
    Part::Trades,
    Part::Bank,
    Part::Memory,
    Part::Rtt,
];

/// Round-trip times of the `rtt` part when `--rtt-ms` is not given.
pub const DEFAULT_RTTS_MS: [f64; 3] = [0.0, 1.0, 5.0];

/// Parses one round-trip time: 0 to 1000 ms.
fn rtt_ms(s: &str) -> Result<f64, String> {
    let ms: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of milliseconds"))?;
    if (0.0..=1_000.0).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("{ms} ms is not between 0 and 1000"))
    }
}

/// Batch sizes of the bulk load (114 is the tutorial's).
pub const BATCH_SIZES: [usize; 3] = [114, 1_000, 5_000];

/// The batch size `player-cli load` is run with in the memory part.
pub const MEMORY_BATCH: usize = 1_000;

/// Sizes with the defaults of `--quick` or of a full run filled in.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Players per bulk load.
    pub rows: usize,
    /// Repetitions of each load and trade measurement.
    pub repeat: usize,
    /// Trades per one-connection measurement.
    pub trades: usize,
    /// Bank worker counts.
    pub workers: Vec<usize>,
    /// Seconds per bank run.
    pub bank_seconds: u64,
    /// Players of the bank workload.
    pub bank_players: usize,
    /// Player counts of the memory part.
    pub memory_counts: Vec<usize>,
    /// Round-trip times of the rtt part, 0 first, each once, ascending.
    pub rtts_ms: Vec<f64>,
    /// Trades per run of the rtt part.
    pub rtt_trades: usize,
    /// Players per load of the rtt part.
    pub rtt_rows: usize,
    /// Repetitions of the rtt part.
    pub rtt_repeat: usize,
    /// Seconds per bank run of the rtt part.
    pub rtt_bank_seconds: u64,
}

impl Args {
    /// The sizes to use.
    pub fn sizes(&self) -> Sizes {
        let quick = self.quick;
        let pick = |full: usize, small: usize| if quick { small } else { full };
        Sizes {
            rows: self.rows.unwrap_or(pick(100_000, 10_000)),
            repeat: self.repeat.unwrap_or(pick(5, 1)).max(1),
            trades: self.trades.unwrap_or(pick(5_000, 300)),
            workers: self
                .workers
                .clone()
                .unwrap_or_else(|| vec![1, 2, 4, 8, 16, 32]),
            bank_seconds: self.bank_seconds.unwrap_or(if quick { 1 } else { 10 }),
            bank_players: self.bank_players.unwrap_or(pick(1_000, 100)),
            memory_counts: self.memory_counts.clone().unwrap_or_else(|| {
                if quick {
                    vec![10_000, 50_000]
                } else {
                    vec![100_000, 1_000_000]
                }
            }),
            rtts_ms: {
                let mut rtts = self.rtt_ms.clone().unwrap_or(DEFAULT_RTTS_MS.to_vec());
                rtts.push(0.0);
                rtts.sort_by(f64::total_cmp);
                rtts.dedup();
                rtts
            },
            rtt_trades: self.rtt_trades.unwrap_or(pick(200, 20)).max(1),
            rtt_rows: self.rtt_rows.unwrap_or(pick(11_400, 1_140)).max(1),
            rtt_repeat: self.rtt_repeat.unwrap_or(pick(3, 1)).max(1),
            rtt_bank_seconds: self
                .rtt_bank_seconds
                .unwrap_or(if quick { 1 } else { 5 })
                .max(1),
        }
    }

    /// The parts to run, in their order: those of `--only`, else all but
    /// `rtt`, which runs when `--rtt-ms` is given (with the others, or with
    /// those of `--only`).
    pub fn parts(&self) -> Vec<Part> {
        ALL_PARTS
            .into_iter()
            .filter(|p| match p {
                Part::Rtt => self.rtt_ms.is_some() || self.only.contains(p),
                _ => self.only.is_empty() || self.only.contains(p),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rtt_part_runs_when_asked_for() {
        let parse = |args: &[&str]| {
            Args::try_parse_from(std::iter::once("player-bench").chain(args.iter().copied()))
                .expect("valid arguments")
        };
        assert!(!parse(&[]).parts().contains(&Part::Rtt));
        let with = parse(&["--rtt-ms", "5,1"]);
        assert_eq!(with.parts(), ALL_PARTS.to_vec());
        assert_eq!(with.sizes().rtts_ms, vec![0.0, 1.0, 5.0]);
        assert_eq!(
            parse(&["--only", "trades", "--rtt-ms", "0.5"]).parts(),
            vec![Part::Trades, Part::Rtt]
        );
        assert_eq!(
            parse(&["--only", "rtt"]).sizes().rtts_ms,
            DEFAULT_RTTS_MS.to_vec()
        );
        assert!(Args::try_parse_from(["player-bench", "--rtt-ms", "-1"]).is_err());
        assert!(Args::try_parse_from(["player-bench", "--rtt-ms", "x"]).is_err());
    }
}
