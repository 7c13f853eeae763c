//! Exactly-once trades: an idempotency key written in the trade's own
//! transaction.
//!
//! A trade whose connection is lost while `COMMIT` is in flight ends in
//! [`TransactionError::OutcomeUnknown`]: the server may or may not have
//! committed it, and sending it again could apply it twice. On TiDB this is
//! no rare event: when a two-phase commit's result is undetermined, TiDB
//! closes the client's connection instead of answering. The way out is the
//! one payment APIs take (an `Idempotency-Key`): the caller names each trade
//! with a key of its own, and the key's row in `keyed_trade` is written in
//! the same transaction as the trade, so both commit or neither.
//!
//! ```no_run
//! use player_core::ledger::{self, IdempotencyKey};
//! use player_core::{PlayerId, RetryPolicy, Trade};
//!
//! # fn pay(conn: &mut diesel::mysql::MysqlConnection) -> Result<(), Box<dyn std::error::Error>> {
//! let (seller, buyer): (PlayerId, PlayerId) = ("2".parse()?, "1".parse()?);
//! let trade = Trade { seller: &seller, buyer: &buyer, amount: 2, price: 100 };
//! let key: IdempotencyKey = "order-1".parse()?;
//! // After an unknown outcome, a lost connection or a crash: the same call again.
//! let traded = ledger::trade(conn, &key, &trade, &RetryPolicy::default())?;
//! println!("{:?}, replayed: {}", traded.outcome, traded.replayed);
//! # Ok(()) }
//! ```
//!
//! Inside one transaction the key's row comes first, then the trade:
//!
//! - A new key: its row is inserted (as `done`, the usual case), the trade
//!   runs as [`crate::trade()`]'s does, and a refusal rewrites the row's outcome:
//!   a refusal is an outcome, stored like the rest. A typed error (an unknown
//!   player, an overflow) rolls the key back with the trade, so the key stays
//!   free for the trade once it can be made.
//! - A key already committed: the `INSERT` meets the duplicate, and the row is
//!   read with `FOR UPDATE`, a locking read, which on TiDB's pessimistic mode
//!   reads the latest commit rather than the transaction's start snapshot. The
//!   same trade returns the stored outcome, marked [`replayed`](KeyedTraded::replayed),
//!   and changes nothing; another trade under the key is
//!   [`KeyedTradeError::KeyReused`]. (On MySQL and MariaDB, calls that met
//!   the duplicate together each hold a shared lock on it, so their
//!   `FOR UPDATE`s deadlock; the server rolls back all but one, and each
//!   retry reads the row. TiDB takes no shared locks.)
//! - A key whose transaction is in flight on another connection: the `INSERT`
//!   waits for that transaction's lock, then meets its row (it committed) or
//!   takes the key (it rolled back). A wait that ends in a lock wait timeout
//!   is retried within the policy, then reported as
//!   [`KeyedTradeError::InFlight`].
//! - In TiDB's optimistic mode the `INSERT` does not wait: the duplicate
//!   surfaces at `COMMIT`, as error 1062. That means the other call won; its
//!   stored outcome is read and returned.
//!
//! The one-statement trade ([`crate::trade_in_one_statement`]) has no keyed
//! form: one statement cannot also record a key. Old keys go with [`prune`]
//! (or TiDB's TTL, `docs/cli.md`); a key must outlive every retry of its trade.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Unsigned};
use sha2::{Digest, Sha256};

use crate::retry::{ErrorClass, RetryPolicy, Retryable, classify};
use crate::schema::keyed_trade;
use crate::trade::{Decision, Refusal, Run, Trade, TradeError, TradeOutcome};
use crate::transaction::{self, Retried, TransactionError};
use crate::{PlayerId, statement_cache};

/// The longest key `keyed_trade.idempotency_key` holds, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// An idempotency key: 1 to [`MAX_KEY_LEN`] characters, none of them a
/// control character (so a key always prints on one line). Keys compare byte
/// for byte: `k` and `k ` are two keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a string cannot be an [`IdempotencyKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// The empty string.
    #[error("an idempotency key cannot be empty")]
    Empty,
    /// More characters than the column holds.
    #[error("an idempotency key has at most {MAX_KEY_LEN} characters, this one has {0}")]
    TooLong(usize),
    /// A control character (a newline, a tab, ...), which would not print as itself.
    #[error("an idempotency key cannot contain control characters")]
    ControlCharacter,
}

impl IdempotencyKey {
    /// Checks `key` against what the ledger holds.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidKey> {
        let key = key.into();
        match key.chars().count() {
            0 => Err(InvalidKey::Empty),
            n if n > MAX_KEY_LEN => Err(InvalidKey::TooLong(n)),
            _ if key.chars().any(char::is_control) => Err(InvalidKey::ControlCharacter),
            _ => Ok(Self(key)),
        }
    }

    /// A random (v4) UUID: a fresh key for a trade that has none of its own.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The row's primary key: the SHA-256 of the key, so that keys that grow
    /// with time still spread over TiDB's regions (see the migration).
    fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl FromStr for IdempotencyKey {
    type Err = InvalidKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A keyed trade as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedTrade {
    /// The caller's key.
    pub key: IdempotencyKey,
    /// The seller, as the first call named it.
    pub seller: PlayerId,
    /// The buyer, as the first call named it.
    pub buyer: PlayerId,
    /// Goods asked to move.
    pub amount: i32,
    /// Coins asked to move.
    pub price: i32,
    /// How it came out.
    pub outcome: TradeOutcome,
    /// When its transaction wrote the row (the server's clock).
    pub recorded_at: SystemTime,
}

impl KeyedTrade {
    /// Whether `trade` is the trade this row records (ids compared as the
    /// column does).
    fn is(&self, trade: &Trade) -> bool {
        self.seller == *trade.seller
            && self.buyer == *trade.buyer
            && self.amount == trade.amount
            && self.price == trade.price
    }
}

/// A keyed trade that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyedTraded {
    /// Done or refused.
    pub outcome: TradeOutcome,
    /// `true` when an earlier call with the key made (or refused) the trade and
    /// this one only read its outcome: nothing changed now.
    pub replayed: bool,
    /// Times the whole transaction was run again after a retryable error.
    pub retries: u32,
}

/// Errors of [`trade`]. Only [`TransactionError::OutcomeUnknown`] (inside
/// [`Trade`](Self::Trade)) may have left a change behind, and then the same
/// call again tells which.
#[derive(Debug, thiserror::Error)]
pub enum KeyedTradeError {
    /// The key names another trade; nothing changed.
    #[error(
        "idempotency key {:?} was already used for another trade (seller {:?}, buyer {:?}, amount {}, price {})",
        .0.key.as_str(), .0.seller.as_str(), .0.buyer.as_str(), .0.amount, .0.price
    )]
    KeyReused(Box<KeyedTrade>),
    /// Another transaction holds the key and did not end within the server's
    /// lock wait and the policy: the trade under this key is in flight
    /// elsewhere. Nothing changed here; look the key up, or send it again later.
    #[error("a trade with idempotency key {:?} is in flight on another connection", .0.as_str())]
    InFlight(IdempotencyKey),
    /// The trade was invalid, refused with a typed error, or its transaction
    /// failed, as [`crate::trade()`]'s errors say.
    #[error(transparent)]
    Trade(#[from] TradeError),
}

impl KeyedTradeError {
    /// Whether the trade may have been applied: then send it again with the
    /// same key to learn its outcome.
    pub fn may_be_applied(&self) -> bool {
        matches!(self, Self::Trade(e) if e.may_be_applied())
    }
}

/// Makes `trade` under `key`, exactly once: the first call with the key
/// makes (or refuses) it; every later call with the key and the same trade
/// returns that outcome, [`replayed`](KeyedTraded::replayed), and changes
/// nothing. See the module documentation for how.
///
/// Call it outside any transaction of yours (see [`transaction::run`]).
pub fn trade(
    conn: &mut MysqlConnection,
    key: &IdempotencyKey,
    trade: &Trade,
    policy: &RetryPolicy,
) -> Result<KeyedTraded, KeyedTradeError> {
    crate::trade::validate(trade).map_err(TradeError::from)?;
    let hash = key.hash();
    let mut run = Run::default();
    // Set while the run waits on the key's `INSERT`: a lock wait there is
    // another call with the key, in flight.
    let mut at_key = false;
    let mut typed = None;
    let done = transaction::run(conn, policy, |conn| {
        (run, typed) = (Run::default(), None);
        at_key = true;
        match insert_key(conn, key, &hash, trade) {
            Ok(_) => at_key = false,
            Err(e) if is_duplicate(&e) => {
                // The failed INSERT stays cached and would replay its error
                // on its next use: prepare it afresh then.
                statement_cache::recover(conn, true);
                return stored(conn, &hash, true).map(Step::Stored);
            }
            Err(e) => return Err(e),
        }
        match crate::trade::decide_in_transaction(conn, trade, true, &mut run)? {
            Decision::Outcome(TradeOutcome::Done) => Ok(Step::Applied(TradeOutcome::Done)),
            Decision::Outcome(refused) => {
                diesel::update(keyed_trade::table.find(&hash))
                    .set(keyed_trade::outcome.eq(outcome_name(refused)))
                    .execute(conn)?;
                Ok(Step::Applied(refused))
            }
            Decision::Error(e) => {
                typed = Some(e);
                Err(DieselError::RollbackTransaction)
            }
        }
    });
    let done = match done {
        Ok(done) => done,
        // The body rolled back for a typed error or an impossible row count.
        Err(TransactionError::Failed(DieselError::RollbackTransaction))
            if typed.is_some() || run.unexpected.is_some() =>
        {
            return Err(match (typed, run.unexpected) {
                (Some(e), _) => e,
                (None, rows) => TradeError::UnexpectedRowCount {
                    rows: rows.unwrap_or_default(),
                    applied: false,
                },
            }
            .into());
        }
        Err(e) if lost_the_race(&e) => {
            // Our COMMIT met the other call's committed key: read its row.
            let row = stored(conn, &hash, false)
                .map_err(|e| TradeError::from(TransactionError::Failed(e)))?;
            Retried {
                value: Step::Stored(row),
                retries: 0,
            }
        }
        Err(e) if at_key && waited_for_a_lock(&e) => {
            return Err(KeyedTradeError::InFlight(key.clone()));
        }
        Err(e) => return Err(TradeError::from(e).into()),
    };
    match done.value {
        Step::Applied(outcome) => Ok(KeyedTraded {
            outcome,
            replayed: false,
            retries: done.retries,
        }),
        Step::Stored(row) if row.is(trade) => Ok(KeyedTraded {
            outcome: row.outcome,
            replayed: true,
            retries: done.retries,
        }),
        Step::Stored(row) => Err(KeyedTradeError::KeyReused(Box::new(row))),
    }
}

/// What the key's row said in one run of a keyed trade's transaction.
enum Step {
    /// The key was new: this run made or refused the trade.
    Applied(TradeOutcome),
    /// The key was taken: its row.
    Stored(KeyedTrade),
}

/// The trade stored under `key`, if any: whether it was applied, and how it
/// came out. A key whose transaction is in flight elsewhere reads as absent
/// until that transaction commits.
pub fn get(conn: &mut MysqlConnection, key: &IdempotencyKey) -> QueryResult<Option<KeyedTrade>> {
    keyed_trade::table
        .find(key.hash())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(KeyedTrade::try_from)
        .transpose()
}

/// Deletes the keys recorded more than `older_than` ago, `batch` rows per
/// statement, and returns how many went. Bounded batches keep each
/// transaction small: on TiDB one huge `DELETE` is one huge transaction,
/// which can pass its size limit and holds its locks until the end. A key
/// must outlive every retry of its trade, so keep days, not seconds.
///
/// Each statement finds its rows by `created_at`, which has no index (an
/// index on a time column would be a write hotspot on TiDB), so each batch
/// scans the table: for a big ledger on TiDB, prefer its TTL.
pub fn prune(
    conn: &mut MysqlConnection,
    older_than: Duration,
    batch: NonZeroU32,
) -> QueryResult<u64> {
    let micros = u64::try_from(older_than.as_micros()).unwrap_or(u64::MAX);
    // Diesel's DSL has no `DELETE ... LIMIT`. The cut-off is the server's
    // clock, the one `created_at` was written with.
    let delete = diesel::sql_query(
        "DELETE FROM keyed_trade \
         WHERE created_at < NOW(6) - INTERVAL ? MICROSECOND LIMIT ?",
    );
    let mut deleted = 0;
    loop {
        let rows = delete
            .clone()
            .bind::<Unsigned<BigInt>, _>(micros)
            .bind::<Unsigned<BigInt>, _>(u64::from(batch.get()))
            .execute(conn)?;
        deleted += rows as u64;
        if rows < batch.get() as usize {
            return Ok(deleted);
        }
    }
}

/// A new key's row, inserted before the trade runs: outcome `done`, the
/// usual case, rewritten by a refusal.
fn insert_key(
    conn: &mut MysqlConnection,
    key: &IdempotencyKey,
    hash: &[u8],
    trade: &Trade,
) -> QueryResult<usize> {
    diesel::insert_into(keyed_trade::table)
        .values((
            keyed_trade::key_hash.eq(hash),
            keyed_trade::idempotency_key.eq(key.as_str()),
            keyed_trade::seller.eq(trade.seller),
            keyed_trade::buyer.eq(trade.buyer),
            keyed_trade::amount.eq(trade.amount),
            keyed_trade::price.eq(trade.price),
            keyed_trade::outcome.eq(outcome_name(TradeOutcome::Done)),
        ))
        .execute(conn)
}

/// The committed row of the key `hash`; with `lock`, by a locking read.
fn stored(conn: &mut MysqlConnection, hash: &[u8], lock: bool) -> QueryResult<KeyedTrade> {
    let query = keyed_trade::table.find(hash).select(Row::as_select());
    let row = if lock {
        query.for_update().first(conn)?
    } else {
        query.first(conn)?
    };
    KeyedTrade::try_from(row)
}

/// Whether `error` is the server's duplicate key (1062).
fn is_duplicate(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => true,
        // COMMIT is sent as plain text, whose errors Diesel does not sort.
        DieselError::DatabaseError(_, info) => info.message().contains("Duplicate entry"),
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_duplicate(commit_error),
        _ => false,
    }
}

/// Whether a keyed trade's transaction failed because another call with the
/// key committed first, as TiDB's optimistic mode reports it: a duplicate at
/// `COMMIT`. (The body handles a duplicate at its `INSERT` itself, so one
/// that ends the transaction came from the `COMMIT`.)
fn lost_the_race(error: &TransactionError) -> bool {
    matches!(error, TransactionError::Failed(e) if is_duplicate(e))
}

/// Whether the transaction gave up after waiting for a lock.
fn waited_for_a_lock(error: &TransactionError) -> bool {
    match error {
        TransactionError::RetriesExhausted { source, .. }
        | TransactionError::TimeLimit { source, .. } => {
            classify(source) == ErrorClass::Retryable(Retryable::LockWaitTimeout)
        }
        _ => false,
    }
}

/// The `outcome` column's text for `outcome`.
fn outcome_name(outcome: TradeOutcome) -> &'static str {
    match outcome {
        TradeOutcome::Done => "done",
        TradeOutcome::Refused(Refusal::SellerLacksGoods) => "seller_lacks_goods",
        TradeOutcome::Refused(Refusal::BuyerLacksCoins) => "buyer_lacks_coins",
    }
}

/// A row of `keyed_trade`, as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = keyed_trade, check_for_backend(diesel::mysql::Mysql))]
struct Row {
    idempotency_key: String,
    seller: PlayerId,
    buyer: PlayerId,
    amount: i32,
    price: i32,
    outcome: String,
    /// `created_at` in microseconds since the Unix epoch: `UNIX_TIMESTAMP`
    /// reads a `TIMESTAMP` the same in any session time zone.
    #[diesel(select_expression = diesel::dsl::sql::<BigInt>(
        "CAST(UNIX_TIMESTAMP(`keyed_trade`.`created_at`) * 1000000 AS SIGNED)"
    ))]
    #[diesel(select_expression_type = diesel::expression::SqlLiteral<BigInt>)]
    created_micros: i64,
}

impl TryFrom<Row> for KeyedTrade {
    type Error = DieselError;

    fn try_from(row: Row) -> QueryResult<Self> {
        let unreadable = |what: String| DieselError::DeserializationError(what.into());
        let outcome = [
            TradeOutcome::Done,
            TradeOutcome::Refused(Refusal::SellerLacksGoods),
            TradeOutcome::Refused(Refusal::BuyerLacksCoins),
        ]
        .into_iter()
        .find(|o| outcome_name(*o) == row.outcome)
        .ok_or_else(|| unreadable(format!("unknown outcome {:?}", row.outcome)))?;
        let key =
            IdempotencyKey::new(row.idempotency_key).map_err(|e| unreadable(e.to_string()))?;
        let micros = u64::try_from(row.created_micros).unwrap_or(0);
        Ok(Self {
            key,
            seller: row.seller,
            buyer: row.buyer,
            amount: row.amount,
            price: row.price,
            outcome,
            recorded_at: SystemTime::UNIX_EPOCH + Duration::from_micros(micros),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn keys_are_one_to_255_characters_without_control_characters() {
        assert_eq!(IdempotencyKey::new(""), Err(InvalidKey::Empty));
        assert!(IdempotencyKey::new("é".repeat(255)).is_ok());
        assert_eq!(
            IdempotencyKey::new("é".repeat(256)),
            Err(InvalidKey::TooLong(256))
        );
        for bad in ["a\nb", "\t", "a\u{7f}", "\u{85}"] {
            assert_eq!(
                IdempotencyKey::new(bad),
                Err(InvalidKey::ControlCharacter),
                "{bad:?}"
            );
        }
        assert_eq!(
            IdempotencyKey::new(" order 1 ").expect("key").as_str(),
            " order 1 "
        );
    }

    #[test]
    fn keys_that_grow_with_time_hash_far_apart() {
        let (a, b) = (
            IdempotencyKey::new("order-1").expect("key"),
            IdempotencyKey::new("order-2").expect("key"),
        );
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash()[0..4], b.hash()[0..4]);
        // Byte for byte: a trailing space is another key.
        assert_ne!(
            a.hash(),
            IdempotencyKey::new("order-1 ").expect("key").hash()
        );
    }

    /// TiDB's optimistic mode reports the other call's key at COMMIT, as a
    /// 1062 sent back for the plain-text COMMIT (kind `Unknown`), or with a
    /// failed ROLLBACK after it; that is the other call winning. Other
    /// failures are not.
    #[test]
    fn a_duplicate_at_commit_means_the_other_call_won() {
        let tidb = "[kv:1062]Duplicate entry '\\x01' for key 'keyed_trade.PRIMARY'";
        assert!(lost_the_race(&TransactionError::Failed(server(
            DatabaseErrorKind::Unknown,
            tidb
        ))));
        assert!(lost_the_race(&TransactionError::Failed(server(
            DatabaseErrorKind::UniqueViolation,
            "anything"
        ))));
        assert!(lost_the_race(&TransactionError::Failed(
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(server(
                    DatabaseErrorKind::Unknown,
                    "MySQL server has gone away"
                )),
                commit_error: Box::new(server(DatabaseErrorKind::Unknown, tidb)),
            }
        )));
        for other in [
            TransactionError::Failed(server(
                DatabaseErrorKind::Unknown,
                "Table 'x.keyed_trade' doesn't exist",
            )),
            TransactionError::Failed(DieselError::RollbackTransaction),
            TransactionError::OutcomeUnknown(server(DatabaseErrorKind::Unknown, tidb)),
        ] {
            assert!(!lost_the_race(&other), "{other:?}");
        }
    }

    #[test]
    fn a_lock_wait_given_up_is_told_apart() {
        let wait = || {
            server(
                DatabaseErrorKind::Unknown,
                "Lock wait timeout exceeded; try restarting transaction",
            )
        };
        assert!(waited_for_a_lock(&TransactionError::RetriesExhausted {
            retries: 0,
            source: wait()
        }));
        assert!(waited_for_a_lock(&TransactionError::TimeLimit {
            elapsed: Duration::from_secs(50),
            retries: 1,
            source: wait()
        }));
        assert!(!waited_for_a_lock(&TransactionError::RetriesExhausted {
            retries: 3,
            source: server(
                DatabaseErrorKind::Unknown,
                "Write conflict, txnStartTS=1 [try again later]"
            ),
        }));
        assert!(!waited_for_a_lock(&TransactionError::Failed(wait())));
    }

    #[test]
    fn outcome_names_are_the_columns_and_read_back() {
        for outcome in [
            TradeOutcome::Done,
            TradeOutcome::Refused(Refusal::SellerLacksGoods),
            TradeOutcome::Refused(Refusal::BuyerLacksCoins),
        ] {
            let row = Row {
                idempotency_key: "k".into(),
                seller: "a".parse().expect("id"),
                buyer: "b".parse().expect("id"),
                amount: 1,
                price: 2,
                outcome: outcome_name(outcome).into(),
                created_micros: 1_500_000,
            };
            let read = KeyedTrade::try_from(row).expect("row");
            assert_eq!(read.outcome, outcome);
            assert_eq!(
                read.recorded_at,
                SystemTime::UNIX_EPOCH + Duration::from_millis(1_500)
            );
        }
    }
}
