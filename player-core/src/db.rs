//! Connecting to TiDB (or any MySQL-compatible server) from a `DATABASE_URL`,
//! with errors that say what went wrong and never show the password.

use std::fmt;
use std::str::FromStr;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;

/// The tutorial's server: a local `tiup playground` or `scripts/local-db.sh start`.
pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:4000/test";

/// What a masked password shows as.
const MASK: &str = "***";

/// A checked `mysql://` URL. Its `Display` and `Debug` mask the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(url::Url);

/// Errors of [`DatabaseUrl::from_str`] and [`connect`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL cannot be parsed or is not a `mysql://` URL. The message never
    /// repeats the URL, which may hold a password.
    #[error("DATABASE_URL is not a valid MySQL URL: {0}")]
    InvalidUrl(String),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL with its password masked.
        url: String,
        /// The client library's message, with the password masked.
        message: String,
    },
}

impl ConnectError {
    /// A next step for the user, where one is known.
    pub fn hint(&self) -> Option<&'static str> {
        let ConnectError::Connect { message, .. } = self else {
            return Some(
                "the form is mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, with special characters percent-encoded",
            );
        };
        if message.contains("Can't connect") || message.contains("Unknown MySQL server host") {
            Some(
                "is the server running? Start the local one with `scripts/local-db.sh start`, or set DATABASE_URL",
            )
        } else if message.contains("Access denied") {
            Some(
                "check the user and password in DATABASE_URL (percent-encode special characters; TiDB Cloud users carry a prefix such as `xxxxxxxx.root`)",
            )
        } else if message.contains("Unknown database") {
            Some(
                "create the database first (CREATE DATABASE name) or change the path of DATABASE_URL",
            )
        } else {
            None
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = ConnectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let url = url::Url::parse(s).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        if url.scheme() != "mysql" {
            return Err(ConnectError::InvalidUrl(format!(
                "the scheme must be mysql://, not {}://",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConnectError::InvalidUrl("the host is missing".into()));
        }
        if url.path_segments().is_some_and(|mut s| s.nth(1).is_some()) {
            return Err(ConnectError::InvalidUrl(
                "the path must be a single database name".into(),
            ));
        }
        Ok(Self(url))
    }
}

impl DatabaseUrl {
    /// The full URL, password included: pass it to the driver, never print it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The database the URL names, if any.
    pub fn database(&self) -> Option<&str> {
        self.0.path_segments()?.next().filter(|s| !s.is_empty())
    }

    /// The same server and credentials with another database.
    pub fn with_database(&self, database: &str) -> Self {
        let mut url = self.0.clone();
        url.set_path(database);
        Self(url)
    }

    /// The password as written in the URL (percent-encoded), if any.
    fn password(&self) -> Option<&str> {
        self.0.password().filter(|p| !p.is_empty())
    }

    /// Replaces every occurrence of the password, raw or decoded, with `***`.
    pub(crate) fn mask_in(&self, text: &str) -> String {
        let Some(raw) = self.password() else {
            return text.to_owned();
        };
        let decoded = url::form_urlencoded::parse(format!("p={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let masked = text.replace(raw, MASK);
        if decoded.is_empty() {
            masked
        } else {
            masked.replace(&decoded, MASK)
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL with its password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.0.clone();
        if self.password().is_some() {
            // Cannot fail: the URL has a host, since it has a password.
            let _ = url.set_password(Some(MASK));
        }
        f.write_str(url.as_str())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Opens one connection.
pub fn connect(url: &DatabaseUrl) -> Result<MysqlConnection, ConnectError> {
    tracing::debug!(%url, "connecting");
    MysqlConnection::establish(url.expose()).map_err(|e| ConnectError::Connect {
        url: url.to_string(),
        message: url.mask_in(&e.to_string()),
    })
}

/// A pool of connections, as [`pool`] builds it.
pub type Pool = diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<MysqlConnection>>;

/// A pool of up to `size` connections to `url`, for work spread over threads.
///
/// One connection is opened first so that a wrong URL or a stopped server is
/// reported at once, like [`connect`] does; then the pool opens its `size`
/// connections. Connections are checked with a ping when taken out, so one
/// the server dropped (restart, `KILL`) is replaced, not handed out.
pub fn pool(url: &DatabaseUrl, size: u32) -> Result<Pool, ConnectError> {
    connect(url)?;
    pool_builder(size)
        .build(diesel::r2d2::ConnectionManager::new(url.expose()))
        .map_err(|e| ConnectError::Connect {
            url: url.to_string(),
            message: url.mask_in(&e.to_string()),
        })
}

/// The settings [`pool`] uses, to add a connection customizer before building.
pub fn pool_builder(
    size: u32,
) -> diesel::r2d2::Builder<diesel::r2d2::ConnectionManager<MysqlConnection>> {
    Pool::builder()
        .max_size(size.max(1))
        .test_on_check_out(true)
        .connection_timeout(std::time::Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> DatabaseUrl {
        s.parse().expect("valid URL")
    }

    #[test]
    fn display_masks_the_password() {
        let url = parse("mysql://u.root:s%40cret@example.com:4000/test?ssl_mode=verify_identity");
        let shown = url.to_string();
        assert_eq!(
            shown,
            "mysql://u.root:***@example.com:4000/test?ssl_mode=verify_identity"
        );
        assert!(!format!("{url:?}").contains("cret"));
        assert_eq!(url.database(), Some("test"));
    }

    #[test]
    fn mask_in_hides_raw_and_decoded_password() {
        let url = parse("mysql://root:p%40ss@h/db");
        assert_eq!(url.mask_in("x p%40ss y p@ss z"), "x *** y *** z");
    }

    #[test]
    fn rejects_what_is_not_a_mysql_url() {
        for bad in [
            "",
            "not a url",
            "postgres://root@h/db",
            "mysql:///db",
            "mysql://h/a/b",
        ] {
            assert!(
                matches!(bad.parse::<DatabaseUrl>(), Err(ConnectError::InvalidUrl(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn invalid_url_error_never_repeats_the_input() {
        let err = "mysql://root:hunter2@[bad/db"
            .parse::<DatabaseUrl>()
            .expect_err("invalid");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn with_database_keeps_credentials() {
        let url = parse("mysql://root:pw@h:4000/test?ssl_mode=required").with_database("other");
        assert_eq!(
            url.expose(),
            "mysql://root:pw@h:4000/other?ssl_mode=required"
        );
    }
}
