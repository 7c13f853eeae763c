//! `load`: bulk-create random players, a batch at a time, in constant memory.
//! Ctrl-C or SIGTERM stops it after the batch in flight.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use diesel::Connection;
use diesel::connection::TransactionManager;
use diesel::mysql::MysqlConnection;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use player_core::db::DatabaseUrl;
use player_core::{NewPlayer, players};
use player_guard::GuardedConnection;
use serde::Serialize;

use crate::args;
use crate::commands::bank::PLAIN_PROGRESS_EVERY;
use crate::commands::{InFlight, read_step, step_as};

/// The load's errors say how many players were committed, and of the batch
/// in flight whether it may have been.
const DESCRIBED: InFlight = InFlight::Described;
use crate::interrupt::{self, Interrupted};

/// Arguments of `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Players to create.
    #[arg(long, allow_negative_numbers = true, value_parser = args::load_count)]
    pub count: u64,
    /// Players per multi-row INSERT (at most 21845: 3 placeholders a row, 65535 a statement).
    #[arg(long, default_value = "1000", allow_negative_numbers = true, value_parser = args::batch_size)]
    pub batch: usize,
    /// Coins each player starts with.
    #[arg(long, default_value = "10000", allow_negative_numbers = true, value_parser = args::balance)]
    pub coins: i32,
    /// Goods each player starts with.
    #[arg(long, default_value = "10000", allow_negative_numbers = true, value_parser = args::balance)]
    pub goods: i32,
    /// Insert everything in one transaction (all or nothing) instead of
    /// committing each batch. Mind TiDB's transaction size limit.
    #[arg(long)]
    pub transaction: bool,
    /// Print a JSON object instead of the rows/s line.
    #[arg(long)]
    pub json: bool,
}

/// What `load --json` prints, keys in this order:
/// `{"loaded":2500,"batch":1000,"transaction":false,"seconds":0.42,"rows_per_sec":5952.4,"interrupted":false}`.
/// `loaded` counts the players committed.
#[derive(Debug, Serialize)]
pub struct LoadJson {
    /// Players created.
    pub loaded: u64,
    /// Players per INSERT.
    pub batch: usize,
    /// Whether the whole load was one transaction.
    pub transaction: bool,
    /// Wall time of the inserts, in seconds.
    pub seconds: f64,
    /// Players created per second.
    pub rows_per_sec: f64,
    /// Whether Ctrl-C or SIGTERM stopped the load early (`loaded` then says
    /// what was committed: with `--transaction`, nothing).
    pub interrupted: bool,
}

/// Inserts `count` random players, shows a progress bar on stderr when it is a
/// terminal, and ends with `loaded 10,000 players in 0.04 s: 238,095 rows/s`
/// (or a [`LoadJson`]) on `out`.
///
/// On Ctrl-C or SIGTERM it stops after the batch in flight and returns [`Interrupted`]
/// saying how many players were committed: the batches done so far, each an
/// `INSERT` committed on its own, or none with `--transaction`, whose
/// transaction is then rolled back.
pub fn run(
    a: &LoadArgs,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut conn = player_guard::connect_guarded(url)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    interrupt::on_signal(
        if a.transaction {
            "the batch in flight finishes, then the transaction is rolled back"
        } else {
            "the batch in flight finishes; the batches committed stay"
        },
        // Connected: the batch in flight is the safe point.
        move || {
            flag.store(true, Ordering::Relaxed);
            true
        },
    )?;
    let mut loader = Loader {
        conn: &mut conn,
        args: a,
        stall,
        bar: progress_bar(a.count),
        stop: &stop,
    };
    let started = Instant::now();
    // With --transaction, a stop rolls everything back: none committed.
    let (loaded, committed) = if a.transaction {
        match loader.in_one_transaction()? {
            Loaded::Stopped(n) => (Loaded::Stopped(n), 0),
            all => (all, all.rows()),
        }
    } else {
        let loaded = loader.insert_all()?;
        (loaded, loaded.rows())
    };
    let elapsed = started.elapsed();
    loader.bar.finish_and_clear();
    let stopped = matches!(loaded, Loaded::Stopped(_));
    report(out, a, committed, elapsed, stopped).inspect_err(|_| {
        // Whatever became of stdout, the user learns what the database holds.
        eprintln!(
            "{} players committed; the report could not be written to stdout",
            HumanCount(committed)
        );
    })?;
    match loaded {
        Loaded::All(_) => Ok(()),
        Loaded::Stopped(n) if a.transaction => Err(Interrupted(format!(
            "the transaction was rolled back: no players committed \
             ({n} of {} were inserted in it before {})",
            a.count,
            interrupt::cause()
        ))
        .into()),
        Loaded::Stopped(n) => Err(Interrupted(format!(
            "stopped by {} after the batch in flight: {n} of {} players committed",
            interrupt::cause(),
            a.count
        ))
        .into()),
    }
}

/// Prints the rows/s line, or the [`LoadJson`], for `committed` players in
/// `elapsed`; the line is left out of a `--transaction` load a signal rolled
/// back, whose message says it all.
fn report(
    out: &mut impl Write,
    a: &LoadArgs,
    committed: u64,
    elapsed: Duration,
    interrupted: bool,
) -> anyhow::Result<()> {
    let secs = elapsed.as_secs_f64();
    let rate = committed as f64 / secs.max(f64::EPSILON);
    if a.json {
        return super::write_json(
            out,
            &LoadJson {
                loaded: committed,
                batch: a.batch,
                transaction: a.transaction,
                seconds: (secs * 1000.0).round() / 1000.0,
                rows_per_sec: (rate * 10.0).round() / 10.0,
                interrupted,
            },
        );
    }
    if !(interrupted && a.transaction) {
        writeln!(
            out,
            "loaded {} players in {secs:.2} s: {} rows/s",
            HumanCount(committed),
            HumanCount(rate.round() as u64)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// How far the batches went.
#[derive(Debug, Clone, Copy)]
enum Loaded {
    /// Every player asked for was inserted.
    All(u64),
    /// A signal stopped the load after this many.
    Stopped(u64),
}

impl Loaded {
    fn rows(self) -> u64 {
        match self {
            Self::All(n) | Self::Stopped(n) => n,
        }
    }
}

/// What the batches need: the connection, the arguments, the deadline of
/// each step, the bar, and the flag a signal sets.
struct Loader<'a> {
    conn: &'a mut GuardedConnection,
    args: &'a LoadArgs,
    stall: Duration,
    bar: ProgressBar,
    stop: &'a AtomicBool,
}

impl Loader<'_> {
    /// `--transaction`: BEGIN, the batches, then COMMIT, or ROLLBACK after an
    /// error or a signal ([`Loaded::Stopped`]). Diesel's `conn.transaction`
    /// would run the batches inside a closure that holds the plain connection,
    /// where no batch can have a deadline of its own, so its transaction
    /// manager is called step by step instead.
    fn in_one_transaction(&mut self) -> anyhow::Result<Loaded> {
        type Manager = <MysqlConnection as Connection>::TransactionManager;
        read_step(self.conn, self.stall, Manager::begin_transaction)?;
        match self.insert_all() {
            Ok(Loaded::All(n)) => {
                let committed = step_as(
                    self.conn,
                    self.stall,
                    DESCRIBED,
                    Manager::commit_transaction,
                );
                committed.map_err(|e| match self.conn.stalled() {
                    Some(_) => e.context(format!(
                        "COMMIT got no answer: whether the {n} players were committed is unknown"
                    )),
                    None => e,
                })?;
                Ok(Loaded::All(n))
            }
            Ok(stopped) => {
                step_as(
                    self.conn,
                    self.stall,
                    DESCRIBED,
                    Manager::rollback_transaction,
                )?;
                Ok(stopped)
            }
            Err(e) => {
                // A connection shut down by the deadline is gone, and the
                // server rolls back what it had open.
                if self.conn.stalled().is_none() {
                    let _ = step_as(
                        self.conn,
                        self.stall,
                        DESCRIBED,
                        Manager::rollback_transaction,
                    );
                }
                Err(e)
            }
        }
    }

    /// One `bulk_create` call per batch, each a step given `stall`, so only
    /// one batch of players is ever in memory and the bar moves as rows are
    /// committed; `stop` is looked at before each batch. A failed batch's
    /// error says how many players were committed, and whether the batch in
    /// flight was.
    fn insert_all(&mut self) -> anyhow::Result<Loaded> {
        let a = self.args;
        let mut loaded = 0;
        // On a non-terminal, a plain line now and then instead of the bar.
        let plain = !std::io::stderr().is_terminal();
        let started = Instant::now();
        let mut next_line = PLAIN_PROGRESS_EVERY;
        while loaded < a.count {
            if plain && started.elapsed() >= next_line {
                next_line += PLAIN_PROGRESS_EVERY;
                let rate = loaded as f64 / started.elapsed().as_secs_f64();
                eprintln!(
                    "progress: load: {} of {} players inserted, {} rows/s",
                    HumanCount(loaded),
                    HumanCount(a.count),
                    HumanCount(rate.round() as u64)
                );
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(Loaded::Stopped(loaded));
            }
            let n = (a.batch as u64).min(a.count - loaded);
            let players = (0..n).map(|_| NewPlayer::random(a.coins, a.goods));
            let inserted = step_as(self.conn, self.stall, DESCRIBED, |c| {
                players::bulk_create(c, players, a.batch).map_err(|e| {
                    let fate = match (a.transaction, e.is_connection_lost()) {
                        (true, _) => "no players committed (the transaction is rolled back)".into(),
                        (false, true) => format!(
                            "{loaded} players committed; the batch in flight ({n}) got no answer, so it may have been too"
                        ),
                        (false, false) => {
                            format!("{loaded} players committed; the batch in flight ({n}) was not")
                        }
                    };
                    anyhow::Error::new(e).context(fate)
                })
            })? as u64;
            loaded += inserted;
            self.bar.inc(inserted);
        }
        Ok(Loaded::All(loaded))
    }
}

/// A bar on stderr, only when stderr is a terminal, as wide as the terminal:
/// `[bar] 18,000/200,000 players  150,989 rows/s  eta 2s`.
fn progress_bar(count: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{wide_bar} {human_pos}/{human_len} players  {rate} rows/s  eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", HumanCount(state.per_sec() as u64));
        },
    );
    bar.set_style(style);
    bar
}
