//! A private MariaDB server for tests that must restart the server or change
//! its configuration (TLS, timeouts) without disturbing the shared one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use nix::sys::signal::Signal;

/// A `mariadbd` on 127.0.0.1 with its own data folder, stopped and deleted on drop.
pub struct PrivateServer {
    dir: tempfile::TempDir,
    port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl PrivateServer {
    /// Initialises a data folder and starts a server with `extra_args` added to
    /// the usual ones (e.g. `--ssl-cert=...`). User `root`@`127.0.0.1` has no password;
    /// a database `test` exists.
    ///
    /// # Panics
    /// If the server cannot be initialised or started within 60 s.
    pub fn start(extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("player-testkit-server-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        // Each server gets its own tmpdir: servers sharing /tmp trip over each
        // other's temporary-table files when they start in parallel.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).expect("server tmpdir");
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if is_root() {
            install.arg("--user=root");
        }
        let out = install.output().expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut server = Self {
            dir,
            port: crate::net::free_port(),
            args: extra_args.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        server.spawn();
        server.wait_ready();
        let mut conn = server.socket_connection();
        for stmt in [
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
            "CREATE DATABASE IF NOT EXISTS test",
        ] {
            diesel::sql_query(stmt).execute(&mut conn).expect(stmt);
        }
        server
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mysql://root@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's folder (data, socket, log); put certificates here too.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (SIGKILL when `abrupt`, else a clean shutdown) and waits for it.
    pub fn stop(&mut self, abrupt: bool) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if abrupt {
            let _ = child.kill();
        } else {
            let _ = signal(&child, Signal::SIGTERM);
        }
        let _ = child.wait();
    }

    /// Freezes the server (SIGSTOP): its connections stay open and nothing
    /// answers, as with a server that hangs or a network that drops packets.
    ///
    /// Returns once every thread of the server has stopped. `kill` only
    /// queues the signal: one thread takes it when next scheduled and only
    /// then are the others told to stop, so on a busy machine another thread
    /// can still answer a query sent right after `kill` returned. The parent
    /// hears (`waitpid` with `WUNTRACED`) when the whole process has stopped.
    ///
    /// # Panics
    /// If the server has not stopped within 10 s.
    pub fn pause(&self) {
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        self.signal(Signal::SIGSTOP);
        let Some(child) = &self.child else {
            return;
        };
        let pid = pid_of(child);
        crate::poll_until(
            "mariadbd to stop on SIGSTOP",
            Duration::from_secs(10),
            || match waitpid(pid, Some(WaitPidFlag::WUNTRACED | WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Stopped(..)) => true,
                Ok(WaitStatus::StillAlive) => false,
                other => panic!("mariadbd did not stop on SIGSTOP: {other:?}"),
            },
        );
    }

    /// Lets a [`pause`](Self::pause)d server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal(Signal::SIGCONT);
    }

    fn signal(&self, sig: Signal) {
        if let Some(child) = &self.child {
            signal(child, sig).unwrap_or_else(|e| panic!("{sig} to mariadbd: {e}"));
        }
    }

    /// Starts the server again on the same port and data after [`stop`](Self::stop).
    pub fn restart(&mut self) {
        self.stop(false);
        self.spawn();
        self.wait_ready();
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    fn spawn(&mut self) {
        let data = self.dir.path().join("data");
        let mut cmd = Command::new("mariadbd");
        cmd.arg("--no-defaults");
        if is_root() {
            cmd.arg("--user=root");
        }
        cmd.arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!(
                "--tmpdir={}",
                self.dir.path().join("tmp").display()
            ))
            .arg(format!(
                "--log-error={}",
                self.dir.path().join("mysqld.log").display()
            ))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin",
                "--innodb-buffer-pool-size=64M",
                "--skip-log-bin",
            ])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn().expect("start mariadbd"));
    }

    /// Root over the Unix socket: works before `root@127.0.0.1` exists.
    fn socket_url(&self) -> String {
        format!(
            "mysql://root@localhost/?unix_socket={}",
            self.socket().display()
        )
    }

    fn socket_connection(&self) -> MysqlConnection {
        MysqlConnection::establish(&self.socket_url()).expect("connect over the socket")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.socket_url();
        while Instant::now() < deadline {
            if MysqlConnection::establish(&url).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("mariadbd exited with {status}: {}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("mariadbd not ready within 60 s: {}", self.log_tail());
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("mysqld.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop(true);
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn signal(child: &Child, sig: Signal) -> nix::Result<()> {
    nix::sys::signal::kill(pid_of(child), sig)
}

fn pid_of(child: &Child) -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"))
}
