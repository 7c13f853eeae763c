//! Connecting to TiDB (or any MySQL-compatible server) from a `DATABASE_URL`,
//! with errors that say what went wrong and never show the password.
//!
//! The URL is checked before any connection is tried, TLS parameters included
//! (`tls`, private to this module): Diesel and the client library silently
//! ignore what they do not know, and a silently ignored `ssl_mode` is a
//! plaintext connection.

mod tls;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, R2D2Connection};

pub use tls::{SslMode, TlsError, TlsSettings};

/// The tutorial's server: a local `tiup playground` or `scripts/local-db.sh start`.
pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:4000/test";

/// How long connecting may take, unless the URL's `connect_timeout` (seconds)
/// says otherwise; sqlx-cli's default too. [`pool`] waits as long for a
/// connection; `player_guard::connect` gives up connecting after it.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `connect_timeout` a URL may ask for.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The address used for host `localhost` with a port: TCP on the loopback
/// interface, where the client library would try its Unix socket.
const LOCALHOST_TCP: &str = "127.0.0.1";

/// What a masked password shows as.
const MASK: &str = "***";

/// A checked `mysql://` URL. Its `Display` and `Debug` mask the password.
///
/// Host `localhost` with a port is changed to `127.0.0.1` (unless the URL has
/// `unix_socket`): the client library would otherwise try its Unix socket and
/// ignore the port. `ssl_mode=verify_identity` then checks the certificate
/// for `127.0.0.1`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(url::Url);

/// Errors of [`DatabaseUrl::from_str`] and [`connect`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL cannot be parsed or is not a `mysql://` URL. The message never
    /// repeats the URL, which may hold a password.
    #[error("DATABASE_URL is not a valid MySQL URL: {0}")]
    InvalidUrl(String),
    /// The TLS query parameters are wrong, ask for what the linked client
    /// library cannot enforce, or name a file that cannot be read.
    #[error("DATABASE_URL: {0}")]
    Tls(TlsError),
    /// The server accepted the TCP connection (or the address took no answer)
    /// but did not complete the handshake within the URL's `connect_timeout`,
    /// which `player_guard::connect` keeps.
    #[error("cannot connect to {url}: no answer within {} s (connect_timeout)", .after.as_secs_f64())]
    Timeout {
        /// The URL with its password masked.
        url: String,
        /// How long it waited.
        after: Duration,
    },
    /// The connection was opened but setting up its session failed. Not a
    /// `#[source]`: the message holds the cause, once (a pool's error shows
    /// only the message).
    #[error("cannot set up the session: {0}")]
    Session(diesel::result::Error),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL with its password masked.
        url: String,
        /// The client library's message, with the password masked.
        message: String,
        /// What kind of failure the message describes.
        failure: ConnectFailure,
    },
}

impl From<TlsError> for ConnectError {
    fn from(err: TlsError) -> Self {
        // Not a `#[source]`: the message already holds it, once.
        ConnectError::Tls(err)
    }
}

/// What kind of failure a [`ConnectError::Connect`] is, read from the client
/// library's message, so that callers can advise without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// Nothing answered at the host and port (or the host name is unknown).
    Unreachable,
    /// The client library tried a Unix socket (host `localhost` without a
    /// port, or `unix_socket`) and nothing answered there.
    Socket,
    /// The server refused the user or the password (1045).
    AccessDenied,
    /// The user and password are right, but the user may not use the
    /// database of the URL (1044).
    DatabaseDenied,
    /// The server has as many connections as `max_connections` allows (1040).
    TooManyConnections,
    /// TLS was required and the server does not offer it.
    ServerWithoutTls,
    /// The TLS handshake or the certificate check failed.
    Tls,
    /// The database of the URL does not exist.
    UnknownDatabase,
    /// Anything else.
    Other,
}

impl ConnectFailure {
    /// Sorts a client library message (Oracle's and MariaDB's wordings).
    fn of(message: &str) -> Self {
        if message.contains("through socket") {
            Self::Socket
        } else if message.contains("Can't connect") || message.contains("Unknown MySQL server host")
        {
            Self::Unreachable
        } else if message.contains("Access denied") && message.contains(" to database ") {
            Self::DatabaseDenied
        } else if message.contains("Access denied") {
            Self::AccessDenied
        } else if message.contains("Too many connections") {
            Self::TooManyConnections
        } else if message.contains("SSL is required but the server doesn't support it") {
            Self::ServerWithoutTls
        } else if message.contains("SSL") || message.contains("TLS") {
            Self::Tls
        } else if message.contains("Unknown database") {
            Self::UnknownDatabase
        } else {
            Self::Other
        }
    }
}

/// The `connect_timeout` query parameter: seconds, a number above 0 and up to
/// an hour.
fn connect_timeout(url: &url::Url) -> Result<Duration, ConnectError> {
    let Some((_, value)) = url.query_pairs().find(|(k, _)| k == "connect_timeout") else {
        return Ok(DEFAULT_CONNECT_TIMEOUT);
    };
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .filter(|d| *d <= MAX_CONNECT_TIMEOUT)
        .ok_or_else(|| {
            ConnectError::InvalidUrl(format!(
                "connect_timeout must be a number of seconds above 0 and up to {}",
                MAX_CONNECT_TIMEOUT.as_secs()
            ))
        })
}

/// Refuses what a URL parser would silently misplace. A password with an
/// unencoded `#`, `?` or `/` ends the user information early: the rest of the
/// password becomes the host, the port, the path, the query or a fragment,
/// where an error message or a log line would show it. In a well-formed URL an
/// `@` can only come before the host, and `#` not at all, so either one after
/// the host is refused, without saying what follows it.
fn misplaced_characters(after_scheme: &str) -> Result<(), ConnectError> {
    const ENCODE: &str = "percent-encode special characters in the user and password \
                          (`@` %40, `#` %23, `?` %3F, `/` %2F, `:` %3A, `%` %25)";
    if after_scheme.contains('#') {
        return Err(ConnectError::InvalidUrl(format!(
            "it holds a `#`, which would cut it short; {ENCODE}"
        )));
    }
    let host_end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    if after_scheme[host_end..].contains('@') {
        return Err(ConnectError::InvalidUrl(format!(
            "it has an `@` after a `/` or `?`, so the host cannot be told apart; {ENCODE}"
        )));
    }
    Ok(())
}

/// Refuses a user or password the client library cannot be given: bytes
/// that are not UTF-8 after percent-decoding (Diesel refuses them with a
/// message about the URL's form), or a NUL byte. The message never shows
/// either.
fn usable_credentials(url: &url::Url) -> Result<(), ConnectError> {
    for (what, raw) in [
        ("user", url.username()),
        ("password", url.password().unwrap_or_default()),
    ] {
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(raw).collect();
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ConnectError::InvalidUrl(format!(
                "the {what} is not valid UTF-8 after percent-decoding (encode each byte of a character's UTF-8 form: `é` is %C3%A9)"
            )));
        }
        if bytes.contains(&0) {
            return Err(ConnectError::InvalidUrl(format!(
                "the {what} holds a NUL byte (%00), which the client library cannot send"
            )));
        }
    }
    Ok(())
}

/// Refuses a database name that would not reach the server as typed.
///
/// The URL parser percent-encodes what a URL path cannot hold (a space,
/// non-ASCII letters, quotes), and the MySQL driver passes the path on
/// without decoding it, so `my db` would select `my%20db`; a `%` typed to
/// encode a character is not decoded either. Every command reads the
/// database name from here, so all of them refuse such a name the same way,
/// naming it as typed (it is after the host, so it holds no password).
fn database_as_typed(url: &url::Url, after_scheme: &str) -> Result<(), ConnectError> {
    let Some(database) = url.path_segments().and_then(|mut s| s.next()) else {
        return Ok(());
    };
    if !database.contains('%') {
        return Ok(());
    }
    let host_end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let typed = after_scheme[host_end..]
        .trim_start_matches('/')
        .split('?')
        .next()
        .unwrap_or_default();
    Err(ConnectError::InvalidUrl(format!(
        "the database name {typed:?} would reach the server percent-encoded, as {database:?}: the MySQL driver does not decode it; use a name of ASCII letters, digits and `_ - . $ ! ~ * ' ( ) + , ; = : @ &` only"
    )))
}

impl FromStr for DatabaseUrl {
    type Err = ConnectError;

    /// Parses and checks a URL. No error repeats any part of the input, which
    /// may hold a password.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |why: &str| ConnectError::InvalidUrl(why.to_owned());
        if s.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        let scheme = "mysql://";
        if !s
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            return Err(invalid("it must start with mysql://"));
        }
        misplaced_characters(&s[scheme.len()..])?;
        // The parser's messages name what is wrong, never the input.
        let url = url::Url::parse(s).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConnectError::InvalidUrl("the host is missing".into()));
        }
        if url.path_segments().is_some_and(|mut s| s.nth(1).is_some()) {
            return Err(ConnectError::InvalidUrl(
                "the path must be a single database name".into(),
            ));
        }
        if url.port() == Some(0) {
            return Err(invalid(
                "port 0 is no server's port (the client library would take it for 3306); give the server's port, 4000 for TiDB",
            ));
        }
        usable_credentials(&url)?;
        database_as_typed(&url, &s[scheme.len()..])?;
        let mut url = url;
        let tls = TlsSettings::from_url(&url)?;
        connect_timeout(&url)?;
        if url.host_str() == Some("localhost")
            && url.port().is_some()
            && !url.query_pairs().any(|(k, _)| k == "unix_socket")
        {
            // The client library takes `localhost` to mean its Unix socket and
            // ignores the port; a port says TCP was meant.
            url.set_host(Some(LOCALHOST_TCP))
                .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        }
        if !tls.mode_given && tls.mode != tls::SslMode::Preferred {
            // Implied by ssl_ca: say it to the driver, whose default would not verify.
            url.query_pairs_mut()
                .append_pair("ssl_mode", tls.mode.as_str());
        }
        Ok(Self(url))
    }
}

impl DatabaseUrl {
    /// The full URL, password included: pass it to the driver, never print it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The TLS settings the URL asks for (checked when it was parsed).
    pub fn tls(&self) -> TlsSettings {
        TlsSettings::from_url(&self.0).unwrap_or_else(|e| unreachable!("checked when parsed: {e}"))
    }

    /// How long connecting may take: the URL's `connect_timeout`, else
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(&self) -> Duration {
        connect_timeout(&self.0).unwrap_or_else(|e| unreachable!("checked when parsed: {e}"))
    }

    /// The TCP port the URL names (3306 when it names none), or `None` for a
    /// Unix socket.
    pub fn port(&self) -> Option<u16> {
        if self.0.query_pairs().any(|(k, _)| k == "unix_socket") {
            return None;
        }
        Some(self.0.port().unwrap_or(3306))
    }

    /// The host the URL names (`127.0.0.1` for `localhost` with a port, an
    /// IPv6 address in brackets), for telling a loopback server from a remote one.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
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
}

impl fmt::Display for DatabaseUrl {
    /// The URL with its password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.0.clone();
        if url.password().is_some_and(|p| !p.is_empty()) {
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

impl DatabaseUrl {
    /// The error for a failed connection to this URL, its password masked.
    /// The client library's message is kept as it is: it names the user and
    /// host, never the password, and masking its text by substring would
    /// mangle it (a password `1` turns `127.0.0.1` into `***27.0.0.***`) and
    /// tell what the password is by what it hides. Public for whoever opens
    /// connections another way (a pool, a bounded connect).
    ///
    /// A pool's error quotes the last connection's error, which already names
    /// the URL; that is said once.
    pub fn connect_error(&self, error: &dyn fmt::Display) -> ConnectError {
        let url = self.to_string();
        let message = error
            .to_string()
            .replace(&format!("cannot connect to {url}: "), "");
        ConnectError::Connect {
            url,
            failure: ConnectFailure::of(&message),
            message,
        }
    }
}

/// Opens one connection.
///
/// It waits as long as the client library does: for a server that accepts
/// the TCP connection and never answers, without limit, since Diesel 2.3
/// cannot set `MYSQL_OPT_CONNECT_TIMEOUT`. `player_guard::connect` bounds the
/// wait by the URL's `connect_timeout`.
pub fn connect(url: &DatabaseUrl) -> Result<MysqlConnection, ConnectError> {
    tracing::debug!(%url, "connecting");
    url.tls().check_files()?;
    let mut conn = MysqlConnection::establish(url.expose()).map_err(|e| url.connect_error(&e))?;
    crate::statement_cache::watch(&mut conn);
    Ok(conn)
}

/// A pool of [`connect`]'s connections, as [`pool`] builds it; a pooled
/// connection dereferences to the `MysqlConnection` every query takes.
pub type Pool = diesel::r2d2::Pool<Manager>;

/// A pool of up to `size` connections to `url`, for work spread over threads.
///
/// Connections are checked with a ping when taken out, so one the server
/// dropped (restart, `KILL`) is replaced, not handed out. One connection is
/// opened first so that a wrong URL or a stopped server is reported at once,
/// as [`connect`] reports it; r2d2 alone would retry until its timeout and
/// then say only that it timed out. `player_guard::pool` builds the same pool
/// with deadlines.
pub fn pool(url: &DatabaseUrl, size: u32) -> Result<Pool, ConnectError> {
    connect(url)?;
    Pool::builder()
        .max_size(size.max(1))
        .test_on_check_out(true)
        .connection_timeout(url.connect_timeout())
        .build(Manager(url.clone()))
        .map_err(|e| url.connect_error(&e))
}

/// Diesel's r2d2 `ConnectionManager<MysqlConnection>`, but with [`connect`]'s
/// connections (URL and TLS files checked) and [`recycle`] when one comes back.
#[derive(Debug, Clone)]
pub struct Manager(DatabaseUrl);

impl ManageConnection for Manager {
    type Connection = MysqlConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<MysqlConnection, ConnectError> {
        connect(&self.0)
    }

    fn is_valid(&self, conn: &mut MysqlConnection) -> Result<(), ConnectError> {
        conn.ping().map_err(ConnectError::Session)
    }

    fn has_broken(&self, conn: &mut MysqlConnection) -> bool {
        std::thread::panicking() || recycle(conn) == Recycled::Broken
    }
}

/// What [`recycle`] found on a connection coming back to a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recycled {
    /// Every statement since the last check succeeded: ready for its next user.
    Ready,
    /// A statement failed on it, and its prepared-statement cache was
    /// emptied. Ready as far as Diesel can tell; but if the failure was the
    /// connection's own end, the client library has closed it, which a pool
    /// that sees the socket (player-guard's) checks now, and only now.
    AfterFailure,
    /// Of no further use: Diesel's verdict (a transaction left broken).
    Broken,
}

/// Readies a connection coming back to a pool for its next user. If a
/// statement failed on it, its prepared-statement cache is emptied, so that a
/// Diesel 2.3 bug cannot replay that failure to the next user without
/// reaching the server (see [`transaction`](crate::transaction)).
pub fn recycle(conn: &mut MysqlConnection) -> Recycled {
    if R2D2Connection::is_broken(conn) {
        return Recycled::Broken;
    }
    let failed = crate::statement_cache::failed_since_recycled(conn);
    crate::statement_cache::recover(conn, false);
    if failed {
        Recycled::AfterFailure
    } else {
        Recycled::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> DatabaseUrl {
        s.parse().expect("valid URL")
    }

    #[test]
    fn display_masks_the_password() {
        let url = parse(
            "mysql://u.root:s%40cret@example.com:4000/test?ssl_mode=verify_identity&ssl_ca=/etc/ssl/cert.pem",
        );
        let shown = url.to_string();
        assert_eq!(
            shown,
            "mysql://u.root:***@example.com:4000/test?ssl_mode=verify_identity&ssl_ca=/etc/ssl/cert.pem"
        );
        assert!(!format!("{url:?}").contains("cret"));
        assert_eq!(url.database(), Some("test"));
    }

    /// Passwords whose special characters were not percent-encoded: each is
    /// refused, and the message holds no part of it.
    #[test]
    fn misplaced_password_characters_are_refused_without_an_echo() {
        for (url, secret) in [
            ("mysql://root:4310#s3cr3t@127.0.0.1:4000/test", "s3cr3t"),
            ("mysql://root:12?s3cr3t@127.0.0.1:4000/test", "s3cr3t"),
            ("mysql://root:12/s3cr3t@127.0.0.1:4000/test", "s3cr3t"),
            ("mysql://root:s3c/r3t@127.0.0.1:4000/test", "r3t@"),
            ("mysql://root:s3cr3t@127.0.0.1:4000/test#frag", "frag"),
            ("mysql://root:pw@h/db?ssl_ca=/x@y", "pw"),
        ] {
            let err = url.parse::<DatabaseUrl>().expect_err(url).to_string();
            assert!(matches!(
                url.parse::<DatabaseUrl>(),
                Err(ConnectError::InvalidUrl(_))
            ));
            assert!(!err.contains(secret), "{url}: {err}");
            assert!(!err.contains("4310") && !err.contains("12"), "{url}: {err}");
        }
    }

    /// What the parser splits right is accepted: `@` and `:` in a password,
    /// the last `@` ending it.
    #[test]
    fn passwords_with_at_signs_and_colons_before_the_host_are_fine() {
        let url = parse("mysql://root:p@ss:w0rd@127.0.0.1:4000/test");
        assert_eq!(url.to_string(), "mysql://root:***@127.0.0.1:4000/test");
        assert!(!format!("{url:?}").contains("w0rd"));
    }

    #[test]
    fn rejects_what_is_not_a_mysql_url() {
        for bad in [
            "",
            "  ",
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
    fn tls_parameters_are_checked_when_parsed() {
        for (bad, expected) in [
            ("mysql://h/db?ssl_mode=bogus", "unknown ssl_mode `bogus`"),
            (
                "mysql://h/db?sslmode=required",
                "unknown query parameter `sslmode`",
            ),
            ("mysql://h/db?ssl_mode=verify_ca", "needs ssl_ca"),
        ] {
            let err = bad.parse::<DatabaseUrl>().expect_err(bad);
            assert!(matches!(err, ConnectError::Tls(_)), "{bad}: {err:?}");
            assert!(err.to_string().contains(expected), "{bad}: {err}");
        }
    }

    #[test]
    fn ssl_ca_alone_is_passed_on_as_verify_ca() {
        let url = parse("mysql://root:pw@h:4000/test?ssl_ca=/ca.pem");
        assert_eq!(url.tls().mode, SslMode::VerifyCa);
        assert!(
            url.expose().ends_with("?ssl_ca=/ca.pem&ssl_mode=verify_ca"),
            "{}",
            url.expose()
        );
    }

    #[test]
    fn connect_timeout_is_seconds_above_zero() {
        assert_eq!(
            parse("mysql://h/db").connect_timeout(),
            DEFAULT_CONNECT_TIMEOUT
        );
        assert_eq!(
            parse("mysql://h/db?connect_timeout=2.5").connect_timeout(),
            Duration::from_millis(2_500)
        );
        assert_eq!(
            parse("mysql://h/db?connect_timeout=3600").connect_timeout(),
            Duration::from_secs(3_600)
        );
        for bad in ["0", "-1", "abc", "3601", "inf", "NaN", ""] {
            let url = format!("mysql://h/db?connect_timeout={bad}");
            let err = url.parse::<DatabaseUrl>().expect_err(&url);
            assert!(
                err.to_string().contains("connect_timeout must be"),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn localhost_with_a_port_is_tcp_unless_a_socket_is_given() {
        assert_eq!(
            parse("mysql://root:pw@localhost:4000/test").expose(),
            "mysql://root:pw@127.0.0.1:4000/test"
        );
        assert_eq!(
            parse("mysql://root@localhost:4000/test").to_string(),
            "mysql://root@127.0.0.1:4000/test"
        );
        for kept in [
            "mysql://root@localhost/test",
            "mysql://root@localhost:4000/test?unix_socket=/run/mysqld/mysqld.sock",
            "mysql://root@localhost.example.com:4000/test",
        ] {
            assert_eq!(parse(kept).expose(), kept);
        }
    }

    #[test]
    fn port_0_credentials_and_database_names_are_checked() {
        let why = |s: &str| s.parse::<DatabaseUrl>().expect_err(s).to_string();
        assert!(why("mysql://root@127.0.0.1:0/test").contains("port 0"));
        for (url, says) in [
            ("mysql://root:%FF@h/test", "the password is not valid UTF-8"),
            (
                "mysql://root:a%C3@h/test",
                "the password is not valid UTF-8",
            ),
            ("mysql://root:%00@h/test", "the password holds a NUL byte"),
            ("mysql://r%FFot@h/test", "the user is not valid UTF-8"),
            ("mysql://r%00@h/test", "the user holds a NUL byte"),
        ] {
            let err = why(url);
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("%FF") || says.contains("%FF"), "{url}: {err}");
        }
        assert!(
            parse("mysql://root:%C3%A9%40@h/test")
                .expose()
                .contains("%C3%A9%40")
        );
        for (url, typed) in [
            ("mysql://h/my db", "\"my db\""),
            ("mysql://h/my%20db", "\"my%20db\""),
            ("mysql://h/ünï?connect_timeout=3", "\"ünï\""),
            ("mysql://h/100%", "\"100%\""),
        ] {
            let err = why(url);
            assert!(
                err.contains(typed) && err.contains("does not decode"),
                "{url}: {err}"
            );
        }
        assert_eq!(parse("mysql://h/a-b.c$d").database(), Some("a-b.c$d"));
    }

    #[test]
    fn a_pools_error_names_the_url_once() {
        let url = parse("mysql://root:pw@h:4000/test");
        let inner = url.connect_error(&"Too many connections");
        let outer = url.connect_error(&format!("timed out waiting for connection: {inner}"));
        assert_eq!(
            outer.to_string(),
            "cannot connect to mysql://root:***@h:4000/test: timed out waiting for connection: Too many connections"
        );
    }

    #[test]
    fn access_failures_are_told_apart() {
        assert_eq!(
            ConnectFailure::of("Access denied for user 'u'@'127.0.0.1' (using password: YES)"),
            ConnectFailure::AccessDenied
        );
        assert_eq!(
            ConnectFailure::of("Access denied for user 'u'@'%' to database 'other'"),
            ConnectFailure::DatabaseDenied
        );
        assert_eq!(
            ConnectFailure::of("Too many connections"),
            ConnectFailure::TooManyConnections
        );
    }

    #[test]
    fn socket_failures_are_told_apart() {
        assert_eq!(
            ConnectFailure::of(
                "Can't connect to local MySQL server through socket '/tmp/mysql.sock' (2)"
            ),
            ConnectFailure::Socket
        );
        assert_eq!(
            ConnectFailure::of("Can't connect to MySQL server on '127.0.0.1:1' (111)"),
            ConnectFailure::Unreachable
        );
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
