//! The load part: `players::bulk_create` against the command-line client
//! sending the same rows as multi-row INSERTs of the same shape, against
//! `LOAD DATA LOCAL INFILE` as the ceiling, against the tutorial's peewee
//! `bulk_create`, and against the same INSERTs without the balance check.
//! [`measure`] also runs the round-trip part's loads.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::ensure;
use diesel::Connection;
use diesel::mysql::MysqlConnection;
use player_core::db;
use player_core::{NewPlayer, players};

use crate::Bench;
use crate::bench_db::BenchDb;
use crate::client::Client;
use crate::counters::{counted, read_overhead};
use crate::peewee;
use crate::report::{Section, Show, fixed, median, per_second, progress, thousands, verdict};
use crate::sql_files::{self, Commit, write_file};
use crate::tally::{self, Setup, Tally};
use crate::{probe, unchecked};

/// Batch sizes of the bulk load (114 is the tutorial's).
pub const BATCH_SIZES: [usize; 3] = [114, 1_000, 5_000];
/// The shape at which the balance check is priced: the fastest, where the
/// check's share of the time is largest.
pub const CHECK_SHAPE: (usize, Commit) = (1_000, Commit::OneTransaction);

/// Target: our rate reaches this share of the client's for the same batch shape.
pub const CLIENT_TARGET: f64 = 0.9;
/// Target: our best shape reaches this share of `LOAD DATA`.
pub const LOAD_DATA_TARGET: f64 = 0.8;
/// Target: at the tutorial's batch size, our rate reaches this multiple of peewee's `bulk_create`.
pub const PEEWEE_TARGET: f64 = 4.0;

/// A side of a load comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `players::bulk_create`.
    Ours,
    /// The client running the same multi-row INSERTs as text.
    Client,
    /// peewee's `bulk_create`, at the tutorial's shape only (batch 114, a commit
    /// per batch: peewee commits after each INSERT outside `atomic()`).
    Peewee,
    /// The same INSERTs as ours without the balance check, at [`CHECK_SHAPE`] only.
    Unchecked,
}

/// Loads of `rows` by each of `sides` in batches of `batch` committed as
/// `commit`, set up as `at` says, each into an empty table and counted after it.
pub fn measure(
    at: &mut Setup,
    rows: &[NewPlayer],
    (batch, commit): (usize, Commit),
    sides: &[Side],
) -> anyhow::Result<Vec<(Side, Tally)>> {
    let dir = tempfile::tempdir()?;
    let (inserts, csv) = (dir.path().join("insert.sql"), dir.path().join("rows.csv"));
    let probed = at.probed;
    let write_inserts = |w: &mut dyn Write| sql_files::write_inserts(w, rows, batch, commit);
    write_file(&inserts, |w| probe::write(w, probed, write_inserts))?;
    write_file(&csv, |w| sql_files::write_csv(w, rows))?;
    let mut conn = db::connect(&at.url)?;
    let overhead = read_overhead(&mut conn)?;
    let (n, batches, tutorial) = (
        rows.len(),
        rows.len().div_ceil(batch),
        commit == Commit::PerBatch,
    );
    tally::measure(sides, at.repeat, |side| {
        at.db.reset()?;
        let start = Instant::now();
        let (took, counts) = match (side, at.peewee) {
            (Side::Ours, _) => counted(&mut conn, &overhead, batches, |c| {
                load_ours(c, rows, batch, commit)
            })?,
            (Side::Unchecked, _) if (batch, commit) == CHECK_SHAPE => {
                let inserted = unchecked::bulk_insert(&mut conn, rows, batch, commit)?;
                ensure!(
                    inserted == n,
                    "the unchecked insert reported {inserted} rows"
                );
                (start.elapsed(), None)
            }
            (Side::Client, _) => probe::run(at.client, &inserts, probed, batches)?,
            (Side::Peewee, Ok(peewee)) if tutorial && batch == peewee::BATCH => {
                let (rate, counts) = peewee.load(&at.url, &csv, n, batch)?;
                (Duration::from_secs_f64(n as f64 / rate), counts)
            }
            _ => return Ok(None),
        };
        let label = format!(
            "{}load {side:?}, batch {batch}, {}",
            at.prefix,
            commit.label()
        );
        at.db.expect_count(n, &label)?;
        progress(&label, per_second(n, took));
        Ok(Some((per_second(n, took), counts)))
    })
}

/// Our side: `players::bulk_create` on an open connection, timed around the call.
fn load_ours(
    c: &mut MysqlConnection,
    rows: &[NewPlayer],
    batch: usize,
    commit: Commit,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let all = |c: &mut MysqlConnection| players::bulk_create(c, rows.iter().cloned(), batch);
    let inserted = match commit {
        Commit::PerBatch => all(c)?,
        Commit::OneTransaction => c.transaction(all)?,
    };
    ensure!(
        inserted == rows.len(),
        "bulk_create reported {inserted} rows"
    );
    Ok(start.elapsed())
}

/// Runs the bulk-load comparison on `--rows` players and shows the load table
/// and the price of the balance check.
pub fn run(b: &mut Bench, show: Show) -> anyhow::Result<()> {
    let rows = &crate::data::players(b.args.rows);
    let at = &mut Setup::direct(b);
    let mut shapes = Vec::new();
    for shape in BATCH_SIZES
        .into_iter()
        .flat_map(|batch| Commit::ALL.map(|c| (batch, c)))
    {
        let sides = [Side::Ours, Side::Client, Side::Peewee, Side::Unchecked];
        shapes.push((shape, measure(at, rows, shape, &sides)?));
    }
    let (repeat, n) = (at.repeat, thousands(rows.len() as f64));
    let (load_data, refused) = load_data(at.db, at.client, rows, repeat)?;
    let checks = bulk_create_checks(at.db.conn());
    let startup: anyhow::Result<Vec<f64>> = (0..3)
        .map(|_| Ok(at.client.run_statement("DO 1")?.as_secs_f64()))
        .collect();
    let startup_ms = median(&startup?) * 1e3;
    at.db.reset()?;

    let mut section = Section::new(
        format!("Bulk load of {n} players (rows/s, median of {repeat})"),
        &format!(
            "batch | commit | Diesel | client | Diesel / client | target ≥ {CLIENT_TARGET} \
             | Diesel round trips / batch | peewee | Diesel / peewee | target ≥ {PEEWEE_TARGET}"
        ),
    );
    for ((batch, commit), t) in &shapes {
        let (ours, client) = (tally::of(t, Side::Ours), tally::of(t, Side::Client).rate());
        let mut row = vec![
            thousands(*batch as f64),
            commit.label().into(),
            thousands(ours.rate()),
        ];
        row.extend([thousands(client), fixed(ours.rate() / client)]);
        row.extend([
            verdict(ours.rate() >= CLIENT_TARGET * client),
            fixed(ours.round_trips().unwrap_or(f64::NAN)),
        ]);
        let tutorial = tally::of(t, Side::Peewee).rate();
        if tutorial.is_finite() {
            let ratio = ours.rate() / tutorial;
            row.extend([
                thousands(tutorial),
                fixed(ratio),
                verdict(ratio >= PEEWEE_TARGET),
            ]);
        }
        section.row(row);
    }
    let ceiling = ["LOAD DATA LOCAL INFILE", "one statement", ""].map(String::from);
    section.row([ceiling.to_vec(), vec![thousands(load_data)]].concat());
    let ours = |(shape, t): &((usize, Commit), Vec<(Side, Tally)>)| {
        (tally::of(t, Side::Ours).rate(), *shape)
    };
    let best = shapes.iter().map(ours).max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((rate, (batch, commit))) = best.filter(|_| load_data.is_finite()) {
        let (batch, rows, share) = (thousands(batch as f64), thousands(rate), rate / load_data);
        section.note(format!(
            "Best Diesel shape: batch {batch}, {}: {rows} rows/s = {} of LOAD DATA (target ≥ {LOAD_DATA_TARGET}): {}.",
            commit.label(),
            fixed(share),
            verdict(share >= LOAD_DATA_TARGET)
        ));
    }
    if let Some(c) = &tally::of(&shapes[0].1, Side::Ours).counts {
        section.note(format!(
            "Diesel's commands per batch (batch {}, per batch), from the server's session counters: {c}. \
             The client sends each batch as one text statement: one round trip.",
            BATCH_SIZES[0]
        ));
    }
    if let Some(c) = &tally::of(&shapes[0].1, Side::Peewee).counts {
        section.note(format!(
            "peewee's commands per batch (the tutorial's `Player.bulk_create(players, {})` of the same rows, \
             timed around the call by bench_peewee.py): {c}: {:.1} round trips.",
            peewee::BATCH,
            c.round_trips
        ));
    }
    section.note(format!(
        "Client figures are timed from process start to exit; start-up and connecting take {startup_ms:.1} ms \
         of that. Every load starts from an empty table and its row count is checked after it."
    ));
    if let Err(why) = at.peewee {
        section.note(format!("peewee: skipped ({why})."));
    }
    if let Some(e) = refused {
        section.note(format!(
            "LOAD DATA LOCAL INFILE was refused ({e}); enable `local_infile` on the server to measure the ceiling."
        ));
    }
    show(&section);
    let at_check = shapes.iter().find(|(shape, _)| *shape == CHECK_SHAPE);
    show(&check_section(
        repeat,
        at_check.map_or(&[][..], |(_, t)| t),
        checks,
    ));
    Ok(())
}

/// `LOAD DATA LOCAL INFILE` of `rows`, `repeat` times: the median rate, or NaN
/// and why the server refused it (MySQL's default): the ceiling is then
/// missing, which is reported, not a failure of ours.
fn load_data(
    db: &mut BenchDb,
    client: &Client,
    rows: &[NewPlayer],
    repeat: usize,
) -> anyhow::Result<(f64, Option<String>)> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("players.csv");
    write_file(&csv, |w| sql_files::write_csv(w, rows))?;
    let statement = sql_files::load_data_statement(&csv.to_string_lossy())?;
    let mut rates = Vec::new();
    for _ in 0..repeat {
        db.reset()?;
        let took = match client.run_statement(&statement) {
            Ok(took) => took,
            Err(e) => {
                eprintln!("  load LOAD DATA LOCAL INFILE: unavailable: {e:#}");
                return Ok((f64::NAN, Some(format!("{e:#}"))));
            }
        };
        db.expect_count(rows.len(), "LOAD DATA LOCAL INFILE")?;
        progress("load LOAD DATA LOCAL INFILE", per_second(rows.len(), took));
        rates.push(per_second(rows.len(), took));
    }
    Ok((median(&rates), None))
}

/// The price of the balance check: `bulk_create` against the same INSERTs unchecked, at [`CHECK_SHAPE`].
fn check_section(repeat: usize, tallies: &[(Side, Tally)], checks: bool) -> Section {
    let (batch, commit) = (thousands(CHECK_SHAPE.0 as f64), CHECK_SHAPE.1.label());
    let title = format!(
        "Refusing negative balances in bulk_create (batch {batch}, {commit}, rows/s, median of {repeat})"
    );
    let mut section = Section::new(title, "side | rows/s | vs unchecked");
    let (ours, unchecked) = (
        tally::of(tallies, Side::Ours).rate(),
        tally::of(tallies, Side::Unchecked).rate(),
    );
    section.row(vec![
        "players::bulk_create".into(),
        thousands(ours),
        fixed(ours / unchecked),
    ]);
    section.row(vec![
        "same INSERTs, unchecked".into(),
        thousands(unchecked),
        fixed(if unchecked.is_finite() { 1.0 } else { f64::NAN }),
    ]);
    let checks = if checks {
        "yes"
    } else {
        "no: the table's CHECK constraints refuse it, the ratio prices no check"
    };
    section.note(format!(
        "The unchecked side sends the same multi-row INSERTs, cached the same way (player-bench/src/unchecked.rs), \
         and checks nothing, in the same rounds. This build's bulk_create refuses a negative balance itself: {checks}."
    ));
    section
}

/// Whether `bulk_create` refuses a negative balance itself, before sending
/// (rather than leaving it to the table's CHECK constraints). Changes nothing.
fn bulk_create_checks(conn: &mut MysqlConnection) -> bool {
    let Ok(id) = "bench-negative".parse() else {
        return false;
    };
    let mut refused = false;
    let _ = conn.transaction::<(), anyhow::Error, _>(|conn| {
        let result = players::bulk_create(conn, [NewPlayer::new(id, -1, 0)], 1);
        refused = matches!(result, Err(player_core::Error::NegativeBalance { .. }));
        anyhow::bail!("rolled back")
    });
    refused
}
