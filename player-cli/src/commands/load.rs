//! `load`: bulk-create random players, a batch at a time, in constant memory.
//! Ctrl-C stops it after the batch in flight.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::Args;
use diesel::Connection;
use diesel::mysql::MysqlConnection;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use player_core::db::{self, DatabaseUrl};
use player_core::{NewPlayer, players};
use serde::Serialize;

use crate::args;
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
/// `{"loaded":2500,"batch":1000,"transaction":false,"seconds":0.42,"rows_per_sec":5952.4}`.
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
}

/// Inserts `count` random players, shows a progress bar on stderr when it is a
/// terminal, and ends with `loaded 10,000 players in 0.04 s: 238,095 rows/s`
/// (or a [`LoadJson`]) on `out`.
///
/// On Ctrl-C it stops after the batch in flight and returns [`Interrupted`]
/// saying how many players were committed: the batches done so far, each an
/// `INSERT` committed on its own, or none with `--transaction`, whose
/// transaction is then rolled back.
pub fn run(a: &LoadArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let mut conn = db::connect(url)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    interrupt::on_ctrl_c(
        if a.transaction {
            "the batch in flight finishes, then the transaction is rolled back"
        } else {
            "the batch in flight finishes; the batches committed stay"
        },
        move || flag.store(true, Ordering::Relaxed),
    )?;
    let bar = progress_bar(a.count);
    let started = Instant::now();
    let loaded = if a.transaction {
        let inserted = conn.transaction(|conn| match insert_all(conn, a, &bar, &stop)? {
            Loaded::All(n) => Ok(n),
            // An error rolls the transaction back.
            Loaded::Stopped(n) => Err(Stop::Interrupted(n)),
        });
        match inserted {
            Ok(n) => Loaded::All(n),
            Err(Stop::Interrupted(n)) => {
                bar.finish_and_clear();
                return Err(Interrupted(format!(
                    "the transaction was rolled back: no players committed \
                     ({n} of {} were inserted in it before Ctrl-C)",
                    a.count
                ))
                .into());
            }
            Err(Stop::Failed(e)) => return Err(e.into()),
        }
    } else {
        insert_all(&mut conn, a, &bar, &stop)?
    };
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let secs = elapsed.as_secs_f64();
    let n = loaded.rows();
    let rate = n as f64 / secs.max(f64::EPSILON);
    if a.json {
        super::write_json(
            out,
            &LoadJson {
                loaded: n,
                batch: a.batch,
                transaction: a.transaction,
                seconds: (secs * 1000.0).round() / 1000.0,
                rows_per_sec: (rate * 10.0).round() / 10.0,
            },
        )?;
    } else {
        writeln!(
            out,
            "loaded {} players in {secs:.2} s: {} rows/s",
            HumanCount(n),
            HumanCount(rate.round() as u64)
        )?;
    }
    match loaded {
        Loaded::All(_) => Ok(()),
        Loaded::Stopped(n) => Err(Interrupted(format!(
            "stopped by Ctrl-C after the batch in flight: {n} of {} players committed",
            a.count
        ))
        .into()),
    }
}

/// How far the batches went.
#[derive(Debug, Clone, Copy)]
enum Loaded {
    /// Every player asked for was inserted.
    All(u64),
    /// Ctrl-C stopped the load after this many.
    Stopped(u64),
}

impl Loaded {
    fn rows(self) -> u64 {
        match self {
            Self::All(n) | Self::Stopped(n) => n,
        }
    }
}

/// Why the `--transaction` load's transaction ends in an error (and so is
/// rolled back).
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("interrupted after {0} players")]
    Interrupted(u64),
    #[error(transparent)]
    Failed(#[from] player_core::Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

/// One `bulk_create` call per batch, so only one batch of players is ever in
/// memory and the bar moves as rows are committed; `stop` is looked at before
/// each batch.
fn insert_all(
    conn: &mut MysqlConnection,
    a: &LoadArgs,
    bar: &ProgressBar,
    stop: &AtomicBool,
) -> Result<Loaded, player_core::Error> {
    let batch = a.batch as u64;
    let mut loaded = 0;
    while loaded < a.count {
        if stop.load(Ordering::Relaxed) {
            return Ok(Loaded::Stopped(loaded));
        }
        let n = batch.min(a.count - loaded);
        let players = (0..n).map(|_| NewPlayer::random(a.coins, a.goods));
        let inserted = players::bulk_create(conn, players, a.batch)? as u64;
        loaded += inserted;
        bar.inc(inserted);
    }
    Ok(Loaded::All(loaded))
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
