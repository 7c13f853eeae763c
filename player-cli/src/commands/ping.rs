//! `ping`: connect, and say to what and how.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Args;
use player_admin::catalog::{round_trip, server_info};
use player_core::db::DatabaseUrl;
use serde::Serialize;

use crate::text::Escaped;

/// Arguments of `ping`.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Print a JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// What `ping --json` prints.
#[derive(Debug, Serialize)]
struct PingJson<'a> {
    url: String,
    ssl_mode: &'a str,
    server_version: &'a str,
    tls: bool,
    tls_cipher: Option<&'a str>,
    tls_version: Option<&'a str>,
    tidb_txn_mode: Option<&'a str>,
    connect_ms: f64,
    round_trip_ms: f64,
}

/// Connects, reads the server's facts, times one round trip, and prints them.
pub fn run(a: &PingArgs, url: &DatabaseUrl, out: &mut impl Write) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = player_guard::connect_guarded(url)?;
    let connect = started.elapsed();
    // A server that accepted the connection and then stopped answering gets
    // as long as connecting did.
    let (info, round_trip) = super::read_step(&mut conn, url.connect_timeout(), |c| {
        let info = server_info(c)?;
        let started = Instant::now();
        round_trip(c)?;
        diesel::QueryResult::Ok((info, started.elapsed()))
    })?;
    let tls = url.tls();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    if a.json {
        return super::write_json(
            out,
            &PingJson {
                url: url.to_string(),
                ssl_mode: tls.mode.as_str(),
                server_version: &info.version,
                tls: info.tls_cipher.is_some(),
                tls_cipher: info.tls_cipher.as_deref(),
                tls_version: info.tls_version.as_deref(),
                tidb_txn_mode: info.tidb_txn_mode.as_deref(),
                connect_ms: ms(connect),
                round_trip_ms: ms(round_trip),
            },
        );
    }
    writeln!(out, "connected to {url}")?;
    writeln!(out, "server version: {}", Escaped(&info.version))?;
    match (&info.tls_cipher, &info.tls_version) {
        (Some(cipher), Some(version)) => writeln!(
            out,
            "TLS: on ({}, {}), ssl_mode={}",
            Escaped(cipher),
            Escaped(version),
            tls.mode
        )?,
        (Some(cipher), None) => {
            writeln!(out, "TLS: on ({}), ssl_mode={}", Escaped(cipher), tls.mode)?
        }
        _ => writeln!(out, "TLS: off, ssl_mode={}", tls.mode)?,
    }
    if let Some(mode) = &info.tidb_txn_mode {
        writeln!(out, "TiDB transaction mode: {}", Escaped(mode))?;
    }
    writeln!(
        out,
        "connect: {:.2} ms, round trip: {:.2} ms",
        ms(connect),
        ms(round_trip)
    )?;
    Ok(())
}
