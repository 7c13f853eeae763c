//! The bank workload: many workers trading at random between players seeded
//! with known totals, then one consistent read that checks that nothing was
//! created, destroyed or overdrawn, and that every player holds exactly its
//! seed plus the trades the workers were told were done (a [`Reconciliation`],
//! which also finds out which trades of unknown outcome were applied). It is
//! how TiDB's own bank tests exercise transactions, here run with
//! [`player_core::trade()`] or its one-statement form.
//!
//! One entry point, [`run`], does it all and returns a [`Summary`]; the CLI's
//! `bank` command and the tests call it. [`Bank::prepare`] and
//! [`Bank::run_with`] split it, to run another trade function (the tests show
//! with some that the check catches a trade without locks, and one whose
//! report lies). [`Progress::request_stop`] stops a run early (on Ctrl-C) and
//! still checks it.
//!
//! The bank works in a database of its own and refuses any other: the
//! database of the URL it is given, a database with tables that are not its
//! own, or a `player` table with ids it did not create. One run at a time
//! works a bank database: a run holds its named lock (`GET_LOCK`) throughout,
//! and a second one is refused ([`BankError::InUse`]) before it changes
//! anything.
#![warn(missing_docs)]

mod error;
mod reconcile;
mod settings;
mod setup;
mod summary;
mod workers;

pub use error::BankError;
pub use reconcile::{Mismatch, ReconcileStatus, Reconciliation};
pub use settings::{
    DEFAULT_DATABASE, Limit, MAX_PLAYERS, Settings, TradeForm, TxnMode, check_database_name,
};
pub use setup::{ID_PREFIX, player_id};
pub use summary::{Check, Summary, Totals};
pub use workers::{Progress, TradeFn};

use player_core::db::DatabaseUrl;
use player_guard::Pool;

/// Prepares the bank's database on the server of `url` and runs the workload
/// there with the settings' trade form; see [`Bank`].
pub fn run(
    url: &DatabaseUrl,
    settings: &Settings,
    progress: &Progress,
) -> Result<Summary, BankError> {
    Bank::prepare_watching(url, settings, progress)?.run(progress)
}

/// A bank ready to run: its database checked, migrated and seeded, a pool
/// with a connection per worker, and the bank database's lock, held until the
/// bank is dropped so that a second run on the same database is refused.
pub struct Bank {
    settings: Settings,
    url: DatabaseUrl,
    totals: Totals,
    pool: Pool,
    _lock: setup::RunLock,
}

impl Bank {
    /// Checks the settings (nothing is sent to a server before they pass),
    /// refuses a database that may hold someone's data, creates the bank's
    /// database if missing, applies the migrations, seeds the players and
    /// opens the pool. With [`Settings::txn_mode`], the server must be TiDB.
    ///
    /// First it takes the bank database's named lock, without waiting: while
    /// another run holds it, this one fails with [`BankError::InUse`] having
    /// changed nothing.
    pub fn prepare(url: &DatabaseUrl, settings: &Settings) -> Result<Self, BankError> {
        Self::prepare_watching(url, settings, &Progress::default())
    }

    /// [`Bank::prepare`], counting the players seeded in
    /// [`Progress::seeded`] and stopping between batches when a stop is
    /// requested.
    pub fn prepare_watching(
        url: &DatabaseUrl,
        settings: &Settings,
        progress: &Progress,
    ) -> Result<Self, BankError> {
        settings.validate()?;
        let lock = setup::RunLock::take(url, &settings.database)?;
        let url = setup::open_database(url, settings)?;
        let totals = setup::seed(&url, settings, progress)?;
        let pool = setup::pool(&url, settings)?;
        Ok(Self {
            settings: settings.clone(),
            url,
            totals,
            pool,
            _lock: lock,
        })
    }

    /// The URL of the bank's database.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// What the seeded players hold in total.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Runs the workload with the trade form of the settings, then checks.
    pub fn run(&self, progress: &Progress) -> Result<Summary, BankError> {
        match self.settings.trade {
            TradeForm::Transactional => self.run_with(progress, &player_core::trade),
            TradeForm::OneStatement => {
                self.run_with(progress, &player_core::trade_in_one_statement)
            }
        }
    }

    /// Runs the workload with another trade function, then checks the
    /// invariants and reconciles every player's balances with the trades the
    /// function reported (unless the run stopped because the server could not
    /// be reached, and still cannot).
    ///
    /// The reconciliation trusts the function's word: `Ok` with
    /// [`TradeOutcome::Done`](player_core::TradeOutcome::Done) means applied
    /// once, [`TransactionError::OutcomeUnknown`](player_core::TransactionError::OutcomeUnknown)
    /// means applied or not, and anything else means not applied.
    pub fn run_with(&self, progress: &Progress, trade: &TradeFn) -> Result<Summary, BankError> {
        let ledger = reconcile::Ledger::new(self.settings.players);
        let report = workers::run(&self.pool, &self.settings, progress, trade, &ledger);
        let book = ledger.into_book();
        let check = match self.pool.get() {
            Ok(mut conn) => summary::check(&mut conn, &self.totals, &self.settings, &book),
            Err(e) => Err(BankError::Unreachable(e)),
        };
        let check = match check {
            Ok(check) => Some(check),
            Err(e) if report.aborted.is_some() => {
                tracing::warn!(%e, "no check after an aborted run");
                None
            }
            Err(e) => return Err(e),
        };
        Ok(Summary::new(
            &self.settings,
            progress,
            &report,
            check.as_ref(),
        ))
    }
}
