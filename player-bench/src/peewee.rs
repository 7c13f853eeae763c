//! The tutorial's own code as a side of the comparison: `peewee/bench_peewee.py`
//! (peewee with PyMySQL, the tutorial's `bulk_create` and `trade`), run with the
//! Python of the virtual environment `scripts/bench.sh` installs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, ensure};
use player_core::db::DatabaseUrl;

use crate::counters::{CommandCounts, SessionCounters};

/// The harness, next to this crate's sources.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peewee/bench_peewee.py");
/// The interpreter of the environment `scripts/bench.sh` makes (git-ignored).
const VENV_PYTHON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../.local/peewee-venv/bin/python"
);

/// The tutorial's batch size for `bulk_create`.
pub const BATCH: usize = 114;

/// A Python with peewee and PyMySQL.
#[derive(Debug)]
pub struct Peewee {
    python: PathBuf,
}

/// One timed run of the harness: players inserted, or trades made, per second
/// of the timed loop, and what the connection sent per batch or trade.
pub type PeeweeRun = (f64, Option<CommandCounts>);

impl Peewee {
    /// `python` (else the environment's), checked: it runs, and imports peewee
    /// and PyMySQL. `Err` holds the reason to print when the column is skipped.
    pub fn find(python: Option<PathBuf>) -> Result<Self, String> {
        let python = python.unwrap_or_else(|| PathBuf::from(VENV_PYTHON));
        let path = python.display();
        let import = Command::new(&python)
            .args(["-c", "import peewee, pymysql"])
            .output();
        match import {
            _ if !python.is_file() => Err(format!(
                "{path} not found; `scripts/bench.sh` installs it (or pass --peewee-python)"
            )),
            Err(e) => Err(format!("cannot run {path}: {e}")),
            Ok(out) if !out.status.success() => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                Err(format!(
                    "{path} cannot import peewee and PyMySQL: {}",
                    stderr.trim()
                ))
            }
            Ok(_) => Ok(Self { python }),
        }
    }

    /// The tutorial's `Player.bulk_create` of the first `count` players of
    /// `csv` (a file of `sql_files::write_csv`) in batches of `batch`.
    pub fn load(
        &self,
        url: &DatabaseUrl,
        csv: &Path,
        count: usize,
        batch: usize,
    ) -> anyhow::Result<PeeweeRun> {
        let (n, b, csv) = (count.to_string(), batch.to_string(), csv.to_string_lossy());
        self.run(
            url,
            &["load", "--count", &n, "--batch", &b, "--rows", &csv],
            count.div_ceil(batch),
        )
    }

    /// `count` of the tutorial's trades of one good for one coin, alternating
    /// between `a` selling to `b` and back.
    pub fn trade(
        &self,
        url: &DatabaseUrl,
        count: usize,
        a: &str,
        b: &str,
    ) -> anyhow::Result<PeeweeRun> {
        let n = count.to_string();
        let args = [
            "trade", "--count", &n, "--seller", a, "--buyer", b, "--amount", "1", "--price", "1",
        ];
        self.run(url, &args, count)
    }

    /// Runs the harness with `--print-counters`; the URL goes in `DATABASE_URL`,
    /// out of the process list.
    fn run(&self, url: &DatabaseUrl, args: &[&str], units: usize) -> anyhow::Result<PeeweeRun> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(SCRIPT)
            .args(args)
            .arg("--print-counters")
            .env("DATABASE_URL", url.expose());
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .context("cannot start the peewee harness")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.success(),
            "bench_peewee.py {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        );
        parse(&String::from_utf8_lossy(&out.stdout), &stderr, units)
    }
}

/// The run of a harness that printed `stdout` and `stderr`, `units` batches or trades.
fn parse(stdout: &str, stderr: &str, units: usize) -> anyhow::Result<PeeweeRun> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("bench_peewee.py printed no JSON")?;
    let printed: serde_json::Value =
        serde_json::from_str(line).context("bench_peewee.py's JSON line")?;
    let rate = printed["per_second"].as_f64().unwrap_or(0.0);
    ensure!(
        rate.is_finite() && rate > 0.0,
        "bench_peewee.py measured nothing: {line}"
    );
    let counters = stderr
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<SessionCounters>(l).ok());
    Ok((
        rate,
        counters.and_then(|sent| CommandCounts::from_deltas(&sent, units)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rate_and_the_counters() {
        let trade = r#"{"mode": "trade", "count": 10, "seconds": 0.5, "per_second": 20.0}"#;
        let counters = r#"{"com_select": 20, "com_update": 20, "com_commit": 20}"#;
        let (rate, counts) = parse(trade, counters, 10).expect("parses");
        assert_eq!((rate, counts.map(|c| c.round_trips)), (20.0, Some(6.0)));
        assert!(parse("nothing", "", 1).is_err());
        assert!(parse(r#"{"mode": "load", "count": 0, "per_second": 0.0}"#, "", 1).is_err());
    }
}
