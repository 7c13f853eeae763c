//! The memory part: the peak resident set size of `player-cli load` for growing
//! player counts.
//!
//! The peak is read with `getrusage(RUSAGE_CHILDREN)`, which reports the largest
//! child a process has waited for. So that this child is the only one, the
//! benchmark runs it under a fresh copy of itself (`player-bench __peak-rss CMD...`),
//! which prints the figure as one JSON line.

use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context;
use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

use crate::bench_db::BenchDb;
use crate::player_cli::PlayerCli;
use crate::report::{Section, fixed, thousands, verdict};

/// The hidden first argument that makes `player-bench` a peak-RSS wrapper.
pub const WRAPPER_ARG: &str = "__peak-rss";

/// The batch size `player-cli load` is run with.
pub const BATCH: usize = 1_000;

/// The largest count's peak may be at most this multiple of the smallest's
/// ("does not grow", with room for allocator noise).
pub const GROWTH_LIMIT: f64 = 1.25;

/// What the wrapper prints.
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    /// Peak resident set size of the command, in KiB.
    peak_rss_kib: u64,
    /// Its exit code (-1 if killed by a signal).
    exit_code: i32,
    /// Seconds from start to exit.
    seconds: f64,
}

/// The wrapper: runs `argv` with its output sent to stderr, then prints a
/// [`Measured`] line on stdout. Exits 0 once the command ran, whatever its status.
pub fn wrapper_main(argv: &[String]) -> ExitCode {
    let Some((program, args)) = argv.split_first() else {
        eprintln!("usage: player-bench {WRAPPER_ARG} COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    match measure(program, args) {
        Ok(m) => {
            println!("{}", serde_json::json!(m));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{WRAPPER_ARG}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn measure(program: &str, args: &[String]) -> anyhow::Result<Measured> {
    let start = Instant::now();
    // The command's stdout goes to our stderr: our stdout carries only the figure.
    let stdout = Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?);
    let status = Command::new(program).args(args).stdout(stdout).status();
    let status = status.with_context(|| format!("cannot start {program}"))?;
    let seconds = start.elapsed().as_secs_f64();
    // ru_maxrss is in KiB on Linux.
    let peak_rss_kib = u64::try_from(getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss()).unwrap_or(0);
    Ok(Measured {
        peak_rss_kib,
        exit_code: status.code().unwrap_or(-1),
        seconds,
    })
}

/// Measures `player-cli load --count N --batch 1000` for each count. `Ok(None)`
/// when `player-cli` has no `load` command (the reason is printed).
pub fn run(db: &mut BenchDb, cli: &PlayerCli, counts: &[usize]) -> anyhow::Result<Option<Section>> {
    if let Some(why) = cli.missing("load") {
        eprintln!("memory: skipped ({why})");
        return Ok(None);
    }
    let me = std::env::current_exe()?;
    let mut runs = Vec::new();
    for &count in counts {
        db.reset()?;
        let (count_s, batch) = (count.to_string(), BATCH.to_string());
        let args = ["load", "--count", &count_s, "--batch", &batch];
        let out = cli.run(&[&me.to_string_lossy(), WRAPPER_ARG], &args)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let m: Measured = serde_json::from_str(stdout.trim())
            .with_context(|| format!("{WRAPPER_ARG} printed {stdout:?}"))?;
        if m.exit_code != 0 {
            let stderr = String::from_utf8_lossy(&out.stderr);
            anyhow::bail!(
                "player-cli load --count {count} exited with {}: {}",
                m.exit_code,
                stderr.trim()
            );
        }
        db.expect_count(count, &format!("player-cli load --count {count}"))?;
        let (mib, rate) = (
            m.peak_rss_kib as f64 / 1024.0,
            count as f64 / m.seconds.max(1e-9),
        );
        eprintln!(
            "  memory load {count}: peak {mib:.1} MiB, {}/s",
            thousands(rate)
        );
        runs.push((count, mib, m.seconds, rate));
    }
    db.reset()?;

    let title = format!("Peak memory of `player-cli load --batch {BATCH}`");
    let mut section = Section::new(
        title,
        "players | peak RSS MiB | vs smallest | seconds | players/s",
    );
    let base = runs.first().map_or(f64::NAN, |r| r.1);
    for &(count, mib, seconds, rate) in &runs {
        section.row(vec![
            thousands(count as f64),
            format!("{mib:.1}"),
            fixed(mib / base),
            format!("{seconds:.1}"),
            thousands(rate),
        ]);
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        let growth = last.1 / first.1;
        section.note(format!(
            "Memory does not grow with the number of players (peak at {} ≤ {GROWTH_LIMIT} × peak at {}): {} ({}×).",
            thousands(last.0 as f64),
            thousands(first.0 as f64),
            verdict(growth <= GROWTH_LIMIT),
            fixed(growth)
        ));
    }
    section.note(
        "Peak RSS of the player-cli process (getrusage RUSAGE_CHILDREN); seconds are from process start to exit \
         (start-up and connecting included). The row count is checked after every load.",
    );
    Ok(Some(section))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_command_and_keeps_its_exit_code() {
        let m = measure("sh", &["-c".into(), "exit 3".into()]).expect("sh runs");
        assert_eq!(m.exit_code, 3);
        assert!(m.peak_rss_kib > 0 && m.seconds >= 0.0, "{m:?}");
        assert!(measure("/nonexistent/program", &[]).is_err());
    }
}
