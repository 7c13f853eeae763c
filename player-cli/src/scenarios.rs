//! The tutorial's two scenarios, printing exactly the tutorial's lines (or,
//! with `--json`, one JSON object holding the same facts).

use std::io::Write;

use std::time::Duration;

use diesel::mysql::MysqlConnection;
use player_admin::leftovers::{self, Foreign};
use player_admin::lock::{Held, NamedLock};
use player_core::db::DatabaseUrl;
use player_core::{
    NewPlayer, Player, PlayerId, Refusal, RetryPolicy, Trade, TradeOutcome, players,
};
use serde::Serialize;

use crate::commands::player::PlayerJson;
use crate::commands::trade::TradeJson;
use crate::commands::{read_step, step, write_json};
use crate::text::{self, Escaped};

/// Players the tutorial bulk-creates, and its batch size.
const BULK_PLAYERS: usize = 1919;
const BULK_BATCH: usize = 114;

/// What `scenarios --json` prints, keys in this order:
/// `{"simple_example":{"test":{..},"players":1920,"first_three":[..]},
///   "trade_example":{"trades":[..],"players":[..]}}`.
#[derive(Debug, Serialize)]
pub struct ScenariosJson<'a> {
    /// The first scenario.
    pub simple_example: SimpleJson<'a>,
    /// The second scenario.
    pub trade_example: TradeExampleJson<'a>,
}

/// What the first scenario found.
#[derive(Debug, Serialize)]
pub struct SimpleJson<'a> {
    /// Player `test`, read back after its creation.
    pub test: PlayerJson<'a>,
    /// Players counted after the bulk creation.
    pub players: i64,
    /// The first three players in id order.
    pub first_three: Vec<PlayerJson<'a>>,
}

/// What the second scenario did.
#[derive(Debug, Serialize)]
pub struct TradeExampleJson<'a> {
    /// The two trades, in order, as `trade --json` prints one.
    pub trades: Vec<TradeJson<'a>>,
    /// Players `1` and `2` afterwards.
    pub players: Vec<PlayerJson<'a>>,
}

/// The first scenario's results.
struct Simple {
    test: Player,
    count: i64,
    first_three: Vec<Player>,
}

/// The second scenario's results.
struct TradeExample<'a> {
    trades: Vec<(Trade<'a>, TradeOutcome)>,
    players: Vec<Player>,
}

/// How long a run waits for another run of the scenarios on the same
/// database to end.
const RUN_LOCK_WAIT: Duration = Duration::from_secs(50);

/// The scenarios refused to empty a table holding someone's rows.
#[derive(Debug, thiserror::Error)]
#[error(
    "the player table of {url} holds rows the scenarios did not write ({foreign}), so nothing was changed: pass --reset to empty it anyway, or give the scenarios a database of their own in DATABASE_URL"
)]
pub struct ForeignRows {
    /// The database's URL, its password masked.
    url: String,
    /// What the table holds.
    foreign: Foreign,
}

/// Another run of the scenarios held the database all along.
#[derive(Debug, thiserror::Error)]
#[error(
    "another run of the scenarios is using {url} (it holds the lock {lock}); gave up after {} s",
    RUN_LOCK_WAIT.as_secs()
)]
pub struct Busy {
    url: String,
    lock: String,
}

/// Connects, takes the database's scenario lock (one run at a time), makes
/// sure `player` holds only rows a run writes (unless `reset`), applies the
/// pending migrations, deletes those rows so the run can be repeated (a row
/// written since by another client stays; `reset` empties the table), then runs
/// both scenarios and prints the tutorial's lines, or one JSON object with
/// `json`. Each of those steps is given `stall` (see [`step`]).
pub fn run(
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
    json: bool,
    reset: bool,
) -> anyhow::Result<()> {
    let mut conn = player_guard::connect_guarded(url)?;
    let key = url.database().unwrap_or_default();
    let lock = read_step(&mut conn, stall, |c| {
        NamedLock::acquire(c, "scenarios", key, RUN_LOCK_WAIT)
    })?
    .map_err(|Held(lock)| Busy {
        url: url.to_string(),
        lock,
    })?;
    // The rows a run left, to delete after the migrations; `None` empties the table.
    let left = if reset {
        None
    } else {
        let rows = read_step(&mut conn, stall, leftovers::scenario_rows)?;
        Some(rows.map_err(|foreign| ForeignRows {
            url: url.to_string(),
            foreign,
        })?)
    };
    let migrated = step(&mut conn, stall, player_admin::migrate::migrate)?;
    crate::commands::migrate::say_adopted(migrated.adopted.as_deref());
    if !migrated.applied.is_empty() {
        tracing::info!(applied = ?migrated.applied, "applied migrations");
    }
    match &left {
        None => step(&mut conn, stall, players::delete_all)?,
        Some(ids) => step(&mut conn, stall, |c| {
            leftovers::delete_scenario_rows(c, ids)
        })?,
    };
    let simple = step(&mut conn, stall, simple_example)?;
    let (one, two): (PlayerId, PlayerId) = ("1".parse()?, "2".parse()?);
    let traded = step(&mut conn, stall, |c| trade_example(c, &one, &two))?;
    // Closing the connection would release it too.
    read_step(&mut conn, stall, |c| lock.release(c))?;
    if json {
        return write_json(
            out,
            &ScenariosJson {
                simple_example: SimpleJson {
                    test: PlayerJson::from(&simple.test),
                    players: simple.count,
                    first_three: simple.first_three.iter().map(PlayerJson::from).collect(),
                },
                trade_example: TradeExampleJson {
                    trades: traded
                        .trades
                        .iter()
                        .map(|(t, outcome)| TradeJson::new(t, *outcome))
                        .collect(),
                    players: traded.players.iter().map(PlayerJson::from).collect(),
                },
            },
        );
    }
    writeln!(out, "{}", text::player_line(&simple.test))?;
    writeln!(out, "number of players: {}", simple.count)?;
    for player in &simple.first_three {
        writeln!(out, "{}", text::player_line(player))?;
    }
    for (trade, outcome) in &traded.trades {
        writeln!(out, "{}", outcome_line(trade, *outcome))?;
    }
    for player in &traded.players {
        writeln!(out, "{}", text::player_line(player))?;
    }
    Ok(())
}

/// Creates, reads back, bulk-creates, counts and lists players.
fn simple_example(conn: &mut MysqlConnection) -> anyhow::Result<Simple> {
    // A player who has one coin and one goods.
    let test: PlayerId = "test".parse()?;
    players::create(conn, &NewPlayer::new(test.clone(), 1, 1))?;
    let test = players::get(conn, &test)?.ok_or_else(|| anyhow::anyhow!("player test vanished"))?;

    // 1,919 players with random UUIDs, 114 per multi-row INSERT.
    let random = std::iter::repeat_with(|| NewPlayer::random(10_000, 10_000)).take(BULK_PLAYERS);
    players::bulk_create(conn, random, BULK_BATCH)?;

    Ok(Simple {
        test,
        count: players::count(conn)?,
        first_three: players::list(conn, None, 3)?,
    })
}

/// Player 1 (100 coins) buys goods from player 2: first too dear, then affordable.
fn trade_example<'a>(
    conn: &mut MysqlConnection,
    one: &'a PlayerId,
    two: &'a PlayerId,
) -> anyhow::Result<TradeExample<'a>> {
    players::create(conn, &NewPlayer::new(one.clone(), 100, 0))?;
    players::create(conn, &NewPlayer::new(two.clone(), 114_514, 20))?;

    // 10 goods for 500 coins: player 1 cannot afford it, nothing changes.
    let too_dear = Trade {
        seller: two,
        buyer: one,
        amount: 10,
        price: 500,
    };
    // 2 goods for 100 coins succeeds.
    let affordable = Trade {
        amount: 2,
        price: 100,
        ..too_dear
    };
    let mut trades = Vec::new();
    for trade in [too_dear, affordable] {
        let outcome = player_core::trade(conn, &trade, &RetryPolicy::default())?.outcome;
        trades.push((trade, outcome));
    }
    Ok(TradeExample {
        trades,
        players: players::get_many(conn, &[one.clone(), two.clone()])?,
    })
}

/// The tutorial's line for a trade's outcome, the id escaped ([`text::escape`]).
pub fn outcome_line(trade: &Trade<'_>, outcome: TradeOutcome) -> String {
    match outcome {
        TradeOutcome::Done => "trade success".to_owned(),
        TradeOutcome::Refused(Refusal::SellerLacksGoods) => {
            format!(
                "sell player {} goods not enough",
                Escaped(trade.seller.as_str())
            )
        }
        TradeOutcome::Refused(Refusal::BuyerLacksCoins) => {
            format!(
                "buy player {} coins not enough",
                Escaped(trade.buyer.as_str())
            )
        }
    }
}
