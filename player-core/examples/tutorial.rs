//! TiDB's tutorial "Build a Simple CRUD App with TiDB and peewee", ported to
//! Rust and Diesel, step for step:
//!
//! ```shell
//! cargo run -p player-core --example tutorial     # DATABASE_URL, else tiup playground's
//! ```
//!
//! It prints the tutorial's lines. Two things differ, on purpose: the
//! migrations make the table (the tutorial drops and re-creates it), and the
//! trade cannot overdraw under concurrency (the tutorial's can).

use std::error::Error;
use std::io::Write;

use diesel::mysql::MysqlConnection;
use player_core::{
    NewPlayer, PlayerId, Refusal, RetryPolicy, Trade, TradeOutcome, db, migrations, players,
};

fn main() -> Result<(), Box<dyn Error>> {
    let url: db::DatabaseUrl = std::env::var("DATABASE_URL")
        .as_deref()
        .unwrap_or(db::DEFAULT_DATABASE_URL)
        .parse()?;
    let mut conn = db::connect(&url)?;
    // An empty `player` table, as the tutorial's drop_tables/create_tables leave it.
    migrations::run_pending(&mut conn)?;
    players::delete_all(&mut conn)?;
    tutorial(&mut conn, &mut std::io::stdout().lock())
}

/// The tutorial's two scenarios, printing to `out`.
pub fn tutorial(conn: &mut MysqlConnection, out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    simple_example(conn, out)?;
    trade_example(conn, out)
}

fn simple_example(conn: &mut MysqlConnection, out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    // Create a player, who has a coin and a goods.
    let test: PlayerId = "test".parse()?;
    players::create(conn, &NewPlayer::new(test.clone(), 1, 1))?;

    // Get this player, and print it: `id:test, coins:1, goods:1`.
    let player = players::get(conn, &test)?.ok_or("player test is missing")?;
    writeln!(out, "{player}")?;

    // Create 1,919 players with random UUIDs, 114 per multi-row INSERT.
    let random = (0..1_919).map(|_| NewPlayer::random(10_000, 10_000));
    players::bulk_create(conn, random, 114)?;

    // Print the number of players, then three of them (the first in id order).
    writeln!(out, "number of players: {}", players::count(conn)?)?;
    for player in players::list(conn, None, 3)? {
        writeln!(out, "{player}")?;
    }
    Ok(())
}

fn trade_example(conn: &mut MysqlConnection, out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    // Player 1 has only 100 coins; player 2 has 114,514 coins and 20 goods.
    let (one, two): (PlayerId, PlayerId) = ("1".parse()?, "2".parse()?);
    players::create(conn, &NewPlayer::new(one.clone(), 100, 0))?;
    players::create(conn, &NewPlayer::new(two.clone(), 114_514, 20))?;

    // Player 1 wants 10 goods from player 2 for 500 coins and cannot afford
    // them: the trade is refused and nobody loses anything. Then 2 goods for
    // 100 coins: done. Each runs in one transaction, retried when TiDB says so.
    let policy = RetryPolicy::default();
    let too_dear = Trade {
        seller: &two,
        buyer: &one,
        amount: 10,
        price: 500,
    };
    let affordable = Trade {
        amount: 2,
        price: 100,
        ..too_dear
    };
    for trade in [too_dear, affordable] {
        let traded = player_core::trade(conn, &trade, &policy)?;
        match traded.outcome {
            TradeOutcome::Done => writeln!(out, "trade success")?,
            TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
                writeln!(out, "sell player {} goods not enough", trade.seller)?
            }
            TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
                writeln!(out, "buy player {} coins not enough", trade.buyer)?
            }
        }
    }

    // Both players after the trades.
    for player in players::get_many(conn, &[one, two])? {
        writeln!(out, "{player}")?;
    }
    Ok(())
}
