//! Part 2, trades on one connection: `player_core::trade` against the command-line
//! client running the six statements of the lock-then-update pattern.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use diesel::mysql::MysqlConnection;
use player_core::{NewPlayer, PlayerId, Trade, TradeOutcome, players};

use crate::bench_db::BenchDb;
use crate::client::Client;
use crate::counters::{CommandCounts, read_overhead, session_counters};
use crate::report::{Section, Verdict, median, per_second, progress, ratio, thousands};
use crate::sql_files::{self, CLIENT_STATEMENTS_PER_TRADE, trade_direction, write_file};

/// The two traders.
const A: &str = "bench-trader-a";
const B: &str = "bench-trader-b";
/// What each trader holds at the start, of coins and of goods.
const START: i32 = 1_000_000;

/// Our rate must reach this share of the client's.
pub const TARGET: f64 = 1.0;

/// Runs the trade comparison with `count` trades per side and returns its section.
pub fn run(
    db: &mut BenchDb,
    client: &Client,
    count: usize,
    repeat: usize,
) -> anyhow::Result<Section> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("trades.sql");
    write_file(&file, |w| sql_files::write_trades(w, count, A, B))?;

    let overhead = read_overhead(db.conn())?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut per_trade = None;
    for round in 0..repeat {
        for ours_turn in [round % 2 == 0, round % 2 != 0] {
            setup(db.conn())?;
            let label = if ours_turn {
                "trades Diesel"
            } else {
                "trades client"
            };
            let took = if ours_turn {
                let before = session_counters(db.conn())?;
                let took = trade_ours(db.conn(), count)?;
                let after = session_counters(db.conn())?;
                if per_trade.is_none() {
                    per_trade = CommandCounts::between(&before, &after, &overhead, count);
                }
                took
            } else {
                client.run_file(&file)?
            };
            check_balances(db.conn(), count, label)?;
            let rate = per_second(count, took);
            progress(label, rate);
            if ours_turn { &mut ours } else { &mut theirs }.push(rate);
        }
    }
    db.reset()?;

    let (ours, theirs) = (median(&ours), median(&theirs));
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
        ],
    );
    let (statements, round_trips) = per_trade
        .as_ref()
        .map_or(("n/a".into(), "n/a".into()), |c| {
            (
                format!("{:.1}", c.statements),
                format!("{:.1}", c.round_trips),
            )
        });
    section.row(vec![
        "Diesel player_core::trade".into(),
        thousands(ours),
        statements,
        round_trips,
        ratio(ours / theirs),
        Verdict::of(ours >= TARGET * theirs).to_string(),
    ]);
    section.row(vec![
        "client, same pattern".into(),
        thousands(theirs),
        CLIENT_STATEMENTS_PER_TRADE.to_string(),
        CLIENT_STATEMENTS_PER_TRADE.to_string(),
        "1.00".into(),
        String::new(),
    ]);
    if let Some(c) = per_trade {
        section.note(format!(
            "Diesel's commands per trade, from the server's session counters: {c}."
        ));
    }
    section.note(
        "Each trade moves one good for one coin between two players, in alternating directions; \
         balances are checked after every run. The client is timed from process start to exit.",
    );
    Ok(section)
}

/// The two traders' ids.
fn traders() -> anyhow::Result<(PlayerId, PlayerId)> {
    Ok((A.parse()?, B.parse()?))
}

/// Empties `player` and inserts the two traders.
fn setup(conn: &mut MysqlConnection) -> anyhow::Result<()> {
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

/// `count` trades with `player_core::trade`, timed around the loop.
fn trade_ours(conn: &mut MysqlConnection, count: usize) -> anyhow::Result<Duration> {
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
        let outcome = player_core::trade(conn, &trade)?;
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
            trade_ours(&mut conn, count).expect("our trades");
            let after = session_counters(&mut conn).expect("counters");
            check_balances(&mut conn, count, "Diesel").expect("our balances");
            let counts =
                CommandCounts::between(&before, &after, &overhead, count).expect("MariaDB counts");
            assert_eq!(counts.statements, 3.0, "{counts}");
            assert!(counts.round_trips >= 4.0, "{counts}");
        }
    }
}
