//! TLS settings of a `DATABASE_URL`: the `ssl_mode`, `ssl_ca`, `ssl_cert` and
//! `ssl_key` query parameters that Diesel hands to the MySQL client library,
//! checked before any connection is tried.
//!
//! Diesel ignores query parameters it does not know and MariaDB Connector/C
//! ignores `ssl_mode`; either would turn `?ssl_mode=verify_identity` into a
//! plaintext connection without a word. Here a misspelt parameter, an unknown
//! mode, or a mode the linked library cannot enforce is an error instead.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// MySQL's `ssl_mode`, from weakest to strictest (the order `Ord` follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SslMode {
    /// Plaintext only.
    Disabled,
    /// TLS when the server offers it, else plaintext (MySQL's default).
    Preferred,
    /// TLS or no connection; the server certificate is not checked.
    Required,
    /// TLS with a server certificate signed by the CA of `ssl_ca`.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host of the URL.
    VerifyIdentity,
}

impl SslMode {
    /// Every mode, weakest first.
    pub const ALL: [SslMode; 5] = [
        SslMode::Disabled,
        SslMode::Preferred,
        SslMode::Required,
        SslMode::VerifyCa,
        SslMode::VerifyIdentity,
    ];

    /// The name MySQL gives the mode, in the lower case Diesel's URLs use.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify_ca",
            SslMode::VerifyIdentity => "verify_identity",
        }
    }

    /// True for the modes that fail rather than fall back to plaintext or to an
    /// unchecked certificate: only a client library that knows `ssl_mode` can
    /// honour them.
    pub(crate) fn needs_enforcement(self) -> bool {
        self > SslMode::Preferred
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = TlsError;

    /// Parses a mode name, ignoring case as MySQL does (`VERIFY_IDENTITY` works too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| TlsError::UnknownSslMode(s.to_owned()))
    }
}

/// True when the MySQL client library linked at build time enforces
/// `ssl_mode` (Oracle's libmysqlclient, which the `bundled` feature of
/// mysqlclient-sys builds); false for MariaDB Connector/C, which ignores it.
pub const CLIENT_ENFORCES_SSL_MODE: bool = mysqlclient_sys::SUPPORTS_MYSQL_SSL_MODE;

/// The query parameters Diesel's MySQL connection reads, and our
/// `connect_timeout`; any other is refused.
pub const QUERY_PARAMETERS: [&str; 6] = [
    "ssl_mode",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "unix_socket",
    "connect_timeout",
];

/// Why the TLS part of a URL was refused. Messages never repeat a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A query parameter Diesel would silently ignore (often a misspelling such as `sslmode`).
    #[error(
        "unknown query parameter `{0}` (known: ssl_mode, ssl_ca, ssl_cert, ssl_key, unix_socket, connect_timeout)"
    )]
    UnknownParameter(String),
    /// The same parameter twice: which one wins would be the driver's choice.
    #[error("query parameter `{0}` is given more than once")]
    DuplicateParameter(String),
    /// An `ssl_mode` value MySQL does not define.
    #[error(
        "unknown ssl_mode `{0}` (expected disabled, preferred, required, verify_ca or verify_identity)"
    )]
    UnknownSslMode(String),
    /// A path parameter with an empty value.
    #[error("query parameter `{0}` is empty")]
    EmptyPath(&'static str),
    /// `verify_ca` or `verify_identity` without a CA to verify against.
    #[error("ssl_mode={0} needs ssl_ca, the path of the CA certificate file")]
    MissingCa(SslMode),
    /// A client certificate without its key, or a key without its certificate.
    #[error("ssl_cert and ssl_key must be given together")]
    CertWithoutKey,
    /// The linked client library would ignore the mode and connect anyway.
    #[error(
        "ssl_mode={0} cannot be enforced: this program was built against a MySQL client library that ignores ssl_mode (MariaDB Connector/C); rebuild with mysqlclient-sys's `bundled` feature"
    )]
    NotEnforceable(SslMode),
    /// A certificate or key file that cannot be read.
    #[error("cannot read {param} file {path}: {reason}")]
    UnreadableFile {
        /// `ssl_ca`, `ssl_cert` or `ssl_key`.
        param: &'static str,
        /// The path given.
        path: String,
        /// What the operating system said.
        reason: String,
    },
}

/// The TLS settings a URL asks for, after checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The mode in force: the one given, else `verify_ca` when `ssl_ca` is
    /// given (as the `mysql` command-line client does), else `preferred`.
    pub mode: SslMode,
    /// Whether `ssl_mode` was written in the URL.
    pub mode_given: bool,
    /// CA certificate file (`ssl_ca`).
    pub ca: Option<PathBuf>,
    /// Client certificate file (`ssl_cert`).
    pub cert: Option<PathBuf>,
    /// Client key file (`ssl_key`).
    pub key: Option<PathBuf>,
}

impl TlsSettings {
    /// Reads and checks the query of `url` for the linked client library.
    pub(crate) fn from_url(url: &url::Url) -> Result<Self, TlsError> {
        Self::from_url_for(url, CLIENT_ENFORCES_SSL_MODE)
    }

    /// As [`from_url`](Self::from_url), for a client library that does
    /// (`enforces_ssl_mode`) or does not enforce `ssl_mode`: the tests check
    /// both kinds with either linked.
    pub(crate) fn from_url_for(url: &url::Url, enforces_ssl_mode: bool) -> Result<Self, TlsError> {
        let mut seen: Vec<String> = Vec::new();
        let (mut mode, mut ca, mut cert, mut key) = (None, None, None, None);
        for (name, value) in url.query_pairs() {
            let Some(&known) = QUERY_PARAMETERS.iter().find(|k| **k == name) else {
                return Err(TlsError::UnknownParameter(name.into_owned()));
            };
            if seen.iter().any(|s| s == known) {
                return Err(TlsError::DuplicateParameter(known.to_owned()));
            }
            seen.push(known.to_owned());
            let path = || {
                if value.is_empty() {
                    Err(TlsError::EmptyPath(known))
                } else {
                    Ok(Some(PathBuf::from(value.as_ref())))
                }
            };
            match known {
                "ssl_mode" => mode = Some(value.parse::<SslMode>()?),
                "ssl_ca" => ca = path()?,
                "ssl_cert" => cert = path()?,
                "ssl_key" => key = path()?,
                _ => {} // unix_socket: Diesel's business; connect_timeout: `db`'s.
            }
        }
        let settings = TlsSettings {
            mode: mode.unwrap_or(if ca.is_some() {
                SslMode::VerifyCa
            } else {
                SslMode::Preferred
            }),
            mode_given: mode.is_some(),
            ca,
            cert,
            key,
        };
        if settings.mode.needs_enforcement() && !enforces_ssl_mode {
            return Err(TlsError::NotEnforceable(settings.mode));
        }
        if settings.mode >= SslMode::VerifyCa && settings.ca.is_none() {
            return Err(TlsError::MissingCa(settings.mode));
        }
        if settings.cert.is_some() != settings.key.is_some() {
            return Err(TlsError::CertWithoutKey);
        }
        Ok(settings)
    }

    /// Checks that the certificate and key files can be read, so a wrong path
    /// is reported as such rather than as a vague TLS handshake error.
    pub(crate) fn check_files(&self) -> Result<(), TlsError> {
        let files = [
            ("ssl_ca", &self.ca),
            ("ssl_cert", &self.cert),
            ("ssl_key", &self.key),
        ];
        for (param, path) in files {
            if let Some(path) = path {
                readable(param, path)?;
            }
        }
        Ok(())
    }
}

fn readable(param: &'static str, path: &Path) -> Result<(), TlsError> {
    std::fs::File::open(path)
        .and_then(|f| {
            if f.metadata()?.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        })
        .map_err(|e| TlsError::UnreadableFile {
            param,
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(query: &str, enforces: bool) -> Result<TlsSettings, TlsError> {
        let url = url::Url::parse(&format!("mysql://u:p@h:4000/db{query}")).expect("url");
        TlsSettings::from_url_for(&url, enforces)
    }

    #[test]
    fn modes_parse_in_any_case_and_print_as_mysql_names() {
        for mode in SslMode::ALL {
            assert_eq!(mode.as_str().parse::<SslMode>(), Ok(mode));
            assert_eq!(mode.as_str().to_uppercase().parse::<SslMode>(), Ok(mode));
        }
        assert_eq!(
            "verify-full".parse::<SslMode>(),
            Err(TlsError::UnknownSslMode("verify-full".into()))
        );
    }

    #[test]
    fn default_is_preferred_and_ssl_ca_alone_means_verify_ca() {
        assert_eq!(settings("", true).map(|s| s.mode), Ok(SslMode::Preferred));
        let s = settings("?ssl_ca=/ca.pem", true).expect("valid");
        assert_eq!((s.mode, s.mode_given), (SslMode::VerifyCa, false));
        let s = settings("?ssl_ca=/ca.pem&ssl_mode=required", true).expect("valid");
        assert_eq!((s.mode, s.mode_given), (SslMode::Required, true));
    }

    #[test]
    fn strict_modes_are_refused_when_the_library_cannot_enforce_them() {
        for mode in SslMode::ALL {
            let result = settings(&format!("?ssl_mode={mode}&ssl_ca=/ca.pem"), false);
            if mode.needs_enforcement() {
                assert_eq!(result, Err(TlsError::NotEnforceable(mode)), "{mode}");
            } else {
                assert!(result.is_ok(), "{mode} refused");
            }
        }
        // ssl_ca alone implies verify_ca, which cannot be enforced either.
        assert_eq!(
            settings("?ssl_ca=/ca.pem", false),
            Err(TlsError::NotEnforceable(SslMode::VerifyCa))
        );
    }

    #[test]
    fn the_linked_library_enforces_ssl_mode() {
        // The workspace builds mysqlclient-sys with `bundled`; if this fails, a
        // build has picked up MariaDB Connector/C and strict modes are refused.
        const { assert!(CLIENT_ENFORCES_SSL_MODE) };
    }

    #[test]
    fn malformed_queries_are_refused() {
        let cases = [
            (
                "?sslmode=required",
                TlsError::UnknownParameter("sslmode".into()),
            ),
            (
                "?ssl-mode=required",
                TlsError::UnknownParameter("ssl-mode".into()),
            ),
            (
                "?ssl_mode=required&ssl_mode=disabled",
                TlsError::DuplicateParameter("ssl_mode".into()),
            ),
            ("?ssl_mode=on", TlsError::UnknownSslMode("on".into())),
            (
                "?ssl_mode=verify_identity",
                TlsError::MissingCa(SslMode::VerifyIdentity),
            ),
            (
                "?ssl_mode=verify_ca",
                TlsError::MissingCa(SslMode::VerifyCa),
            ),
            ("?ssl_ca=", TlsError::EmptyPath("ssl_ca")),
            ("?ssl_cert=/c.pem", TlsError::CertWithoutKey),
            ("?ssl_key=/k.pem", TlsError::CertWithoutKey),
        ];
        for (query, expected) in cases {
            assert_eq!(settings(query, true), Err(expected), "{query}");
        }
    }

    #[test]
    fn unreadable_files_are_named() {
        let s = settings("?ssl_mode=verify_ca&ssl_ca=/nonexistent/ca.pem", true).expect("valid");
        let err = s.check_files().expect_err("missing file");
        assert!(
            err.to_string()
                .starts_with("cannot read ssl_ca file /nonexistent/ca.pem"),
            "{err}"
        );
    }
}
