//! Running a binary of the workspace the way the tests do: from an empty
//! folder, with only the environment the test gives it, and killed (failing
//! the test) should it outlive its time limit. Every test that runs
//! `player-cli` or `player-bench` goes through [`Cli`].

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a run may take unless the test says otherwise: far more than any
/// command of the tests needs, far less than a hung run would wait.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Variables the binaries read that the test's own environment must not leak
/// into a run: each test sets what it means to.
const CLEARED: &[&str] = &["DATABASE_URL", "RUST_LOG"];

/// One run of a binary, set up step by step.
///
/// ```ignore
/// let run = Cli::new(env!("CARGO_BIN_EXE_player-cli"))
///     .database_url(db.url())
///     .args(["player", "list"])
///     .run();
/// ```
#[must_use = "a Cli does nothing until run or spawned"]
pub struct Cli {
    command: Command,
    stdin: Option<Vec<u8>>,
    dotenv: Option<String>,
    dir: Option<PathBuf>,
    time_limit: Duration,
}

impl Cli {
    /// A run of `binary` (an `env!("CARGO_BIN_EXE_...")` path) with no
    /// arguments, `DATABASE_URL` and `RUST_LOG` removed from its environment,
    /// in a fresh empty folder, limited to [`DEFAULT_TIME_LIMIT`].
    pub fn new(binary: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(binary);
        for name in CLEARED {
            command.env_remove(name);
        }
        Self {
            command,
            stdin: None,
            dotenv: None,
            dir: None,
            time_limit: DEFAULT_TIME_LIMIT,
        }
    }

    /// Adds `--database-url URL` (as the first arguments, when called first).
    pub fn database_url(mut self, url: &str) -> Self {
        self.command.args(["--database-url", url]);
        self
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Sets environment variables.
    pub fn envs<'a>(mut self, vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        self.command.envs(vars);
        self
    }

    /// Gives the run `input` on its standard input (else it reads nothing).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Writes a `.env` file holding `text` in the folder the run starts in.
    pub fn dotenv(mut self, text: &str) -> Self {
        self.dotenv = Some(text.to_owned());
        self
    }

    /// Runs in `dir` (which the test owns) instead of a fresh empty folder.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// Kills the run, and fails the test, once `limit` has passed since it started.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Runs to the end and returns what it did.
    ///
    /// # Panics
    /// When the binary cannot be started, prints something that is not
    /// UTF-8, or is still running at its time limit (it is killed first).
    pub fn run(self) -> Run {
        self.spawn().finish()
    }

    /// Starts the run with stdout and stderr piped, for a test that acts
    /// while it runs (signals it, reads its output as it comes); end it with
    /// [`Running::finish`]. The time limit counts from here.
    pub fn spawn(mut self) -> Running {
        // The test's folder, or a fresh one that lives as long as the run.
        let mut temp = None;
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => {
                let fresh = tempfile::Builder::new()
                    .prefix("player-testkit-run-")
                    .tempdir()
                    .expect("a folder for the run");
                temp.insert(fresh).path().to_owned()
            }
        };
        if let Some(text) = &self.dotenv {
            std::fs::write(dir.join(".env"), text).expect("write .env");
        }
        self.command
            .current_dir(&dir)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.command.get_program()));
        if let Some(input) = self.stdin.take() {
            let mut pipe = child.stdin.take().expect("piped stdin");
            // A writer of its own: a large input must not wait on a child
            // that waits on us to read its output.
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = pipe.write_all(&input);
            });
        }
        Running {
            child,
            program: self.command.get_program().to_string_lossy().into_owned(),
            deadline: Instant::now() + self.time_limit,
            time_limit: self.time_limit,
            status: None,
            _dir: temp,
        }
    }
}

/// A run under way ([`Cli::spawn`]).
pub struct Running {
    child: Child,
    program: String,
    deadline: Instant,
    time_limit: Duration,
    status: Option<ExitStatus>,
    _dir: Option<tempfile::TempDir>,
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its stdout, for a test that reads it as it comes; [`finish`](Self::finish)
    /// then reports what was not read here (nothing).
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.child.stdout.take().expect("stdout not yet taken")
    }

    /// Its stderr, as [`take_stdout`](Self::take_stdout).
    pub fn take_stderr(&mut self) -> ChildStderr {
        self.child.stderr.take().expect("stderr not yet taken")
    }

    /// True once the process has exited (without waiting for it).
    ///
    /// # Panics
    /// Past the time limit, after killing the process.
    pub fn has_exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("wait for the run");
        }
        if self.status.is_none() && Instant::now() > self.deadline {
            self.kill_and_fail();
        }
        self.status.is_some()
    }

    /// Sends `signal` to the process.
    #[cfg(unix)]
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, signal).expect("send the signal");
    }

    /// Sends SIGINT, as Ctrl-C in a terminal would.
    #[cfg(unix)]
    pub fn ctrl_c(&self) {
        self.signal(nix::sys::signal::Signal::SIGINT);
    }

    /// Waits for the process to exit and returns what it did.
    ///
    /// # Panics
    /// When it is still running at its time limit (it is killed first), or
    /// printed something that is not UTF-8.
    pub fn finish(mut self) -> Run {
        // Drained while the process runs, so that it never blocks on a full pipe.
        let stdout = self.child.stdout.take().map(drain);
        let stderr = self.child.stderr.take().map(drain);
        while !self.has_exited() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = self.status.expect("exited");
        let text = |reader: Option<std::thread::JoinHandle<Vec<u8>>>, name: &str| {
            let bytes = reader
                .map(|r| r.join().expect("reader"))
                .unwrap_or_default();
            String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: text(stdout, "stdout"),
            stderr: text(stderr, "stderr"),
        }
    }

    fn kill_and_fail(&mut self) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{} still running after {:?}: killed",
            self.program, self.time_limit
        );
    }
}

impl Drop for Running {
    /// A run the test did not finish (it panicked first) is not left behind.
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// What one run did.
#[derive(Debug)]
pub struct Run {
    /// Exit status (-1 when ended by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl Run {
    /// The stderr lines after the line naming the database a `player-cli`
    /// command changes (see [`without_notice`]).
    pub fn stderr_lines(&self) -> Vec<&str> {
        without_notice(&self.stderr).lines().collect()
    }

    /// True when the run exited with status 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// `stderr` without its first line when that line is the notice a
/// `player-cli` command that changes data prints before it starts
/// (`changing URL (URL from ...)`).
pub fn without_notice(stderr: &str) -> &str {
    match stderr.split_once('\n') {
        Some((first, rest)) if first.starts_with("changing mysql://") => rest,
        _ => stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_gets_its_arguments_input_and_dotenv_and_nothing_else() {
        let run = Cli::new("sh")
            .args([
                "-c",
                "cat; echo \" $1 ${DATABASE_URL-unset}\"; cat .env >&2",
                "sh",
                "one",
            ])
            .stdin("input")
            .dotenv("X=1\n")
            .run();
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout, "input one unset\n");
        assert_eq!(run.stderr, "X=1\n");
    }

    #[test]
    fn exit_codes_come_back() {
        let run = Cli::new("sh").args(["-c", "exit 3"]).run();
        assert_eq!((run.code, run.success()), (3, false));
    }

    #[test]
    #[should_panic(expected = "still running after")]
    fn a_run_past_its_time_limit_is_killed_and_fails() {
        let _ = Cli::new("sleep")
            .arg("30")
            .time_limit(Duration::from_millis(300))
            .run();
    }

    #[test]
    fn the_notice_line_is_left_out() {
        let run = Run {
            code: 1,
            stdout: String::new(),
            stderr: "changing mysql://root@h/db (URL from --database-url)\nerror: x\n".into(),
        };
        assert_eq!(run.stderr_lines(), ["error: x"]);
        assert_eq!(without_notice("error: y\n"), "error: y\n");
    }
}
