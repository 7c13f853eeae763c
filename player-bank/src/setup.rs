//! Getting a database ready for the bank: the guard that keeps it away from
//! anyone's data, the seed, and the pool.

use std::sync::atomic::Ordering;

use diesel::connection::SimpleConnection;
use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::r2d2::CustomizeConnection;
use player_admin::catalog;
use player_core::db::{ConnectError, DatabaseUrl};
use player_core::schema::{keyed_trade, player};
use player_core::{NewPlayer, PlayerId, players};
use player_guard::{GuardedConnection, Pool};

use std::time::Duration;

use player_admin::lock::{Held, NamedLock};

use crate::{BankError, Progress, Settings, Totals, TxnMode};

/// Every id the bank creates starts with this, so its guard can tell the
/// bank's players from anyone else's.
pub const ID_PREFIX: &str = "bank-";

/// Tables the bank's database may hold: its own and Diesel's migration log.
const OWN_TABLES: [&str; 3] = [
    "player",
    "keyed_trade",
    player_core::migrations::MIGRATIONS_TABLE,
];

/// Players inserted per statement when seeding.
const SEED_BATCH: usize = 1_000;

/// Players deleted, or inserted, per transaction when seeding: a tenth of a
/// second or so each, so a stop request is seen soon.
const SEED_ROUND: usize = 10_000;

/// The id of player `i`; ids sort in creation order.
pub fn player_id(i: usize) -> PlayerId {
    let id = format!("{ID_PREFIX}{i:07}");
    // 12 characters for any i below ten million, which the settings cap.
    PlayerId::new(id).unwrap_or_else(|e| unreachable!("bank ids fit the column: {e}"))
}

/// The index `i` of a bank player's id, `player_id(i)`; `None` for any other id.
pub(crate) fn player_index(id: &str) -> Option<usize> {
    let digits = id.strip_prefix(ID_PREFIX)?;
    let i: usize = digits.parse().ok()?;
    (format!("{i:07}") == digits).then_some(i)
}

/// Makes sure the database `settings.database` on the server of `url` can be
/// given to the bank, creates it if missing, and returns a URL that selects it.
///
/// Refused: the database `url` itself names (the users' data), a database
/// holding tables other than the bank's, and a `player` table holding ids the
/// bank did not create. With a transaction mode set, a server that is not TiDB
/// is refused before anything is created.
///
/// Database and table names are compared ignoring case, as TiDB compares them
/// (and MySQL on macOS and Windows): there `PLAYER_BANK` is `player_bank`. On a
/// server that tells them apart (MySQL or MariaDB on Linux) this refuses a
/// little more than it must, never less.
pub(crate) fn open_database(
    url: &DatabaseUrl,
    settings: &Settings,
) -> Result<DatabaseUrl, BankError> {
    let name = settings.database.as_str();
    let unsafe_db = |reason: String| BankError::UnsafeDatabase {
        database: name.to_owned(),
        reason,
    };
    if url.database().is_some_and(|own| same_name(own, name)) {
        return Err(unsafe_db(
            "it is the database of DATABASE_URL, which holds the tutorial's data; give the bank its own".into(),
        ));
    }
    let mut conn = player_guard::connect(url)?;
    if settings.txn_mode.is_some() {
        require_tidb(&mut conn)?;
    }
    // Before the database is created: a refused name leaves nothing behind.
    let tables = tables_named_like(&mut conn, name)?;
    let foreign: Vec<&str> = tables
        .iter()
        .map(String::as_str)
        .filter(|t| !OWN_TABLES.iter().any(|own| same_name(own, t)))
        .collect();
    if !foreign.is_empty() {
        return Err(unsafe_db(format!(
            "it holds other tables ({}); the bank resets its tables, so it needs a database of its own",
            foreign.join(", ")
        )));
    }
    // The name is a checked identifier (`Settings::validate`): a DDL statement
    // cannot bind it.
    conn.batch_execute(&format!("CREATE DATABASE IF NOT EXISTS `{name}`"))?;

    let bank_url = url.with_database(name);
    if tables.iter().any(|t| same_name(t, "player")) {
        let strangers: i64 = player::table
            .filter(player::id.not_like(format!("{ID_PREFIX}%")))
            .select(count_star())
            .first(&mut player_guard::connect(&bank_url)?)?;
        if strangers > 0 {
            return Err(unsafe_db(format!(
                "its player table holds {strangers} players the bank did not create"
            )));
        }
    }
    Ok(bank_url)
}

/// Whether two database or table names are the same to TiDB, which lowercases
/// names (Unicode-wise, as Go's `strings.ToLower`) before comparing them.
fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

diesel::define_sql_function! {
    /// SQL's `LOWER`.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The tables of every database whose name is `name` ignoring case, sorted.
///
/// `information_schema` compares names with its own collation, which is not
/// case-insensitive everywhere, so the comparison is spelled out.
fn tables_named_like(conn: &mut MysqlConnection, name: &str) -> Result<Vec<String>, BankError> {
    use catalog::tables;
    Ok(tables::table
        .filter(lower(tables::table_schema).eq(name.to_lowercase()))
        .select(tables::table_name)
        .order(tables::table_name)
        .load(conn)?)
}

/// Fails with [`BankError::NotTiDB`] unless the server is TiDB.
fn require_tidb(conn: &mut MysqlConnection) -> Result<(), BankError> {
    let version = catalog::version(conn)?;
    if catalog::is_tidb(&version) {
        Ok(())
    } else {
        Err(BankError::NotTiDB { version })
    }
}

/// The bank database's lock, held by a connection of its own for the run
/// (in a mutex only so that a [`Bank`](crate::Bank) can be shared by threads).
pub(crate) struct RunLock {
    _conn: std::sync::Mutex<MysqlConnection>,
    _lock: NamedLock,
}

impl RunLock {
    /// Takes the lock of bank database `name` (its name lowercased, as TiDB
    /// compares names) on the server of `url`, without waiting (TiDB waits a
    /// second at least); [`BankError::InUse`] if another session holds it.
    pub(crate) fn take(url: &DatabaseUrl, name: &str) -> Result<Self, BankError> {
        let mut conn = player_guard::connect(url)?;
        match NamedLock::acquire(&mut conn, "bank", &name.to_lowercase(), Duration::ZERO)? {
            Ok(lock) => Ok(Self {
                _conn: std::sync::Mutex::new(conn),
                _lock: lock,
            }),
            Err(Held(lock)) => Err(BankError::InUse {
                database: name.to_owned(),
                lock,
            }),
        }
    }
}

/// Applies the migrations to the bank's database, empties its `player` table
/// and seeds `settings.players` players; returns the totals.
///
/// Both go in batches of [`SEED_ROUND`] rows, each committed on its own, and
/// `progress`'s stop request is looked at between them, so that Ctrl-C
/// stops the seeding of a million players within a batch. A seed cut short
/// is simply redone by the next run, which empties the table first.
pub(crate) fn seed(
    bank_url: &DatabaseUrl,
    settings: &Settings,
    progress: &Progress,
) -> Result<Totals, BankError> {
    let mut conn = player_guard::connect(bank_url)?;
    player_admin::migrate::migrate(&mut conn)?;
    progress.seeding.store(true, Ordering::Relaxed);
    let stopped = |seeded: u64| BankError::StoppedSeeding {
        seeded,
        players: settings.players,
    };
    loop {
        if progress.stop_requested() {
            return Err(stopped(0));
        }
        let deleted = diesel::sql_query(format!("DELETE FROM player LIMIT {SEED_ROUND}"))
            .execute(&mut conn)?;
        if deleted < SEED_ROUND {
            break;
        }
    }
    // A run's keys (`--keyed`) mean nothing to the next one.
    diesel::delete(keyed_trade::table).execute(&mut conn)?;
    let mut start = 0;
    while start < settings.players {
        if progress.stop_requested() {
            return Err(stopped(start as u64));
        }
        let end = (start + SEED_ROUND).min(settings.players);
        let seeded = (start..end)
            .map(|i| NewPlayer::new(player_id(i), settings.initial_coins, settings.initial_goods));
        conn.transaction(|conn| players::bulk_create(conn, seeded, SEED_BATCH))?;
        progress.seeded.store(end as u64, Ordering::Relaxed);
        start = end;
    }
    progress.seeding.store(false, Ordering::Relaxed);
    let n = i64::try_from(settings.players).unwrap_or(i64::MAX);
    Ok(Totals {
        players: n,
        coins: n * i64::from(settings.initial_coins),
        goods: n * i64::from(settings.initial_goods),
    })
}

/// Sets `tidb_txn_mode` on every connection the pool opens.
#[derive(Debug, Clone, Copy)]
struct SetTxnMode(TxnMode);

impl CustomizeConnection<GuardedConnection, ConnectError> for SetTxnMode {
    fn on_acquire(&self, conn: &mut GuardedConnection) -> Result<(), ConnectError> {
        // The text protocol: a `SET` of a TiDB variable need not be preparable.
        conn.batch_execute(&format!(
            "SET SESSION tidb_txn_mode = '{}'",
            self.0.as_str()
        ))
        .map_err(ConnectError::Session)
    }
}

/// A pool with one connection per worker, built as player-guard's pool is, with
/// `tidb_txn_mode` set on each connection when asked and the settings' timeout
/// for getting a connection.
pub(crate) fn pool(bank_url: &DatabaseUrl, settings: &Settings) -> Result<Pool, BankError> {
    let size = u32::try_from(settings.workers).unwrap_or(u32::MAX);
    let mut builder = player_guard::pool_builder(size).connection_timeout(settings.connect_timeout);
    if let Some(mode) = settings.txn_mode {
        builder = builder.connection_customizer(Box::new(SetTxnMode(mode)));
    }
    Ok(player_guard::build_pool(bank_url, builder)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_as_tidb_does() {
        assert!(same_name("player_bank", "PLAYER_Bank"));
        // U+212A KELVIN SIGN lowercases to `k`.
        assert!(same_name("player_ban\u{212A}", "player_bank"));
        assert!(!same_name("player_bank", "player_bank2"));
    }

    #[test]
    fn ids_sort_in_creation_order_and_fit_the_column() {
        assert_eq!(player_id(7).as_str(), "bank-0000007");
        assert!(player_id(9) < player_id(10));
        assert_eq!(player_id(9_999_999).as_str().len(), 12);
        assert_eq!(player_index("bank-0000007"), Some(7));
        assert_eq!(player_index("bank-12345678"), Some(12_345_678));
        for other in ["bank-7", "bank-+000007", "alice", "bank-x"] {
            assert_eq!(player_index(other), None, "{other}");
        }
    }
}
