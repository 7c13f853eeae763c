//! The round-trip part: every side talks to the server through a
//! [`LatencyProxy`] that adds half of each round-trip time (`--rtt-ms`) to each
//! direction. RTT 0 goes through the proxy too, with no delay added: each
//! side's loopback time, which the model "loopback time + round trips × RTT"
//! starts from. The sides are those of the trade and load parts, plus the
//! client sending the core's `UPDATE ... JOIN` alone (one round trip: the
//! limit); the bank runs with 1 and 32 workers at each RTT above 0.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::Context;
use player_bank::Summary;
use player_core::db::DatabaseUrl;

use crate::Bench;
use crate::cli::Args;
use crate::client::Client;
use crate::peewee;
use crate::proxy::LatencyProxy;
use crate::report::{Section, Show, fixed, thousands, verdict};
use crate::sql_files::Commit;
use crate::tally::{self, Setup, Tally};
use crate::trades::{self, Form};
use crate::{bank, load};

/// Target: at each RTT above 0, the one-statement trade reaches this multiple of peewee's ...
pub const PEEWEE_TARGET: f64 = 3.0;
/// ... and this share of the client's lone `UPDATE ... JOIN`.
pub const JOIN_TARGET: f64 = 0.9;
/// The bank's worker counts through the proxy: one, and many.
pub const BANK_WORKERS: [usize; 2] = [1, 32];
/// Target: with [`BANK_WORKERS`]' many, the one-statement bank reaches this multiple of one worker ...
pub const BANK_TARGET: f64 = 16.0;
/// ... from this RTT up. Below it, 16 times one worker's rate is more than the
/// server does on loopback (the bank part's peak), so the figure is information.
pub const BANK_TARGET_FROM_MS: f64 = 5.0;

use trades::Side as T;

/// The trade sides, in the order of the tables.
const TRADE_SIDES: [(T, &str); 6] = [
    (T::Ours(Form::Transactional), "ours, transactional"),
    (T::Ours(Form::OneStatement), "ours, one statement"),
    (T::Ours(Form::Keyed), "ours, keyed"),
    (T::Peewee, "peewee (tutorial)"),
    (T::Client, "client, lock then update"),
    (T::ClientJoin, "client, one UPDATE ... JOIN"),
];

/// The load sides.
const LOAD_SIDES: [(load::Side, &str); 3] = [
    (load::Side::Ours, "ours, bulk_create"),
    (load::Side::Peewee, "peewee bulk_create (tutorial)"),
    (load::Side::Client, "client, multi-row INSERT"),
];

/// What each side measured, by RTT.
type Grid<S> = Vec<Vec<(S, Tally)>>;

/// A bank run through the proxy: RTT, trade form, summary.
type BankRun = (f64, &'static str, Summary);

/// `count`, cut so that a side making `trips` round trips per unit at `rtt` ms
/// takes about `budget` at most, and never below `floor`.
pub fn bounded(count: usize, rtt: f64, trips: f64, budget: Duration, floor: usize) -> usize {
    let fits = (budget.as_secs_f64() * 1e3 / (rtt * trips)) as usize;
    if rtt > 0.0 {
        count.min(fits.max(floor))
    } else {
        count
    }
}

/// What a measurement of the slowest side may take, roughly.
fn budget(args: &Args) -> Duration {
    Duration::from_secs(if args.quick { 2 } else { 10 })
}

/// The URL of `url` with its host and port replaced by `addr`.
fn through(url: &DatabaseUrl, addr: SocketAddr) -> anyhow::Result<DatabaseUrl> {
    let mut u = url::Url::parse(url.expose())?;
    u.set_host(Some(&addr.ip().to_string()))?;
    u.set_port(Some(addr.port()))
        .map_err(|()| anyhow::anyhow!("the URL takes no port"))?;
    Ok(u.as_str().parse()?)
}

/// Runs the part and shows its sections; a bank run that broke an invariant
/// fails the part after its sections are shown.
pub fn run(b: &mut Bench, show: Show) -> anyhow::Result<()> {
    let bank_database = format!("{}_bank", b.args.database);
    let result = measure(b, &bank_database);
    b.db.drop_other(&bank_database);
    let (trades, loads, counts, bank_runs) = result?;
    let (args, peewee) = (&b.args, b.peewee.as_ref().err().map(String::as_str));
    show(&trade_section(args, &counts, &trades, peewee));
    show(&load_section(args, &loads));
    if !bank_runs.is_empty() {
        show(&bank_section(args, &bank_database, &bank_runs));
    }
    show(&targets_section(&args.rtts_ms(), &trades, &bank_runs));
    bank::check(bank_runs.iter().map(|(_, _, s)| s))
}

/// The grids of trades and loads, the trades per run by RTT, and the bank runs.
type Measured = (Grid<T>, Grid<load::Side>, Vec<usize>, Vec<BankRun>);

fn measure(b: &mut Bench, bank_database: &str) -> anyhow::Result<Measured> {
    let (args, db, peewee) = (
        &b.args,
        &mut b.db,
        b.peewee.as_ref().map_err(String::as_str),
    );
    let u = url::Url::parse(db.url().expose())?;
    let host = u.host_str().unwrap_or("127.0.0.1");
    let server = (host, u.port().unwrap_or(3306)).to_socket_addrs()?.next();
    let server = server.with_context(|| format!("cannot resolve {host}"))?;
    let all_rows = crate::data::players(args.rtt_rows);
    let mut measured: Measured = Default::default();
    for rtt in args.rtts_ms() {
        let proxy = LatencyProxy::start(server, Duration::from_secs_f64(rtt / 2e3))?;
        let url = through(db.url(), proxy.addr)?;
        eprintln!(
            "  RTT {rtt} ms: proxy on {}, adding {:?} each way",
            proxy.addr, proxy.one_way
        );
        let client = &Client::new(args.client.clone(), &url)?;
        let (prefix, repeat, probed) = (format!("RTT {rtt} ms, "), args.rtt_repeat, true);
        let db = &mut *db;
        let mut at = Setup {
            db,
            url: url.clone(),
            client,
            probed,
            peewee,
            repeat,
            prefix,
        };

        // Trades. The slowest side sends 7 round trips a trade.
        let count = bounded(args.rtt_trades, rtt, 7.0, budget(args), 20);
        measured
            .0
            .push(trades::measure(&mut at, &TRADE_SIDES.map(|s| s.0), count)?);
        measured.2.push(count);

        // Loads at the tutorial's shape. peewee sends 2 round trips a batch.
        let batches = bounded(
            args.rtt_rows.div_ceil(peewee::BATCH),
            rtt,
            2.0,
            budget(args),
            5,
        );
        let rows = &all_rows[..all_rows.len().min(batches * peewee::BATCH)];
        let shape = (peewee::BATCH, Commit::PerBatch);
        measured.1.push(load::measure(
            &mut at,
            rows,
            shape,
            &LOAD_SIDES.map(|s| s.0),
        )?);
        at.db.reset()?;

        // The bank, through the same proxy, at RTTs above 0.
        let cli = b.player_cli.with_url(&url);
        let skipped = if rtt > 0.0 {
            cli.missing("bank")
        } else {
            continue;
        };
        if let Some(why) = skipped {
            eprintln!("  RTT {rtt} ms, bank: skipped ({why})");
            continue;
        }
        for form in ["one-statement", "transactional"] {
            let extra = ["--trade", form, "--bank-database", bank_database];
            let runs = bank::run(
                &cli,
                &BANK_WORKERS,
                args.bank_players,
                args.rtt_bank_seconds,
                &extra,
            )?;
            measured
                .3
                .extend(runs.into_iter().map(|run| (rtt, form, run)));
        }
    }
    Ok(measured)
}

/// A table of `grid`: one row per side and RTT with its rate, round trips per
/// unit, time per unit, and that time against loopback + round trips × RTT. A
/// unit is `per_unit` of what the rate counts (1 trade, or a batch of rows).
fn grid_section<S: Copy + PartialEq>(
    title: String,
    header: &str,
    (sides, grid): (&[(S, &str)], &Grid<S>),
    rtts: &[f64],
    per_unit: f64,
) -> Section {
    let header = format!("side | RTT ms | {header} | ms / unit | model ms | measured ÷ model");
    let mut section = Section::new(title, &header);
    for &(side, label) in sides {
        let loopback = tally::of(&grid[0], side);
        let loopback_ms = 1e3 * per_unit / loopback.rate();
        for (r, t) in grid
            .iter()
            .map(|column| tally::of(column, side))
            .enumerate()
        {
            let ms = 1e3 * per_unit / t.rate();
            let round_trips = t
                .round_trips()
                .or(loopback.round_trips())
                .unwrap_or(f64::NAN);
            let model = loopback_ms + round_trips * rtts[r];
            let (side, ratio) = if r == 0 {
                (label, String::new())
            } else {
                ("", fixed(ms / model))
            };
            let mut row = vec![side.into(), format!("{}", rtts[r]), thousands(t.rate())];
            row.extend([fixed(round_trips), fixed(ms), fixed(model), ratio]);
            if !t.rates.is_empty() {
                section.row(row);
            }
        }
    }
    section
}

fn trade_section(args: &Args, counts: &[usize], grid: &Grid<T>, peewee: Option<&str>) -> Section {
    let (n, repeat) = (
        thousands(counts.first().copied().unwrap_or(0) as f64),
        args.rtt_repeat,
    );
    let title = format!(
        "Trades against round-trip time ({n} trades per run, fewer at long RTTs; median of {repeat})"
    );
    let rtts = args.rtts_ms();
    let mut section = grid_section(
        title,
        "trades/s | round trips / trade",
        (&TRADE_SIDES, grid),
        &rtts,
        1.0,
    );
    section.note(
        "Every side connects through a proxy on 127.0.0.1 that delays each direction by half the RTT \
         (RTT 0: no delay added). ms / unit is the time per trade; model ms is the side's loopback time \
         plus its round trips × RTT; round trips from the server's session counters of each side's own \
         session (the client's by probes in its own script).",
    );
    let sizes: Vec<String> = rtts
        .iter()
        .zip(counts)
        .map(|(rtt, n)| format!("{rtt} ms: {n}"))
        .collect();
    section.note(format!(
        "Trades per run by RTT (bounded so a run takes about {:.0} s at most): {}. \
         Balances are checked after every run.",
        budget(args).as_secs_f64(),
        sizes.join(", ")
    ));
    if let Some(why) = peewee {
        section.note(format!("peewee: skipped ({why})."));
    }
    section
}

fn load_section(args: &Args, grid: &Grid<load::Side>) -> Section {
    let (rows, batch, repeat) = (
        thousands(args.rtt_rows as f64),
        peewee::BATCH,
        args.rtt_repeat,
    );
    let title = format!(
        "Bulk load against round-trip time (up to {rows} players, batch {batch}, a commit per batch; median of {repeat})"
    );
    let sides = (&LOAD_SIDES[..], grid);
    let mut section = grid_section(
        title,
        "rows/s | round trips / batch",
        sides,
        &args.rtts_ms(),
        batch as f64,
    );
    section.note(
        "ms / unit is the time per batch of 114, autocommit; peewee commits after each INSERT. \
         Fewer players at long RTTs, as for trades; the row count is checked after every load.",
    );
    section
}

fn bank_section(args: &Args, bank_database: &str, runs: &[BankRun]) -> Section {
    let (players, seconds) = (thousands(args.bank_players as f64), args.rtt_bank_seconds);
    let mut section = Section::new(
        format!("Bank through the proxy ({players} players, {seconds} s per run)"),
        "RTT ms | trade | workers | trades/s | vs 1 worker | p50 ms | p99 ms | retried | failed | invariants",
    );
    for (rtt, form, s) in runs {
        let row = [
            vec![format!("{rtt}"), (*form).into()],
            bank::cells(s, bank_rate(runs, *rtt, form, 1), false),
        ];
        section.row(row.concat());
    }
    section.note(format!(
        "`player-cli bank --trade FORM --workers W` with its pool connected through the proxy, \
         in the database `{bank_database}`."
    ));
    section
}

/// The bank's rate with `workers` at `rtt` in `form`.
fn bank_rate(runs: &[BankRun], rtt: f64, form: &str, workers: usize) -> f64 {
    let found = runs
        .iter()
        .find(|(r, f, s)| *r == rtt && *f == form && s.workers == workers);
    found.map_or(f64::NAN, |(_, _, s)| s.trades_per_sec)
}

fn targets_section(rtts: &[f64], grid: &Grid<T>, bank_runs: &[BankRun]) -> Section {
    let header = "RTT ms | target | one statement | verdict | transactional (information)";
    let mut section = Section::new("Round-trip targets", header);
    let times = |(x, of): (f64, f64)| format!("{} = {}×", thousands(x), fixed(x / of));
    let [few, many] = BANK_WORKERS;
    for (r, &rtt) in rtts.iter().enumerate().skip(1) {
        let rate = |side| {
            grid.get(r)
                .map_or(f64::NAN, |column| tally::of(column, side).rate())
        };
        let (txn, one) = (
            rate(T::Ours(Form::Transactional)),
            rate(T::Ours(Form::OneStatement)),
        );
        let (tutorial, join) = (rate(T::Peewee), rate(T::ClientJoin));
        let bank = |form| {
            (
                bank_rate(bank_runs, rtt, form, many),
                bank_rate(bank_runs, rtt, form, few),
            )
        };
        let mut target =
            |target: String, goal: f64, (x, of): (f64, f64), theirs, information: bool| {
                // PASS or MISS, or n/a when a figure is missing.
                let mut judged = if (x / of).is_finite() {
                    verdict(x / of >= goal)
                } else {
                    "n/a".into()
                };
                if information {
                    judged += " (information)";
                }
                section.row(vec![
                    format!("{rtt}"),
                    target,
                    times((x, of)),
                    judged,
                    times(theirs),
                ]);
            };
        let peewee = format!(
            "trades/s ≥ {PEEWEE_TARGET} × peewee ({})",
            thousands(tutorial)
        );
        target(
            peewee,
            PEEWEE_TARGET,
            (one, tutorial),
            (txn, tutorial),
            false,
        );
        let client = format!(
            "trades/s ≥ {JOIN_TARGET} × client UPDATE ... JOIN ({})",
            thousands(join)
        );
        target(client, JOIN_TARGET, (one, join), (txn, join), false);
        let scale = format!("bank, {many} workers ≥ {BANK_TARGET} × {few} worker");
        let (one_statement, transactional) = (bank("one-statement"), bank("transactional"));
        target(
            scale,
            BANK_TARGET,
            one_statement,
            transactional,
            rtt < BANK_TARGET_FROM_MS,
        );
    }
    section.note(format!(
        "The project's trade targets are at 1 and 5 ms, its bank target at {BANK_TARGET_FROM_MS} ms; \
         other RTTs are judged the same way for information. Below {BANK_TARGET_FROM_MS} ms, {BANK_TARGET} × \
         one worker's rate is more than the server does on loopback (see the bank part), so that row is \
         information. The loopback targets (ours against peewee on trades and on the load at batch 114) \
         are in the trade and load tables above."
    ));
    section.left_aligned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::CommandCounts;

    fn tally(rate: f64, round_trips: f64) -> Tally {
        let sent = [("com_update".to_owned(), round_trips)]
            .into_iter()
            .collect();
        Tally {
            rates: vec![rate],
            counts: CommandCounts::from_deltas(&sent, 1),
        }
    }

    #[test]
    fn grid_rows_hold_the_model_and_targets_the_one_statement_trade() {
        assert_eq!(bounded(200, 50.0, 7.0, Duration::from_secs(10), 20), 28);
        // Loopback 1 ms a trade, 2 round trips: at RTT 5 the model is 11 ms; 12.5 ms measured.
        let grid = vec![
            vec![((), tally(1_000.0, 2.0))],
            vec![((), tally(80.0, 0.0))],
        ];
        let sides = (&[((), "x")][..], &grid);
        let md = grid_section("T".into(), "rate | rt", sides, &[0.0, 5.0], 1.0).render(true);
        let row = "|      |      5 |    80 | 2.00 |     12.50 |    11.00 |             1.14 |";
        assert!(md.contains(row), "{md}");
        // transactional, one statement, keyed, peewee, client six, client join.
        let column = |rates: [f64; 6]| {
            TRADE_SIDES
                .iter()
                .zip(rates)
                .map(|(s, r)| (s.0, tally(r, 1.0)))
                .collect()
        };
        let grid: Grid<T> = vec![
            column([1.0; 6]),
            column([28.0, 190.0, 25.0, 33.0, 33.0, 200.0]),
        ];
        let md = targets_section(&[0.0, 5.0], &grid, &[]).render(true);
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("| 5")).collect();
        let has = |line: &str, parts: &[&str]| parts.iter().all(|p| line.contains(p));
        assert!(
            has(lines[0], &["190 = 5.76×", "PASS", "28 = 0.85×"]),
            "{md}"
        );
        assert!(
            has(lines[1], &["190 = 0.95×", "PASS"]) && lines[2].contains("n/a"),
            "{md}"
        );
        assert!(
            md.contains("The project's trade targets") && !md.contains("issue"),
            "{md}"
        );
        let at_1 = targets_section(&[0.0, 1.0], &grid, &[]).render(true);
        assert!(at_1.contains("n/a (information)"), "{at_1}");
    }
}
