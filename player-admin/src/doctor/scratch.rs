//! Behaviour, in a scratch database of doctor's own: created (with the
//! migrations, so its `player` table is the application's), used by the
//! checks below, and dropped before [`checks`] returns, on every path.
//!
//! - `trailing_spaces`: `a` then `a ` is a duplicate key, and `A` is not.
//! - `check_enforced`: a negative balance is refused by the CHECK constraint.
//! - `update_row_count`: the joined `UPDATE` of two rows reports 2. Diesel
//!   connects with `CLIENT_FOUND_ROWS` (matched rows, not changed rows); a
//!   trade changes both rows, so either count is 2, and the trade takes any
//!   other number for an error. The trade itself then runs once.
//! - `opposite_trades`: a→b and b→a on two connections, forced to overlap
//!   (a third connection holds `a`'s row lock until both wait), both complete
//!   with no retry, so neither met a deadlock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Integer, Text};
use player_core::db::DatabaseUrl;
use player_core::retry::{ErrorClass, RetryPolicy, Retryable, classify};
use player_core::schema::player;
use player_core::{PlayerId, Trade, TradeError, TradeOutcome, Traded, migrations};

use super::server::{Facts, Kind};
use super::{Check, DoctorError, Options, Session};
use crate::catalog;

/// How long the opposite trades are given to be seen waiting together.
const OVERLAP_WAIT: Duration = Duration::from_secs(5);

/// The scratch database, dropped when this is (on an early return or a
/// panic too); [`Scratch::drop_now`] drops it and says how that went.
struct Scratch {
    admin: Session,
    url: DatabaseUrl,
    name: String,
    dropped: bool,
}

impl Scratch {
    /// `DROP DATABASE` on the admin connection, or on a new one if that one
    /// stalled; the error text when neither could.
    fn drop_now(&mut self) -> Result<(), String> {
        self.dropped = true;
        let sql = format!(
            "DROP DATABASE IF EXISTS {}",
            catalog::quote_identifier(&self.name)
        );
        let first = match self.admin.step(|c| c.batch_execute(&sql)) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        let stall = self.admin.stall;
        match Session::open(&self.url, stall).map(|mut s| s.step(|c| c.batch_execute(&sql))) {
            Ok(Ok(Ok(()))) => Ok(()),
            _ => Err(first),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.dropped {
            let _ = self.drop_now();
        }
    }
}

/// The scratch database's rows: first one saying it was created and dropped,
/// then the behaviour checks.
pub(super) fn checks(
    url: &DatabaseUrl,
    options: &Options,
    facts: &Facts,
) -> Result<Vec<Check>, DoctorError> {
    const NAME: &str = "scratch_database";
    let name = options.scratch.as_str();
    let server = url.with_database("");
    if let Err(e) = catalog::check_database_name(name) {
        return Ok(vec![Check::fail(
            NAME,
            e.to_string(),
            "use a name made by doctor::scratch_name",
        )]);
    }
    let mut admin = Session::open(&server, options.stall)?;
    let create = format!("CREATE DATABASE {}", catalog::quote_identifier(name));
    // No IF NOT EXISTS: a database of that name that was there already is not ours to drop.
    if let Err(e) = admin.step(|c| c.batch_execute(&create))? {
        return Ok(vec![Check::warn(
            NAME,
            format!("cannot create {name}, so the behaviour checks did not run: {e}"),
            "run doctor as a user allowed to CREATE and DROP a database (only databases named player_doctor_... are touched)",
        )]);
    }
    let mut scratch = Scratch {
        admin,
        url: server,
        name: name.to_owned(),
        dropped: false,
    };
    let rows = behaviour(&url.with_database(name), options.stall, facts);
    let dropped = scratch.drop_now();
    let mut rows = rows?;
    rows.insert(
        0,
        match dropped {
            Ok(()) => Check::pass(
                NAME,
                format!("created {name} for the checks below, then dropped it"),
            ),
            Err(e) => Check::warn(
                NAME,
                format!("created {name} for the checks below, but could not drop it: {e}"),
                format!("DROP DATABASE {}", catalog::quote_identifier(name)),
            ),
        },
    );
    Ok(rows)
}

/// The behaviour checks, on the scratch database at `url`.
fn behaviour(url: &DatabaseUrl, stall: Duration, facts: &Facts) -> Result<Vec<Check>, DoctorError> {
    let mut conn = Session::open(url, stall)?;
    if let Err(e) = conn.step(migrations::run_pending)? {
        return Ok(vec![Check::fail(
            "trailing_spaces",
            format!("cannot create the player table in the scratch database: {e}"),
            "run doctor as a user allowed to CREATE TABLE",
        )]);
    }
    let mut checks = Vec::new();
    let padded = conn.step(|c| {
        insert(c, "pad")?;
        Ok::<_, DieselError>((
            Insert::of(insert(c, "pad "))?,
            Insert::of(insert(c, "PAD"))?,
        ))
    })?;
    checks.push(match padded {
        Ok((padded, upper)) => trailing_spaces_check(padded, upper),
        Err(e) => Check::refused("trailing_spaces", &e),
    });

    let negative = conn.step(|c| {
        diesel::update(player::table.filter(player::id.eq("pad")))
            .set(player::coins.eq(-1))
            .execute(c)
    })?;
    checks.push(check_enforced_check(
        negative.map_err(|e| e.to_string()),
        facts.kind,
        facts.tidb_check_constraint(),
    ));

    let (a, b) = (id("a"), id("b"));
    let counted = conn.step(|c| {
        insert_with(c, "a", 100, 100)?;
        insert_with(c, "b", 100, 100)?;
        let changed = joined_update(c, "x.goods = x.goods + 1, y.goods = y.goods - 1")?;
        let unchanged = joined_update(c, "x.goods = x.goods, y.goods = y.goods")?;
        Ok::<_, DieselError>((changed, unchanged))
    })?;
    let traded = conn.step(|c| trade_once(c, &trade(&a, &b)))?;
    let after = conn.step(balances)?;
    checks.push(match counted {
        Ok((changed, unchanged)) => update_count_check(
            changed,
            unchanged,
            traded_as(traded),
            after.ok() == Some(vec![(101, 100), (99, 100)]),
        ),
        Err(e) => Check::refused("update_row_count", &e),
    });

    checks.push(opposite_trades(&mut conn, url, stall, &a, &b)?);
    Ok(checks)
}

fn id(s: &str) -> PlayerId {
    PlayerId::new(s).unwrap_or_else(|e| unreachable!("{s:?} is a valid id: {e}"))
}

fn trade<'a>(seller: &'a PlayerId, buyer: &'a PlayerId) -> Trade<'a> {
    Trade {
        seller,
        buyer,
        amount: 1,
        price: 1,
    }
}

/// The one call of the trade: with no retry, so that a deadlock or a
/// conflict shows as the error it is instead of being retried away.
fn trade_once(conn: &mut MysqlConnection, trade: &Trade) -> Result<Traded, TradeError> {
    player_core::trade(conn, trade, &RetryPolicy::NEVER)
}

fn insert(conn: &mut MysqlConnection, id: &str) -> QueryResult<usize> {
    insert_with(conn, id, 0, 0)
}

/// An `INSERT` written as SQL, which Diesel never keeps prepared: the
/// duplicate key these checks provoke cannot then poison the next `INSERT`
/// (Diesel 2.3 replays the error of a failed cached statement, see
/// `player_core`'s statement cache).
fn insert_with(conn: &mut MysqlConnection, id: &str, coins: i32, goods: i32) -> QueryResult<usize> {
    diesel::sql_query("INSERT INTO player (id, coins, goods) VALUES (?, ?, ?)")
        .bind::<Text, _>(id)
        .bind::<Integer, _>(coins)
        .bind::<Integer, _>(goods)
        .execute(conn)
}

/// The trade's shape: one table under two aliases, both rows by primary key.
fn joined_update(conn: &mut MysqlConnection, set: &str) -> QueryResult<usize> {
    // `set` is one of this module's constants.
    diesel::sql_query(format!(
        "UPDATE player AS x JOIN player AS y ON x.id = ? AND y.id = ? SET {set}"
    ))
    .bind::<Text, _>("a")
    .bind::<Text, _>("b")
    .execute(conn)
}

/// `(coins, goods)` of `a` and `b`, in id order.
fn balances(conn: &mut MysqlConnection) -> QueryResult<Vec<(i32, i32)>> {
    player::table
        .filter(player::id.eq("a").or(player::id.eq("b")))
        .order(player::id)
        .select((player::coins, player::goods))
        .load(conn)
}

/// How an `INSERT` of an id came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insert {
    Inserted,
    Duplicate,
}

impl Insert {
    /// A duplicate key is an answer; any other error is the server refusing.
    fn of(result: QueryResult<usize>) -> QueryResult<Self> {
        match result {
            Ok(_) => Ok(Insert::Inserted),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Ok(Insert::Duplicate)
            }
            Err(e) => Err(e),
        }
    }
}

/// After `pad`: `pad ` must be a duplicate (PAD SPACE), `PAD` a row of its own.
fn trailing_spaces_check(padded: Insert, upper: Insert) -> Check {
    const NAME: &str = "trailing_spaces";
    match (padded, upper) {
        (Insert::Duplicate, Insert::Inserted) => Check::pass(
            NAME,
            "after `pad`, `pad ` is a duplicate key and `PAD` a new row: utf8mb4_bin is PAD SPACE and case-sensitive here, as PlayerId compares",
        ),
        (Insert::Inserted, _) => Check::fail(
            NAME,
            "after `pad`, `pad ` was inserted as a second row: this server's utf8mb4_bin is NO PAD, while PlayerId calls the two ids one player",
            "keep trailing spaces out of ids (trim them before PlayerId::new), and report the server version",
        ),
        (Insert::Duplicate, Insert::Duplicate) => Check::fail(
            NAME,
            "after `pad`, `PAD` is a duplicate key: this server's utf8mb4_bin ignores case, while PlayerId calls the two ids two players",
            "report the server version: utf8mb4_bin is case-sensitive on TiDB, MySQL and MariaDB",
        ),
    }
}

/// A negative balance must be refused by the migration's CHECK constraint.
fn check_enforced_check(
    result: Result<usize, String>,
    kind: Kind,
    tidb_switch: Option<bool>,
) -> Check {
    const NAME: &str = "check_enforced";
    match result {
        Err(message) if message.to_ascii_lowercase().contains("constraint") => {
            Check::pass(NAME, format!("a negative balance is refused: {message}"))
        }
        Err(message) => Check::fail(
            NAME,
            format!("the test UPDATE failed otherwise: {message}"),
            "run doctor as a user allowed to UPDATE",
        ),
        Ok(_) => {
            let hint = match (kind, tidb_switch) {
                (Kind::TiDb, Some(false)) => {
                    "SET GLOBAL tidb_enable_check_constraint = ON before the player table is created (then add the constraints, see player.checks)"
                }
                (Kind::TiDb, _) => {
                    "upgrade TiDB to v7.2 or later and SET GLOBAL tidb_enable_check_constraint = ON"
                }
                (Kind::MariaDb, _) => {
                    "SET GLOBAL check_constraint_checks = ON (MariaDB enforces CHECK unless that is OFF)"
                }
                (Kind::MySql, _) => {
                    "upgrade MySQL to 8.0.16 or later, which enforces CHECK constraints"
                }
            };
            Check::warn(
                NAME,
                "a balance of -1 was written: CHECK constraints are not enforced here (the trade never relies on them)",
                hint,
            )
        }
    }
}

/// How a trade ran, for the verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ran {
    Done,
    /// Refused by the balances, which the checks set up to allow it.
    Refused,
    /// Rolled back by the server with this retryable error (no retry allowed).
    Retryable(Retryable),
    Failed(String),
}

fn traded_as(result: Result<Traded, TradeError>) -> Ran {
    match result {
        Ok(Traded {
            outcome: TradeOutcome::Done,
            ..
        }) => Ran::Done,
        Ok(_) => Ran::Refused,
        Err(e) => retryable_cause(&e).map_or_else(|| Ran::Failed(e.to_string()), Ran::Retryable),
    }
}

/// The retryable server error in `error`'s chain of sources, if one is there
/// (with no retry allowed, the trade hands back the first one it meets).
fn retryable_cause(error: &(dyn std::error::Error + 'static)) -> Option<Retryable> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(ErrorClass::Retryable(reason)) =
            error.downcast_ref::<DieselError>().map(classify)
        {
            return Some(reason);
        }
        next = error.source();
    }
    None
}

fn update_count_check(changed: usize, unchanged: usize, trade: Ran, moved: bool) -> Check {
    const NAME: &str = "update_row_count";
    let found_rows = match unchanged {
        2 => "the client gets matched rows (CLIENT_FOUND_ROWS, which Diesel sets)",
        0 => "the client gets changed rows",
        _ => "the client gets neither matched nor changed rows",
    };
    let counts = format!(
        "a joined UPDATE of two rows reported {changed}, one changing nothing {unchanged}: {found_rows}"
    );
    match trade {
        Ran::Done if changed == 2 && moved => {
            Check::pass(NAME, format!("{counts}; a trade moved coins and goods"))
        }
        Ran::Done => Check::fail(
            NAME,
            format!(
                "{counts}; the trade reported done but the balances are not what it should have left"
            ),
            "report the server version: the trade relies on a joined UPDATE of two rows reporting 2",
        ),
        Ran::Failed(e) => Check::fail(
            NAME,
            format!("{counts}; the trade failed: {e}"),
            "report the server version: the trade relies on a joined UPDATE of two rows reporting 2",
        ),
        other => Check::fail(
            NAME,
            format!("{counts}; the trade, alone on its rows, came out {other:?}"),
            "report the server version: the trade relies on a joined UPDATE of two rows reporting 2",
        ),
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Two opposite trades on two connections, forced to overlap: `holder`
/// locks `a` (the smaller id) in a transaction; both trades then wait for it,
/// since the trade locks its rows in id order. Once both are seen waiting (or
/// after [`OVERLAP_WAIT`], or when both have ended) the lock is released.
fn opposite_trades(
    holder: &mut Session,
    url: &DatabaseUrl,
    stall: Duration,
    a: &PlayerId,
    b: &PlayerId,
) -> Result<Check, DoctorError> {
    const NAME: &str = "opposite_trades";
    let mut first = Session::open(url, stall)?;
    let mut second = Session::open(url, stall)?;
    let database = url.database().unwrap_or_default().to_owned();
    let locked = holder.step(|c| {
        c.batch_execute("UPDATE player SET coins = 100, goods = 100")?;
        c.batch_execute("BEGIN")?;
        player::table
            .filter(player::id.eq(a))
            .select(player::id)
            .for_update()
            .first::<PlayerId>(c)
    })?;
    if let Err(e) = locked {
        return Ok(Check::refused(NAME, &e));
    }
    let ended = AtomicUsize::new(0);
    let run = |session: &mut Session, seller: &PlayerId, buyer: &PlayerId| {
        let result = session.step(|c| trade_once(c, &trade(seller, buyer)));
        ended.fetch_add(1, Ordering::SeqCst);
        result.map(traded_as)
    };
    let (results, overlapped) = std::thread::scope(|scope| {
        let one = scope.spawn(|| run(&mut first, a, b));
        let two = scope.spawn(|| run(&mut second, b, a));
        let overlapped = wait_for_both(holder, &database, &ended);
        let released = holder.step(|c| c.batch_execute("ROLLBACK"));
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join()
                .unwrap_or_else(|_| Ok(Ran::Failed("the trade's thread panicked".into())))
        };
        (
            (join(one), join(two)),
            overlapped.and_then(|seen| released.map(|_| seen)),
        )
    });
    let overlapped = overlapped?;
    let (one, two) = (results.0?, results.1?);
    let after = holder.step(balances)?.ok();
    Ok(opposite_trades_check(
        overlapped,
        &one,
        &two,
        after == Some(vec![(100, 100), (100, 100)]),
    ))
}

/// Polls the process list until both trades' `UPDATE`s are running (waiting
/// for the holder's lock), both trades have ended, or [`OVERLAP_WAIT`] passed;
/// true when both were seen waiting.
fn wait_for_both(
    holder: &mut Session,
    database: &str,
    ended: &AtomicUsize,
) -> Result<bool, DoctorError> {
    let deadline = Instant::now() + OVERLAP_WAIT;
    loop {
        let waiting = holder.step(|c| {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
                 WHERE DB = ? AND INFO LIKE 'UPDATE %'",
            )
            .bind::<Text, _>(database)
            .get_result::<Count>(c)
        })?;
        match waiting {
            Ok(Count { n }) if n >= 2 => return Ok(true),
            Ok(_) => {}
            // Without the process list, the trades still run; only the overlap is unknown.
            Err(_) => return Ok(false),
        }
        if ended.load(Ordering::SeqCst) == 2 || Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn opposite_trades_check(overlapped: bool, one: &Ran, two: &Ran, conserved: bool) -> Check {
    const NAME: &str = "opposite_trades";
    const ORDER: &str = "the trade names the smaller id first in its UPDATE so that the server locks both rows in id order";
    let how = if overlapped {
        "both waited for a lock on the smaller id, then"
    } else {
        "they ran (not seen waiting together), then"
    };
    match (one, two) {
        (Ran::Done, Ran::Done) if conserved => Check::pass(
            NAME,
            format!(
                "a→b and b→a on two connections: {how} both completed with no retry and no deadlock"
            ),
        ),
        (Ran::Done, Ran::Done) => Check::fail(
            NAME,
            format!(
                "a→b and b→a: {how} both reported done, but the balances are not what two opposite trades leave"
            ),
            "report the server version: coins or goods were created or lost",
        ),
        (Ran::Retryable(Retryable::Deadlock), _) | (_, Ran::Retryable(Retryable::Deadlock)) => {
            Check::warn(
                NAME,
                format!(
                    "a→b and b→a: {how} one was chosen as a deadlock victim (1213): the server did not lock the rows in the order named; the trade retries it, at the cost of a retry"
                ),
                format!("keep RetryPolicy::max_retries above 0 on this server; {ORDER}"),
            )
        }
        (Ran::Retryable(reason), _) | (_, Ran::Retryable(reason)) => Check::warn(
            NAME,
            format!(
                "a→b and b→a: {how} one was rolled back with error {} ({reason:?}), which the trade retries",
                reason.code()
            ),
            "with tidb_txn_mode = 'optimistic' conflicts are expected: SET GLOBAL tidb_txn_mode = 'pessimistic' to queue instead",
        ),
        (first, second) => Check::fail(
            NAME,
            format!("a→b and b→a: {how} they came out {first:?} and {second:?}"),
            "report the server version: two opposite trades must both complete",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn trailing_spaces_pass_only_pad_space_and_case_sensitive() {
        use Insert::*;
        assert_eq!(
            trailing_spaces_check(Duplicate, Inserted).status,
            Status::Pass
        );
        let no_pad = trailing_spaces_check(Inserted, Inserted);
        assert_eq!(no_pad.status, Status::Fail);
        assert!(no_pad.detail.contains("NO PAD"));
        assert_eq!(
            trailing_spaces_check(Duplicate, Duplicate).status,
            Status::Fail
        );
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("Duplicate entry 'pad ' for key 'PRIMARY'".to_owned()),
        );
        assert_eq!(Insert::of(Err(unique)).ok(), Some(Duplicate));
        assert!(Insert::of(Err(DieselError::NotFound)).is_err());
    }

    #[test]
    fn an_unenforced_check_warns_with_the_servers_own_fix() {
        let refused = check_enforced_check(
            Err("CONSTRAINT `player_coins_non_negative` failed for `d`.`player`".into()),
            Kind::MariaDb,
            None,
        );
        assert_eq!(refused.status, Status::Pass);
        let tidb = check_enforced_check(Ok(1), Kind::TiDb, Some(false));
        assert_eq!(tidb.status, Status::Warn);
        assert!(
            tidb.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("SET GLOBAL tidb_enable_check_constraint = ON"))
        );
        assert!(
            check_enforced_check(Ok(1), Kind::MySql, None)
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("8.0.16"))
        );
        assert_eq!(
            check_enforced_check(Err("denied".into()), Kind::MySql, None).status,
            Status::Fail
        );
    }

    #[test]
    fn the_update_count_must_be_two_and_the_trade_done() {
        assert_eq!(
            update_count_check(2, 2, Ran::Done, true).status,
            Status::Pass
        );
        assert!(
            update_count_check(2, 0, Ran::Done, true)
                .detail
                .contains("changed rows")
        );
        assert_eq!(
            update_count_check(1, 1, Ran::Done, true).status,
            Status::Fail
        );
        assert_eq!(
            update_count_check(2, 2, Ran::Done, false).status,
            Status::Fail
        );
        assert_eq!(
            update_count_check(2, 2, Ran::Failed("unexpected rows".into()), true).status,
            Status::Fail
        );
    }

    #[test]
    fn opposite_trades_pass_without_a_deadlock_and_warn_with_one() {
        assert_eq!(
            opposite_trades_check(true, &Ran::Done, &Ran::Done, true).status,
            Status::Pass
        );
        assert!(
            opposite_trades_check(false, &Ran::Done, &Ran::Done, true)
                .detail
                .contains("not seen")
        );
        assert_eq!(
            opposite_trades_check(true, &Ran::Done, &Ran::Done, false).status,
            Status::Fail
        );
        let deadlock =
            opposite_trades_check(true, &Ran::Retryable(Retryable::Deadlock), &Ran::Done, true);
        assert_eq!(deadlock.status, Status::Warn);
        assert!(deadlock.detail.contains("1213"));
        let conflict = opposite_trades_check(
            true,
            &Ran::Done,
            &Ran::Retryable(Retryable::WriteConflict),
            true,
        );
        assert!(conflict.detail.contains("9007"));
        let failed = opposite_trades_check(true, &Ran::Failed("lost".into()), &Ran::Done, true);
        assert_eq!(failed.status, Status::Fail);
    }

    /// An error that carries a server error as its source, as the trade's
    /// "retries exhausted" does.
    #[derive(Debug, thiserror::Error)]
    #[error("still failing after 0 retries")]
    struct Exhausted(#[source] DieselError);

    #[test]
    fn a_deadlock_with_no_retry_allowed_is_told_from_other_failures() {
        let deadlock = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(
                "Deadlock found when trying to get lock; try restarting transaction".to_owned(),
            ),
        );
        assert_eq!(
            retryable_cause(&Exhausted(deadlock)),
            Some(Retryable::Deadlock)
        );
        assert_eq!(retryable_cause(&Exhausted(DieselError::NotFound)), None);
        assert!(matches!(
            traded_as(Err(TradeError::UnknownPlayer(id("a")))),
            Ran::Failed(_)
        ));
    }
}
