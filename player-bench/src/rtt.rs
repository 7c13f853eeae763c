//! Part 5, round trips: every side talks to the server through a
//! [`LatencyProxy`] that adds half of each round-trip time (`--rtt-ms`) to
//! each direction, so a figure shows what a network between application and
//! database does to it. RTT 0 goes through the proxy too, with no delay added:
//! it is each side's loopback time, proxy included, which the model
//! "loopback time + round trips × RTT" starts from.
//!
//! Trades: ours in both forms, the tutorial's peewee trade, the command-line
//! client running the six lock-then-update statements, and the client sending
//! the core's `UPDATE ... JOIN` alone in autocommit (one round trip: the limit).
//! Loads: ours, peewee's `bulk_create` and the client's multi-row INSERTs, at
//! the tutorial's batch of 114, a commit per batch. Round trips are counted from
//! the server's session counters for every side. The bank runs with 1 and 32
//! workers at each RTT above 0, in both trade forms.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, ensure};
use diesel::mysql::MysqlConnection;
use player_bank::Summary;
use player_core::db::{self, DatabaseUrl};
use player_core::{NewPlayer, players};

use crate::bank;
use crate::bench_db::BenchDb;
use crate::chart::{self, Series};
use crate::client::Client;
use crate::counters::{CommandCounts, read_overhead, session_counters};
use crate::peewee::{self, Peewee};
use crate::player_cli::PlayerCli;
use crate::probe;
use crate::proxy::LatencyProxy;
use crate::report::{Section, Verdict, median, per_second, progress, ratio, thousands};
use crate::sql_files::{self, Commit, write_file};
use crate::trades::{self, A, B, Form};

/// At each RTT above 0, the one-statement trade must reach this multiple of peewee's.
pub const PEEWEE_TARGET: f64 = 3.0;
/// ... and this share of the client's lone `UPDATE ... JOIN`.
pub const JOIN_TARGET: f64 = 0.9;
/// The bank's worker counts through the proxy: one, and many.
pub const BANK_WORKERS: [usize; 2] = [1, 32];
/// With [`BANK_WORKERS`]' many, the one-statement bank must reach this multiple of one worker ...
pub const BANK_TARGET: f64 = 16.0;
/// ... from this RTT up. Below it, 16 times one worker's rate is more than the
/// server does on loopback (the bank part's peak), so the figure is information.
pub const BANK_TARGET_FROM_MS: f64 = 5.0;

/// Sizes and places of the part.
#[derive(Debug, Clone)]
pub struct Options {
    /// Round-trip times in ms, 0 first.
    pub rtts_ms: Vec<f64>,
    /// Trades per measurement (fewer at a long RTT, see [`bounded`]).
    pub trades: usize,
    /// Players per load (fewer at a long RTT).
    pub rows: usize,
    /// Repetitions of each measurement; the median is shown.
    pub repeat: usize,
    /// What one measurement of the slowest side may take, roughly.
    pub budget: Duration,
    /// Seconds per bank run.
    pub bank_seconds: u64,
    /// Players of the bank.
    pub bank_players: usize,
    /// The database `player-cli bank` trades in.
    pub bank_database: String,
    /// The command-line client, if not found on PATH.
    pub client: Option<PathBuf>,
}

/// A side of the trade comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TradeSide {
    Ours(Form),
    Peewee,
    ClientSix,
    ClientJoin,
}

impl TradeSide {
    /// Every side, in the order of the tables.
    const ALL: [TradeSide; 5] = [
        TradeSide::Ours(Form::Transactional),
        TradeSide::Ours(Form::OneStatement),
        TradeSide::Peewee,
        TradeSide::ClientSix,
        TradeSide::ClientJoin,
    ];

    fn label(self) -> &'static str {
        match self {
            TradeSide::Ours(Form::Transactional) => "ours, transactional",
            TradeSide::Ours(Form::OneStatement) => "ours, one statement",
            TradeSide::Peewee => "peewee (tutorial)",
            TradeSide::ClientSix => "client, lock then update",
            TradeSide::ClientJoin => "client, one UPDATE ... JOIN",
        }
    }
}

/// A side of the load comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadSide {
    Ours,
    Peewee,
    Client,
}

impl LoadSide {
    const ALL: [LoadSide; 3] = [LoadSide::Ours, LoadSide::Peewee, LoadSide::Client];

    fn label(self) -> &'static str {
        match self {
            LoadSide::Ours => "ours, bulk_create",
            LoadSide::Peewee => "peewee bulk_create (tutorial)",
            LoadSide::Client => "client, multi-row INSERT",
        }
    }
}

/// What one side measured at one RTT.
#[derive(Debug)]
struct Cell {
    /// Median trades/s or rows/s.
    rate: f64,
    /// Units (trades, batches) per second: `rate` for trades, rows/s ÷ batch for loads.
    units_per_sec: f64,
    /// Round trips per unit, from the session counters of the first repetition.
    counts: Option<CommandCounts>,
}

/// The measured grid: `cells[side][rtt]`, `None` where a side did not run.
type Grid = Vec<Vec<Option<Cell>>>;

/// What the part produced: its sections, and the SVG chart of trades/s against RTT.
pub struct Outcome {
    /// Trades, loads, bank, targets.
    pub sections: Vec<Section>,
    /// Trades/s against RTT, one line per side.
    pub chart: String,
    /// Bank runs that broke an invariant or failed trades, as an error to report.
    pub broken: Option<anyhow::Error>,
}

/// `count`, cut so that a side making `round_trips` per unit at `rtt_ms` takes
/// about `budget` at most, and never below `floor`.
pub fn bounded(
    count: usize,
    rtt_ms: f64,
    round_trips: f64,
    budget: Duration,
    floor: usize,
) -> usize {
    if rtt_ms <= 0.0 {
        return count;
    }
    let fits = (budget.as_secs_f64() * 1e3 / (rtt_ms * round_trips)) as usize;
    count.min(fits.max(floor))
}

/// The URL of `url` with its host and port replaced by `addr`.
fn through(url: &DatabaseUrl, addr: SocketAddr) -> anyhow::Result<DatabaseUrl> {
    let mut u = url::Url::parse(url.expose())?;
    u.set_host(Some(&addr.ip().to_string()))?;
    u.set_port(Some(addr.port()))
        .map_err(|()| anyhow::anyhow!("cannot set the port of the URL"))?;
    Ok(u.as_str().parse()?)
}

/// The server's address, from the URL.
fn server_addr(url: &DatabaseUrl) -> anyhow::Result<SocketAddr> {
    let u = url::Url::parse(url.expose())?;
    let host = u.host_str().unwrap_or("127.0.0.1");
    (host, u.port().unwrap_or(3306))
        .to_socket_addrs()?
        .next()
        .with_context(|| format!("cannot resolve {host}"))
}

/// Runs the part.
pub fn run(
    db: &mut BenchDb,
    peewee: Result<&Peewee, &str>,
    player_cli: &PlayerCli,
    rows: &[NewPlayer],
    opts: &Options,
) -> anyhow::Result<Outcome> {
    ensure!(
        opts.rtts_ms.first() == Some(&0.0),
        "the RTT list must start at 0"
    );
    let server = server_addr(db.url())?;
    let dir = tempfile::tempdir()?;
    let n = opts.rtts_ms.len();
    let mut trade_grid: Grid = TradeSide::ALL.iter().map(|_| empty(n)).collect();
    let mut load_grid: Grid = LoadSide::ALL.iter().map(|_| empty(n)).collect();
    let mut bank_runs: Vec<(f64, &'static str, Summary)> = Vec::new();
    let mut trade_counts = Vec::new();

    for (r, &rtt) in opts.rtts_ms.iter().enumerate() {
        let proxy = LatencyProxy::start(server, Duration::from_secs_f64(rtt / 2e3))?;
        let url = through(db.url(), proxy.addr())?;
        eprintln!(
            "  RTT {rtt} ms: proxy on {}, adding {:?} each way",
            proxy.addr(),
            proxy.one_way()
        );
        let mut conn = db::connect(&url)?;
        let client = Client::new(opts.client.clone(), &url)?;

        // Trades. The slowest side sends 7 round trips a trade.
        let count = bounded(opts.trades, rtt, 7.0, opts.budget, 20);
        trade_counts.push(count);
        let six = dir.path().join(format!("six-{r}.sql"));
        write_file(&six, |w| {
            probe::write_head(w)?;
            sql_files::write_trades(w, count, A, B)?;
            probe::write_tail(w)
        })?;
        let join = dir.path().join(format!("join-{r}.sql"));
        write_file(&join, |w| {
            probe::write_head(w)?;
            sql_files::write_trades_one_statement(w, count, A, B)?;
            probe::write_tail(w)
        })?;
        let overhead = read_overhead(&mut conn)?;
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); TradeSide::ALL.len()];
        let mut counts: Vec<Option<CommandCounts>> = TradeSide::ALL.iter().map(|_| None).collect();
        for round in 0..opts.repeat {
            for k in 0..TradeSide::ALL.len() {
                let i = (k + round) % TradeSide::ALL.len();
                let side = TradeSide::ALL[i];
                if side == TradeSide::Peewee && peewee.is_err() {
                    continue;
                }
                trades::setup(db.conn())?;
                let (took, c) = match side {
                    TradeSide::Ours(form) => {
                        let before = session_counters(&mut conn)?;
                        let took = trades::trade_ours(&mut conn, count, form)?;
                        let after = session_counters(&mut conn)?;
                        (
                            took,
                            CommandCounts::between(&before, &after, &overhead, count),
                        )
                    }
                    TradeSide::Peewee => {
                        let run = peewee
                            .map_err(|why| anyhow::anyhow!("{why}"))?
                            .trade(&url, count, A, B)?;
                        (
                            Duration::from_secs_f64(count as f64 / run.per_second),
                            run.counts,
                        )
                    }
                    TradeSide::ClientSix | TradeSide::ClientJoin => {
                        let file = if side == TradeSide::ClientSix {
                            &six
                        } else {
                            &join
                        };
                        let (_, out) = client.run_file_output(file)?;
                        let p = probe::parse(&out, count)?;
                        (p.took, p.counts)
                    }
                };
                let label = format!("RTT {rtt} ms, trades {}", side.label());
                trades::check_balances(db.conn(), count, &label)?;
                let rate = per_second(count, took);
                progress(&label, rate);
                rates[i].push(rate);
                if counts[i].is_none() {
                    counts[i] = c;
                }
            }
        }
        for (i, (rates, c)) in rates.into_iter().zip(counts).enumerate() {
            if !rates.is_empty() {
                let rate = median(&rates);
                trade_grid[i][r] = Some(Cell {
                    rate,
                    units_per_sec: rate,
                    counts: c,
                });
            }
        }

        // Loads at the tutorial's shape. peewee sends 2 round trips a batch.
        let batch = peewee::BATCH;
        let per_batch = bounded(opts.rows.div_ceil(batch), rtt, 2.0, opts.budget, 5);
        let rows = &rows[..rows.len().min(per_batch * batch)];
        let csv = dir.path().join(format!("players-{r}.csv"));
        write_file(&csv, |w| sql_files::write_csv(w, rows))?;
        let inserts = dir.path().join(format!("insert-{r}.sql"));
        let batches = rows.len().div_ceil(batch);
        write_file(&inserts, |w| {
            probe::write_head(w)?;
            sql_files::write_inserts(w, rows, batch, Commit::PerBatch)?;
            probe::write_tail(w)
        })?;
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); LoadSide::ALL.len()];
        let mut counts: Vec<Option<CommandCounts>> = LoadSide::ALL.iter().map(|_| None).collect();
        for round in 0..opts.repeat {
            for k in 0..LoadSide::ALL.len() {
                let i = (k + round) % LoadSide::ALL.len();
                let side = LoadSide::ALL[i];
                if side == LoadSide::Peewee && peewee.is_err() {
                    continue;
                }
                db.reset()?;
                let (took, c) = match side {
                    LoadSide::Ours => load_ours(&mut conn, rows, batch, &overhead)?,
                    LoadSide::Peewee => {
                        let run = peewee.map_err(|why| anyhow::anyhow!("{why}"))?.load(
                            &url,
                            &csv,
                            rows.len(),
                            batch,
                        )?;
                        (
                            Duration::from_secs_f64(rows.len() as f64 / run.per_second),
                            run.counts,
                        )
                    }
                    LoadSide::Client => {
                        let (_, out) = client.run_file_output(&inserts)?;
                        let p = probe::parse(&out, batches)?;
                        (p.took, p.counts)
                    }
                };
                let label = format!("RTT {rtt} ms, load {}", side.label());
                db.expect_count(rows.len(), &label)?;
                let rate = per_second(rows.len(), took);
                progress(&label, rate);
                rates[i].push(rate);
                if counts[i].is_none() {
                    counts[i] = c;
                }
            }
        }
        for (i, (rates, c)) in rates.into_iter().zip(counts).enumerate() {
            if !rates.is_empty() {
                let rate = median(&rates);
                load_grid[i][r] = Some(Cell {
                    rate,
                    units_per_sec: rate / batch as f64,
                    counts: c,
                });
            }
        }
        db.reset()?;
        drop(conn);

        // The bank, through the same proxy.
        if rtt > 0.0 {
            let cli = player_cli.with_url(&url);
            if let Some(why) = cli.missing("bank") {
                eprintln!("  RTT {rtt} ms, bank: skipped ({why})");
            } else {
                for form in ["one-statement", "transactional"] {
                    let extra = ["--trade", form, "--bank-database", &opts.bank_database];
                    for summary in bank::run_with(
                        &cli,
                        &BANK_WORKERS,
                        opts.bank_players,
                        opts.bank_seconds,
                        &extra,
                    )? {
                        bank_runs.push((rtt, form, summary));
                    }
                }
            }
        }
        drop(proxy);
    }

    let mut sections = vec![
        trade_section(opts, &trade_counts, &trade_grid, peewee.err()),
        load_section(opts, rows.len(), &load_grid),
    ];
    if !bank_runs.is_empty() {
        sections.push(bank_section(opts, &bank_runs));
    }
    sections.push(targets_section(opts, &trade_grid, &bank_runs));
    let broken = bank::check(
        &bank_runs
            .iter()
            .map(|(_, _, s)| s.clone())
            .collect::<Vec<_>>(),
    )
    .err();
    Ok(Outcome {
        sections,
        chart: chart_svg(opts, &trade_grid),
        broken,
    })
}

fn empty(n: usize) -> Vec<Option<Cell>> {
    (0..n).map(|_| None).collect()
}

/// Our bulk load through the proxy, timed around the call, with its commands per batch.
fn load_ours(
    conn: &mut MysqlConnection,
    rows: &[NewPlayer],
    batch: usize,
    overhead: &crate::counters::SessionCounters,
) -> anyhow::Result<(Duration, Option<CommandCounts>)> {
    let before = session_counters(conn)?;
    let start = std::time::Instant::now();
    let inserted = players::bulk_create(conn, rows.iter().cloned(), batch)?;
    let took = start.elapsed();
    let after = session_counters(conn)?;
    ensure!(
        inserted == rows.len(),
        "bulk_create reported {inserted} rows, expected {}",
        rows.len()
    );
    let batches = rows.len().div_ceil(batch);
    Ok((
        took,
        CommandCounts::between(&before, &after, overhead, batches),
    ))
}

/// One row per side and RTT: rate, round trips per unit, time per unit, and
/// that time against loopback + round trips × RTT.
fn grid_rows<S: Copy>(
    section: &mut Section,
    sides: &[S],
    label: impl Fn(S) -> &'static str,
    grid: &Grid,
    rtts: &[f64],
) {
    for (i, &side) in sides.iter().enumerate() {
        let loopback = grid[i][0].as_ref();
        for (r, cell) in grid[i].iter().enumerate() {
            let Some(cell) = cell else { continue };
            let ms = 1e3 / cell.units_per_sec;
            let round_trips = cell
                .counts
                .as_ref()
                .or(loopback.and_then(|c| c.counts.as_ref()))
                .map(|c| c.round_trips);
            let model = match (loopback, round_trips) {
                (Some(l), Some(rt)) => 1e3 / l.units_per_sec + rt * rtts[r],
                _ => f64::NAN,
            };
            section.row(vec![
                if r == 0 {
                    label(side).into()
                } else {
                    String::new()
                },
                format!("{}", rtts[r]),
                thousands(cell.rate),
                round_trips.map_or("n/a".into(), |rt| format!("{rt:.2}")),
                format!("{ms:.2}"),
                if model.is_finite() {
                    format!("{model:.2}")
                } else {
                    "n/a".into()
                },
                if r == 0 {
                    String::new()
                } else {
                    ratio(ms / model)
                },
            ]);
        }
    }
}

const GRID_HEADER_TAIL: [&str; 3] = ["ms / unit", "model ms", "measured ÷ model"];

fn trade_section(
    opts: &Options,
    counts: &[usize],
    grid: &Grid,
    peewee_missing: Option<&str>,
) -> Section {
    let mut header = vec!["side", "RTT ms", "trades/s", "round trips / trade"];
    header.extend(GRID_HEADER_TAIL);
    let mut section = Section::new(
        format!(
            "Trades against round-trip time ({} trades per run, fewer at long RTTs; median of {})",
            thousands(counts.first().copied().unwrap_or(0) as f64),
            opts.repeat
        ),
        &header,
    );
    grid_rows(
        &mut section,
        &TradeSide::ALL,
        TradeSide::label,
        grid,
        &opts.rtts_ms,
    );
    section.note(
        "Every side connects through a proxy on 127.0.0.1 that delays each direction by half the RTT \
         (RTT 0: the same proxy, no delay added: the loopback figure). ms / unit is the time per trade; \
         model ms is the side's loopback time plus its round trips × RTT; measured ÷ model near 1 means \
         the side's time is its round trips, and above 1 that waits cost more than the round trips \
         counted (e.g. the proxy's own scheduling).",
    );
    section.note(
        "Round trips per trade from the server's session counters of each side's own session: ours and \
         peewee's read on their connection around the run, the client's by probes in its own script. \
         ours, transactional: BEGIN, UPDATE ... JOIN, COMMIT in `conn.transaction` (Diesel wraps BEGIN and \
         COMMIT in SET_OPTION); ours, one statement: `trade_in_one_statement`; peewee: the tutorial's \
         `trade()`; client, lock then update: BEGIN, 2 × SELECT ... FOR UPDATE, 2 × UPDATE, COMMIT; \
         client, one UPDATE ... JOIN: the core's statement alone in autocommit, the limit.",
    );
    let sizes: Vec<String> = opts
        .rtts_ms
        .iter()
        .zip(counts)
        .map(|(rtt, n)| format!("{rtt} ms: {n}"))
        .collect();
    section.note(format!(
        "Trades per run by RTT (bounded so a run takes about {:.0} s at most): {}. Balances are checked after every run.",
        opts.budget.as_secs_f64(),
        sizes.join(", ")
    ));
    if let Some(why) = peewee_missing {
        section.note(format!("peewee: skipped ({why})."));
    }
    section
}

fn load_section(opts: &Options, rows: usize, grid: &Grid) -> Section {
    let mut header = vec!["side", "RTT ms", "rows/s", "round trips / batch"];
    header.extend(GRID_HEADER_TAIL);
    let mut section = Section::new(
        format!(
            "Bulk load against round-trip time (up to {} players, batch {}, a commit per batch; median of {})",
            thousands(opts.rows.min(rows) as f64),
            peewee::BATCH,
            opts.repeat
        ),
        &header,
    );
    grid_rows(
        &mut section,
        &LoadSide::ALL,
        LoadSide::label,
        grid,
        &opts.rtts_ms,
    );
    section.note(
        "ms / unit is the time per batch of 114. ours: `players::bulk_create` (a cached prepared INSERT, \
         autocommit); peewee: the tutorial's `Player.bulk_create(players, 114)`, which sends a COMMIT after \
         each INSERT; client: the same multi-row INSERTs as text. Fewer players at long RTTs, as for trades; \
         the row count is checked after every load.",
    );
    section
}

fn bank_section(opts: &Options, runs: &[(f64, &'static str, Summary)]) -> Section {
    let mut section = Section::new(
        format!(
            "Bank through the proxy ({} players, {} s per run)",
            thousands(opts.bank_players as f64),
            opts.bank_seconds
        ),
        &[
            "RTT ms",
            "trade",
            "workers",
            "trades/s",
            "vs 1 worker",
            "p50 ms",
            "p99 ms",
            "retried",
            "failed",
            "invariants",
        ],
    );
    for (rtt, form, s) in runs {
        let one = runs
            .iter()
            .find(|(r, f, o)| r == rtt && f == form && o.workers == 1)
            .map_or(f64::NAN, |(_, _, o)| o.trades_per_sec);
        section.row(vec![
            format!("{rtt}"),
            (*form).into(),
            s.workers.to_string(),
            thousands(s.trades_per_sec),
            ratio(s.trades_per_sec / one),
            format!("{:.2}", s.p50_ms),
            format!("{:.2}", s.p99_ms),
            thousands(s.retried as f64),
            thousands(s.failed as f64),
            if s.invariants_ok { "ok" } else { "VIOLATED" }.into(),
        ]);
    }
    section.note(format!(
        "`player-cli bank --trade FORM --workers W` with its pool connected through the proxy, in the database `{}`.",
        opts.bank_database
    ));
    section
}

/// The figure of `side` at RTT index `r`.
fn rate(grid: &Grid, side: TradeSide, r: usize) -> f64 {
    TradeSide::ALL
        .iter()
        .position(|s| *s == side)
        .and_then(|i| grid[i][r].as_ref())
        .map_or(f64::NAN, |c| c.rate)
}

/// The bank's rate with `workers` at `rtt` in `form`.
fn bank_rate(runs: &[(f64, &'static str, Summary)], rtt: f64, form: &str, workers: usize) -> f64 {
    runs.iter()
        .find(|(r, f, s)| *r == rtt && *f == form && s.workers == workers)
        .map_or(f64::NAN, |(_, _, s)| s.trades_per_sec)
}

/// PASS or MISS, or n/a when a figure is missing.
fn verdict(x: f64, target: f64) -> String {
    if x.is_finite() {
        Verdict::of(x >= target).to_string()
    } else {
        "n/a".into()
    }
}

fn targets_section(
    opts: &Options,
    grid: &Grid,
    bank_runs: &[(f64, &'static str, Summary)],
) -> Section {
    let mut section = Section::new(
        "Round-trip targets",
        &[
            "RTT ms",
            "target",
            "one statement",
            "verdict",
            "transactional (information)",
        ],
    );
    let one = TradeSide::Ours(Form::OneStatement);
    let txn = TradeSide::Ours(Form::Transactional);
    for (r, &rtt) in opts.rtts_ms.iter().enumerate().skip(1) {
        let tutorial = rate(grid, TradeSide::Peewee, r);
        let join = rate(grid, TradeSide::ClientJoin, r);
        let (o, t) = (rate(grid, one, r), rate(grid, txn, r));
        section.row(vec![
            format!("{rtt}"),
            format!(
                "trades/s ≥ {PEEWEE_TARGET} × peewee ({})",
                thousands(tutorial)
            ),
            format!("{} = {}×", thousands(o), ratio(o / tutorial)),
            verdict(o / tutorial, PEEWEE_TARGET),
            format!("{} = {}×", thousands(t), ratio(t / tutorial)),
        ]);
        section.row(vec![
            format!("{rtt}"),
            format!(
                "trades/s ≥ {JOIN_TARGET} × client UPDATE ... JOIN ({})",
                thousands(join)
            ),
            format!("{} = {}×", thousands(o), ratio(o / join)),
            verdict(o / join, JOIN_TARGET),
            format!("{} = {}×", thousands(t), ratio(t / join)),
        ]);
        let [few, many] = BANK_WORKERS;
        let scale =
            |form| bank_rate(bank_runs, rtt, form, many) / bank_rate(bank_runs, rtt, form, few);
        let (bo, bt) = (scale("one-statement"), scale("transactional"));
        section.row(vec![
            format!("{rtt}"),
            format!("bank, {many} workers ≥ {BANK_TARGET} × {few} worker"),
            format!(
                "{} = {}×",
                thousands(bank_rate(bank_runs, rtt, "one-statement", many)),
                ratio(bo)
            ),
            if rtt >= BANK_TARGET_FROM_MS {
                verdict(bo, BANK_TARGET)
            } else {
                format!("{} (information)", verdict(bo, BANK_TARGET))
            },
            format!(
                "{} = {}×",
                thousands(bank_rate(bank_runs, rtt, "transactional", many)),
                ratio(bt)
            ),
        ]);
    }
    section.note(
        format!(
            "The issue's trade targets are at 1 and 5 ms, its bank target at {BANK_TARGET_FROM_MS} ms; \
             other RTTs are judged the same way for information. Below {BANK_TARGET_FROM_MS} ms, {BANK_TARGET} × \
             one worker's rate is more than the server does on loopback (see the bank part), so that row is \
             information. The loopback targets (ours against peewee on trades and on the load at batch 114) \
             are in the trade and load tables above."
        ),
    );
    section.left_aligned()
}

/// Trades/s against RTT, one line per side, y on a log scale.
fn chart_svg(opts: &Options, grid: &Grid) -> String {
    let ticks: Vec<String> = opts.rtts_ms.iter().map(|r| format!("{r} ms")).collect();
    let series: Vec<Series> = TradeSide::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| grid[*i].iter().any(Option::is_some))
        .map(|(i, side)| Series {
            name: side.label().into(),
            values: grid[i].iter().map(|c| c.as_ref().map(|c| c.rate)).collect(),
        })
        .collect();
    chart::svg_series(
        &series,
        &ticks,
        "Trades on one connection against round-trip time",
        "round-trip time (through a latency proxy; ticks evenly spaced)",
        "trades/s (log scale)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_bounded_by_the_budget() {
        let budget = Duration::from_secs(10);
        assert_eq!(bounded(200, 0.0, 7.0, budget, 20), 200);
        assert_eq!(bounded(200, 5.0, 7.0, budget, 20), 200);
        assert_eq!(bounded(200, 50.0, 7.0, budget, 20), 28);
        assert_eq!(bounded(200, 1_000.0, 7.0, budget, 20), 20);
    }

    #[test]
    fn urls_go_through_the_proxy() {
        let url: DatabaseUrl = "mysql://u:p%40w@db.example:4000/player_bench"
            .parse()
            .expect("URL");
        let addr: SocketAddr = "127.0.0.1:54321".parse().expect("addr");
        assert_eq!(
            through(&url, addr).expect("URL").expose(),
            "mysql://u:p%40w@127.0.0.1:54321/player_bench"
        );
    }

    fn cell(rate: f64, units_per_sec: f64, round_trips: Option<f64>) -> Option<Cell> {
        let counts = round_trips.and_then(|rt| {
            let sent = [("com_update".to_owned(), rt)].into_iter().collect();
            CommandCounts::from_deltas(&sent, 1)
        });
        Some(Cell {
            rate,
            units_per_sec,
            counts,
        })
    }

    #[test]
    fn grid_rows_hold_time_per_unit_and_the_model() {
        // Loopback 1 ms a trade, 2 round trips: at RTT 5 the model is 11 ms; 12.5 ms measured.
        let grid: Grid = vec![vec![
            cell(1_000.0, 1_000.0, Some(2.0)),
            cell(80.0, 80.0, None),
        ]];
        let mut s = Section::new("T", &["side", "rtt", "rate", "rt", "ms", "model", "÷"]);
        grid_rows(&mut s, &["x"], |x| x, &grid, &[0.0, 5.0]);
        let md = s.render(true);
        assert!(
            md.contains("| x    |   0 | 1,000 | 2.00 |  1.00 |  1.00 |      |"),
            "{md}"
        );
        assert!(
            md.contains("|      |   5 |    80 | 2.00 | 12.50 | 11.00 | 1.14 |"),
            "{md}"
        );
    }

    #[test]
    fn targets_are_judged_on_the_one_statement_trade() {
        let opts = Options {
            rtts_ms: vec![0.0, 5.0],
            trades: 10,
            rows: 10,
            repeat: 1,
            budget: Duration::from_secs(1),
            bank_seconds: 1,
            bank_players: 10,
            bank_database: "b".into(),
            client: None,
        };
        let at = |rate5: f64| vec![cell(1.0, 1.0, None), cell(rate5, rate5, None)];
        // transactional, one statement, peewee, client six, client join.
        let grid: Grid = vec![at(28.0), at(190.0), at(33.0), at(33.0), at(200.0)];
        let md = targets_section(&opts, &grid, &[]).render(true);
        let mut at_one = opts.clone();
        at_one.rtts_ms = vec![0.0, 1.0];
        let one = targets_section(&at_one, &grid, &[]).render(true);
        assert!(one.contains("n/a (information)"), "{one}");
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| 5")).collect();
        assert_eq!(lines.len(), 3, "{md}");
        assert!(
            lines[0].contains("190 = 5.76×") && lines[0].contains("PASS"),
            "{md}"
        );
        assert!(lines[0].contains("28 = 0.85×"), "{md}");
        assert!(
            lines[1].contains("190 = 0.95×") && lines[1].contains("PASS"),
            "{md}"
        );
        assert!(lines[2].contains("n/a"), "{md}");
        assert!(chart_svg(&opts, &grid).matches("<polyline").count() == 5);
    }
}
