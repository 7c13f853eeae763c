//! Migrating a database that may already hold a `player` table, one run at a
//! time.
//!
//! Diesel records a migration only after it ran, and MySQL (TiDB too) commits
//! each DDL statement at once, so a run cut after `CREATE TABLE player`, or a
//! table made by hand or by the peewee tutorial, leaves a `player` table that
//! Diesel does not know: every later run would fail with `Table 'player'
//! already exists`. [`migrate`] looks at such a table first. Of the shape the
//! first migration makes, it is adopted: its version is recorded, and the run
//! goes on. A shape that differs only where one `ALTER TABLE` fixes it without
//! losing data (a collation other than `utf8mb4_bin`, balances that allow
//! NULL, as peewee's do) is refused with that statement; any other shape is
//! refused with what differs. `CHECK` constraints are not compared: TiDB
//! drops them unless told to keep them, and the code never relies on them.
//!
//! Concurrent runs on one database (`setup`, `migrate`, the scenarios) take a
//! named lock ([`crate::lock`]) in turn instead of racing to create the table.

use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Unsigned};
use player_core::migrations::{self, __diesel_schema_migrations, MigrationError};

use crate::lock::{Held, NamedLock};

/// How long a run waits for another one to finish migrating the same
/// database: as long as the server's default lock wait (50 s), so that the
/// CLI's per-step deadline (65 s) outlasts it.
pub const LOCK_WAIT: Duration = Duration::from_secs(50);

/// What [`migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Versions applied by this run, oldest first.
    pub applied: Vec<String>,
    /// The first migration's name, when the `player` table already there was
    /// recorded as made by it instead of being made.
    pub adopted: Option<String>,
}

/// Why [`migrate`] did not bring the database up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Another session held the database's migration lock all along.
    #[error(
        "another run is migrating database `{database}` (it holds the lock {lock}); gave up after {} s",
        .waited.as_secs()
    )]
    Busy {
        /// The database.
        database: String,
        /// The lock's name on the server.
        lock: String,
        /// How long this run waited.
        waited: Duration,
    },
    /// A `player` table Diesel has not recorded, which one statement would
    /// make adoptable.
    #[error(
        "the player table exists but no migration made it, and it differs from the migration's: {differences}; to adopt it, run `{statement}` and then this command again"
    )]
    Fixable {
        /// What differs, `; `-separated.
        differences: String,
        /// The `ALTER TABLE` that makes it the migration's shape.
        statement: String,
    },
    /// A `player` table of another shape.
    #[error(
        "the player table exists but no migration made it, and its shape is not the migration's: {0}; rename or drop it, or use another database"
    )]
    Foreign(String),
    /// The migrations failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// Reading the catalog or taking the lock failed.
    #[error("cannot prepare the migrations")]
    Database(#[from] diesel::result::Error),
}

/// Takes the database's migration lock, adopts or refuses a `player` table
/// the first migration did not record (see the module documentation),
/// applies the pending migrations and releases the lock.
pub fn migrate(conn: &mut MysqlConnection) -> Result<Migrated, MigrateError> {
    let database: Option<String> =
        diesel::select(diesel::dsl::sql::<Nullable<Text>>("DATABASE()")).get_result(conn)?;
    let database = database.unwrap_or_default();
    let lock = match NamedLock::acquire(conn, "migrate", &database, LOCK_WAIT)? {
        Ok(lock) => lock,
        Err(Held(lock)) => {
            return Err(MigrateError::Busy {
                database,
                lock,
                waited: LOCK_WAIT,
            });
        }
    };
    let result = adopt_and_apply(conn);
    // Closing the connection releases it too; a failed release is no error.
    let _ = lock.release(conn);
    result
}

fn adopt_and_apply(conn: &mut MysqlConnection) -> Result<Migrated, MigrateError> {
    let pending_first = migrations::status(conn)?
        .into_iter()
        .next()
        .filter(|m| !m.applied);
    let mut adopted = None;
    if let Some(first) = pending_first {
        let columns = columns(conn)?;
        if !columns.is_empty() {
            check_shape(&columns)?;
            record(conn, &first.version)?;
            adopted = Some(first.name);
        }
    }
    let applied = migrations::run_pending(conn)?;
    Ok(Migrated { applied, adopted })
}

/// Records `version` as applied, creating Diesel's table as Diesel does.
fn record(conn: &mut MysqlConnection, version: &str) -> QueryResult<()> {
    diesel::sql_query(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\
         version VARCHAR(50) PRIMARY KEY NOT NULL, \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .execute(conn)?;
    diesel::insert_into(__diesel_schema_migrations::table)
        .values(__diesel_schema_migrations::version.eq(version))
        .execute(conn)
        .map(drop)
}

/// One column of `player` as `information_schema.columns` describes it.
#[derive(Debug, Clone, QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Nullable<Unsigned<BigInt>>)]
    length: Option<u64>,
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
    #[diesel(sql_type = Text)]
    key: String,
}

fn columns(conn: &mut MysqlConnection) -> QueryResult<Vec<Column>> {
    diesel::sql_query(
        "SELECT column_name AS name, LOWER(data_type) AS data_type, \
         LOWER(column_type) AS column_type, \
         CAST(character_maximum_length AS UNSIGNED) AS length, is_nullable AS nullable, \
         collation_name AS collation, column_key AS `key` \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = 'player' \
         ORDER BY ordinal_position",
    )
    .load(conn)
}

/// `Ok` for the first migration's shape; else what differs, with the
/// statement that fixes it when one does.
fn check_shape(columns: &[Column]) -> Result<(), MigrateError> {
    let mut fixes = Vec::new();
    let mut differences = Vec::new();
    let mut foreign = Vec::new();
    let find = |name: &str| columns.iter().find(|c| c.name.eq_ignore_ascii_case(name));
    for c in columns {
        if !["id", "coins", "goods"]
            .iter()
            .any(|n| c.name.eq_ignore_ascii_case(n))
        {
            foreign.push(format!(
                "it has a column `{}` the migration does not make",
                c.name
            ));
        }
    }
    match find("id") {
        None => foreign.push("it has no column `id`".into()),
        Some(id) => {
            if id.data_type != "varchar" || id.length != Some(36) {
                foreign.push(format!("id is {}, not varchar(36)", id.column_type));
            }
            if id.key != "PRI" || columns.iter().filter(|c| c.key == "PRI").count() != 1 {
                foreign.push("the primary key is not (id)".into());
            }
            let collation = id.collation.as_deref().unwrap_or("none");
            if collation != "utf8mb4_bin" && id.data_type == "varchar" {
                differences.push(format!(
                    "id has the collation {collation}, not utf8mb4_bin (ids would compare ignoring case)"
                ));
                fixes.push(
                    "MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
                );
            }
        }
    }
    for (name, fix) in [
        ("coins", "MODIFY coins INT NOT NULL"),
        ("goods", "MODIFY goods INT NOT NULL"),
    ] {
        match find(name) {
            None => foreign.push(format!("it has no column `{name}`")),
            Some(c) if c.data_type != "int" || c.column_type.contains("unsigned") => {
                foreign.push(format!("{name} is {}, not int", c.column_type));
            }
            Some(c) if c.nullable != "NO" => {
                differences.push(format!("{name} allows NULL"));
                fixes.push(fix);
            }
            Some(_) => {}
        }
    }
    if !foreign.is_empty() {
        foreign.extend(differences);
        return Err(MigrateError::Foreign(foreign.join("; ")));
    }
    if !differences.is_empty() {
        return Err(MigrateError::Fixable {
            differences: differences.join("; "),
            statement: format!("ALTER TABLE player {}", fixes.join(", ")),
        });
    }
    Ok(())
}
