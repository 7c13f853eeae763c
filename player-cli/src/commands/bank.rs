//! `player-cli bank`: the bank workload on a database of its own, with
//! progress on stderr, a report on stdout, and an invariant check that makes
//! the command fail when coins or goods were created, destroyed or overdrawn,
//! or when a player's balances do not match its trades. Ctrl-C or SIGTERM
//! stops the workers after their trades in flight; the report and the check
//! follow.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use player_bank::{
    BankError, Limit, Progress, ReconcileStatus, Settings, Summary, TradeForm, TxnMode,
};
use player_core::db::DatabaseUrl;
use player_core::retry::RetryPolicy;

use crate::args;
use crate::interrupt::{self, Interrupted};
use crate::text::Escaped;

/// Flags of `player-cli bank`.
#[derive(Debug, Args)]
pub struct BankArgs {
    /// Threads trading at once, one pooled connection each.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true, value_parser = args::workers)]
    pub workers: u32,

    /// Players seeded with known balances.
    #[arg(long, default_value_t = 100, allow_negative_numbers = true, value_parser = args::bank_players)]
    pub players: u32,

    /// How long to trade, in seconds (fractions allowed).
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true, value_parser = args::seconds, conflicts_with = "trades")]
    pub seconds: f64,

    /// Run this many trades instead of trading for a duration.
    #[arg(long, allow_negative_numbers = true, value_parser = args::trades)]
    pub trades: Option<u64>,

    /// Size of a hot set of players (the first ones) that trades favour; 0 for none.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = args::hot_players)]
    pub hot_players: u32,

    /// Chance (0 to 1) that each side of a trade is drawn from the hot set
    /// (needs --hot-players) [default: 0.5].
    #[arg(long, allow_negative_numbers = true, value_parser = args::share, requires = "hot_players")]
    pub hot_share: Option<f64>,

    /// Seed of the random trades [default: random, printed in the report].
    #[arg(long, allow_negative_numbers = true, value_parser = args::seed)]
    pub seed: Option<u64>,

    /// Retries of a trade after a retryable error (deadlock, lock wait timeout,
    /// TiDB write conflict...).
    #[arg(long, default_value_t = RetryPolicy::default().max_retries, allow_negative_numbers = true, value_parser = args::retries)]
    pub max_retries: u32,

    /// Which trade the workers call: `transactional` (BEGIN, UPDATE, COMMIT
    /// in `conn.transaction`) or `one-statement` (the UPDATE alone in autocommit).
    #[arg(long, value_enum, default_value_t = TradeFormArg::Transactional)]
    pub trade: TradeFormArg,

    /// Give every trade a fresh idempotency key (a UUID): a trade whose
    /// connection was lost while committing is sent again with its key on a
    /// new connection, which tells how it came out and applies it at most
    /// once. Transactional trades only.
    #[arg(long)]
    pub keyed: bool,

    /// TiDB only: `tidb_txn_mode` of the workers' sessions.
    #[arg(long, value_enum)]
    pub txn_mode: Option<TxnModeArg>,

    /// The bank's own database on the same server, created if missing; its
    /// `player` table is reset at the start. Never the database of DATABASE_URL.
    #[arg(long, default_value = player_bank::DEFAULT_DATABASE, value_name = "NAME", value_parser = bank_database)]
    pub bank_database: String,

    /// Seconds a worker waits for a connection (say, while the server
    /// restarts) before the run stops with an error.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true, value_parser = args::seconds, value_name = "SECONDS")]
    pub connect_timeout: f64,

    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A `--bank-database`: a name the bank accepts, checked before connecting.
fn bank_database(s: &str) -> Result<String, String> {
    player_bank::check_database_name(s)
        .map(|()| s.to_owned())
        .map_err(|why| format!("`{s}`: {why}"))
}

/// The `--hot-share` when none is given.
const DEFAULT_HOT_SHARE: f64 = 0.5;

/// Values of `--trade`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TradeFormArg {
    /// The trade inside `conn.transaction`.
    Transactional,
    /// The joined UPDATE alone in autocommit: one round trip.
    OneStatement,
}

impl From<TradeFormArg> for TradeForm {
    fn from(form: TradeFormArg) -> Self {
        match form {
            TradeFormArg::Transactional => TradeForm::Transactional,
            TradeFormArg::OneStatement => TradeForm::OneStatement,
        }
    }
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

impl BankArgs {
    /// Checks what clap cannot: a hot set is 0 (none) or 2 to `--players`
    /// players, a hot share needs a hot set, and keyed trades are transactional.
    pub fn check(&self) -> Result<(), String> {
        if self.keyed && matches!(self.trade, TradeFormArg::OneStatement) {
            return Err(
                "--keyed needs --trade transactional: one statement cannot also record a key"
                    .into(),
            );
        }
        let h = self.hot_players;
        if h == 0 && self.hot_share.is_some() {
            return Err(
                "--hot-share needs a hot set: give --hot-players (2 to the --players)".into(),
            );
        }
        if h == 1 || h > self.players {
            return Err(format!(
                "invalid value '{h}' for '--hot-players': {} (the --players), or 0 for no hot set",
                args::out_of_range(&h.to_string(), 2, self.players)
            ));
        }
        Ok(())
    }

    fn settings(&self) -> Settings {
        Settings {
            database: self.bank_database.clone(),
            workers: self.workers as usize,
            players: self.players as usize,
            limit: match self.trades {
                Some(n) => Limit::Trades(n),
                None => Limit::Duration(Duration::from_secs_f64(self.seconds)),
            },
            hot_players: self.hot_players as usize,
            hot_share: self.hot_share.unwrap_or(DEFAULT_HOT_SHARE),
            seed: self.seed.unwrap_or_else(rand::random),
            retry: RetryPolicy {
                max_retries: self.max_retries,
                ..RetryPolicy::default()
            },
            txn_mode: self.txn_mode.map(TxnMode::from),
            trade: self.trade.into(),
            keyed: self.keyed,
            connect_timeout: Duration::from_secs_f64(self.connect_timeout),
            ..Settings::default()
        }
    }
}

/// Runs the workload and prints its summary; an error when an invariant broke
/// or the run could not finish, and [`Interrupted`] when Ctrl-C or SIGTERM stopped a run
/// whose check passed.
pub fn run(url: &DatabaseUrl, args: &BankArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let settings = args.settings();
    let progress = Arc::new(Progress::default());
    let stop = Arc::clone(&progress);
    interrupt::on_signal(
        "the workers finish their trades in flight, then the check runs",
        // Seeding stops after its batch in flight, trading after the trades
        // in flight; before either, the bank is connecting or migrating.
        move || {
            stop.request_stop();
            stop.seeding.load(Ordering::Relaxed) || stop.trading.load(Ordering::Relaxed)
        },
    )?;
    let done = AtomicBool::new(false);
    let summary = std::thread::scope(|s| {
        s.spawn(|| show_progress(&settings, &progress, &done));
        let summary = player_bank::run(url, &settings, &progress);
        done.store(true, Ordering::Relaxed);
        summary
    })
    .map_err(|e| match e {
        e @ BankError::StoppedSeeding { .. } => anyhow::Error::new(Interrupted(format!(
            "stopped by {}: {e}",
            interrupt::cause()
        ))),
        e => e.into(),
    })?;
    if args.json {
        super::write_json(out, &summary)?;
    } else {
        write_table(out, &settings, &summary)?;
    }
    out.flush()?;

    if let Some(reason) = &summary.aborted {
        anyhow::bail!("the run stopped early: {reason}");
    }
    if !summary.invariants_ok {
        let undecided = summary
            .reconciliation
            .as_ref()
            .is_some_and(|r| r.status == ReconcileStatus::Undecided);
        let what = if undecided && summary.violations.len() == 1 {
            "invariants not verified"
        } else {
            "invariants violated"
        };
        anyhow::bail!("{what}: {}", summary.violations.join("; "));
    }
    if summary.interrupted {
        return Err(Interrupted(format!(
            "stopped by {} after {:.1} s; the trades in flight finished and the check passed",
            interrupt::cause(),
            summary.seconds
        ))
        .into());
    }
    Ok(())
}

/// How often a plain progress line is printed when stderr is not a terminal.
pub const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A bar on stderr when it is a terminal, as wide as the terminal, until
/// `done`: trades started out of `--trades`, or time elapsed out of
/// `--seconds` (in milliseconds, so it moves smoothly), then the counts.
/// Elsewhere (a log, CI) a plain line every [`PLAIN_PROGRESS_EVERY`].
fn show_progress(settings: &Settings, progress: &Progress, done: &AtomicBool) {
    if !std::io::stderr().is_terminal() {
        return plain_progress(settings, progress, done);
    }
    let (len, template) = match settings.limit {
        Limit::Trades(n) => (n, "{wide_bar} {human_pos}/{human_len} trades  {msg}"),
        Limit::Duration(d) => (
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            "{wide_bar} {seconds} s  {msg}",
        ),
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "seconds",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let secs = |ms: u64| ms as f64 / 1000.0;
                let total = secs(state.len().unwrap_or(0));
                let _ = write!(w, "{:.1}/{total:.1}", secs(state.pos()));
            },
        );
    let bar =
        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()).with_style(style);
    let started = std::time::Instant::now();
    while !done.load(Ordering::Relaxed) {
        let count = |c: &std::sync::atomic::AtomicU64| HumanCount(c.load(Ordering::Relaxed));
        match settings.limit {
            Limit::Trades(_) => bar.set_position(progress.finished()),
            Limit::Duration(_) => bar.set_position(
                u64::try_from(started.elapsed().as_millis())
                    .unwrap_or(u64::MAX)
                    .min(len),
            ),
        }
        bar.set_message(format!(
            "committed {} refused {} retried {} failed {}",
            count(&progress.committed),
            count(&progress.refused),
            count(&progress.retried),
            count(&progress.failed),
        ));
        std::thread::sleep(Duration::from_millis(50));
    }
    bar.finish_and_clear();
}

/// `progress: bank: seeded 120,000 of 1,000,000 players`, then
/// `progress: bank: trading for 5.0 s, committed 1,234 refused 5 retried 0 failed 0`,
/// every [`PLAIN_PROGRESS_EVERY`] until `done`.
fn plain_progress(settings: &Settings, progress: &Progress, done: &AtomicBool) {
    let started = std::time::Instant::now();
    let mut trading_since = None;
    let mut next = PLAIN_PROGRESS_EVERY;
    let count = |c: &std::sync::atomic::AtomicU64| HumanCount(c.load(Ordering::Relaxed));
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if progress.trading.load(Ordering::Relaxed) {
            trading_since.get_or_insert_with(std::time::Instant::now);
        }
        if started.elapsed() < next {
            continue;
        }
        next += PLAIN_PROGRESS_EVERY;
        match trading_since {
            None => eprintln!(
                "progress: bank: seeded {} of {} players",
                HumanCount(progress.seeded.load(Ordering::Relaxed)),
                HumanCount(settings.players as u64)
            ),
            Some(since) => eprintln!(
                "progress: bank: trading for {:.1} s, committed {} refused {} retried {} failed {}",
                since.elapsed().as_secs_f64(),
                count(&progress.committed),
                count(&progress.refused),
                count(&progress.retried),
                count(&progress.failed),
            ),
        }
    }
}

fn write_table(
    out: &mut impl Write,
    settings: &Settings,
    summary: &Summary,
) -> std::io::Result<()> {
    let mode = settings.txn_mode.map_or("server default", TxnMode::as_str);
    let interrupted = if summary.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    writeln!(
        out,
        "bank: {} workers, {} players, {:.1} s{interrupted}, seed {}, {} trade{}, txn mode {mode}",
        summary.workers,
        HumanCount(summary.players as u64),
        summary.seconds,
        summary.seed,
        summary.trade,
        if summary.keyed { " (keyed)" } else { "" }
    )?;
    let mut rows: Vec<(&str, String)> = vec![
        ("committed", HumanCount(summary.committed).to_string()),
        ("refused", HumanCount(summary.refused).to_string()),
        ("retried", HumanCount(summary.retried).to_string()),
        ("failed", HumanCount(summary.failed).to_string()),
        (
            "  of which outcome unknown",
            HumanCount(summary.unknown_outcome).to_string(),
        ),
        (
            "trades/s",
            HumanCount(summary.trades_per_sec.round() as u64).to_string(),
        ),
        ("latency p50", format!("{:.2} ms", summary.p50_ms)),
        ("latency p99", format!("{:.2} ms", summary.p99_ms)),
        ("latency max", format!("{:.2} ms", summary.max_ms)),
    ];
    if summary.keyed {
        let resolved = HumanCount(summary.resolved_by_key).to_string();
        rows.insert(5, ("unknown, resolved by key", resolved));
    }
    for (name, value) in rows {
        writeln!(out, "  {name:<27}{value:>12}")?;
    }
    for e in &summary.errors {
        writeln!(out, "  error: {}", Escaped(e))?;
    }
    match &summary.totals {
        Some(found) if summary.invariants_ok => writeln!(
            out,
            "invariants: ok ({} players, {} coins, {} goods, no negative balance)",
            HumanCount(found.players.unsigned_abs()),
            HumanCount(found.coins.unsigned_abs()),
            HumanCount(found.goods.unsigned_abs())
        )?,
        Some(_) => {
            for v in &summary.violations {
                writeln!(out, "invariant violated: {}", Escaped(v))?;
            }
        }
        None => {
            return writeln!(
                out,
                "invariants: not checked (the server could not be reached)"
            );
        }
    }
    if let Some(r) = &summary.reconciliation {
        let verdict = match r.status {
            ReconcileStatus::Reconciled => "ok",
            ReconcileStatus::Mismatch => "FAILED",
            ReconcileStatus::Undecided => "undecided",
        };
        writeln!(
            out,
            "reconciliation: {verdict} ({})",
            Escaped(&r.to_string())
        )?;
    }
    Ok(())
}
