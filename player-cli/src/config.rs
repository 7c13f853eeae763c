//! Where the database URL comes from, and saying so.

use std::fmt;
use std::path::{Path, PathBuf};

use player_core::db::{self, DatabaseUrl};

use crate::text::Escaped;

/// Where the URL a command uses came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    /// The `--database-url` flag.
    Flag,
    /// `DATABASE_URL` in the environment.
    Environment,
    /// `DATABASE_URL` in this `.env` file.
    DotEnv(PathBuf),
    /// None of those: [`db::DEFAULT_DATABASE_URL`].
    Default,
}

impl fmt::Display for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("--database-url"),
            Self::Environment => f.write_str("DATABASE_URL in the environment"),
            Self::DotEnv(path) => {
                write!(
                    f,
                    "DATABASE_URL in {}",
                    Escaped(&path.display().to_string())
                )
            }
            Self::Default => f.write_str("the built-in default"),
        }
    }
}

/// The URL from `--database-url`, else `DATABASE_URL` (environment, then the
/// first `.env` in the current folder or a parent), else the tutorial's local
/// server; and where it came from.
pub fn database_url(flag: Option<&str>) -> anyhow::Result<(DatabaseUrl, UrlSource)> {
    if let Some(url) = flag {
        return Ok((parse(url, &UrlSource::Flag)?, UrlSource::Flag));
    }
    let in_environment = std::env::var_os("DATABASE_URL").is_some();
    // Loaded even when the environment has DATABASE_URL, for the other
    // variables it may set; it never overrides the environment.
    let dotenv = load_dotenv()?;
    let source = match (in_environment, dotenv) {
        (true, _) => UrlSource::Environment,
        (false, Some(path)) if std::env::var_os("DATABASE_URL").is_some() => {
            UrlSource::DotEnv(path)
        }
        _ => UrlSource::Default,
    };
    let url = match source {
        UrlSource::Default => db::DEFAULT_DATABASE_URL.to_owned(),
        _ => std::env::var("DATABASE_URL")
            .map_err(|_| anyhow::anyhow!("DATABASE_URL ({source}) is not valid UTF-8"))?,
    };
    Ok((parse(&url, &source)?, source))
}

/// Loads the first `.env` found in the current folder or its parents (as
/// `dotenvy::dotenv` searches) and returns its path. A malformed line is
/// reported by its variable's name, never its value, which may hold a password.
fn load_dotenv() -> anyhow::Result<Option<PathBuf>> {
    let Some(path) = find_dotenv() else {
        return Ok(None);
    };
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(Some(path)),
        Err(dotenvy::Error::LineParse(line, _)) => Err(malformed(&path, &line)),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// The first `.env` file in the current folder or a parent.
fn find_dotenv() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(".env"))
        .find(|path| path.is_file())
}

fn malformed(path: &Path, line: &str) -> anyhow::Error {
    let key = line
        .trim_start()
        .trim_start_matches("export ")
        .split('=')
        .next()
        .unwrap_or_default()
        .trim();
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let which = if plain {
        format!("the line of {key}")
    } else {
        "a line".to_owned()
    };
    anyhow::anyhow!(
        "cannot read {}: {which} is not KEY=VALUE (unbalanced quotes?); its text is not shown, it may hold a password",
        path.display()
    )
}

/// A URL refused before connecting, said with where it came from.
#[derive(Debug)]
pub struct BadUrl {
    /// Where the URL came from.
    pub source: UrlSource,
    /// Why it was refused; never holds the URL.
    pub error: db::ConnectError,
}

impl fmt::Display for BadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            db::ConnectError::InvalidUrl(why) => {
                write!(f, "{} is not a valid MySQL URL: {why}", self.source)
            }
            db::ConnectError::Tls(e) => write!(f, "{}: {e}", self.source),
            e => write!(f, "{}: {e}", self.source),
        }
    }
}

/// Not a `source`: the message holds the cause, once.
impl std::error::Error for BadUrl {}

/// Where this run's URL came from, once [`database_url`] has read it: for
/// hints that name it.
static SOURCE: std::sync::OnceLock<UrlSource> = std::sync::OnceLock::new();

/// Where this run's URL came from; `DATABASE_URL` until it has been read.
pub fn source_name() -> String {
    match SOURCE.get() {
        Some(UrlSource::Default) | None => "DATABASE_URL".to_owned(),
        Some(source) => source.to_string(),
    }
}

/// Parses a URL, refusing an empty one with a message that says where it was.
fn parse(url: &str, source: &UrlSource) -> anyhow::Result<DatabaseUrl> {
    let _ = SOURCE.set(source.clone());
    if url.trim().is_empty() {
        let default = db::DEFAULT_DATABASE_URL;
        anyhow::bail!(match source {
            UrlSource::Flag => format!("--database-url is empty: give a URL such as {default}"),
            _ =>
                format!("{source} is set but empty: set it to a URL, or remove it to use {default}"),
        });
    }
    url.parse().map_err(|error| {
        BadUrl {
            source: source.clone(),
            error,
        }
        .into()
    })
}

/// Says on stderr which database a command is about to change and where its
/// URL came from (the password masked), before anything is changed.
pub fn announce_change(url: &DatabaseUrl, source: &UrlSource) {
    eprintln!("changing {url} (URL from {source})");
}

/// As [`announce_change`], for the bank's own database on the URL's server.
pub fn announce_bank_change(bank_url: &DatabaseUrl, source: &UrlSource) {
    eprintln!("changing {bank_url} (the bank's database, on the server of {source})");
}

/// As [`announce_change`], for the scratch database `doctor` creates and
/// drops on the URL's server (the URL's own database is only read).
pub fn announce_scratch_change(scratch_url: &DatabaseUrl, source: &UrlSource) {
    eprintln!(
        "changing {scratch_url} (doctor's scratch database, created and dropped, on the server of {source})"
    );
}
