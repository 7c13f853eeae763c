//! Running the stock command-line client (`mariadb` or `mysql`) as the reference.
//!
//! Credentials go in an option file readable only by the current user, never on
//! the command line where `ps` would show them. Every run is timed from process
//! start to exit, so start-up and connecting are included.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use player_core::db::DatabaseUrl;

/// The command-line client, set up for one server and database.
pub struct Client {
    program: PathBuf,
    database: String,
    /// Holds `client.cnf` with the credentials; deleted on drop.
    dir: tempfile::TempDir,
}

impl Client {
    /// Finds the client (`program`, else `mariadb` or `mysql` on PATH) and writes
    /// the option file for the server and database of `url`.
    pub fn new(program: Option<PathBuf>, url: &DatabaseUrl) -> anyhow::Result<Self> {
        let program = match program {
            Some(p) => p,
            None => find_on_path(["mariadb", "mysql"]).context(
                "no `mariadb` or `mysql` client on PATH (install mariadb-client, or pass --client)",
            )?,
        };
        let database = url
            .database()
            .context("the URL names no database")?
            .to_owned();
        let dir = tempfile::tempdir()?;
        let mut cnf = File::create(dir.path().join("client.cnf"))?;
        cnf.write_all(option_file(url)?.as_bytes())?;
        Ok(Self {
            program,
            database,
            dir,
        })
    }

    /// The client's `--version` line.
    pub fn version(&self) -> anyhow::Result<String> {
        let out = Command::new(&self.program).arg("--version").output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs the statements of `file` (`client DB < file`) and returns the time
    /// from process start to exit. Fails if the client exits non-zero.
    pub fn run_file(&self, file: &Path) -> anyhow::Result<Duration> {
        let input = File::open(file).with_context(|| format!("open {}", file.display()))?;
        self.run(&[], Stdio::from(input), false)
            .map(|(took, _)| took)
    }

    /// Like [`Client::run_file`], and also returns what the client printed
    /// (batch mode: tab-separated, a header line per result).
    pub fn run_file_output(&self, file: &Path) -> anyhow::Result<(Duration, String)> {
        let input = File::open(file).with_context(|| format!("open {}", file.display()))?;
        self.run(&[], Stdio::from(input), true)
    }

    /// Runs one statement (`client --local-infile=1 -e SQL DB`), timed like [`Client::run_file`].
    pub fn run_statement(&self, sql: &str) -> anyhow::Result<Duration> {
        self.run(&["--local-infile=1", "-e", sql], Stdio::null(), false)
            .map(|(took, _)| took)
    }

    fn run(
        &self,
        args: &[&str],
        stdin: Stdio,
        capture: bool,
    ) -> anyhow::Result<(Duration, String)> {
        let mut cmd = Command::new(&self.program);
        // Must come first; replaces every other option file, so nothing on this
        // machine changes what is measured.
        cmd.arg(format!(
            "--defaults-file={}",
            self.dir.path().join("client.cnf").display()
        ))
        .args(args)
        .arg(&self.database)
        .stdin(stdin)
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped());
        let start = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        let out = child.wait_with_output()?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // The client echoes a failed -e statement before its ERROR line.
            let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR")).collect();
            bail!(
                "{} failed ({}): {}",
                self.program.display(),
                out.status,
                if errors.is_empty() {
                    stderr.trim().to_owned()
                } else {
                    errors.join("; ")
                }
            );
        }
        Ok((elapsed, String::from_utf8_lossy(&out.stdout).into_owned()))
    }
}

/// The `[client]` option file for the server of `url`: TCP to its host and port,
/// its user and password (percent-decoded).
fn option_file(url: &DatabaseUrl) -> anyhow::Result<String> {
    let url = url::Url::parse(url.expose())?;
    let decode = |s: &str| -> anyhow::Result<String> {
        Ok(percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .context("user and password must be UTF-8 once percent-decoded")?
            .into_owned())
    };
    let mut cnf = String::from("[client]\nprotocol=tcp\n");
    cnf += &format!("host={}\n", url.host_str().unwrap_or("127.0.0.1"));
    cnf += &format!("port={}\n", url.port().unwrap_or(3306));
    let user = decode(url.username())?;
    if !user.is_empty() {
        cnf += &format!("user={}\n", option_value(&user));
    }
    if let Some(password) = url.password() {
        cnf += &format!("password={}\n", option_value(&decode(password)?));
    }
    Ok(cnf)
}

/// A value quoted for an option file: inside double quotes, `\` and `"` are
/// escaped with a backslash, as are line breaks.
fn option_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The first of `names` found in a directory of PATH.
fn find_on_path<const N: usize>(names: [&str; N]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.into_iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(OsStr::new(name)))
            .find(|p| p.is_file())
    })
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
