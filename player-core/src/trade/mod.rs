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
//! The transaction is [`transaction::run`]'s, so it follows its rules: it runs
//! again when the server rolls it back with an error TiDB documents as
//! retryable, within the [`RetryPolicy`], and a lost connection is never
//! retried on the same connection: before `COMMIT` was sent nothing was
//! applied ([`TransactionError::ConnectionLost`]); during `COMMIT` the outcome
//! is unknown ([`TransactionError::OutcomeUnknown`]), because running it again
//! could apply it twice.

mod one_statement;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

use crate::models::{Player, PlayerId};
use crate::retry::RetryPolicy;
use crate::schema::player;
use crate::transaction::{self, Failure, Retried, TransactionError};
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

/// What makes a [`Trade`] invalid whatever the database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTrade {
    /// The amount of goods is zero or negative.
    #[error("amount must be positive")]
    AmountNotPositive,
    /// The price is zero or negative.
    #[error("price must be positive")]
    PriceNotPositive,
    /// Seller and buyer are one player (as the column's collation compares
    /// ids: `a` and `a ` are one player).
    #[error("seller and buyer must be different players")]
    SamePlayer,
}

/// A player's balance, as named in [`TradeError::Overflow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// The `coins` column.
    Coins,
    /// The `goods` column.
    Goods,
}

impl std::fmt::Display for Balance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Coins => "coins",
            Self::Goods => "goods",
        })
    }
}

/// Errors of [`trade`] and [`trade_in_one_statement`]. Only
/// [`TransactionError::OutcomeUnknown`] and an
/// [`UnexpectedRowCount`](Self::UnexpectedRowCount) with `applied` may have
/// left a change behind; [`TradeError::may_be_applied`] says which.
#[derive(Debug, thiserror::Error)]
pub enum TradeError {
    /// Refused before any statement was sent.
    #[error("invalid trade: {0}")]
    Invalid(#[from] InvalidTrade),
    /// No player has this id; nothing changed.
    #[error("unknown player {0:?}")]
    UnknownPlayer(PlayerId),
    /// The seller's coins or the buyer's goods would pass the INT maximum;
    /// nothing changed.
    #[error("trade would overflow the {balance} of player {player:?}")]
    Overflow {
        /// The balance that would overflow.
        balance: Balance,
        /// Its player.
        player: PlayerId,
    },
    /// The joined `UPDATE` matched a number of rows it cannot match (two
    /// distinct primary keys match two rows or none). In a transaction it was
    /// rolled back; sent alone in autocommit it was already applied.
    #[error(
        "the trade's UPDATE matched {rows} rows instead of 2 or 0 ({})",
        if *.applied { "already applied" } else { "rolled back" }
    )]
    UnexpectedRowCount {
        /// Rows the server reported.
        rows: usize,
        /// Whether the change stands (autocommit) or was rolled back.
        applied: bool,
    },
    /// The transaction failed, was given up, or lost its connection.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
}

impl TradeError {
    /// Whether the trade may have been applied despite the error: `false`
    /// means the caller may safely make it again.
    pub fn may_be_applied(&self) -> bool {
        matches!(
            self,
            Self::Transaction(TransactionError::OutcomeUnknown(_))
                | Self::UnexpectedRowCount { applied: true, .. }
        )
    }
}

/// A trade that ran to its end, and how many retries it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traded {
    /// Done or refused.
    pub outcome: TradeOutcome,
    /// Times the whole transaction was run again after a retryable error.
    pub retries: u32,
}

/// What one run of the trade's transaction decided.
pub(crate) enum Decision {
    /// Made or refused.
    Outcome(TradeOutcome),
    /// A typed error decided on the locked rows, written nothing.
    Error(TradeError),
}

/// Makes the trade in one transaction if the seller has the goods and the
/// buyer the coins, retrying as `policy` says; the result says how many
/// retries it took. Refusals and typed errors are never retried.
///
/// Call it outside any transaction of yours (see [`transaction::run`]).
pub fn trade(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    validate(trade)?;
    let mut run = Run::default();
    let done = transaction::run(conn, policy, |conn| {
        run = Run::default();
        decide_in_transaction(conn, trade, true, &mut run)
    });
    finish(done, &run)
}

/// [`trade`]'s one-round-trip form: the joined `UPDATE` sent alone, in
/// autocommit, where the server applies it atomically on its own; only when it
/// changes nothing does the trade open a transaction and decide on locked
/// rows as [`trade`] does (a refusal, an unknown player, an overflow, or the
/// `UPDATE` again).
///
/// Same outcomes, errors and retries as [`trade`], with one difference: a
/// connection lost while the lone `UPDATE` is in flight is
/// [`TransactionError::OutcomeUnknown`], since the server may have committed
/// it. Call it outside any transaction of yours (inside one, the `UPDATE`
/// would not commit on its own). On TiDB an autocommit statement runs
/// optimistically unless `pessimistic-auto-commit` is set: a conflict is
/// retried by TiDB itself (`tidb_retry_limit`) and otherwise reaches us as
/// 9007, which is retried here. `docs/bank.md` says when to use which form.
pub fn trade_in_one_statement(
    conn: &mut MysqlConnection,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<Traded, TradeError> {
    validate(trade)?;
    let mut run = Run::default();
    let done = transaction::retrying(conn, policy, |conn| {
        // Autocommit: the server commits the statement as it answers, so a
        // lost answer leaves the outcome unknown.
        run = Run {
            wrote: true,
            ..Run::default()
        };
        match TradeUpdate(trade).execute(conn) {
            Ok(2) => Ok(Decision::Outcome(TradeOutcome::Done)),
            Ok(0) => {
                run.wrote = false;
                let mut commit_sent = false;
                conn.transaction(|conn| {
                    let decision = decide_in_transaction(conn, trade, false, &mut run)?;
                    commit_sent = true;
                    Ok(decision)
                })
                .map_err(|error| Failure { error, commit_sent })
            }
            Ok(rows) => Ok(Decision::Error(TradeError::UnexpectedRowCount {
                rows,
                applied: true,
            })),
            Err(error) => Err(Failure {
                error,
                commit_sent: true,
            }),
        }
    });
    finish(done, &run)
}

/// What the last run of a trade's transaction did, beside what it returned.
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// The row count of an `UPDATE` that made the transaction roll back.
    pub(crate) unexpected: Option<usize>,
    /// Whether a statement that moves coins and goods was sent and matched,
    /// or may have: only then can a lost connection have applied anything.
    pub(crate) wrote: bool,
}

/// The trade's result from its transaction's and its last run's.
fn finish(
    done: Result<Retried<Decision>, TransactionError>,
    run: &Run,
) -> Result<Traded, TradeError> {
    let done = match (done, run) {
        (
            Err(TransactionError::Failed(diesel::result::Error::RollbackTransaction)),
            Run {
                unexpected: Some(rows),
                ..
            },
        ) => {
            return Err(TradeError::UnexpectedRowCount {
                rows: *rows,
                applied: false,
            });
        }
        // A refusal or a typed error wrote nothing: losing its `COMMIT`
        // applied nothing either.
        (Err(TransactionError::OutcomeUnknown(e)), Run { wrote: false, .. }) => {
            return Err(TransactionError::ConnectionLost(e).into());
        }
        (done, _) => done?,
    };
    match done.value {
        Decision::Outcome(outcome) => Ok(Traded {
            outcome,
            retries: done.retries,
        }),
        Decision::Error(e) => Err(e),
    }
}

/// Runs the trade's transaction body once. With `update_first`, its usual
/// case is the joined `UPDATE` alone; without, the caller has just seen that
/// `UPDATE` change nothing, so the body starts by locking and checking the rows.
/// An `UPDATE` that matches an impossible number of rows rolls back, its row
/// count in `run`.
pub(crate) fn decide_in_transaction(
    conn: &mut MysqlConnection,
    trade: &Trade,
    update_first: bool,
    run: &mut Run,
) -> QueryResult<Decision> {
    let update = TradeUpdate(trade);
    // The usual case: one statement moves coins and goods.
    if update_first {
        match update.execute(conn)? {
            2 => {
                run.wrote = true;
                return Ok(Decision::Outcome(TradeOutcome::Done));
            }
            0 => {}
            rows => return rolled_back(rows, run),
        }
    }
    // Nothing changed. Find out why on locked rows; on TiDB the balances may
    // have changed since the `UPDATE` read them, and then allow the trade.
    if let Some(decision) = check_locked_rows(conn, trade)? {
        return Ok(decision);
    }
    match update.execute(conn)? {
        2 => {
            run.wrote = true;
            Ok(Decision::Outcome(TradeOutcome::Done))
        }
        // 0 too: both rows are locked and were just checked.
        rows => rolled_back(rows, run),
    }
}

/// Rolls the transaction back for an `UPDATE` that matched `rows` rows,
/// which it cannot match; [`finish`] reports it.
fn rolled_back(rows: usize, run: &mut Run) -> QueryResult<Decision> {
    tracing::error!(
        rows,
        "the trade's UPDATE matched an unexpected number of rows"
    );
    run.unexpected = Some(rows);
    Err(diesel::result::Error::RollbackTransaction)
}
/// Locks both rows and checks them: the refusal if a balance does not allow the
/// trade, an error if a player is missing or a balance would overflow, `None`
/// if the trade can be made.
fn check_locked_rows(conn: &mut MysqlConnection, trade: &Trade) -> QueryResult<Option<Decision>> {
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
    let find = |id: &PlayerId| locked.iter().find(|p| p.id == *id);
    let (Some(seller_row), Some(buyer_row)) = (find(seller), find(buyer)) else {
        let missing = if find(seller).is_none() {
            seller
        } else {
            buyer
        };
        return Ok(Some(Decision::Error(TradeError::UnknownPlayer(
            missing.clone(),
        ))));
    };
    let refused = |refusal| Ok(Some(Decision::Outcome(TradeOutcome::Refused(refusal))));
    let overflow = |balance, player: &PlayerId| {
        Ok(Some(Decision::Error(TradeError::Overflow {
            balance,
            player: player.clone(),
        })))
    };
    if seller_row.goods < amount {
        return refused(Refusal::SellerLacksGoods);
    }
    if buyer_row.coins < price {
        return refused(Refusal::BuyerLacksCoins);
    }
    if seller_row.coins.checked_add(price).is_none() {
        return overflow(Balance::Coins, seller);
    }
    if buyer_row.goods.checked_add(amount).is_none() {
        return overflow(Balance::Goods, buyer);
    }
    Ok(None)
}

/// Rejects what no database state could make valid, before a round trip.
pub(crate) fn validate(trade: &Trade) -> Result<(), InvalidTrade> {
    if trade.amount <= 0 {
        return Err(InvalidTrade::AmountNotPositive);
    }
    if trade.price <= 0 {
        return Err(InvalidTrade::PriceNotPositive);
    }
    // As the column compares: "a" and "a " name one row.
    if trade.seller == trade.buyer {
        return Err(InvalidTrade::SamePlayer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(seller: &str, buyer: &str, amount: i32, price: i32) -> Result<(), InvalidTrade> {
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
        use InvalidTrade::*;
        assert_eq!(validate("a", "b", 0, 1), Err(AmountNotPositive));
        assert_eq!(validate("a", "b", -1, 1), Err(AmountNotPositive));
        assert_eq!(validate("a", "b", 1, 0), Err(PriceNotPositive));
        assert_eq!(validate("a", "b", 1, -1), Err(PriceNotPositive));
        assert_eq!(validate("a", "a", 1, 1), Err(SamePlayer));
        assert_eq!(
            validate("a", "a  ", 1, 1),
            Err(SamePlayer),
            "collation twins"
        );
        assert_eq!(validate("a", "A", 1, 1), Ok(()));
        assert_eq!(validate("a", " a", 1, 1), Ok(()));
        assert_eq!(validate("a", "b", 1, 1), Ok(()));
    }

    /// An `UPDATE` that matched an impossible row count rolled its
    /// transaction back, and is named as such rather than as Diesel's rollback.
    #[test]
    fn an_impossible_row_count_is_named_and_said_rolled_back() {
        let rolled_back = Err(TransactionError::Failed(
            diesel::result::Error::RollbackTransaction,
        ));
        let unexpected = Run {
            unexpected: Some(3),
            wrote: false,
        };
        assert!(matches!(
            finish(rolled_back, &unexpected),
            Err(TradeError::UnexpectedRowCount {
                rows: 3,
                applied: false
            })
        ));
        let done = Ok(Retried {
            value: Decision::Outcome(TradeOutcome::Done),
            retries: 2,
        });
        assert_eq!(
            finish(done, &Run::default()).expect("done"),
            Traded {
                outcome: TradeOutcome::Done,
                retries: 2
            }
        );
        let text = TradeError::UnexpectedRowCount {
            rows: 1,
            applied: true,
        }
        .to_string();
        assert!(
            text.contains("matched 1 rows") && text.contains("already applied"),
            "{text}"
        );
    }

    /// A lost `COMMIT` after a refusal (nothing written) applied nothing;
    /// after a write it may have applied the trade.
    #[test]
    fn a_lost_commit_is_unknown_only_after_a_write() {
        let lost = || {
            Err(TransactionError::OutcomeUnknown(
                diesel::result::Error::BrokenTransactionManager,
            ))
        };
        assert!(matches!(
            finish(lost(), &Run::default()),
            Err(TradeError::Transaction(TransactionError::ConnectionLost(_)))
        ));
        let wrote = Run {
            wrote: true,
            ..Run::default()
        };
        assert!(matches!(
            finish(lost(), &wrote),
            Err(TradeError::Transaction(TransactionError::OutcomeUnknown(_)))
        ));
    }

    #[test]
    fn an_overflow_names_the_balance_and_the_player() {
        let player = PlayerId::new("rich").expect("id");
        for (balance, name) in [(Balance::Coins, "coins"), (Balance::Goods, "goods")] {
            let text = TradeError::Overflow {
                balance,
                player: player.clone(),
            }
            .to_string();
            assert_eq!(
                text,
                format!("trade would overflow the {name} of player \"rich\"")
            );
        }
    }

    #[test]
    fn only_an_unknown_outcome_or_an_applied_row_count_may_have_applied_the_trade() {
        let lost = || diesel::result::Error::BrokenTransactionManager;
        assert!(TradeError::from(TransactionError::OutcomeUnknown(lost())).may_be_applied());
        assert!(
            TradeError::UnexpectedRowCount {
                rows: 1,
                applied: true
            }
            .may_be_applied()
        );
        for safe in [
            TradeError::from(TransactionError::ConnectionLost(lost())),
            TradeError::from(TransactionError::Failed(lost())),
            TradeError::UnexpectedRowCount {
                rows: 3,
                applied: false,
            },
            TradeError::Invalid(InvalidTrade::SamePlayer),
        ] {
            assert!(!safe.may_be_applied(), "{safe:?}");
        }
    }
}
