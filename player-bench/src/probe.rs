//! Probes inside the command-line client's own session: statements written
//! into its `.sql` file that print the server's clock and the session's `Com_*`
//! counters, so the client's figures come from the same counters as ours and
//! its time excludes its start-up and connecting (which, through the proxy,
//! cost round trips of their own).
//!
//! A probed file runs a probe four times, the work, and a probe again. The
//! first probe warms up (the session's first `SHOW STATUS` is the slowest).
//! The gaps between the other three are what one probe adds to the time (the
//! shorter of the two, so that one scheduling hiccup on a busy machine does not
//! swallow a short piece of work), and the last of them less the one before is
//! what it adds to the counters. The server's clock is read at the start of a
//! probe, so the time from the last probe before the work to the one after
//! holds one probe and the work.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::counters::{CommandCounts, SessionCounters};

/// One probe: the server's clock, then the session's counters.
const PROBE: &str = "SELECT 'probe' AS tag, UNIX_TIMESTAMP(NOW(6)) AS at;\n\
                     SHOW SESSION STATUS LIKE 'Com\\_%';\n";

/// Probes before the work: a warm-up, and the three that measure one probe.
const HEAD: usize = 4;

/// Writes the probes that go before the work.
pub fn write_head(out: &mut impl Write) -> io::Result<()> {
    for _ in 0..HEAD {
        out.write_all(PROBE.as_bytes())?;
    }
    Ok(())
}

/// Writes the probe that goes after the work.
pub fn write_tail(out: &mut impl Write) -> io::Result<()> {
    out.write_all(PROBE.as_bytes())
}

/// What a probed run did: the server's time between the last probe before
/// the work and the one after, less one probe's, and the commands per unit of
/// work, if the server keeps counters.
#[derive(Debug)]
pub struct Probed {
    /// The work's duration by the server's clock.
    pub took: Duration,
    /// Commands per unit, from the session's counters.
    pub counts: Option<CommandCounts>,
}

/// Reads the probes out of the client's batch-mode output (tab-separated, a
/// header line per result).
pub fn parse(stdout: &str, units: usize) -> anyhow::Result<Probed> {
    let mut probes: Vec<(f64, SessionCounters)> = Vec::new();
    for line in stdout.lines() {
        let mut cells = line.split('\t');
        match (cells.next(), cells.next()) {
            (Some("probe"), Some(at)) => {
                let at: f64 = at.trim().parse().context("a probe's time")?;
                probes.push((at, SessionCounters::new()));
            }
            (Some(name), Some(value)) if name.starts_with("Com_") => {
                if let (Some(probe), Ok(value)) = (probes.last_mut(), value.trim().parse()) {
                    probe.1.insert(name.to_ascii_lowercase(), value);
                }
            }
            _ => {}
        }
    }
    ensure!(
        probes.len() == HEAD + 1,
        "expected {} probes in the client's output, found {}",
        HEAD + 1,
        probes.len()
    );
    let (first, before, after) = (&probes[HEAD - 2], &probes[HEAD - 1], &probes[HEAD]);
    let probe_seconds = probes[1..HEAD]
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .fold(f64::INFINITY, f64::min);
    let seconds = (after.0 - before.0) - probe_seconds;
    ensure!(
        seconds > 0.0,
        "the work took no longer than one probe by the server's clock; give it more units"
    );
    let sent: SessionCounters = after
        .1
        .iter()
        .map(|(k, v)| {
            let own = before.1.get(k).unwrap_or(v) - first.1.get(k).unwrap_or(v);
            (k.clone(), v - before.1.get(k).unwrap_or(&0.0) - own)
        })
        .collect();
    Ok(Probed {
        took: Duration::from_secs_f64(seconds),
        counts: CommandCounts::from_deltas(&sent, units),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_and_counters_between_the_probes() {
        // Each probe counts itself as a SELECT; the work was two UPDATEs.
        // A probe takes 1 ms (after a slow first one, and once 3 ms, a
        // hiccup the shorter gap leaves out); the work 0.5 s.
        let out = "tag\tat\nprobe\t99.000000\nVariable_name\tValue\nCom_select\t0\nCom_update\t0\n\
                   tag\tat\nprobe\t100.000000\nVariable_name\tValue\nCom_select\t1\nCom_update\t0\n\
                   tag\tat\nprobe\t100.003000\nVariable_name\tValue\nCom_select\t2\nCom_update\t0\n\
                   tag\tat\nprobe\t100.004000\nVariable_name\tValue\nCom_select\t3\nCom_update\t0\n\
                   tag\tat\nprobe\t100.505000\nVariable_name\tValue\nCom_select\t4\nCom_update\t2\n";
        let p = parse(out, 2).expect("parses");
        assert!((p.took.as_secs_f64() - 0.5).abs() < 1e-6, "{:?}", p.took);
        let c = p.counts.expect("counts");
        assert_eq!((c.statements, c.round_trips), (1.0, 1.0));
        assert_eq!(c.to_string(), "UPDATE 1.0");
        assert!(parse("tag\tat\nprobe\t1.0\n", 1).is_err());
        let head = String::from_utf8({
            let mut b = Vec::new();
            write_head(&mut b).expect("write");
            b
        })
        .expect("UTF-8");
        assert_eq!(head.matches("SELECT 'probe'").count(), HEAD);
    }

    #[test]
    fn the_client_runs_the_probes() {
        let db = player_testkit::TestDatabase::create();
        let url = db.url().parse().expect("URL");
        let client = crate::client::Client::new(None, &url).expect("client on PATH");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("probed.sql");
        crate::sql_files::write_file(&file, |w| {
            write_head(w)?;
            w.write_all(b"DO SLEEP(0.05);\nSELECT 1;\nSELECT 2;\n")?;
            write_tail(w)
        })
        .expect("write");
        let (_, stdout) = client.run_file_output(&file).expect("runs");
        let p = parse(&stdout, 2).expect("probes");
        assert!(p.took >= Duration::from_millis(40), "{:?}", p.took);
        let c = p.counts.expect("MariaDB keeps counters");
        assert_eq!(c.statements, 1.0, "{c}");
    }
}
