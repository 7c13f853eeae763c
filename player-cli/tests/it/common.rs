//! Running the binary and looking at the database around it.

use std::process::Command;

use player_core::Player;
use player_testkit::TestDatabase;
use player_testkit::sql::id;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Exit status (-1 when killed by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl Run {
    /// The stderr lines, after the line naming the database a command
    /// changes (see [`without_notice`]).
    pub fn stderr_lines(&self) -> Vec<&str> {
        without_notice(&self.stderr).lines().collect()
    }
}

/// `stderr` without its first line when that line is the notice a command
/// that changes data prints before it starts (`changing URL (URL from ...)`).
pub fn without_notice(stderr: &str) -> &str {
    match stderr.split_once('\n') {
        Some((first, rest)) if first.starts_with("changing mysql://") => rest,
        _ => stderr,
    }
}

/// Runs `player-cli --database-url URL ARGS...` with no `DATABASE_URL`,
/// `RUST_LOG` or `.env` around it.
pub fn cli(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--database-url", url];
    all.extend_from_slice(args);
    cli_raw(&all)
}

/// Runs `player-cli ARGS...` as is, from an empty folder.
pub fn cli_raw(args: &[&str]) -> Run {
    cli_env(args, &[])
}

/// Runs `player-cli ARGS...` from an empty folder with only `env` set of
/// `DATABASE_URL` and `RUST_LOG`.
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    cli_dotenv(args, env, None)
}

/// As [`cli_env`], with a `.env` file holding `dotenv` in the working folder.
pub fn cli_dotenv(args: &[&str], env: &[(&str, &str)], dotenv: Option<&str>) -> Run {
    let dir = tempfile_dir();
    if let Some(text) = dotenv {
        std::fs::write(dir.join(".env"), text).expect("write .env");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_player-cli"))
        .args(args)
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("run player-cli");
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("player-cli-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&dir).expect("temp dir");
    dir
}

/// A migrated database holding the tutorial's players "1" (100 coins, 0 goods)
/// and "2" (114,514 coins, 20 goods).
pub fn tutorial_players_db() -> TestDatabase {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    for p in [
        player_core::NewPlayer::new(id("1"), 100, 0),
        player_core::NewPlayer::new(id("2"), 114_514, 20),
    ] {
        player_core::players::create(&mut conn, &p).expect("insert");
    }
    db
}

/// Every row of `player`, ordered by id.
pub fn rows(db: &TestDatabase) -> Vec<Player> {
    player_testkit::sql::all(&mut db.connect())
}

/// Every table of the database, to tell that nothing was created.
pub fn tables(db: &TestDatabase) -> Vec<String> {
    player_admin::catalog::tables_in(&mut db.connect(), db.name()).expect("list tables")
}

/// Starts `player-cli --database-url URL ARGS...` with no `DATABASE_URL` or
/// `RUST_LOG` and its output piped, for a test that acts while it runs; end
/// it with [`finish`].
pub fn spawn(url: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_player-cli"))
        .args(["--database-url", url])
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn player-cli")
}

/// Sends SIGINT to `child`, as Ctrl-C in a terminal would.
pub fn ctrl_c(child: &std::process::Child) {
    send(child, nix::sys::signal::Signal::SIGINT);
}

/// Sends `signal` to `child`.
pub fn send(child: &std::process::Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, signal).expect("send the signal");
}

/// Waits for `child` (spawned with piped stdout and stderr) to exit, killing
/// it and failing after `limit`.
pub fn finish(mut child: std::process::Child, limit: std::time::Duration) -> Run {
    use std::io::Read;
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("player-cli still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read = |pipe: Option<&mut dyn Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            pipe.read_to_string(&mut text).expect("utf-8 output");
        }
        text
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: read(child.stdout.as_mut().map(|p| p as &mut dyn Read)),
        stderr: read(child.stderr.as_mut().map(|p| p as &mut dyn Read)),
    }
}

/// Polls `ready` every 20 ms until it holds, failing after `limit`.
pub fn wait_until(what: &str, limit: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "never saw {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
