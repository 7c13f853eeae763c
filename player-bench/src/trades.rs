//! The trades part, on one connection: `player_core::trade` against the
//! command-line client running the six statements of the lock-then-update
//! pattern, and against the tutorial's peewee trade. [`measure`] also runs the
//! round-trip part's trades.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::ensure;
use diesel::mysql::MysqlConnection;
use player_core::db;
use player_core::ledger::{self, IdempotencyKey};
use player_core::{NewPlayer, PlayerId, Trade, TradeOutcome, players};

use crate::Bench;
use crate::counters::{counted, read_overhead};
use crate::probe;
use crate::report::{Section, Show, fixed, per_second, progress, thousands, verdict};
use crate::sql_files::{self, CLIENT_STATEMENTS_PER_TRADE, trade_direction, write_file};
use crate::tally::{self, Setup, Tally};

/// The first trader.
pub const A: &str = "bench-trader-a";
/// The second trader.
pub const B: &str = "bench-trader-b";
/// What each trader holds at the start, of coins and of goods.
const START: i32 = 1_000_000;

/// Target: our rate reaches this share of the client's.
pub const TARGET: f64 = 1.0;
/// Target: our rate reaches this multiple of the tutorial's peewee trade.
pub const PEEWEE_TARGET: f64 = 2.0;

/// Which of the core's trades our side calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `player_core::trade`: BEGIN, the joined UPDATE, COMMIT in `conn.transaction`.
    Transactional,
    /// `player_core::trade_in_one_statement`: the joined UPDATE alone, in autocommit.
    OneStatement,
    /// `player_core::ledger::trade` with a fresh key each: the key row, then the
    /// transactional trade, in one transaction.
    Keyed,
}

/// A side of a trade comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Ours, in one of the core's forms.
    Ours(Form),
    /// The client running the six lock-then-update statements.
    Client,
    /// The client sending the core's `UPDATE ... JOIN` alone in autocommit.
    ClientJoin,
    /// The tutorial's peewee trade.
    Peewee,
}

/// The sides of this part, with their labels.
const SIDES: [(Side, &str); 5] = [
    (Side::Ours(Form::Transactional), "Diesel player_core::trade"),
    (
        Side::Ours(Form::OneStatement),
        "Diesel trade_in_one_statement",
    ),
    (Side::Ours(Form::Keyed), "Diesel ledger::trade (keyed)"),
    (Side::Client, "client, same pattern"),
    (Side::Peewee, "peewee, the tutorial's trade"),
];

/// `count` trades by each of `sides`, set up as `at` says. Balances are
/// checked after every run.
pub fn measure(at: &mut Setup, sides: &[Side], count: usize) -> anyhow::Result<Vec<(Side, Tally)>> {
    let dir = tempfile::tempdir()?;
    let (six, join) = (dir.path().join("six.sql"), dir.path().join("join.sql"));
    let probed = at.probed;
    write_file(&six, |w| {
        probe::write(w, probed, |w| sql_files::write_trades(w, count, A, B))
    })?;
    let write_join = |w: &mut dyn Write| sql_files::write_trades_one_statement(w, count, A, B);
    write_file(&join, |w| probe::write(w, probed, write_join))?;
    let mut conn = db::connect(&at.url)?;
    let overhead = read_overhead(&mut conn)?;
    tally::measure(sides, at.repeat, |side| {
        setup(at.db.conn())?;
        let (took, counts) = match (side, at.peewee) {
            (Side::Ours(form), _) => {
                counted(&mut conn, &overhead, count, |c| trade_ours(c, count, form))?
            }
            (Side::Client, _) => probe::run(at.client, &six, probed, count)?,
            (Side::ClientJoin, _) => probe::run(at.client, &join, probed, count)?,
            (Side::Peewee, Ok(peewee)) => {
                let (rate, counts) = peewee.trade(&at.url, count, A, B)?;
                (Duration::from_secs_f64(count as f64 / rate), counts)
            }
            (Side::Peewee, Err(_)) => return Ok(None),
        };
        let label = format!("{}trades {side:?}", at.prefix);
        check_balances(at.db.conn(), count, &label)?;
        progress(&label, per_second(count, took));
        Ok(Some((per_second(count, took), counts)))
    })
}

/// Runs the trade comparison of `--trades` trades per side and shows its section.
pub fn run(b: &mut Bench, show: Show) -> anyhow::Result<()> {
    let count = b.args.trades;
    let at = &mut Setup::direct(b);
    let tallies = measure(at, &SIDES.map(|(side, _)| side), count)?;
    at.db.reset()?;
    let theirs = tally::of(&tallies, Side::Client).rate();
    let tutorial = tally::of(&tallies, Side::Peewee).rate();
    let (n, repeat) = (thousands(count as f64), at.repeat);
    let title = format!("Trades on one connection ({n} trades, trades/s, median of {repeat})");
    let mut section = Section::new(
        title,
        &format!(
            "side | trades/s | statements / trade | round trips / trade | vs client \
             | target ≥ {TARGET} | ours / peewee | target ≥ {PEEWEE_TARGET}"
        ),
    );
    let mut notes = Vec::new();
    for ((side, label), (_, t)) in SIDES.iter().zip(&tallies) {
        let (ours, rate) = (matches!(side, Side::Ours(_)), t.rate());
        // The targets are the unkeyed trade's: the keyed one also writes its
        // key's row, which neither the client's pattern nor peewee does.
        let judged = ours && *side != Side::Ours(Form::Keyed);
        let verdict = |met, other: f64| {
            if judged && other.is_finite() {
                verdict(met)
            } else {
                "".into()
            }
        };
        let counted = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.1}"));
        let (statements, round_trips) = match side {
            Side::Client => (
                CLIENT_STATEMENTS_PER_TRADE.to_string(),
                CLIENT_STATEMENTS_PER_TRADE.to_string(),
            ),
            _ => (
                counted(t.counts.as_ref().map(|c| c.statements)),
                counted(t.round_trips()),
            ),
        };
        if !t.rates.is_empty() {
            let mut row = vec![(*label).into(), thousands(rate), statements, round_trips];
            row.extend([
                fixed(rate / theirs),
                verdict(rate >= TARGET * theirs, theirs),
            ]);
            let vs_tutorial = if ours {
                fixed(rate / tutorial)
            } else {
                String::new()
            };
            row.extend([
                vs_tutorial,
                verdict(rate >= PEEWEE_TARGET * tutorial, tutorial),
            ]);
            section.row(row);
        }
        if let (Some(c), false) = (&t.counts, *side == Side::Client) {
            let who = if *side == Side::Peewee {
                "peewee"
            } else {
                label
            };
            notes.push(format!(
                "{who}: commands per trade, from the server's session counters: {c}."
            ));
        }
    }
    notes.into_iter().for_each(|n| section.note(n));
    if let Err(why) = at.peewee {
        section.note(format!("peewee: skipped ({why})."));
    }
    section.note(
        "Balances are checked after every run. The client is timed from process start to exit, \
         peewee around its loop (bench_peewee.py), ours around ours. The keyed trade has no \
         target here: it also writes its key's row, which neither of the others does.",
    );
    show(&section);
    Ok(())
}

/// The two traders' ids.
fn traders() -> anyhow::Result<(PlayerId, PlayerId)> {
    Ok((A.parse()?, B.parse()?))
}

/// Empties `player` and inserts the two traders.
pub fn setup(conn: &mut MysqlConnection) -> anyhow::Result<()> {
    let (a, b) = traders()?;
    players::delete_all(conn)?;
    let both = [
        NewPlayer::new(a, START, START),
        NewPlayer::new(b, START, START),
    ];
    players::bulk_create(conn, both, 2)?;
    Ok(())
}

/// `count` trades with the core's trade of `form`, timed around the loop.
fn trade_ours(conn: &mut MysqlConnection, count: usize, form: Form) -> anyhow::Result<Duration> {
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
            Form::Transactional => player_core::trade(conn, &trade, &policy)?.outcome,
            Form::OneStatement => {
                player_core::trade_in_one_statement(conn, &trade, &policy)?.outcome
            }
            Form::Keyed => {
                let key = IdempotencyKey::new(uuid::Uuid::new_v4().to_string())?;
                ledger::trade(conn, &key, &trade, &policy)?.outcome
            }
        };
        ensure!(
            outcome == TradeOutcome::Done,
            "trade {i} was not done: {outcome:?}"
        );
    }
    Ok(start.elapsed())
}

/// Fails unless both traders hold what `count` alternating trades leave them.
fn check_balances(conn: &mut MysqlConnection, count: usize, after: &str) -> anyhow::Result<()> {
    let odd = i32::from(count % 2 == 1);
    let expected = [(A, START + odd, START - odd), (B, START - odd, START + odd)];
    let found = players::get_many(conn, &<[PlayerId; 2]>::from(traders()?))?;
    let found: Vec<_> = found
        .iter()
        .map(|p| (p.id.as_str(), p.coins, p.goods))
        .collect();
    ensure!(
        found == expected,
        "{after}: balances are {found:?}, expected {expected:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that left other balances than the trades should fails the check.
    #[test]
    fn the_balance_check_sees_one_trade_too_many() {
        let db = player_testkit::TestDatabase::create();
        let mut conn = db.connect();
        player_core::migrations::run_pending(&mut conn).expect("migrations");
        setup(&mut conn).expect("setup");
        trade_ours(&mut conn, 3, Form::OneStatement).expect("trades");
        check_balances(&mut conn, 3, "three").expect("three trades");
        assert!(check_balances(&mut conn, 4, "four").is_err());
    }
}
