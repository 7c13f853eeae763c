//! The bank workload: many workers trading at random between players seeded
//! with known totals, then one consistent read that checks nothing was created,
//! destroyed or overdrawn. It is how TiDB's own bank tests exercise
//! transactions, here run with [`crate::trade()`].
//!
//! The pieces, in the order a run uses them:
//! [`open_database`] (a database of the bank's own, never the users'),
//! [`seed`], [`pool`], [`run`] (or [`run_with`] for another trade function),
//! [`check`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::dsl::{count_star, min, sum};
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, PooledConnection};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{self, ConnectError, DatabaseUrl, Pool};
use crate::models::NewPlayer;
use crate::retry::RetryPolicy;
use crate::schema::player;
use crate::trade::{TradeError, TradeOutcome, Traded, trade_with_retry};

/// The database the bank uses unless told otherwise.
pub const DEFAULT_DATABASE: &str = "player_bank";

/// Every id the bank creates starts with this.
pub const ID_PREFIX: &str = "bank-";

/// Tables the bank's database may hold: its own and Diesel's migration log.
const OWN_TABLES: &[&str] = &["player", "__diesel_schema_migrations"];

/// Errors a distinct message is kept for in a [`Report`].
const KEPT_ERRORS: usize = 5;

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Until this much time has passed.
    Duration(Duration),
    /// Until this many trades have been started.
    Trades(u64),
}

/// TiDB's transaction mode, set per session with `tidb_txn_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnMode {
    /// Locks taken as statements run (TiDB's default since v3.0.8).
    Pessimistic,
    /// Conflicts found at commit (error 9007), then retried.
    Optimistic,
}

impl TxnMode {
    /// The value of `tidb_txn_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pessimistic => "pessimistic",
            Self::Optimistic => "optimistic",
        }
    }
}

/// What a run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Threads trading at once, one pooled connection each.
    pub workers: usize,
    /// Players seeded; at least 2.
    pub players: usize,
    /// When to stop.
    pub limit: Limit,
    /// Coins each player starts with.
    pub initial_coins: i32,
    /// Goods each player starts with.
    pub initial_goods: i32,
    /// Largest amount of goods in one trade (amounts are drawn from `1..=max`).
    pub max_amount: i32,
    /// Largest price of one trade (prices are drawn from `1..=max`).
    pub max_price: i32,
    /// Players `0..hot_players` form a hot set (0: none, else at least 2).
    pub hot_players: usize,
    /// Chance (0 to 1) that each side of a trade is drawn from the hot set.
    pub hot_share: f64,
    /// Seed of the workers' random trades; each worker's sequence is then
    /// reproducible, their interleaving is not.
    pub seed: u64,
    /// Retry policy of each trade.
    pub retry: RetryPolicy,
    /// `tidb_txn_mode` for every connection, on TiDB only.
    pub txn_mode: Option<TxnMode>,
    /// How long a worker waits for a connection (after a server restart, say)
    /// before the run is stopped.
    pub connect_timeout: Duration,
}

impl Default for Config {
    /// 4 workers, 100 players of 10,000 coins and 1,000 goods, 10 seconds,
    /// amounts up to 10 and prices up to 100, no hot set, 10 s to get a connection.
    fn default() -> Self {
        Self {
            workers: 4,
            players: 100,
            limit: Limit::Duration(Duration::from_secs(10)),
            initial_coins: 10_000,
            initial_goods: 1_000,
            max_amount: 10,
            max_price: 100,
            hot_players: 0,
            hot_share: 0.0,
            seed: 0,
            retry: RetryPolicy::default(),
            txn_mode: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Checks what no server could make work; the message says which setting is wrong.
    pub fn validate(&self) -> Result<(), BankError> {
        let bad = |m: String| Err(BankError::InvalidConfig(m));
        if self.workers == 0 {
            return bad("workers must be at least 1".into());
        }
        if self.players < 2 {
            return bad(format!("players must be at least 2, got {}", self.players));
        }
        if self.hot_players == 1 || self.hot_players > self.players {
            return bad(format!(
                "hot players must be 0 or between 2 and the number of players ({}), got {}",
                self.players, self.hot_players
            ));
        }
        if !(0.0..=1.0).contains(&self.hot_share) {
            return bad(format!(
                "hot share must be between 0 and 1, got {}",
                self.hot_share
            ));
        }
        if self.initial_coins < 0 || self.initial_goods < 0 {
            return bad("initial balances must not be negative".into());
        }
        if self.max_amount < 1 || self.max_price < 1 {
            return bad("the largest amount and price must be at least 1".into());
        }
        if self.connect_timeout.is_zero() {
            return bad("the connection timeout must be positive".into());
        }
        match self.limit {
            Limit::Duration(d) if d.is_zero() => bad("the duration must be positive".into()),
            Limit::Trades(0) => bad("the number of trades must be positive".into()),
            _ => Ok(()),
        }
    }
}

/// Errors of the bank workload.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// A setting no server could make work.
    #[error("invalid bank settings: {0}")]
    InvalidConfig(String),
    /// The database named for the bank could hold someone's data.
    #[error("refusing to use database `{database}` for the bank: {reason}")]
    UnsafeDatabase {
        /// The database.
        database: String,
        /// Why.
        reason: String,
    },
    /// `--txn-mode` was given for a server that is not TiDB.
    #[error("the transaction mode can only be set on TiDB; this server is {version}")]
    NotTiDB {
        /// What `SELECT VERSION()` answered.
        version: String,
    },
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// Applying the migrations failed.
    #[error(transparent)]
    Migration(#[from] crate::migrations::MigrationError),
    /// A statement failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Seeding failed.
    #[error(transparent)]
    Players(#[from] crate::Error),
}

/// The id of player `i`.
pub fn player_id(i: usize) -> String {
    format!("{ID_PREFIX}{i:07}")
}

/// Makes sure database `name` on the server of `url` can be given to the bank,
/// creates it if missing, and returns a URL that selects it.
///
/// Refused: a name that is not a plain identifier, the database `url` itself
/// names (the users' data), a database holding tables other than the bank's,
/// and a `player` table holding ids the bank did not create.
pub fn open_database(url: &DatabaseUrl, name: &str) -> Result<DatabaseUrl, BankError> {
    let unsafe_db = |reason: &str| BankError::UnsafeDatabase {
        database: name.to_owned(),
        reason: reason.to_owned(),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(unsafe_db(
            "the name must be 1 to 64 letters, digits or underscores",
        ));
    }
    if url.database() == Some(name) {
        return Err(unsafe_db(
            "it is the database of DATABASE_URL, which holds the tutorial's data; give the bank its own",
        ));
    }
    let mut conn = db::connect(url)?;
    diesel::sql_query(format!("CREATE DATABASE IF NOT EXISTS `{name}`")).execute(&mut conn)?;

    #[derive(QueryableByName)]
    struct TableName {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let tables: Vec<TableName> = diesel::sql_query(
        "SELECT TABLE_NAME AS table_name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .load(&mut conn)?;
    let foreign: Vec<&str> = tables
        .iter()
        .map(|t| t.table_name.as_str())
        .filter(|t| !OWN_TABLES.contains(t))
        .collect();
    if !foreign.is_empty() {
        return Err(unsafe_db(&format!(
            "it holds other tables ({}); the bank resets its tables, so it needs a database of its own",
            foreign.join(", ")
        )));
    }
    let bank_url = url.with_database(name);
    if tables.iter().any(|t| t.table_name == "player") {
        let mut conn = db::connect(&bank_url)?;
        let strangers: i64 = player::table
            .filter(player::id.not_like(format!("{ID_PREFIX}%")))
            .select(count_star())
            .first(&mut conn)?;
        if strangers > 0 {
            return Err(unsafe_db(&format!(
                "its player table holds {strangers} players the bank did not create"
            )));
        }
    }
    Ok(bank_url)
}

/// Fails with [`BankError::NotTiDB`] unless the server is TiDB.
pub fn require_tidb(conn: &mut MysqlConnection) -> Result<(), BankError> {
    let version = crate::server::version(conn)?;
    if crate::server::is_tidb(&version) {
        Ok(())
    } else {
        Err(BankError::NotTiDB { version })
    }
}

/// Totals the invariant checker compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Number of players.
    pub players: i64,
    /// Sum of all coins.
    pub coins: i64,
    /// Sum of all goods.
    pub goods: i64,
}

/// Empties the `player` table of the connection's database and seeds
/// `config.players` players, in one transaction; returns the totals.
///
/// Call it only on a database [`open_database`] accepted (or a test's own).
pub fn seed(conn: &mut MysqlConnection, config: &Config) -> Result<Totals, BankError> {
    config.validate()?;
    let players = (0..config.players)
        .map(|i| NewPlayer::new(player_id(i), config.initial_coins, config.initial_goods));
    conn.transaction(|conn| {
        crate::players::delete_all(conn)?;
        crate::players::bulk_create(conn, players, 1_000)?;
        Ok::<_, BankError>(())
    })?;
    let n = i64::try_from(config.players).unwrap_or(i64::MAX);
    Ok(Totals {
        players: n,
        coins: n * i64::from(config.initial_coins),
        goods: n * i64::from(config.initial_goods),
    })
}

/// Sets `tidb_txn_mode` on every connection the pool opens.
#[derive(Debug, Clone, Copy)]
struct SetTxnMode(TxnMode);

impl CustomizeConnection<MysqlConnection, diesel::r2d2::Error> for SetTxnMode {
    fn on_acquire(&self, conn: &mut MysqlConnection) -> Result<(), diesel::r2d2::Error> {
        // The text protocol: a `SET` of a TiDB variable need not be preparable.
        conn.batch_execute(&format!(
            "SET SESSION tidb_txn_mode = '{}'",
            self.0.as_str()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool with one connection per worker, `tidb_txn_mode` set on each when
/// asked (after checking the server is TiDB), and the configured timeout for
/// getting a connection.
pub fn pool(url: &DatabaseUrl, config: &Config) -> Result<Pool, BankError> {
    // One plain connection first, so a wrong URL or a stopped server is
    // reported at once, with `connect`'s hints.
    let mut conn = db::connect(url)?;
    if config.txn_mode.is_some() {
        require_tidb(&mut conn)?;
    }
    let size = u32::try_from(config.workers).unwrap_or(u32::MAX);
    let mut builder = db::pool_builder(size).connection_timeout(config.connect_timeout);
    if let Some(mode) = config.txn_mode {
        builder = builder.connection_customizer(Box::new(SetTxnMode(mode)));
    }
    builder
        .build(ConnectionManager::new(url.expose()))
        .map_err(|e| {
            BankError::Connect(ConnectError::Connect {
                url: url.to_string(),
                message: url.mask_in(&e.to_string()),
            })
        })
}

/// Counts of a run so far, updated by the workers as they go (for progress).
#[derive(Debug, Default)]
pub struct Counters {
    /// Trades done.
    pub committed: AtomicU64,
    /// Trades refused for want of goods or coins.
    pub refused: AtomicU64,
    /// Retries (of whole transactions, and reconnections before a commit).
    pub retried: AtomicU64,
    /// Trades that ended in an error (those with an unknown outcome included).
    pub failed: AtomicU64,
    /// Trades whose connection was lost during `COMMIT`.
    pub unknown: AtomicU64,
}

impl Counters {
    /// Trades finished so far, however they ended.
    pub fn finished(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
            + self.refused.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
    }
}

/// The result of a run.
pub struct Report {
    /// Trades done.
    pub committed: u64,
    /// Trades refused.
    pub refused: u64,
    /// Retries made.
    pub retried: u64,
    /// Trades that ended in an error.
    pub failed: u64,
    /// Of the failed, those whose outcome is unknown (connection lost in `COMMIT`).
    pub unknown: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of each finished trade (retries included), in microseconds.
    pub latency_us: Histogram<u64>,
    /// The first few distinct error messages.
    pub errors: Vec<String>,
    /// Why the run stopped early, if it did (the server could not be reached).
    pub aborted: Option<String>,
}

impl std::fmt::Debug for Report {
    /// The counts and the latency percentiles, not the whole histogram.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Report")
            .field("committed", &self.committed)
            .field("refused", &self.refused)
            .field("retried", &self.retried)
            .field("failed", &self.failed)
            .field("unknown", &self.unknown)
            .field("elapsed", &self.elapsed)
            .field("p50_ms", &self.latency_ms(0.5))
            .field("p99_ms", &self.latency_ms(0.99))
            .field("errors", &self.errors)
            .field("aborted", &self.aborted)
            .finish()
    }
}

impl Report {
    /// Committed and refused trades per second.
    pub fn trades_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.committed + self.refused) as f64 / secs
        } else {
            0.0
        }
    }

    /// Latency at `quantile` (0 to 1) in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency_us.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

/// The trade function a run calls: [`trade_with_retry`]'s signature.
pub type TradeFn = dyn Fn(&mut MysqlConnection, &str, &str, i32, i32, &RetryPolicy) -> Result<Traded, TradeError>
    + Sync;

/// Runs the workload with [`crate::trade_with_retry`].
pub fn run(pool: &Pool, config: &Config, counters: &Counters) -> Result<Report, BankError> {
    run_with(pool, config, counters, &trade_with_retry)
}

/// Runs the workload with another trade function (tests use it to show that
/// [`check`] catches a trade without locks).
///
/// Each worker holds one pooled connection. A trade whose connection was lost
/// before `COMMIT` is run again on a new connection (it counts as a retry); one
/// whose connection was lost during `COMMIT` counts as failed and unknown. A
/// worker that cannot get a connection within the pool's timeout stops the run
/// ([`Report::aborted`]).
pub fn run_with(
    pool: &Pool,
    config: &Config,
    counters: &Counters,
    trade: &TradeFn,
) -> Result<Report, BankError> {
    config.validate()?;
    let shared = Shared {
        pool,
        config,
        counters,
        trade,
        started: Instant::now(),
        issued: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    let results: Vec<WorkerResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..config.workers)
            .map(|w| {
                let shared = &shared;
                s.spawn(move || shared.worker(w))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| WorkerResult::panicked()))
            .collect()
    });
    let elapsed = shared.started.elapsed();
    let mut latency_us = new_histogram();
    let mut errors: Vec<String> = Vec::new();
    let mut aborted = None;
    for r in results {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = latency_us.add(&r.latency_us);
        for e in r.errors {
            if errors.len() < KEPT_ERRORS && !errors.contains(&e) {
                errors.push(e);
            }
        }
        aborted = aborted.or(r.aborted);
    }
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Ok(Report {
        committed: load(&counters.committed),
        refused: load(&counters.refused),
        retried: load(&counters.retried),
        failed: load(&counters.failed),
        unknown: load(&counters.unknown),
        elapsed,
        latency_us,
        errors,
        aborted,
    })
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits: constants that cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// What one worker brings back.
struct WorkerResult {
    latency_us: Histogram<u64>,
    errors: Vec<String>,
    aborted: Option<String>,
}

impl WorkerResult {
    fn panicked() -> Self {
        Self {
            latency_us: new_histogram(),
            errors: Vec::new(),
            aborted: Some("a worker panicked".into()),
        }
    }
}

/// State the workers share.
struct Shared<'a> {
    pool: &'a Pool,
    config: &'a Config,
    counters: &'a Counters,
    trade: &'a TradeFn,
    started: Instant,
    issued: AtomicU64,
    stop: AtomicBool,
}

type Conn = PooledConnection<ConnectionManager<MysqlConnection>>;

impl Shared<'_> {
    /// Whether another trade may start.
    fn next_trade(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        match self.config.limit {
            Limit::Duration(d) => self.started.elapsed() < d,
            Limit::Trades(n) => self.issued.fetch_add(1, Ordering::Relaxed) < n,
        }
    }

    /// A player index, from the hot set with probability `hot_share`.
    fn pick(&self, rng: &mut StdRng) -> usize {
        let c = self.config;
        if c.hot_players >= 2 && rng.random_bool(c.hot_share) {
            rng.random_range(0..c.hot_players)
        } else {
            rng.random_range(0..c.players)
        }
    }

    fn worker(&self, index: usize) -> WorkerResult {
        let c = self.config;
        let mut rng =
            StdRng::seed_from_u64(c.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut result = WorkerResult {
            latency_us: new_histogram(),
            errors: Vec::new(),
            aborted: None,
        };
        let mut conn: Option<Conn> = None;
        while self.next_trade() {
            let seller = self.pick(&mut rng);
            let buyer = loop {
                let b = self.pick(&mut rng);
                if b != seller {
                    break b;
                }
            };
            let (seller, buyer) = (player_id(seller), player_id(buyer));
            let amount = rng.random_range(1..=c.max_amount);
            let price = rng.random_range(1..=c.max_price);

            let start = Instant::now();
            let outcome = match self.trade_once(&mut conn, &seller, &buyer, amount, price) {
                Ok(outcome) => outcome,
                Err(aborted) => {
                    result.aborted = Some(aborted);
                    self.stop.store(true, Ordering::Relaxed);
                    break;
                }
            };
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            result.latency_us.saturating_record(micros.max(1));
            let counters = self.counters;
            match outcome {
                Ok(traded) => {
                    let counter = match traded.outcome {
                        TradeOutcome::Done => &counters.committed,
                        TradeOutcome::Refused(_) => &counters.refused,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    if matches!(e, TradeError::OutcomeUnknown(_)) {
                        counters.unknown.fetch_add(1, Ordering::Relaxed);
                    }
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%e, "trade failed");
                    if result.errors.len() < KEPT_ERRORS {
                        result.errors.push(e.to_string());
                    }
                }
            }
        }
        result
    }

    /// One trade, taking a new connection when the last one was lost before
    /// `COMMIT`. `Err` only when no connection can be had (the run must stop).
    fn trade_once(
        &self,
        conn: &mut Option<Conn>,
        seller: &str,
        buyer: &str,
        amount: i32,
        price: i32,
    ) -> Result<Result<Traded, TradeError>, String> {
        let policy = &self.config.retry;
        let mut reconnects = 0;
        loop {
            let c = match conn {
                Some(c) => c,
                None => conn.insert(
                    self.pool
                        .get()
                        .map_err(|e| format!("cannot get a connection: {e}"))?,
                ),
            };
            let result = (self.trade)(c, seller, buyer, amount, price, policy);
            let retries = match &result {
                Ok(traded) => traded.retries,
                Err(TradeError::RetriesExhausted { retries, .. }) => *retries,
                Err(_) => 0,
            };
            self.counters
                .retried
                .fetch_add(u64::from(retries), Ordering::Relaxed);
            match result {
                Err(TradeError::ConnectionLost(_)) if reconnects < policy.max_retries => {
                    *conn = None;
                    reconnects += 1;
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(policy.backoff(reconnects));
                }
                other => {
                    if matches!(
                        other,
                        Err(TradeError::ConnectionLost(_) | TradeError::OutcomeUnknown(_))
                    ) {
                        *conn = None;
                    }
                    return Ok(other);
                }
            }
        }
    }
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What the totals must be.
    pub expected: Totals,
    /// What they are.
    pub found: Totals,
    /// The smallest coin balance.
    pub min_coins: i64,
    /// The smallest goods balance.
    pub min_goods: i64,
}

impl Check {
    /// True when totals are unchanged and no balance is negative.
    pub fn ok(&self) -> bool {
        self.violations().is_empty()
    }

    /// One line per broken invariant.
    pub fn violations(&self) -> Vec<String> {
        let (e, f) = (self.expected, self.found);
        let mut v = Vec::new();
        let mut compare = |what: &str, expected: i64, found: i64| {
            if expected != found {
                v.push(format!(
                    "{what}: expected {expected}, found {found} ({:+})",
                    found - expected
                ));
            }
        };
        compare("players", e.players, f.players);
        compare("total coins", e.coins, f.coins);
        compare("total goods", e.goods, f.goods);
        if self.min_coins < 0 {
            v.push(format!("a negative coin balance: {}", self.min_coins));
        }
        if self.min_goods < 0 {
            v.push(format!("a negative goods balance: {}", self.min_goods));
        }
        v
    }
}

/// Reads the count, sums and minimums of the `player` table in one statement
/// (one consistent snapshot on TiDB, MySQL and MariaDB) and compares them
/// with `expected`.
pub fn check(conn: &mut MysqlConnection, expected: &Totals) -> QueryResult<Check> {
    let (players, coins, goods, min_coins, min_goods): (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i32>,
        Option<i32>,
    ) = player::table
        .select((
            count_star(),
            sum(player::coins),
            sum(player::goods),
            min(player::coins),
            min(player::goods),
        ))
        .first(conn)?;
    Ok(Check {
        expected: *expected,
        found: Totals {
            players,
            coins: coins.unwrap_or(0),
            goods: goods.unwrap_or(0),
        },
        min_coins: min_coins.map_or(0, i64::from),
        min_goods: min_goods.map_or(0, i64::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation_names_the_bad_setting() {
        assert!(Config::default().validate().is_ok());
        let invalid = |c: Config| matches!(c.validate(), Err(BankError::InvalidConfig(_)));
        assert!(invalid(Config {
            workers: 0,
            ..Config::default()
        }));
        assert!(invalid(Config {
            players: 1,
            ..Config::default()
        }));
        assert!(invalid(Config {
            hot_players: 1,
            ..Config::default()
        }));
        assert!(invalid(Config {
            hot_players: 101,
            ..Config::default()
        }));
        assert!(invalid(Config {
            hot_share: 1.5,
            ..Config::default()
        }));
        assert!(invalid(Config {
            limit: Limit::Trades(0),
            ..Config::default()
        }));
    }

    #[test]
    fn check_reports_every_violation() {
        let totals = Totals {
            players: 2,
            coins: 20,
            goods: 10,
        };
        let good = Check {
            expected: totals,
            found: totals,
            min_coins: 0,
            min_goods: 3,
        };
        assert!(good.ok());
        let bad = Check {
            found: Totals {
                coins: 25,
                ..totals
            },
            min_coins: -1,
            ..good
        };
        assert_eq!(
            bad.violations(),
            [
                "total coins: expected 20, found 25 (+5)",
                "a negative coin balance: -1"
            ]
        );
    }

    #[test]
    fn ids_sort_in_creation_order_and_fit_the_column() {
        assert_eq!(player_id(7), "bank-0000007");
        assert!(player_id(9) < player_id(10));
        assert!(player_id(9_999_999).len() <= crate::models::MAX_ID_LEN);
    }
}
