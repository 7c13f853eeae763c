//! Running the `player-cli` binary, whose `bank` and `load` commands the bank
//! and memory parts measure.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use anyhow::Context;
use player_core::db::DatabaseUrl;

/// The `player-cli` binary, pointed at a database.
pub struct PlayerCli {
    program: PathBuf,
    url: DatabaseUrl,
}

impl PlayerCli {
    /// `program`, else the `player-cli` next to this binary (both are built into `target/release`).
    pub fn new(program: Option<PathBuf>, url: &DatabaseUrl) -> anyhow::Result<Self> {
        let program = match program {
            Some(program) => program,
            None => std::env::current_exe()?.with_file_name("player-cli"),
        };
        Ok(Self {
            program,
            url: url.clone(),
        })
    }

    /// The same binary, pointed at `url` (e.g. through the latency proxy).
    pub fn with_url(&self, url: &DatabaseUrl) -> Self {
        Self {
            program: self.program.clone(),
            url: url.clone(),
        }
    }

    /// Why `subcommand` cannot be run, if it cannot: the binary is missing or has
    /// no such command (it was built from a branch without it).
    pub fn missing(&self, subcommand: &str) -> Option<String> {
        let path = self.program.display();
        if !self.program.is_file() {
            return Some(format!(
                "{path} not found; build it with `cargo build --release -p player-cli`"
            ));
        }
        let help = Command::new(&self.program)
            .args([subcommand, "--help"])
            .output();
        let has_it = help.is_ok_and(|out| out.status.success());
        (!has_it).then(|| format!("{path} has no {subcommand} command"))
    }

    /// Runs `player-cli ARGS...`, under `wrapper` when it is not empty (e.g.
    /// `player-bench __peak-rss`), and returns its output, whatever its exit
    /// status. The URL goes in `DATABASE_URL`, not on the command line where
    /// `ps` would show its password.
    pub fn output(&self, wrapper: &[&str], args: &[&str]) -> anyhow::Result<Output> {
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut cmd = Command::new(first);
                cmd.args(rest).arg(&self.program);
                cmd
            }
            None => Command::new(&self.program),
        };
        cmd.args(args)
            .env("DATABASE_URL", self.url.expose())
            .stdin(Stdio::null());
        cmd.output()
            .with_context(|| format!("cannot start {}", self.program.display()))
    }
}
