//! Running the `player-cli` binary, whose `bank` and `load` commands parts 3 and 4 measure.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};
use player_core::db::DatabaseUrl;

/// The `player-cli` binary, pointed at the benchmark's database.
pub struct PlayerCli {
    program: PathBuf,
    url: DatabaseUrl,
}

impl PlayerCli {
    /// `program`, else the `player-cli` next to this binary (both are built into `target/release`).
    pub fn new(program: Option<PathBuf>, url: &DatabaseUrl) -> anyhow::Result<Self> {
        let program = match program {
            Some(p) => p,
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
        if !self.program.is_file() {
            return Some(format!(
                "{} not found; build it with `cargo build --release -p player-cli`",
                self.program.display()
            ));
        }
        let has_it = Command::new(&self.program)
            .args([subcommand, "--help"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (!has_it).then(|| format!("player-cli has no {subcommand} command"))
    }

    /// A command that runs `player-cli ARGS...` on the benchmark's database.
    /// The URL goes in `DATABASE_URL`, not on the command line where `ps` would
    /// show its password. `wrapper` runs it under another program first (e.g.
    /// `player-bench __peak-rss`).
    pub fn command<'a>(
        &self,
        wrapper: &[&str],
        args: impl IntoIterator<Item = &'a str>,
    ) -> Command {
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
        cmd
    }

    /// Runs `player-cli ARGS...` (under `wrapper`) and returns its output, whatever its exit status.
    pub fn output<'a>(
        &self,
        wrapper: &[&str],
        args: impl IntoIterator<Item = &'a str>,
    ) -> anyhow::Result<Output> {
        self.command(wrapper, args)
            .output()
            .with_context(|| format!("cannot start {}", self.program.display()))
    }

    /// Like [`PlayerCli::output`], but fails on a non-zero exit.
    pub fn run<'a>(
        &self,
        wrapper: &[&str],
        args: impl IntoIterator<Item = &'a str> + Clone,
    ) -> anyhow::Result<Output> {
        let out = self.output(wrapper, args.clone())?;
        if !out.status.success() {
            bail!(
                "player-cli {} failed ({}): {}",
                args.into_iter().collect::<Vec<_>>().join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn missing_tells_a_missing_binary_from_a_missing_command() {
        let url: DatabaseUrl = "mysql://root:pw@127.0.0.1:4000/player_bench"
            .parse()
            .expect("URL");
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = dir.path().join("player-cli");
        let absent = PlayerCli::new(Some(fake.clone()), &url).expect("new");
        assert!(
            absent
                .missing("bank")
                .is_some_and(|why| why.contains("not found"))
        );

        // Knows `bank` only, and prints the URL it was given.
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1\" = bank ] || exit 2\necho \"$DATABASE_URL\"\n",
        )
        .expect("write");
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        // A test thread forking meanwhile may hold the new file open for a moment
        // ("text file busy"): wait until it runs.
        for _ in 0..100 {
            match Command::new(&fake).arg("bank").output() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => break,
            }
        }
        let cli = PlayerCli::new(Some(fake), &url).expect("new");
        assert_eq!(cli.missing("bank"), None);
        assert!(
            cli.missing("load")
                .is_some_and(|why| why.contains("no load command"))
        );
        let out = cli.run(&[], ["bank", "--json"]).expect("runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), url.expose());
        assert!(cli.run(&[], ["load"]).is_err());
    }
}
