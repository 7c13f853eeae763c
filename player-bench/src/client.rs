//! Running the stock command-line client (`mariadb` or `mysql`) as the reference.
//!
//! Credentials go in an option file readable only by the current user, never on
//! the command line where `ps` would show them. Every run is timed from process
//! start to exit, so start-up and connecting are included.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use player_core::db::DatabaseUrl;

/// The command-line client, set up for one server and database.
pub struct Client {
    program: PathBuf,
    /// The client's `--version` line.
    pub version: String,
    database: String,
    /// Holds `client.cnf` with the credentials; deleted on drop.
    dir: tempfile::TempDir,
}

impl Client {
    /// Finds the client (`program`, else `mariadb` or `mysql` on PATH) and writes
    /// the option file for the server and database of `url`.
    pub fn new(program: Option<PathBuf>, url: &DatabaseUrl) -> anyhow::Result<Self> {
        let candidates =
            program.map_or_else(|| vec!["mariadb".into(), "mysql".into()], |p| vec![p]);
        let found = candidates
            .into_iter()
            .find_map(|p| Some((Command::new(&p).arg("--version").output().ok()?, p)));
        let (out, program) = found.context(
            "no `mariadb` or `mysql` client on PATH (install mariadb-client, or pass --client)",
        )?;
        let database = url
            .database()
            .context("the URL names no database")?
            .to_owned();
        // tempfile makes the directory readable by its owner only.
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("client.cnf"), option_file(url)?)?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(Self {
            program,
            version,
            database,
            dir,
        })
    }

    /// Runs the statements of `file` (`client DB < file`) and returns the time
    /// from process start to exit and what it printed (batch mode: tab-separated,
    /// a header line per result). Fails if the client exits non-zero.
    pub fn run_file(&self, file: &Path) -> anyhow::Result<(Duration, String)> {
        let input = File::open(file).with_context(|| format!("open {}", file.display()))?;
        self.run(&[], Stdio::from(input))
    }

    /// Runs one statement (`client --local-infile=1 -e SQL DB`), timed like [`Client::run_file`].
    pub fn run_statement(&self, sql: &str) -> anyhow::Result<Duration> {
        Ok(self.run(&["--local-infile=1", "-e", sql], Stdio::null())?.0)
    }

    fn run(&self, args: &[&str], stdin: Stdio) -> anyhow::Result<(Duration, String)> {
        // Must come first; replaces every other option file, so nothing on this
        // machine changes what is measured.
        let defaults = format!(
            "--defaults-file={}",
            self.dir.path().join("client.cnf").display()
        );
        let mut cmd = Command::new(&self.program);
        cmd.arg(defaults)
            .args(args)
            .arg(&self.database)
            .stdin(stdin);
        let start = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // The client echoes a failed -e statement before its ERROR line.
            let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR")).collect();
            let why = if errors.is_empty() {
                stderr.trim().to_owned()
            } else {
                errors.join("; ")
            };
            bail!("{} failed ({}): {why}", self.program.display(), out.status);
        }
        Ok((elapsed, String::from_utf8_lossy(&out.stdout).into_owned()))
    }
}

/// The `[client]` option file for the server of `url`: TCP to its host and port,
/// its user and password (percent-decoded, quoted).
fn option_file(url: &DatabaseUrl) -> anyhow::Result<String> {
    let url = url::Url::parse(url.expose())?;
    let decode = |s: &str| -> anyhow::Result<String> {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8();
        Ok(decoded
            .context("user and password must be UTF-8 once percent-decoded")?
            .into_owned())
    };
    // Inside double quotes, `\` and `"` are escaped with a backslash, as are line breaks.
    let quoted = |s: String| {
        let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{}\"", escaped.replace('\n', "\\n").replace('\r', "\\r"))
    };
    let mut cnf = String::from("[client]\nprotocol=tcp\n");
    let (host, port) = (
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(3306),
    );
    cnf += &format!("host={host}\nport={port}\n");
    let user = decode(url.username())?;
    if !user.is_empty() {
        cnf += &format!("user={}\n", quoted(user));
    }
    if let Some(password) = url.password() {
        cnf += &format!("password={}\n", quoted(decode(password)?));
    }
    Ok(cnf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_file_decodes_and_quotes_credentials() {
        let url: DatabaseUrl = "mysql://u.root:p%22a%5Cb%40c@db.example:4001/x"
            .parse()
            .expect("valid URL");
        assert_eq!(
            option_file(&url).expect("option file"),
            "[client]\nprotocol=tcp\nhost=db.example\nport=4001\nuser=\"u.root\"\npassword=\"p\\\"a\\\\b@c\"\n"
        );
    }
}
