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
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Bytes read at once; MySQL packets of a bulk load run to hundreds of KiB.
const CHUNK: usize = 64 * 1024;

/// A running proxy to one upstream address; stops and closes its connections when dropped.
pub struct LatencyProxy {
    addr: SocketAddr,
    one_way: Duration,
    stop: Arc<AtomicBool>,
    /// Both ends of every connection, to shut down on drop.
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl LatencyProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards each connection to
    /// `upstream`, delaying each direction by `one_way`.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, streams) = (Arc::clone(&stop), Arc::clone(&streams));
            thread::Builder::new()
                .name("proxy-accept".into())
                .spawn(move || accept_loop(&listener, upstream, one_way, &stop, &streams))?
        };
        Ok(Self {
            addr,
            one_way,
            stop,
            streams,
            accept: Some(accept),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The delay added to each direction.
    pub fn one_way(&self) -> Duration {
        self.one_way
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
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

fn accept_loop(
    listener: &TcpListener,
    upstream: SocketAddr,
    one_way: Duration,
    stop: &AtomicBool,
    streams: &Mutex<Vec<TcpStream>>,
) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        // A client the server refuses sees its connection closed, as it would
        // on the real network.
        let Ok(server) = TcpStream::connect(upstream) else {
            continue;
        };
        if let Err(e) = connect_pair(client, server, one_way, streams) {
            eprintln!("proxy: cannot forward a connection: {e}");
        }
    }
}

/// Starts both directions of one proxied connection.
fn connect_pair(
    client: TcpStream,
    server: TcpStream,
    one_way: Duration,
    streams: &Mutex<Vec<TcpStream>>,
) -> io::Result<()> {
    // Small requests and answers go out at once, as the client library's do.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    {
        // Kept until the proxy stops: a proxy serves one RTT's measurements,
        // a few dozen connections.
        let mut all = streams.lock().unwrap_or_else(|e| e.into_inner());
        all.push(client.try_clone()?);
        all.push(server.try_clone()?);
    }
    pump(client.try_clone()?, server.try_clone()?, one_way)?;
    pump(server, client, one_way)
}

/// Forwards `from` → `to`: a reader thread timestamps each chunk, a writer
/// thread delivers it at that time + `delay`, in order. End of input is passed
/// on as a write shutdown; a failed write closes both.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) -> io::Result<()> {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let from_again = from.try_clone()?;
    thread::Builder::new()
        .name("proxy-read".into())
        .spawn(move || {
            let mut buf = vec![0; CHUNK];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx
                            .send((Instant::now() + delay, buf[..n].to_vec()))
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        })?;
    thread::Builder::new()
        .name("proxy-write".into())
        .spawn(move || {
            // The kernel's default timer slack (50 µs) would add itself to every
            // delay; the delays here are a few hundred µs.
            if !delay.is_zero() {
                let _ = nix::sys::prctl::set_timerslack(1_000);
            }
            for (due, chunk) in rx {
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                if to.write_all(&chunk).is_err() {
                    let _ = from_again.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                    return;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on 127.0.0.1 that answers each connection until it closes.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                thread::spawn(move || {
                    let _ = conn.set_nodelay(true);
                    let mut buf = [0; 4096];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 || conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Median time of `n` one-byte ping-pongs on `addr`.
    fn ping_pong(addr: SocketAddr, n: usize) -> Duration {
        let mut conn = TcpStream::connect(addr).expect("connect");
        conn.set_nodelay(true).expect("nodelay");
        let mut times: Vec<Duration> = (0..n)
            .map(|i| {
                let start = Instant::now();
                conn.write_all(&[i as u8]).expect("write");
                let mut b = [0];
                conn.read_exact(&mut b).expect("read");
                assert_eq!(b[0], i as u8);
                start.elapsed()
            })
            .collect();
        times.sort();
        times[n / 2]
    }

    #[test]
    fn adds_the_round_trip_time_to_a_ping_pong() {
        let echo = echo_server();
        let direct = ping_pong(echo, 20);
        let proxy = LatencyProxy::start(echo, Duration::from_millis(5)).expect("proxy");
        assert!(proxy.addr().ip().is_loopback());
        let through = ping_pong(proxy.addr(), 20);
        // 2 × 5 ms added; allow for a busy machine above, never below.
        assert!(
            through >= Duration::from_millis(10) && through < direct + Duration::from_millis(40),
            "direct {direct:?}, through the proxy {through:?}"
        );
    }

    #[test]
    fn a_latency_line_delivers_a_burst_in_one_delay_not_one_per_chunk() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::from_millis(20)).expect("proxy");
        let mut conn = TcpStream::connect(proxy.addr()).expect("connect");
        conn.set_nodelay(true).expect("nodelay");
        let start = Instant::now();
        // Ten writes 2 ms apart: each chunk is delayed 40 ms there and back,
        // but they overlap, so the last echo comes back about 18 + 40 ms after start.
        for i in 0..10u8 {
            conn.write_all(&[i]).expect("write");
            thread::sleep(Duration::from_millis(2));
        }
        let mut got = [0; 10];
        conn.read_exact(&mut got).expect("read");
        let took = start.elapsed();
        assert_eq!(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(
            took >= Duration::from_millis(40) && took < Duration::from_millis(200),
            "{took:?}"
        );
    }

    #[test]
    fn bytes_arrive_intact_and_in_order() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::from_micros(200)).expect("proxy");
        let mut conn = TcpStream::connect(proxy.addr()).expect("connect");
        // More than a chunk and than the socket buffers: read while writing.
        let sent: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut reader = conn.try_clone().expect("clone");
        let len = sent.len();
        let read = thread::spawn(move || {
            let mut got = vec![0; len];
            reader.read_exact(&mut got).expect("read back");
            got
        });
        for part in sent.chunks(7_919) {
            conn.write_all(part).expect("write");
        }
        conn.shutdown(Shutdown::Write).expect("shutdown");
        let got = read.join().expect("reader");
        assert!(got == sent, "the bytes came back changed or out of order");
        // The end of input is passed on: the echo closes, and so does the proxy.
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).expect("read to end");
        assert!(rest.is_empty());
    }

    #[test]
    fn stops_when_dropped() {
        let echo = echo_server();
        let proxy = LatencyProxy::start(echo, Duration::ZERO).expect("proxy");
        let addr = proxy.addr();
        let mut conn = TcpStream::connect(addr).expect("connect");
        conn.write_all(b"x").expect("write");
        let mut b = [0];
        conn.read_exact(&mut b).expect("echo");
        drop(proxy);
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        assert!(matches!(conn.read(&mut b), Ok(0) | Err(_)));
    }
}
