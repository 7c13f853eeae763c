//! Loopback network pieces for tests: a free port, a peer that accepts TCP
//! connections and never answers (a server that hangs before its handshake),
//! and a proxy that loses the answer to a COMMIT.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A port on 127.0.0.1 free at the time of the call (the OS picks it).
/// Nothing listens there once this returns.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A listener on 127.0.0.1 that accepts every connection, keeps it open and
/// sends nothing: a client waiting for the server's handshake waits for ever.
/// The connections close when the value is dropped.
pub struct SilentListener {
    port: u16,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl SilentListener {
    /// Starts listening on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a silent listener");
        let port = listener.local_addr().expect("local address").port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (held, stopped) = (Arc::clone(&accepted), Arc::clone(&stop));
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                held.lock().unwrap_or_else(|e| e.into_inner()).push(stream);
            }
        });
        Self {
            port,
            accepted,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `mysql://` URL for it, with the given query (e.g. `connect_timeout=1`).
    pub fn url(&self, query: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/test?{query}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        // Wake the acceptor with one last connection so that it stops and
        // closes the listening socket; then close what it accepted, which
        // ends every handshake still waiting.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A TCP proxy on 127.0.0.1 for one connection to a MySQL server: it forwards
/// everything until the client sends `COMMIT`, forwards that too, gives the
/// server half a second to commit, then closes both sides without passing the
/// answer on. The client sees its connection lost while `COMMIT` was in
/// flight, after the server committed: an unknown outcome, as TiDB leaves it
/// when it closes a connection whose commit result is undetermined.
/// (It reads the protocol in plain text, so the connection must not use TLS.)
pub struct CommitCutter {
    url: String,
}

impl CommitCutter {
    /// Starts the proxy in front of the server of `database_url`
    /// (`mysql://USER@HOST:PORT/DATABASE`); connect to [`url`](Self::url).
    /// It waits up to 30 s for its connection, and for each packet.
    pub fn start(database_url: &str) -> Self {
        let mut url = url::Url::parse(database_url).expect("a database URL");
        let upstream = (
            url.host_str().expect("a host").to_owned(),
            url.port().unwrap_or(3306),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        url.set_port(Some(port)).expect("set the port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        std::thread::spawn(move || {
            let limit = std::time::Duration::from_secs(30);
            let deadline = std::time::Instant::now() + limit;
            let mut client = loop {
                match listener.accept() {
                    Ok((client, _)) => break client,
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            };
            let _ = client.set_nonblocking(false);
            let _ = client.set_read_timeout(Some(limit));
            let Ok(mut server) = TcpStream::connect(upstream) else {
                return;
            };
            let _ = server.set_read_timeout(Some(limit));
            let (Ok(mut to_client), Ok(mut from_server)) = (client.try_clone(), server.try_clone())
            else {
                return;
            };
            std::thread::spawn(move || std::io::copy(&mut from_server, &mut to_client));
            let mut buf = [0u8; 16 * 1024];
            loop {
                let n = match std::io::Read::read(&mut client, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if std::io::Write::write_all(&mut server, &buf[..n]).is_err() {
                    break;
                }
                // A COM_QUERY packet (command byte 3) whose text is COMMIT.
                if buf[..n].windows(7).any(|w| w == b"\x03COMMIT") {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    break;
                }
            }
            let _ = client.shutdown(std::net::Shutdown::Both);
            let _ = server.shutdown(std::net::Shutdown::Both);
        });
        Self {
            url: url.to_string(),
        }
    }

    /// The database URL through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }
}
