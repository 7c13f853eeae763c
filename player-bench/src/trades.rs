//! Part 2, trades on one connection: `player_core::trade` against the command-line
//! client running the six statements of the lock-then-update pattern.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use diesel::mysql::MysqlConnection;
use player_core::{NewPlayer, PlayerId, Trade, TradeOutcome, players};

use crate::bench_db::BenchDb;
use crate::client::Client;
use crate::counters::{CommandCounts, read_overhead, session_counters};
use crate::peewee::Peewee;
use crate::report::{Section, Verdict, median, per_second, progress, ratio, thousands};
use crate::sql_files::{self, CLIENT_STATEMENTS_PER_TRADE, trade_direction, write_file};

/// The first trader.
pub const A: &str = "bench-trader-a";
/// The second trader.
pub const B: &str = "bench-trader-b";
/// What each trader holds at the start, of coins and of goods.
const START: i32 = 1_000_000;

/// Our rate must reach this share of the client's.
pub const TARGET: f64 = 1.0;
/// Our rate must reach this multiple of the tutorial's peewee trade.
pub const PEEWEE_TARGET: f64 = 2.0;

/// Which of the core's trades our side calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `player_core::trade`: BEGIN, the joined UPDATE, COMMIT in `conn.transaction`.
    Transactional,
    /// `player_core::trade_in_one_statement`: the joined UPDATE alone, in autocommit.
    OneStatement,
}

impl Form {
    /// The function's name, for tables.
    pub fn label(self) -> &'static str {
        match self {
            Form::Transactional => "Diesel player_core::trade",
            Form::OneStatement => "Diesel trade_in_one_statement",
        }
    }
}

/// A side of the comparison on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours(Form),
    Client,
    Peewee,
}

/// Runs the trade comparison with `count` trades per side and returns its
/// section. `peewee` is the tutorial's side, or why it is missing.
pub fn run(
    db: &mut BenchDb,
    client: &Client,
    peewee: Result<&Peewee, &str>,
    count: usize,
    repeat: usize,
) -> anyhow::Result<Section> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("trades.sql");
    write_file(&file, |w| sql_files::write_trades(w, count, A, B))?;

    let mut sides = vec![
        Side::Ours(Form::Transactional),
        Side::Ours(Form::OneStatement),
        Side::Client,
    ];
    if peewee.is_ok() {
        sides.push(Side::Peewee);
    }
    let overhead = read_overhead(db.conn())?;
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let mut counts: Vec<Option<CommandCounts>> = sides.iter().map(|_| None).collect();
    for round in 0..repeat {
        // Rotate who goes first so a drift in the machine hits every side alike.
        for k in 0..sides.len() {
            let i = (k + round) % sides.len();
            setup(db.conn())?;
            let (label, took) = match sides[i] {
                Side::Ours(form) => {
                    let before = session_counters(db.conn())?;
                    let took = trade_ours(db.conn(), count, form)?;
                    let after = session_counters(db.conn())?;
                    if counts[i].is_none() {
                        counts[i] = CommandCounts::between(&before, &after, &overhead, count);
                    }
                    (form.label(), took)
                }
                Side::Client => ("client", client.run_file(&file)?),
                Side::Peewee => {
                    let run = peewee.map_err(|why| anyhow::anyhow!("{why}"))?.trade(
                        db.url(),
                        count,
                        A,
                        B,
                    )?;
                    if counts[i].is_none() {
                        counts[i] = run.counts;
                    }
                    (
                        "peewee",
                        Duration::from_secs_f64(count as f64 / run.per_second),
                    )
                }
            };
            check_balances(db.conn(), count, label)?;
            let rate = per_second(count, took);
            progress(&format!("trades {label}"), rate);
            rates[i].push(rate);
        }
    }
    db.reset()?;

    let medians: Vec<f64> = rates.iter().map(|r| median(r)).collect();
    let rate_of = |side: Side| {
        sides
            .iter()
            .position(|s| *s == side)
            .map_or(f64::NAN, |i| medians[i])
    };
    let (theirs, tutorial) = (rate_of(Side::Client), rate_of(Side::Peewee));
    let mut section = Section::new(
        format!(
            "Trades on one connection ({} trades, trades/s, median of {repeat})",
            thousands(count as f64)
        ),
        &[
            "side",
            "trades/s",
            "statements / trade",
            "round trips / trade",
            "vs client",
            &format!("target ≥ {TARGET}"),
            "ours / peewee",
            &format!("target ≥ {PEEWEE_TARGET}"),
        ],
    );
    for (i, side) in sides.iter().enumerate() {
        let rate = medians[i];
        let (statements, round_trips) = match (side, &counts[i]) {
            (Side::Client, _) => (
                CLIENT_STATEMENTS_PER_TRADE.to_string(),
                CLIENT_STATEMENTS_PER_TRADE.to_string(),
            ),
            (_, Some(c)) => (
                format!("{:.1}", c.statements),
                format!("{:.1}", c.round_trips),
            ),
            (_, None) => ("n/a".into(), "n/a".into()),
        };
        let ours = matches!(side, Side::Ours(_));
        let verdict = |met: bool, other: f64| {
            if ours && other.is_finite() {
                Verdict::of(met).to_string()
            } else {
                String::new()
            }
        };
        section.row(vec![
            match side {
                Side::Ours(form) => form.label().into(),
                Side::Client => "client, same pattern".into(),
                Side::Peewee => "peewee, the tutorial's trade".into(),
            },
            thousands(rate),
            statements,
            round_trips,
            ratio(rate / theirs),
            verdict(rate >= TARGET * theirs, theirs),
            if ours {
                ratio(rate / tutorial)
            } else {
                String::new()
            },
            verdict(rate >= PEEWEE_TARGET * tutorial, tutorial),
        ]);
    }
    for (i, side) in sides.iter().enumerate() {
        if let (Some(c), Side::Ours(_) | Side::Peewee) = (&counts[i], side) {
            let who = match side {
                Side::Ours(form) => form.label(),
                _ => "peewee",
            };
            section.note(format!(
                "{who}: commands per trade, from the server's session counters: {c}."
            ));
        }
    }
    if let Err(why) = peewee {
        section.note(format!("peewee: skipped ({why})."));
    }
    section.note(
        "Each trade moves one good for one coin between two players, in alternating directions; \
         balances are checked after every run. The client is timed from process start to exit, \
         peewee around its loop (bench_peewee.py), ours around ours.",
    );
    Ok(section)
}

/// The two traders' ids.
fn traders() -> anyhow::Result<(PlayerId, PlayerId)> {
    Ok((A.parse()?, B.parse()?))
}

/// Empties `player` and inserts the two traders.
pub fn setup(conn: &mut MysqlConnection) -> anyhow::Result<()> {
    let (a, b) = traders()?;
    players::delete_all(conn)?;
    players::bulk_create(
        conn,
        [
            NewPlayer::new(a, START, START),
            NewPlayer::new(b, START, START),
        ],
        2,
    )?;
    Ok(())
}

/// `count` trades with the core's trade of `form`, timed around the loop.
pub fn trade_ours(
    conn: &mut MysqlConnection,
    count: usize,
    form: Form,
) -> anyhow::Result<Duration> {
    let (a, b) = traders()?;
    let start = Instant::now();
    for i in 0..count {
        let (seller, buyer) = trade_direction(i, &a, &b);
        let trade = Trade {
            seller,
            buyer,
            amount: 1,
            price: 1,
        };
        let policy = player_core::RetryPolicy::default();
        let outcome = match form {
            Form::Transactional => player_core::trade(conn, &trade, &policy)?,
            Form::OneStatement => player_core::trade_in_one_statement(conn, &trade, &policy)?,
        }
        .outcome;
        ensure!(
            outcome == TradeOutcome::Done,
            "trade {i} was not done: {outcome:?}"
        );
    }
    Ok(start.elapsed())
}

/// Fails unless both traders hold what `count` alternating trades leave them.
pub fn check_balances(conn: &mut MysqlConnection, count: usize, after: &str) -> anyhow::Result<()> {
    let odd = i32::from(count % 2 == 1);
    let expected = [(A, START + odd, START - odd), (B, START - odd, START + odd)];
    let (a, b) = traders()?;
    let found = players::get_many(conn, &[a, b])?;
    let found: Vec<_> = found
        .iter()
        .map(|p| (p.id.as_str(), p.coins, p.goods))
        .collect();
    if found != expected {
        bail!("{after}: balances are {found:?}, expected {expected:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's trade file moves what the balance check expects, and our
    /// trades do the same, so both sides of the comparison do the same work.
    #[test]
    fn both_sides_leave_the_balances_the_check_expects() {
        let db = player_testkit::TestDatabase::create();
        let mut conn = db.connect();
        player_core::migrations::run_pending(&mut conn).expect("migrations");
        let client = Client::new(None, &db.url().parse().expect("URL")).expect("client on PATH");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("trades.sql");
        for count in [3, 4] {
            write_file(&file, |w| sql_files::write_trades(w, count, A, B)).expect("write");
            setup(&mut conn).expect("setup");
            client.run_file(&file).expect("client trades");
            check_balances(&mut conn, count, "client").expect("client balances");
            assert!(check_balances(&mut conn, count + 1, "client").is_err());

            setup(&mut conn).expect("setup");
            let overhead = read_overhead(&mut conn).expect("counters");
            let before = session_counters(&mut conn).expect("counters");
            trade_ours(&mut conn, count, Form::Transactional).expect("our trades");
            let after = session_counters(&mut conn).expect("counters");
            check_balances(&mut conn, count, "Diesel").expect("our balances");
            let counts =
                CommandCounts::between(&before, &after, &overhead, count).expect("MariaDB counts");
            assert_eq!(counts.statements, 3.0, "{counts}");
            assert!(counts.round_trips >= 4.0, "{counts}");

            setup(&mut conn).expect("setup");
            let before = session_counters(&mut conn).expect("counters");
            trade_ours(&mut conn, count, Form::OneStatement).expect("our trades");
            let after = session_counters(&mut conn).expect("counters");
            check_balances(&mut conn, count, "one statement").expect("balances");
            let counts =
                CommandCounts::between(&before, &after, &overhead, count).expect("MariaDB counts");
            assert_eq!(counts.statements, 1.0, "{counts}");

            // The client's lone UPDATE ... JOIN moves the same.
            write_file(&file, |w| {
                sql_files::write_trades_one_statement(w, count, A, B)
            })
            .expect("write");
            setup(&mut conn).expect("setup");
            client.run_file(&file).expect("client trades");
            check_balances(&mut conn, count, "client, one statement").expect("balances");
        }
    }
}
