//! The tutorial's two scenarios, printing exactly the tutorial's lines.

use std::io::Write;

use diesel::mysql::MysqlConnection;
use player_core::{NewPlayer, PlayerId, Refusal, Trade, TradeOutcome, players};

/// Players the tutorial bulk-creates, and its batch size.
const BULK_PLAYERS: usize = 1919;
const BULK_BATCH: usize = 114;

/// Empties `player` so the run can be repeated, then runs both scenarios.
pub fn run_all(conn: &mut MysqlConnection, out: &mut impl Write) -> anyhow::Result<()> {
    players::delete_all(conn)?;
    simple_example(conn, out)?;
    trade_example(conn, out)
}

/// Creates, reads back, bulk-creates, counts and lists players.
pub fn simple_example(conn: &mut MysqlConnection, out: &mut impl Write) -> anyhow::Result<()> {
    // A player who has one coin and one goods.
    let test: PlayerId = "test".parse()?;
    players::create(conn, &NewPlayer::new(test.clone(), 1, 1))?;
    let test = players::get(conn, &test)?.ok_or_else(|| anyhow::anyhow!("player test vanished"))?;
    writeln!(out, "{test}")?;

    // 1,919 players with random UUIDs, 114 per multi-row INSERT.
    let random = std::iter::repeat_with(|| NewPlayer::random(10_000, 10_000)).take(BULK_PLAYERS);
    players::bulk_create(conn, random, BULK_BATCH)?;

    writeln!(out, "number of players: {}", players::count(conn)?)?;

    for player in players::list(conn, None, 3)? {
        writeln!(out, "{player}")?;
    }
    Ok(())
}

/// Player 1 (100 coins) buys goods from player 2: first too dear, then affordable.
pub fn trade_example(conn: &mut MysqlConnection, out: &mut impl Write) -> anyhow::Result<()> {
    let (one, two): (PlayerId, PlayerId) = ("1".parse()?, "2".parse()?);
    players::create(conn, &NewPlayer::new(one.clone(), 100, 0))?;
    players::create(conn, &NewPlayer::new(two.clone(), 114_514, 20))?;

    // 10 goods for 500 coins: player 1 cannot afford it, nothing changes.
    let too_dear = Trade {
        seller: &two,
        buyer: &one,
        amount: 10,
        price: 500,
    };
    trade(conn, out, &too_dear)?;
    // 2 goods for 100 coins succeeds.
    let affordable = Trade {
        amount: 2,
        price: 100,
        ..too_dear
    };
    trade(conn, out, &affordable)?;

    for player in players::get_many(conn, &[one, two])? {
        writeln!(out, "{player}")?;
    }
    Ok(())
}

/// Runs one trade and prints the tutorial's line for its outcome.
fn trade(conn: &mut MysqlConnection, out: &mut impl Write, trade: &Trade) -> anyhow::Result<()> {
    match player_core::trade(conn, trade)? {
        TradeOutcome::Done => writeln!(out, "trade success")?,
        TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
            writeln!(out, "sell player {} goods not enough", trade.seller)?
        }
        TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
            writeln!(out, "buy player {} coins not enough", trade.buyer)?
        }
    }
    Ok(())
}
