//! What the server says about itself and its contents: its version and the
//! session's TLS cipher, its per-session command counters, and the databases
//! and tables it has.

use std::collections::BTreeMap;

use diesel::dsl::count_star;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

diesel::table! {
    /// The server's list of tables (MySQL, MariaDB and TiDB alike).
    information_schema.tables (table_schema, table_name) {
        /// Database of the table.
        table_schema -> VarChar,
        /// Name of the table.
        table_name -> VarChar,
    }
}

diesel::table! {
    /// The server's list of databases.
    information_schema.schemata (schema_name) {
        /// Name of the database.
        schema_name -> VarChar,
    }
}

/// Facts about the server and the session, as [`server_info`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `SELECT VERSION()`, e.g. `8.0.11-TiDB-v8.5.1` or `10.11.6-MariaDB`.
    pub version: String,
    /// The session's TLS cipher (`Ssl_cipher`); `None` when the session is plaintext.
    pub tls_cipher: Option<String>,
    /// The session's TLS protocol (`Ssl_version`), e.g. `TLSv1.3`; `None` when plaintext.
    pub tls_version: Option<String>,
    /// TiDB's `@@tidb_txn_mode` (`pessimistic` or `optimistic`); `None` on other servers.
    pub tidb_txn_mode: Option<String>,
}

impl ServerInfo {
    /// True when the server is TiDB (its version string says so).
    pub fn is_tidb(&self) -> bool {
        is_tidb(&self.version)
    }
}

/// What `SELECT VERSION()` answers.
pub fn version(conn: &mut MysqlConnection) -> QueryResult<String> {
    diesel::select(diesel::dsl::sql::<Text>("VERSION()")).get_result(conn)
}

/// True when a `VERSION()` string is TiDB's (e.g. `8.0.11-TiDB-v8.5.1`).
pub fn is_tidb(version: &str) -> bool {
    version.contains("TiDB")
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Text, column_name = "Variable_name")]
    name: String,
    #[diesel(sql_type = Text, column_name = "Value")]
    value: String,
}

#[derive(QueryableByName)]
struct Single {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Reads [`ServerInfo`] with three or four small statements; changes nothing.
pub fn server_info(conn: &mut MysqlConnection) -> QueryResult<ServerInfo> {
    let version = version(conn)?;
    let status: Vec<StatusRow> =
        diesel::sql_query("SHOW SESSION STATUS LIKE 'Ssl_%'").load(conn)?;
    let status_value = |name: &str| {
        status
            .iter()
            .find(|row| row.name.eq_ignore_ascii_case(name))
            .map(|row| row.value.clone())
            .filter(|v| !v.is_empty())
    };
    let mut info = ServerInfo {
        tls_cipher: status_value("Ssl_cipher"),
        tls_version: status_value("Ssl_version"),
        version,
        tidb_txn_mode: None,
    };
    if info.is_tidb() {
        info.tidb_txn_mode = single(conn, "SELECT @@tidb_txn_mode AS value")?;
    }
    Ok(info)
}

/// The tables of database `schema`, sorted by name.
pub fn tables_in(conn: &mut MysqlConnection, schema: &str) -> QueryResult<Vec<String>> {
    tables::table
        .filter(tables::table_schema.eq(schema))
        .select(tables::table_name)
        .order(tables::table_name)
        .load(conn)
}

/// True when the server lists a database named `name` (compared with the
/// collation of `information_schema`, which ignores case on MariaDB and TiDB).
pub fn database_exists(conn: &mut MysqlConnection, name: &str) -> QueryResult<bool> {
    schemata::table
        .filter(schemata::schema_name.eq(name))
        .select(count_star())
        .first::<i64>(conn)
        .map(|n| n > 0)
}

/// The longest database name MySQL, MariaDB and TiDB accept, in characters.
pub const MAX_DATABASE_NAME_LEN: usize = 64;

/// A name no server would take for a database, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` cannot be a database name: {reason}")]
pub struct InvalidDatabaseName {
    /// The name refused.
    pub name: String,
    /// Why.
    pub reason: &'static str,
}

/// Errors of [`create_database`].
#[derive(Debug, thiserror::Error)]
pub enum CreateDatabaseError {
    /// The name was refused before anything was sent.
    #[error(transparent)]
    InvalidName(#[from] InvalidDatabaseName),
    /// The server refused the statement (the user may lack the CREATE
    /// privilege). The cause is the source, so `{:#}` says it once.
    #[error("cannot create the database")]
    Database(#[from] diesel::result::Error),
}

/// Checks `name` against the rules MySQL and TiDB share for a quoted
/// database name: 1 to 64 characters of the Basic Multilingual Plane, no NUL,
/// no trailing space. Backticks are allowed (quoting doubles them).
pub fn check_database_name(name: &str) -> Result<(), InvalidDatabaseName> {
    let refuse = |reason| {
        Err(InvalidDatabaseName {
            name: name.to_owned(),
            reason,
        })
    };
    let len = name.chars().count();
    if len == 0 {
        return refuse("it is empty");
    }
    if len > MAX_DATABASE_NAME_LEN {
        return refuse("it is longer than 64 characters");
    }
    if name.ends_with(' ') {
        return refuse("it ends with a space");
    }
    if name.chars().any(|c| c == '\0' || u32::from(c) > 0xFFFF) {
        return refuse("it holds NUL or a character outside the Basic Multilingual Plane");
    }
    Ok(())
}

/// `name` as a quoted identifier: in backticks, each backtick doubled.
/// DDL statements cannot bind names, so this is how they are spliced safely.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Creates the database `name` unless the server already lists it; true when
/// it was created. The name is checked ([`check_database_name`]) and quoted
/// ([`quote_identifier`]) before it reaches the server.
pub fn create_database(
    conn: &mut MysqlConnection,
    name: &str,
) -> Result<bool, CreateDatabaseError> {
    check_database_name(name)?;
    if database_exists(conn, name)? {
        // No CREATE: a user allowed into one database need not be allowed to create any.
        return Ok(false);
    }
    diesel::connection::SimpleConnection::batch_execute(
        conn,
        &format!("CREATE DATABASE IF NOT EXISTS {}", quote_identifier(name)),
    )?;
    Ok(true)
}

/// The session's command counters (`Com_select`, `Com_stmt_execute`...) and
/// `Questions`, by the server's names. MySQL and MariaDB keep them per
/// session; TiDB keeps none, and then the map is empty. Reading them counts as
/// one more statement on MariaDB. The benchmark and the tests count round
/// trips with them.
pub fn session_counters(conn: &mut MysqlConnection) -> QueryResult<BTreeMap<String, u64>> {
    let rows: Vec<StatusRow> = diesel::sql_query(
        "SHOW SESSION STATUS WHERE Variable_name = 'Questions' OR Variable_name LIKE 'Com\\_%'",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.name, r.value.parse().ok()?)))
        .collect())
}

/// This connection's id on the server, as `KILL` and the process list know it.
pub fn connection_id(conn: &mut MysqlConnection) -> QueryResult<u64> {
    diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Unsigned<diesel::sql_types::BigInt>,
    >("CONNECTION_ID()"))
    .get_result(conn)
}

/// Sends the smallest statement there is and returns when the server has
/// answered: one round trip.
pub fn round_trip(conn: &mut MysqlConnection) -> QueryResult<()> {
    diesel::connection::SimpleConnection::batch_execute(conn, "DO 1")
}

fn single(conn: &mut MysqlConnection, sql: &str) -> QueryResult<Option<String>> {
    Ok(diesel::sql_query(sql)
        .get_result::<Single>(conn)
        .optional()?
        .and_then(|row| row.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_checked_and_quoted() {
        assert_eq!(quote_identifier("a`b"), "`a``b`");
        assert_eq!(quote_identifier("plain"), "`plain`");
        for ok in ["test", "a`b", "my-db.2", "é".repeat(64).as_str()] {
            assert_eq!(check_database_name(ok), Ok(()), "{ok}");
        }
        for (bad, reason) in [
            ("", "empty"),
            (&"n".repeat(65), "longer than 64"),
            ("trailing ", "ends with a space"),
            ("nul\0", "NUL"),
            ("crab🦀", "Basic Multilingual Plane"),
        ] {
            let err = check_database_name(bad).expect_err(bad);
            assert!(err.to_string().contains(reason), "{bad:?}: {err}");
        }
    }

    #[test]
    fn tidb_is_recognised_by_its_version_string() {
        assert!(is_tidb("8.0.11-TiDB-v8.5.1"));
        assert!(is_tidb("5.7.25-TiDB-v7.5.0-serverless"));
        assert!(!is_tidb("10.11.19-MariaDB-0+deb12u1"));
        assert!(!is_tidb("8.0.40"));
    }
}
