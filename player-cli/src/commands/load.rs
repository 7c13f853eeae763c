//! `load`: bulk-create random players, a batch at a time, in constant memory.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use clap::Args;
use diesel::Connection;
use diesel::mysql::MysqlConnection;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use player_core::db::{self, DatabaseUrl};
use player_core::{NewPlayer, players};
use serde::Serialize;

use crate::args;

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
pub fn run(a: &LoadArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let mut conn = db::connect(url)?;
    let bar = progress_bar(a.count);
    let started = Instant::now();
    let loaded = if a.transaction {
        conn.transaction(|conn| insert_all(conn, a, &bar))?
    } else {
        insert_all(&mut conn, a, &bar)?
    };
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let secs = elapsed.as_secs_f64();
    let rate = loaded as f64 / secs.max(f64::EPSILON);
    if a.json {
        return super::write_json(
            out,
            &LoadJson {
                loaded,
                batch: a.batch,
                transaction: a.transaction,
                seconds: (secs * 1000.0).round() / 1000.0,
                rows_per_sec: (rate * 10.0).round() / 10.0,
            },
        );
    }
    writeln!(
        out,
        "loaded {} players in {secs:.2} s: {} rows/s",
        HumanCount(loaded),
        HumanCount(rate.round() as u64)
    )?;
    Ok(())
}

/// One `bulk_create` call per batch, so only one batch of players is ever in
/// memory and the bar moves as rows are committed.
fn insert_all(
    conn: &mut MysqlConnection,
    a: &LoadArgs,
    bar: &ProgressBar,
) -> Result<u64, player_core::Error> {
    let batch = a.batch as u64;
    let mut loaded = 0;
    while loaded < a.count {
        let n = batch.min(a.count - loaded);
        let players = (0..n).map(|_| NewPlayer::random(a.coins, a.goods));
        let inserted = players::bulk_create(conn, players, a.batch)? as u64;
        loaded += inserted;
        bar.inc(inserted);
    }
    Ok(loaded)
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
