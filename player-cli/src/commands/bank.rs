//! `player-cli bank`: the bank workload on a database of its own, with
//! progress on stderr, a report on stdout, and an invariant check that makes
//! the command fail when coins or goods were created, destroyed or overdrawn.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use player_core::bank::{self, Check, Config, Counters, Limit, Report, TxnMode};
use player_core::db::{self, DatabaseUrl};
use player_core::retry::RetryPolicy;

/// Flags of `player-cli bank`.
#[derive(Debug, Args)]
pub struct BankArgs {
    /// Threads trading at once, one pooled connection each.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: u32,

    /// Players seeded with known balances.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub players: u32,

    /// How long to trade, in seconds (fractions allowed).
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds, conflicts_with = "trades")]
    pub seconds: f64,

    /// Run this many trades instead of trading for a duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub trades: Option<u64>,

    /// Size of a hot set of players (the first ones) that trades favour; 0 for none.
    #[arg(long, default_value_t = 0)]
    pub hot_players: u32,

    /// Chance (0 to 1) that each side of a trade is drawn from the hot set.
    #[arg(long, default_value_t = 0.5)]
    pub hot_share: f64,

    /// Seed of the random trades [default: random, printed in the report].
    #[arg(long)]
    pub seed: Option<u64>,

    /// Retries of a trade after a retryable error (deadlock, lock wait timeout,
    /// TiDB write conflict...).
    #[arg(long, default_value_t = RetryPolicy::default().max_retries)]
    pub max_retries: u32,

    /// TiDB only: `tidb_txn_mode` of the workers' sessions.
    #[arg(long, value_enum)]
    pub txn_mode: Option<TxnModeArg>,

    /// The bank's own database on the same server, created if missing; its
    /// `player` table is reset at the start. Never the database of DATABASE_URL.
    #[arg(long, default_value = bank::DEFAULT_DATABASE, value_name = "NAME")]
    pub bank_database: String,

    /// Seconds a worker waits for a connection (say, while the server
    /// restarts) before the run stops with an error.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds, value_name = "SECONDS")]
    pub connect_timeout: f64,

    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Values of `--txn-mode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TxnModeArg {
    /// Locks taken as statements run.
    Pessimistic,
    /// Conflicts found at commit, then retried.
    Optimistic,
}

impl From<TxnModeArg> for TxnMode {
    fn from(mode: TxnModeArg) -> Self {
        match mode {
            TxnModeArg::Pessimistic => TxnMode::Pessimistic,
            TxnModeArg::Optimistic => TxnMode::Optimistic,
        }
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

impl BankArgs {
    fn config(&self) -> Config {
        Config {
            workers: self.workers as usize,
            players: self.players as usize,
            limit: match self.trades {
                Some(n) => Limit::Trades(n),
                None => Limit::Duration(Duration::from_secs_f64(self.seconds)),
            },
            hot_players: self.hot_players as usize,
            hot_share: self.hot_share,
            seed: self.seed.unwrap_or_else(rand::random),
            retry: RetryPolicy {
                max_retries: self.max_retries,
                ..RetryPolicy::default()
            },
            txn_mode: self.txn_mode.map(TxnMode::from),
            connect_timeout: Duration::from_secs_f64(self.connect_timeout),
            ..Config::default()
        }
    }
}

/// Runs the workload and prints its report; an error when an invariant broke
/// or the run could not finish.
pub fn run(url: &DatabaseUrl, args: &BankArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let config = args.config();
    config.validate()?;
    if config.txn_mode.is_some() {
        // Before anything is created or changed.
        bank::require_tidb(&mut db::connect(url)?)?;
    }
    let bank_url = bank::open_database(url, &args.bank_database).map_err(lift)?;
    let mut conn = db::connect(&bank_url)?;
    player_core::migrations::run_pending(&mut conn)?;
    let totals = bank::seed(&mut conn, &config)?;
    drop(conn);
    let pool = bank::pool(&bank_url, &config).map_err(lift)?;

    let counters = Counters::default();
    let done = AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        s.spawn(|| show_progress(&config, &counters, &done));
        let report = bank::run(&pool, &config, &counters);
        done.store(true, Ordering::Relaxed);
        report
    })?;

    let check = match pool.get() {
        Ok(mut conn) => bank::check(&mut conn, &totals).context("checking the invariants"),
        Err(e) => Err(anyhow::anyhow!(
            "cannot connect to check the invariants: {e}"
        )),
    };
    let check = match check {
        Ok(check) => Some(check),
        Err(e) if report.aborted.is_some() => {
            tracing::warn!(%e, "no check after an aborted run");
            None
        }
        Err(e) => return Err(e),
    };
    if args.json {
        writeln!(
            out,
            "{}",
            json_report(args, &config, &report, check.as_ref())
        )?;
    } else {
        write_table(out, &config, &report, check.as_ref())?;
    }
    out.flush()?;

    if let Some(reason) = &report.aborted {
        anyhow::bail!("the run stopped early: {reason}");
    }
    match check {
        Some(check) if !check.ok() => {
            anyhow::bail!("invariants violated: {}", check.violations().join("; "))
        }
        _ => Ok(()),
    }
}

/// Connection errors keep their own type, so that `main` can print their hint.
fn lift(err: bank::BankError) -> anyhow::Error {
    match err {
        bank::BankError::Connect(e) => e.into(),
        other => other.into(),
    }
}

/// A bar (for a trade count) or a spinner (for a duration) on stderr, hidden
/// when stderr is not a terminal, until `done`.
fn show_progress(config: &Config, counters: &Counters, done: &AtomicBool) {
    let bar = match config.limit {
        Limit::Trades(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} trades {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        Limit::Duration(d) => ProgressBar::new(d.as_secs().max(1)).with_style(
            ProgressStyle::with_template("{bar:30} {elapsed}/{len}s {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
    };
    let started = std::time::Instant::now();
    while !done.load(Ordering::Relaxed) {
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        match config.limit {
            Limit::Trades(_) => bar.set_position(counters.finished()),
            Limit::Duration(_) => bar.set_position(started.elapsed().as_secs()),
        }
        bar.set_message(format!(
            "committed {} refused {} retried {} failed {}",
            load(&counters.committed),
            load(&counters.refused),
            load(&counters.retried),
            load(&counters.failed),
        ));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn json_report(
    args: &BankArgs,
    config: &Config,
    report: &Report,
    check: Option<&Check>,
) -> serde_json::Value {
    serde_json::json!({
        "workers": config.workers,
        "players": config.players,
        "seconds": report.elapsed.as_secs_f64(),
        "trades_limit": args.trades,
        "seed": config.seed,
        "txn_mode": config.txn_mode.map(TxnMode::as_str),
        "committed": report.committed,
        "refused": report.refused,
        "retried": report.retried,
        "failed": report.failed,
        "unknown_outcome": report.unknown,
        "trades_per_sec": report.trades_per_sec(),
        "p50_ms": report.latency_ms(0.50),
        "p99_ms": report.latency_ms(0.99),
        "max_ms": report.latency_ms(1.0),
        "invariants_ok": check.is_some_and(Check::ok),
        "violations": check.map(Check::violations).unwrap_or_default(),
        "errors": report.errors,
        "aborted": report.aborted,
    })
}

fn write_table(
    out: &mut impl Write,
    config: &Config,
    report: &Report,
    check: Option<&Check>,
) -> std::io::Result<()> {
    let mode = config.txn_mode.map_or("server default", TxnMode::as_str);
    writeln!(
        out,
        "bank: {} workers, {} players, {:.1} s, seed {}, txn mode {mode}",
        config.workers,
        config.players,
        report.elapsed.as_secs_f64(),
        config.seed
    )?;
    let rows: [(&str, String); 9] = [
        ("committed", report.committed.to_string()),
        ("refused", report.refused.to_string()),
        ("retried", report.retried.to_string()),
        ("failed", report.failed.to_string()),
        ("  of which outcome unknown", report.unknown.to_string()),
        ("trades/s", format!("{:.0}", report.trades_per_sec())),
        ("latency p50", format!("{:.2} ms", report.latency_ms(0.50))),
        ("latency p99", format!("{:.2} ms", report.latency_ms(0.99))),
        ("latency max", format!("{:.2} ms", report.latency_ms(1.0))),
    ];
    for (name, value) in rows {
        writeln!(out, "  {name:<27}{value:>12}")?;
    }
    for e in &report.errors {
        writeln!(out, "  error: {e}")?;
    }
    match check {
        Some(c) if c.ok() => writeln!(
            out,
            "invariants: ok ({} players, {} coins, {} goods, no negative balance)",
            c.found.players, c.found.coins, c.found.goods
        ),
        Some(c) => {
            for v in c.violations() {
                writeln!(out, "invariant violated: {v}")?;
            }
            Ok(())
        }
        None => writeln!(
            out,
            "invariants: not checked (the server could not be reached)"
        ),
    }
}
