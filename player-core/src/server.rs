//! What a connection is talking to: server version, whether the session is
//! encrypted and with which cipher, and on TiDB the transaction mode.

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

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

fn single(conn: &mut MysqlConnection, sql: &str) -> QueryResult<Option<String>> {
    Ok(diesel::sql_query(sql)
        .get_result::<Single>(conn)
        .optional()?
        .and_then(|row| row.value))
}

#[cfg(test)]
mod tests {
    use super::is_tidb;

    #[test]
    fn tidb_is_recognised_by_its_version_string() {
        assert!(is_tidb("8.0.11-TiDB-v8.5.1"));
        assert!(is_tidb("5.7.25-TiDB-v7.5.0-serverless"));
        assert!(!is_tidb("10.11.19-MariaDB-0+deb12u1"));
        assert!(!is_tidb("8.0.40"));
    }
}
