//! A trade: the seller gives `amount` goods to the buyer for `price` coins.
//!
//! It runs in one transaction (Diesel's `conn.transaction`). Its usual case is
//! one statement, an `UPDATE` of both rows joined (`trade/one_statement.rs`),
//! that moves coins and goods only if both players exist and both balances
//! allow it: relative updates on rows the statement locks itself, in id order,
//! so there is no window for a lost update and opposite trades queue rather
//! than deadlock. When it changes nothing, the trade locks both rows with
//! `SELECT ... FOR UPDATE` (in id order, in one statement) and decides on them:
//! a refusal, an unknown player, an overflow, or (if another transaction
//! changed the balances in between) the same `UPDATE` again.
//!
//! So a trade that is done sends three statements (BEGIN, UPDATE, COMMIT) where
//! the tutorial sends six. On the wire Diesel makes them 7 round trips, because
//! it wraps BEGIN and COMMIT in two mode switches each; `docs/bank.md` has the
//! measurement.
//!
//! When the server rolls the transaction back with an error it documents as
//! retryable (see [`crate::retry`]), the whole transaction runs again after a
//! jittered, capped exponential pause, up to [`RetryPolicy::max_retries`] times.
//! A lost connection is never retried on the same connection: before `COMMIT`
//! was sent it is [`TradeError::ConnectionLost`] (nothing applied, the caller
//! may run the trade again on a new connection); during `COMMIT` it is
//! [`TradeError::OutcomeUnknown`], because running it again could apply it twice.

mod one_statement;

use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

use crate::models::{Player, PlayerId};
use crate::retry::{ErrorClass, RetryPolicy, Retryable, classify};
use crate::schema::player;
use crate::statement_cache;
use one_statement::TradeUpdate;

/// A trade to make: the seller gives `amount` goods to the buyer for `price`
/// coins. Built with named fields, so that seller and buyer, or amount and
/// price, cannot be swapped by position:
///
/// ```
/// use player_core::{PlayerId, Trade};
///
/// let (seller, buyer): (PlayerId, PlayerId) = ("2".parse()?, "1".parse()?);
/// let trade = Trade { seller: &seller, buyer: &buyer, amount: 2, price: 100 };
/// # let _ = trade;
/// # Ok::<(), player_core::models::InvalidId>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade<'a> {
    /// Id of the player who gives goods and receives coins.
    pub seller: &'a PlayerId,
    /// Id of the player who gives coins and receives goods; never the seller
    /// (as the column's collation compares ids: `a` and `a ` are one player).
    pub buyer: &'a PlayerId,
    /// Goods that move from the seller to the buyer (at least 1).
    pub amount: i32,
    /// Coins that move from the buyer to the seller (at least 1).
    pub price: i32,
}

/// How a trade that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeOutcome {
    /// Coins and goods moved.
    Done,
    /// The balances did not allow it; nothing changed.
    Refused(Refusal),
}

/// Why a trade was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The seller holds fewer goods than the amount.
    SellerLacksGoods,
    /// The buyer holds fewer coins than the price.
    BuyerLacksCoins,
}

/// Errors of [`trade`]; none of them leaves a change behind.
#[derive(Debug, thiserror::Error)]
pub enum TradeError {
    /// Amount or price not positive, or seller and buyer one player.
    #[error("invalid trade: {0}")]
    InvalidTrade(&'static str),
    /// No player has this id.
    #[error("unknown player {0:?}")]
    UnknownPlayer(PlayerId),
    /// The seller's coins or the buyer's goods would pass the INT maximum.
    #[error("trade would overflow the {0} of player {1:?}")]
    Overflow(&'static str, PlayerId),
    /// The database failed the transaction with an error that is not retried.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The server kept answering with retryable errors; the last one is the source.
    #[error("trade still failing after {retries} retries: {source}")]
    RetriesExhausted {
        /// Retries made (the policy's maximum).
        retries: u32,
        /// The last error.
        #[source]
        source: diesel::result::Error,
    },
    /// Another retry would not end within the policy's time limit (a lock
    /// held elsewhere for longer than the server's lock wait, say); nothing
    /// was applied.
    #[error(
        "trade given up after {} s and {retries} retries, within its time limit: {source}",
        .elapsed.as_secs()
    )]
    TimeLimit {
        /// Time spent on the trade.
        elapsed: std::time::Duration,
        /// Retries made.
        retries: u32,
        /// The last error.
        #[source]
        source: diesel::result::Error,
    },
    /// The connection was lost before `COMMIT` was sent: the server rolls the
    /// transaction back, nothing was applied, and the trade may be run again
    /// on another connection.
    #[error("connection lost before the trade committed, nothing was applied: {0}")]
    ConnectionLost(#[source] diesel::result::Error),
    /// The connection was lost while `COMMIT` was on its way: the trade may or
    /// may not have been applied, so it must not be run again blindly.
    #[error("connection lost while committing, the trade may or may not have been applied: {0}")]
    OutcomeUnknown(#[source] diesel::result::Error),
}

/// A trade that ran to its end, and how many retries it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traded {
    /// Done or refused.
    pub outcome: TradeOutcome,
    /// Times the whole transaction was run again after a retryable error.
    pub retries: u32,
}

/// How one run of the transaction failed.
enum AttemptError {
    /// A typed error decided on the locked rows (unknown player, overflow).
    Trade(TradeError),
    /// A database error, and whether a `COMMIT` of written changes had been sent.
    Database {
        error: diesel::result::Error,
        commit_sent: bool,
    },
}

/// Makes the trade in one transaction if the seller has the goods and the
/// buyer the coins.
///
/// Retries with the default [`RetryPolicy`]; use [`trade_with_retry`] to choose
/// the policy and learn how many retries were needed.
pub fn trade(conn: &mut MysqlConnection, trade: &Trade) -> Result<TradeOutcome, TradeError> {
    trade_with_retry(conn, trade, &RetryPolicy::default()).map(|traded| traded.outcome)
}

/// [`trade`] with an explicit retry policy; the result says how many retries
/// the trade took. Refusals and typed errors are never retried.
///
/// Call it outside any transaction of yours: inside one, Diesel would make it a
/// savepoint, while a deadlock or write conflict rolls back the whole outer
/// transaction on the server, so running the trade again alone would be wrong.
pub fn trade_with_retry(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    with_retry(conn, trade, policy, |conn| attempt(conn, trade, true))
}

/// [`trade`]'s one-round-trip form: the joined `UPDATE` sent alone, in
/// autocommit, where the server applies it atomically on its own; only when it
/// changes nothing does the trade open `conn.transaction` and decide on locked
/// rows as [`trade`] does (a refusal, an unknown player, an overflow, or the
/// `UPDATE` again).
///
/// Same outcomes, errors and retries as [`trade`], with one difference: a
/// connection lost while the lone `UPDATE` is in flight is
/// [`TradeError::OutcomeUnknown`], since the server may have committed it.
/// Call it outside any transaction of yours (inside one, the `UPDATE` would
/// not commit on its own). On TiDB an autocommit statement runs optimistically
/// unless `pessimistic-auto-commit` is set: a conflict is retried by TiDB
/// itself (`tidb_retry_limit`) and otherwise reaches us as 9007, which is
/// retried here. `docs/bank.md` says when to use which form.
pub fn trade_in_one_statement(
    conn: &mut MysqlConnection,
    trade: &Trade,
) -> Result<TradeOutcome, TradeError> {
    trade_in_one_statement_with_retry(conn, trade, &RetryPolicy::default())
        .map(|traded| traded.outcome)
}

/// [`trade_in_one_statement`] with an explicit retry policy; the result says
/// how many retries the trade took.
pub fn trade_in_one_statement_with_retry(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    with_retry(conn, trade, policy, |conn| {
        // Autocommit: the server commits the statement as it answers, so a
        // lost answer leaves the outcome unknown.
        match TradeUpdate(trade).execute(conn) {
            Ok(0) => attempt(conn, trade, false),
            Ok(rows) => moved(rows).map_err(AttemptError::Trade),
            Err(error) => Err(AttemptError::Database {
                error,
                commit_sent: true,
            }),
        }
    })
}

/// Validates `trade`, then runs `attempt` until it ends in an outcome or an
/// error that is not retried, pausing between runs as `policy` says.
fn with_retry(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
    mut attempt: impl FnMut(&mut MysqlConnection) -> Result<TradeOutcome, AttemptError>,
) -> Result<Traded, TradeError> {
    validate(trade)?;
    let started = Instant::now();
    let mut retries = 0;
    loop {
        let attempt_started = Instant::now();
        let (error, commit_sent) = match attempt(conn) {
            Ok(outcome) => return Ok(Traded { outcome, retries }),
            Err(AttemptError::Trade(e)) => return Err(e),
            Err(AttemptError::Database { error, commit_sent }) => {
                // Before a retry or a return, so that neither the retry nor the
                // connection's next user meets a poisoned cached statement.
                statement_cache::forget_after(conn, &error);
                (error, commit_sent)
            }
        };
        // cargo-mutants leaves `retries * 1` here alive: the pause is drawn
        // at random below a ceiling, and that mutant only lowers the ceiling
        // of retry n to retry n-1's, which no test can tell from chance.
        let pause = policy.backoff(retries + 1);
        let budget = Budget {
            retries,
            max_retries: policy.max_retries,
            spent: started.elapsed(),
            next_fits: policy.retry_fits(started.elapsed(), attempt_started.elapsed(), pause),
        };
        let reason = decide(error, commit_sent, &budget)?;
        retries += 1;
        tracing::debug!(?reason, retries, ?pause, "retrying trade");
        std::thread::sleep(pause);
    }
}

/// Where a trade stands against its retry policy.
struct Budget {
    /// Retries made so far.
    retries: u32,
    /// The policy's maximum.
    max_retries: u32,
    /// Time spent so far.
    spent: Duration,
    /// Whether another attempt would end within the time limit.
    next_fits: bool,
}

/// What to do after a database error: `Ok` to run the transaction again, or
/// the error to report.
fn decide(
    error: diesel::result::Error,
    commit_sent: bool,
    budget: &Budget,
) -> Result<Retryable, TradeError> {
    let retries = budget.retries;
    match classify(&error) {
        // The server answered, so even at COMMIT the transaction did not commit.
        ErrorClass::Retryable(_) if retries >= budget.max_retries => {
            Err(TradeError::RetriesExhausted {
                retries,
                source: error,
            })
        }
        ErrorClass::Retryable(_) if !budget.next_fits => Err(TradeError::TimeLimit {
            elapsed: budget.spent,
            retries,
            source: error,
        }),
        ErrorClass::Retryable(reason) => Ok(reason),
        ErrorClass::ConnectionLost if commit_sent => Err(TradeError::OutcomeUnknown(error)),
        ErrorClass::ConnectionLost => Err(TradeError::ConnectionLost(error)),
        ErrorClass::Other => Err(TradeError::Database(error)),
    }
}

/// Runs the transaction once. With `update_first`, its usual case is the
/// joined `UPDATE` alone; without, the caller has just seen that `UPDATE`
/// change nothing, so the transaction starts by locking and checking the rows.
fn attempt(
    conn: &mut MysqlConnection,
    trade: &Trade,
    update_first: bool,
) -> Result<TradeOutcome, AttemptError> {
    let update = TradeUpdate(trade);
    // Set when the body has written and returns `Ok`, so that Diesel goes on
    // to send `COMMIT`: from then on a lost connection leaves the outcome unknown.
    let mut commit_sent = false;
    let result = conn.transaction(|conn| {
        // The usual case: one statement moves coins and goods.
        if update_first && move_balances(conn, &update)? {
            commit_sent = true;
            return Ok(TradeOutcome::Done);
        }
        // Nothing changed. Find out why on locked rows; on TiDB the balances
        // may have changed since the `UPDATE` read them, and then allow the trade.
        if let Some(refusal) = check_locked_rows(conn, trade)? {
            return Ok(TradeOutcome::Refused(refusal));
        }
        if !move_balances(conn, &update)? {
            // Both rows are locked and were just checked.
            return Err(unexpected_rows());
        }
        commit_sent = true;
        Ok(TradeOutcome::Done)
    });
    result.map_err(|e| match e {
        TradeError::Database(error) => AttemptError::Database { error, commit_sent },
        other => AttemptError::Trade(other),
    })
}

/// Runs the one-statement `UPDATE`: `true` if it moved coins and goods, `false`
/// if it changed nothing.
fn move_balances(conn: &mut MysqlConnection, update: &TradeUpdate) -> Result<bool, TradeError> {
    match update.execute(conn)? {
        0 => Ok(false),
        rows => moved(rows).map(|_| true),
    }
}

/// The outcome of an `UPDATE` that matched `rows` rows: a join on two distinct
/// primary keys matches two rows or none.
fn moved(rows: usize) -> Result<TradeOutcome, TradeError> {
    if rows == 2 {
        Ok(TradeOutcome::Done)
    } else {
        Err(unexpected_rows())
    }
}

/// The error, rolling the transaction back, for an `UPDATE` that matched rows
/// it cannot match.
fn unexpected_rows() -> TradeError {
    tracing::error!("the trade's UPDATE matched an unexpected number of rows");
    TradeError::Database(diesel::result::Error::RollbackTransaction)
}

/// Locks both rows and checks them: the refusal if a balance does not allow the
/// trade, an error if a player is missing or a balance would overflow, `None`
/// if the trade can be made.
fn check_locked_rows(
    conn: &mut MysqlConnection,
    trade: &Trade,
) -> Result<Option<Refusal>, TradeError> {
    let Trade {
        seller,
        buyer,
        amount,
        price,
    } = *trade;
    // One statement locks both rows, always in id order, so two opposite
    // trades cannot each hold one lock and wait for the other.
    // `id = ? OR id = ?` rather than `IN (?, ?)`: Diesel caches the
    // prepared statement of the former, and prepares `IN` anew each time.
    let locked: Vec<Player> = player::table
        .filter(player::id.eq(seller).or(player::id.eq(buyer)))
        .order(player::id)
        .select(Player::as_select())
        .for_update()
        .load(conn)?;
    let find = |id: &PlayerId| {
        locked
            .iter()
            .find(|p| p.id == *id)
            .ok_or_else(|| TradeError::UnknownPlayer(id.clone()))
    };
    let (seller_row, buyer_row) = (find(seller)?, find(buyer)?);

    if seller_row.goods < amount {
        return Ok(Some(Refusal::SellerLacksGoods));
    }
    if buyer_row.coins < price {
        return Ok(Some(Refusal::BuyerLacksCoins));
    }
    if seller_row.coins.checked_add(price).is_none() {
        return Err(TradeError::Overflow("coins", seller.clone()));
    }
    if buyer_row.goods.checked_add(amount).is_none() {
        return Err(TradeError::Overflow("goods", buyer.clone()));
    }
    Ok(None)
}

/// Rejects what no database state could make valid, before a round trip.
fn validate(trade: &Trade) -> Result<(), TradeError> {
    let Trade {
        seller,
        buyer,
        amount,
        price,
    } = *trade;
    if amount <= 0 {
        return Err(TradeError::InvalidTrade("amount must be positive"));
    }
    if price <= 0 {
        return Err(TradeError::InvalidTrade("price must be positive"));
    }
    // As the column compares: "a" and "a " name one row.
    if seller == buyer {
        return Err(TradeError::InvalidTrade(
            "seller and buyer must be different players",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    fn server(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    const CONFLICT: &str = "Write conflict, txnStartTS=1, conflictStartTS=2 [try again later]";

    /// `retries` made of `max_retries`, with time to spare.
    fn budget(retries: u32, max_retries: u32) -> Budget {
        Budget {
            retries,
            max_retries,
            spent: Duration::ZERO,
            next_fits: true,
        }
    }
    const LOST: &str = "Lost connection to MySQL server during query";

    #[test]
    fn retryable_errors_are_retried_even_at_commit_until_the_limit() {
        assert_eq!(
            decide(server(CONFLICT), true, &budget(0, 3)).expect("retried"),
            Retryable::WriteConflict
        );
        assert!(matches!(
            decide(server(CONFLICT), false, &budget(3, 3)),
            Err(TradeError::RetriesExhausted { retries: 3, .. })
        ));
    }

    #[test]
    fn a_retry_that_would_pass_the_time_limit_is_not_made() {
        let late = Budget {
            spent: Duration::from_secs(50),
            next_fits: false,
            ..budget(1, 10)
        };
        assert!(matches!(
            decide(server("Lock wait timeout exceeded; try restarting transaction"), false, &late),
            Err(TradeError::TimeLimit { retries: 1, elapsed, .. }) if elapsed == Duration::from_secs(50)
        ));
        // Errors that are not retried keep their own kind.
        assert!(matches!(
            decide(server(LOST), true, &late),
            Err(TradeError::OutcomeUnknown(_))
        ));
    }

    #[test]
    fn a_connection_lost_in_commit_is_an_unknown_outcome_never_retried() {
        assert!(matches!(
            decide(server(LOST), true, &budget(0, 10)),
            Err(TradeError::OutcomeUnknown(_))
        ));
        let both = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(server("MySQL server has gone away")),
            commit_error: Box::new(server(LOST)),
        };
        assert!(matches!(
            decide(both, true, &budget(0, 10)),
            Err(TradeError::OutcomeUnknown(_))
        ));
    }

    #[test]
    fn a_connection_lost_before_commit_applied_nothing() {
        assert!(matches!(
            decide(server(LOST), false, &budget(0, 10)),
            Err(TradeError::ConnectionLost(_))
        ));
        assert!(matches!(
            decide(DieselError::BrokenTransactionManager, false, &budget(2, 10)),
            Err(TradeError::ConnectionLost(_))
        ));
    }

    #[test]
    fn other_errors_are_reported_as_they_are() {
        assert!(matches!(
            decide(
                server("Table 'x.player' doesn't exist"),
                false,
                &budget(0, 10)
            ),
            Err(TradeError::Database(_))
        ));
    }

    fn validate(seller: &str, buyer: &str, amount: i32, price: i32) -> Result<(), TradeError> {
        let (seller, buyer) = (
            PlayerId::new(seller).expect("id"),
            PlayerId::new(buyer).expect("id"),
        );
        super::validate(&Trade {
            seller: &seller,
            buyer: &buyer,
            amount,
            price,
        })
    }

    #[test]
    fn validation_rejects_what_no_state_allows() {
        let invalid = |r| matches!(r, Err(TradeError::InvalidTrade(_)));
        assert!(invalid(validate("a", "b", 0, 1)));
        assert!(invalid(validate("a", "b", -1, 1)));
        assert!(invalid(validate("a", "b", 1, 0)));
        assert!(invalid(validate("a", "a", 1, 1)));
        assert!(invalid(validate("a", "a  ", 1, 1)), "collation twins");
        assert!(validate("a", "A", 1, 1).is_ok());
        assert!(validate("a", " a", 1, 1).is_ok());
        assert!(validate("a", "b", 1, 1).is_ok());
    }
}
