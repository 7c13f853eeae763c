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
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::client::Client;
use crate::counters::{CommandCounts, SessionCounters, difference};

/// One probe: the server's clock, then the session's counters.
const PROBE: &str =
    "SELECT 'probe' AS tag, UNIX_TIMESTAMP(NOW(6)) AS at;\nSHOW SESSION STATUS LIKE 'Com\\_%';\n";

/// What a run took, and the commands it sent per unit of work, if counted.
pub type Probed = (Duration, Option<CommandCounts>);

/// Probes before the work: a warm-up, and the three that measure one probe.
const HEAD: usize = 4;

/// Writes `work`, between the probes when `probed`.
pub fn write(
    out: &mut dyn Write,
    probed: bool,
    work: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if probed {
        out.write_all(PROBE.repeat(HEAD).as_bytes())?;
    }
    work(out)?;
    if probed {
        out.write_all(PROBE.as_bytes())?;
    }
    Ok(())
}

/// Runs a file of [`write`] of `units` units of work with the client: the
/// work's duration and commands per unit by the probes when `probed`, else
/// the client's time from process start to exit, uncounted.
pub fn run(client: &Client, file: &Path, probed: bool, units: usize) -> anyhow::Result<Probed> {
    let (took, stdout) = client.run_file(file)?;
    if probed {
        parse(&stdout, units)
    } else {
        Ok((took, None))
    }
}

/// Reads the probes out of the client's batch-mode output (tab-separated, a
/// header line per result): the work's duration by the server's clock, and the
/// commands it sent per unit of `units`, if the server keeps counters.
fn parse(stdout: &str, units: usize) -> anyhow::Result<Probed> {
    let mut probes: Vec<(f64, SessionCounters)> = Vec::new();
    for line in stdout.lines() {
        match line.split_once('\t') {
            Some(("probe", at)) => probes.push((
                at.trim().parse().context("a probe's time")?,
                SessionCounters::new(),
            )),
            Some((name, value)) if name.starts_with("Com_") => {
                if let (Some(probe), Ok(value)) = (probes.last_mut(), value.trim().parse()) {
                    probe.1.insert(name.to_ascii_lowercase(), value);
                }
            }
            _ => {}
        }
    }
    let n = probes.len();
    ensure!(
        n == HEAD + 1,
        "expected {} probes in the client's output, found {n}",
        HEAD + 1
    );
    let (first, before, after) = (&probes[HEAD - 2], &probes[HEAD - 1], &probes[HEAD]);
    let probe_seconds = probes[1..HEAD]
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .fold(f64::INFINITY, f64::min);
    let mut seconds = (after.0 - before.0) - probe_seconds;
    if seconds <= 0.0 {
        // A busy machine made one probe look longer than the work: keep the
        // time with the probe in it, an upper bound, rather than fail the run.
        eprintln!("  (the client's work took no longer than a probe; its time includes one)");
        seconds = after.0 - before.0;
    }
    let sent = difference(
        &difference(&first.1, &before.1),
        &difference(&before.1, &after.1),
    );
    Ok((
        Duration::from_secs_f64(seconds.max(1e-6)),
        CommandCounts::from_deltas(&sent, units),
    ))
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
        let (took, counts) = parse(out, 2).expect("parses");
        assert!((took.as_secs_f64() - 0.5).abs() < 1e-6, "{took:?}");
        assert_eq!(counts.expect("counts").to_string(), "UPDATE 1.0");
        assert!(parse("tag\tat\nprobe\t1.0\n", 1).is_err());
    }
}
