//! Loopback network pieces for tests: a free port, and a peer that accepts TCP
//! connections and never answers (a server that hangs before its handshake).

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
