//! Part 1, bulk load: `players::bulk_create` against the command-line client
//! sending the same rows as multi-row INSERTs of the same shape, and against
//! `LOAD DATA LOCAL INFILE` as the ceiling.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::Connection;
use player_core::{NewPlayer, players};

use crate::bench_db::BenchDb;
use crate::cli::BATCH_SIZES;
use crate::client::Client;
use crate::counters::{CommandCounts, SessionCounters, read_overhead, session_counters};
use crate::peewee::{self, Peewee};
use crate::report::{Section, Verdict, median, per_second, progress, ratio, thousands};
use crate::sql_files::{self, Commit, write_file};

/// Our rate must reach this share of the client's for the same batch shape.
pub const CLIENT_TARGET: f64 = 0.9;
/// Our best shape must reach this share of `LOAD DATA`.
pub const LOAD_DATA_TARGET: f64 = 0.8;
/// At the tutorial's batch size, our rate must reach this multiple of peewee's `bulk_create`.
pub const PEEWEE_TARGET: f64 = 4.0;

/// One batch shape: a batch size and a commit mode.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    commit: Commit,
}

/// Measured rates of one shape, in rows/s, one per repetition.
struct ShapeRates {
    shape: Shape,
    ours: Vec<f64>,
    client: Vec<f64>,
    file: PathBuf,
    /// What Diesel sent per batch, from its first run.
    counts: Option<CommandCounts>,
    /// peewee's `bulk_create`, at the tutorial's shape only (batch 114, a commit per batch).
    peewee: Vec<f64>,
    /// What peewee sent per batch, from its first run.
    peewee_counts: Option<CommandCounts>,
}

impl ShapeRates {
    /// Whether peewee's `bulk_create` has this shape: the tutorial's batch,
    /// committed per batch (peewee commits after each INSERT outside `atomic()`).
    fn peewee_shape(&self) -> bool {
        self.shape.batch == peewee::BATCH && self.shape.commit == Commit::PerBatch
    }
}

/// Runs the bulk-load comparison on `rows` and returns its section.
pub fn run(
    db: &mut BenchDb,
    client: &Client,
    peewee: Result<&Peewee, &str>,
    rows: &[NewPlayer],
    repeat: usize,
) -> anyhow::Result<Section> {
    let dir = tempfile::tempdir()?;
    let mut shapes = Vec::new();
    for batch in BATCH_SIZES {
        for commit in Commit::ALL {
            let file = dir.path().join(format!("insert-{batch}-{commit:?}.sql"));
            write_file(&file, |w| sql_files::write_inserts(w, rows, batch, commit))?;
            shapes.push(ShapeRates {
                shape: Shape { batch, commit },
                ours: Vec::new(),
                client: Vec::new(),
                file,
                counts: None,
                peewee: Vec::new(),
                peewee_counts: None,
            });
        }
    }
    let csv = dir.path().join("players.csv");
    write_file(&csv, |w| sql_files::write_csv(w, rows))?;
    let load_data = sql_files::load_data_statement(&csv.to_string_lossy())?;

    let startup: Vec<f64> = (0..3)
        .map(|_| client.run_statement("DO 1").map(|d| d.as_secs_f64()))
        .collect::<anyhow::Result<_>>()?;
    let overhead = read_overhead(db.conn())?;
    let mut load_data_rates = Vec::new();
    let mut load_data_error = None;

    for round in 0..repeat {
        for s in &mut shapes {
            // Alternate who goes first so a drift in the machine hits both sides alike.
            for ours_turn in [round % 2 == 0, round % 2 != 0] {
                let rate = load_once(db, client, rows, s, ours_turn, &overhead)?;
                if ours_turn {
                    &mut s.ours
                } else {
                    &mut s.client
                }
                .push(rate);
            }
            if let (Ok(peewee), true) = (peewee, s.peewee_shape()) {
                db.reset()?;
                let run = peewee.load(db.url(), &csv, rows.len(), s.shape.batch)?;
                db.expect_count(rows.len(), "load peewee bulk_create")?;
                progress(
                    &format!("load peewee bulk_create, batch {}", s.shape.batch),
                    run.per_second,
                );
                s.peewee.push(run.per_second);
                if s.peewee_counts.is_none() {
                    s.peewee_counts = run.counts;
                }
            }
        }
        if load_data_error.is_none() {
            db.reset()?;
            // A server may refuse LOCAL INFILE (MySQL's default): the ceiling is
            // then missing, which is reported, not a failure of ours.
            match client.run_statement(&load_data) {
                Ok(took) => {
                    db.expect_count(rows.len(), "LOAD DATA LOCAL INFILE")?;
                    let rate = per_second(rows.len(), took);
                    progress("load LOAD DATA LOCAL INFILE", rate);
                    load_data_rates.push(rate);
                }
                Err(e) => {
                    eprintln!("  load LOAD DATA LOCAL INFILE: unavailable: {e:#}");
                    load_data_error = Some(format!("{e:#}"));
                }
            }
        }
    }
    db.reset()?;

    let mut section = section(
        rows.len(),
        repeat,
        &shapes,
        median(&load_data_rates),
        median(&startup),
    );
    if let Err(why) = peewee {
        section.note(format!("peewee: skipped ({why})."));
    }
    if let Some(e) = load_data_error {
        section.note(format!(
            "LOAD DATA LOCAL INFILE was refused ({e}); enable `local_infile` on the server to measure the ceiling."
        ));
    }
    Ok(section)
}

fn section(
    rows: usize,
    repeat: usize,
    shapes: &[ShapeRates],
    load_data: f64,
    startup_secs: f64,
) -> Section {
    let mut section = Section::new(
        format!(
            "Bulk load of {} players (rows/s, median of {repeat})",
            thousands(rows as f64)
        ),
        &[
            "batch",
            "commit",
            "Diesel",
            "client",
            "Diesel / client",
            &format!("target ≥ {CLIENT_TARGET}"),
            "Diesel round trips / batch",
            "peewee",
            "Diesel / peewee",
            &format!("target ≥ {PEEWEE_TARGET}"),
        ],
    );
    let mut best: Option<(f64, Shape)> = None;
    for s in shapes {
        let (ours, client) = (median(&s.ours), median(&s.client));
        if best.is_none_or(|(rate, _)| ours > rate) {
            best = Some((ours, s.shape));
        }
        section.row(vec![
            thousands(s.shape.batch as f64),
            s.shape.commit.label().into(),
            thousands(ours),
            thousands(client),
            ratio(ours / client),
            Verdict::of(ours >= CLIENT_TARGET * client).to_string(),
            s.counts
                .as_ref()
                .map_or("n/a".into(), |c| format!("{:.2}", c.round_trips)),
        ]);
        let row = section.last_row();
        if !s.peewee.is_empty() {
            let tutorial = median(&s.peewee);
            row.push(thousands(tutorial));
            row.push(ratio(ours / tutorial));
            row.push(Verdict::of(ours >= PEEWEE_TARGET * tutorial).to_string());
        } else {
            row.extend([String::new(), String::new(), String::new()]);
        }
    }
    section.row(vec![
        "LOAD DATA LOCAL INFILE".into(),
        "one statement".into(),
        String::new(),
        thousands(load_data),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    if let Some((rate, shape)) = best.filter(|_| load_data.is_finite()) {
        let share = rate / load_data;
        section.note(format!(
            "Best Diesel shape: batch {}, {}: {} rows/s = {} of LOAD DATA (target ≥ {LOAD_DATA_TARGET}): {}.",
            thousands(shape.batch as f64),
            shape.commit.label(),
            thousands(rate),
            ratio(share),
            Verdict::of(share >= LOAD_DATA_TARGET)
        ));
    }
    if let Some(c) = shapes.iter().find_map(|s| s.counts.as_ref()) {
        section.note(format!(
            "Diesel's commands per batch (batch {}, per batch), from the server's session counters: {c}. \
             The client sends each batch as one text statement: one round trip.",
            thousands(BATCH_SIZES[0] as f64)
        ));
    }
    if let Some(c) = shapes.iter().find_map(|s| s.peewee_counts.as_ref()) {
        section.note(format!(
            "peewee's commands per batch (the tutorial's `Player.bulk_create(players, {})` of the same rows, \
             timed around the call by bench_peewee.py): {c}: {:.1} round trips.",
            peewee::BATCH,
            c.round_trips
        ));
    }
    section.note(format!(
        "Client figures are timed from process start to exit; start-up and connecting take {:.1} ms of that.",
        startup_secs * 1e3
    ));
    section.note(
        "Every load starts from an empty table and its row count is checked after it.".to_string(),
    );
    section
}

/// One load of one shape by one side into an empty table, checked; its rate in rows/s.
/// Our first load of a shape also records what Diesel sent per batch.
fn load_once(
    db: &mut BenchDb,
    client: &Client,
    rows: &[NewPlayer],
    s: &mut ShapeRates,
    ours: bool,
    overhead: &SessionCounters,
) -> anyhow::Result<f64> {
    db.reset()?;
    let took = if ours {
        let before = session_counters(db.conn())?;
        let took = load_ours(db, rows, s.shape)?;
        if s.counts.is_none() {
            let after = session_counters(db.conn())?;
            let batches = rows.len().div_ceil(s.shape.batch);
            s.counts = CommandCounts::between(&before, &after, overhead, batches);
        }
        took
    } else {
        client.run_file(&s.file)?
    };
    let label = format!(
        "load {}, batch {}, {}",
        if ours { "Diesel" } else { "client" },
        s.shape.batch,
        s.shape.commit.label()
    );
    db.expect_count(rows.len(), &label)?;
    let rate = per_second(rows.len(), took);
    progress(&label, rate);
    Ok(rate)
}

/// Our side: `players::bulk_create` on an open connection, timed around the call.
fn load_ours(db: &mut BenchDb, rows: &[NewPlayer], shape: Shape) -> anyhow::Result<Duration> {
    let conn = db.conn();
    let start = Instant::now();
    let inserted = match shape.commit {
        Commit::PerBatch => players::bulk_create(conn, rows.iter().cloned(), shape.batch)?,
        Commit::OneTransaction => {
            conn.transaction(|conn| players::bulk_create(conn, rows.iter().cloned(), shape.batch))?
        }
    };
    let took = start.elapsed();
    anyhow::ensure!(
        inserted == rows.len(),
        "bulk_create reported {inserted} rows, expected {}",
        rows.len()
    );
    Ok(took)
}
