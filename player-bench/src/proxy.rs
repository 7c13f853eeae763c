//! A latency-injecting TCP proxy: every client of the round-trip part (ours,
//! the `mariadb` client, peewee, `player-cli bank`) connects to it instead of
//! the server, and it adds half the round-trip time to each direction.
//!
//! It models a latency line, not a bandwidth limit: each chunk is timestamped
//! as it is read and written at read time + delay, in order, so chunks in
//! flight overlap as packets on a long wire do (a reader thread and a writer
//! thread per direction, joined by a channel). Sleeping before forwarding in a
//! single thread would instead add the delay once per chunk in a row, and a
//! multi-packet answer would arrive late by a multiple of it.
//!
//! Why our own and not a crate: `noxious` (the Rust port of Toxiproxy) has been
//! unmaintained since 2021 (one dependency bump in 2023), brings tokio and old
//! dependencies, and its embedding API is `#[doc(hidden)]`; Toxiproxy itself is
//! a separate Go server to install and drive over HTTP. What the benchmark needs
//! is a fixed delay on loopback, which `std::net` and threads give in a page,
//! with no async runtime and no unsafe code of ours.
//!
//! It listens on 127.0.0.1 only, on a port the system picks.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes read at once; MySQL packets of a bulk load run to hundreds of KiB.
const CHUNK: usize = 64 * 1024;

/// A running proxy to one upstream address; stops and closes its connections when dropped.
pub struct LatencyProxy {
    /// The address clients connect to.
    pub addr: SocketAddr,
    /// The delay added to each direction.
    pub one_way: Duration,
    stop: Arc<AtomicBool>,
    /// Both ends of every connection, to shut down on drop: a proxy serves one
    /// RTT's measurements, a few dozen connections.
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl LatencyProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards each connection to
    /// `upstream`, delaying each direction by `one_way`.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let (stop, streams) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (addr, proxy) = (listener.local_addr()?, (stop.clone(), streams.clone()));
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                // A client the server refuses sees its connection closed, as it
                // would on the real network.
                let pair = client.and_then(|c| Ok((c, TcpStream::connect(upstream)?)));
                if let Err(e) = pair.and_then(|pair| forward(pair, one_way, &streams)) {
                    eprintln!("proxy: cannot forward a connection: {e}");
                }
            }
        });
        Ok(Self {
            addr,
            one_way,
            stop: proxy.0,
            streams: proxy.1,
        })
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        // The pumps end when their sockets do.
        for s in self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Starts both directions of one proxied connection.
fn forward(
    (client, server): (TcpStream, TcpStream),
    one_way: Duration,
    streams: &Mutex<Vec<TcpStream>>,
) -> io::Result<()> {
    // Small requests and answers go out at once, as the client library's do.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let mut all = streams.lock().unwrap_or_else(|e| e.into_inner());
    all.extend([client.try_clone()?, server.try_clone()?]);
    pump(client.try_clone()?, server.try_clone()?, one_way)?;
    pump(server, client, one_way)
}

/// Forwards `from` → `to`: a reader thread timestamps each chunk, a writer
/// thread delivers it at that time + `delay`, in order. End of input is passed
/// on as a write shutdown; a failed write closes both.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) -> io::Result<()> {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let from_again = from.try_clone()?;
    thread::spawn(move || {
        let mut buf = vec![0; CHUNK];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if tx
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    });
    thread::spawn(move || {
        // The kernel's default timer slack (50 µs) would add itself to every
        // delay; the delays here are a few hundred µs.
        if !delay.is_zero() {
            let _ = nix::sys::prctl::set_timerslack(1_000);
        }
        for (due, chunk) in rx {
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                let _ = from_again.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_line_delays_a_burst_once_and_keeps_the_bytes_in_order() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let echo = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for mut conn in listener.incoming().map_while(Result::ok) {
                thread::spawn(move || {
                    std::io::copy(&mut conn.try_clone().expect("clone"), &mut conn)
                });
            }
        });
        let proxy = LatencyProxy::start(echo, Duration::from_millis(20)).expect("proxy");
        let mut conn = TcpStream::connect(proxy.addr).expect("connect");
        let start = Instant::now();
        // 3 MB in 7,919-byte writes, more than a chunk and than the socket
        // buffers: each chunk is delayed 40 ms there and back, but chunks
        // overlap, so the burst takes about one delay, not one per chunk (of
        // 64 KiB at most: 46 or more, 1.8 s).
        let sent: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut reader = conn.try_clone().expect("clone");
        let read = thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).map(|_| got)
        });
        for part in sent.chunks(7_919) {
            conn.write_all(part).expect("write");
        }
        conn.shutdown(Shutdown::Write).expect("shutdown");
        // The end of input is passed on: the echo closes, and so does the proxy.
        let got = read.join().expect("reader").expect("read to the end");
        let took = start.elapsed();
        assert!(got == sent, "the bytes came back changed or out of order");
        assert!(
            took >= Duration::from_millis(40) && took < Duration::from_secs(1),
            "{took:?}"
        );
    }
}
