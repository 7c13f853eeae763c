//! Command-line arguments. Sizes default to a full run's, or to the smoke run's
//! with `--quick`.

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

    /// Players per bulk load [--quick: 10000].
    #[arg(long, value_name = "N", default_value = "100000", default_value_if("quick", "true", "10000"), value_parser = positive)]
    pub rows: usize,

    /// Times each load and trade measurement is repeated; the median is shown [--quick: 1].
    #[arg(long, value_name = "N", default_value = "5", default_value_if("quick", "true", "1"), value_parser = positive)]
    pub repeat: usize,

    /// Trades per one-connection trade measurement [--quick: 300].
    #[arg(long, value_name = "N", default_value = "5000", default_value_if("quick", "true", "300"), value_parser = positive)]
    pub trades: usize,

    /// Worker counts of the bank workload.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "1,2,4,8,16,32", value_parser = positive)]
    pub workers: Vec<usize>,

    /// Seconds each bank run lasts [--quick: 1].
    #[arg(long, value_name = "S", default_value = "10", default_value_if("quick", "true", "1"), value_parser = positive)]
    pub bank_seconds: usize,

    /// Players of the bank workload [--quick: 100].
    #[arg(long, value_name = "N", default_value = "1000", default_value_if("quick", "true", "100"), value_parser = positive)]
    pub bank_players: usize,

    /// Player counts `player-cli load` is measured with [--quick: 10000,50000].
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "100000,1000000",
          default_value_if("quick", "true", "10000,50000"), value_parser = positive)]
    pub memory_counts: Vec<usize>,

    /// Round-trip times in ms of the `rtt` part (e.g. 0,1,5), which runs every side
    /// through a latency proxy on 127.0.0.1 adding half of each to each direction;
    /// 0 is added when missing. The part runs when this is given, or with
    /// `--only rtt` (then 0,1,5); a run without either leaves it out.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = rtt_ms)]
    pub rtt_ms: Option<Vec<f64>>,

    /// Trades per run of the round-trip part, fewer at long RTTs [--quick: 20].
    #[arg(long, value_name = "N", default_value = "200", default_value_if("quick", "true", "20"), value_parser = positive)]
    pub rtt_trades: usize,

    /// Players per load of the round-trip part, fewer at long RTTs [--quick: 1140].
    #[arg(long, value_name = "N", default_value = "11400", default_value_if("quick", "true", "1140"), value_parser = positive)]
    pub rtt_rows: usize,

    /// Repetitions of each round-trip measurement [--quick: 1].
    #[arg(long, value_name = "N", default_value = "3", default_value_if("quick", "true", "1"), value_parser = positive)]
    pub rtt_repeat: usize,

    /// Seconds of each bank run through the proxy [--quick: 1].
    #[arg(long, value_name = "S", default_value = "5", default_value_if("quick", "true", "1"), value_parser = positive)]
    pub rtt_bank_seconds: usize,

    /// Python with peewee and PyMySQL for the tutorial's side [default:
    /// .local/peewee-venv/bin/python, which `scripts/bench.sh` installs]. Without
    /// it the peewee columns are skipped with the reason.
    #[arg(long, value_name = "PATH")]
    pub peewee_python: Option<PathBuf>,

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
}

/// A part of the benchmark, in the order they run.
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

/// Round-trip times of the `rtt` part when `--rtt-ms` is not given.
pub const DEFAULT_RTTS_MS: [f64; 3] = [0.0, 1.0, 5.0];

/// Parses a count or a number of seconds: at least 1.
fn positive(s: &str) -> Result<usize, String> {
    s.parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("`{s}` is not a whole number of at least 1"))
}

/// Parses one round-trip time: 0 to 1000 ms.
fn rtt_ms(s: &str) -> Result<f64, String> {
    let ms = s.parse().ok().filter(|ms| (0.0..=1_000.0).contains(ms));
    ms.ok_or_else(|| format!("`{s}` is not a number of milliseconds from 0 to 1000"))
}

impl Args {
    /// The parts to run, in their order: those of `--only`, else all but
    /// `rtt`, which runs when `--rtt-ms` is given (with the others, or with
    /// those of `--only`).
    pub fn parts(&self) -> Vec<Part> {
        Part::value_variants()
            .iter()
            .copied()
            .filter(|p| match p {
                Part::Rtt => self.rtt_ms.is_some() || self.only.contains(p),
                _ => self.only.is_empty() || self.only.contains(p),
            })
            .collect()
    }

    /// The round-trip times of the rtt part: 0 first, each once, ascending.
    pub fn rtts_ms(&self) -> Vec<f64> {
        let mut rtts = self.rtt_ms.clone().unwrap_or(DEFAULT_RTTS_MS.to_vec());
        rtts.push(0.0);
        rtts.sort_by(f64::total_cmp);
        rtts.dedup();
        rtts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_parts_follow_the_flags() {
        let parse =
            |args: &str| Args::try_parse_from(format!("player-bench {args}").split_whitespace());
        let quick = parse("--quick --trades 7 --only trades --rtt-ms 5,1").expect("valid");
        assert_eq!(
            (quick.rows, quick.trades, quick.memory_counts.clone()),
            (10_000, 7, vec![10_000, 50_000])
        );
        assert_eq!(
            (quick.parts(), quick.rtts_ms()),
            (vec![Part::Trades, Part::Rtt], vec![0.0, 1.0, 5.0])
        );
        assert!(!parse("").expect("valid").parts().contains(&Part::Rtt));
        assert!(
            ["--rtt-ms -1", "--rtt-ms x", "--repeat 0"]
                .iter()
                .all(|bad| parse(bad).is_err())
        );
    }
}
