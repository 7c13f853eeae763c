//! The memory part: the peak resident set size of `player-cli load` for growing
//! player counts.
//!
//! The peak is read with `getrusage(RUSAGE_CHILDREN)`, which reports the largest
//! child a process has waited for. So that this child is the only one, the
//! benchmark runs it under a fresh copy of itself (`player-bench __peak-rss CMD...`),
//! which prints the peak in KiB, the exit code and the seconds on one line.

use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, ensure};
use nix::sys::resource::{UsageWho, getrusage};

use crate::Bench;
use crate::report::{Section, Show, fixed, thousands, verdict};

/// The hidden first argument that makes `player-bench` a peak-RSS wrapper.
pub const WRAPPER_ARG: &str = "__peak-rss";

/// The batch size `player-cli load` is run with.
pub const BATCH: usize = 1_000;

/// The largest count's peak may be at most this multiple of the smallest's
/// ("does not grow", with room for allocator noise).
pub const GROWTH_LIMIT: f64 = 1.25;

/// The wrapper: runs `argv` with its output sent to stderr, then prints
/// `PEAK_KIB EXIT_CODE SECONDS` on stdout. Exits 0 once the command ran,
/// whatever its status.
pub fn wrapper_main(argv: &[String]) -> ExitCode {
    match measure(argv) {
        Ok((kib, code, seconds)) => println!("{kib} {code} {seconds}"),
        Err(e) => {
            eprintln!("{WRAPPER_ARG}: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Runs `argv` and returns its peak RSS in KiB, its exit code (-1 if killed
/// by a signal) and its seconds from start to exit.
fn measure(argv: &[String]) -> anyhow::Result<(i64, i32, f64)> {
    let (program, args) = argv
        .split_first()
        .context("usage: player-bench __peak-rss COMMAND [ARGS...]")?;
    let start = Instant::now();
    // The command's stdout goes to our stderr: our stdout carries only the figures.
    let stdout = Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?);
    let status = Command::new(program).args(args).stdout(stdout).status();
    let status = status.with_context(|| format!("cannot start {program}"))?;
    let seconds = start.elapsed().as_secs_f64();
    // ru_maxrss is in KiB on Linux.
    Ok((
        getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss(),
        status.code().unwrap_or(-1),
        seconds,
    ))
}

/// Measures `player-cli load --count N --batch 1000` for each of
/// `--memory-counts`; skipped when `player-cli` has no `load` command.
pub fn run(b: &mut Bench, show: Show) -> anyhow::Result<()> {
    if let Some(why) = b.player_cli.missing("load") {
        eprintln!("memory: skipped ({why})");
        return Ok(());
    }
    let me = std::env::current_exe()?;
    let mut runs = Vec::new();
    for &count in &b.args.memory_counts {
        b.db.reset()?;
        let (n, batch) = (count.to_string(), BATCH.to_string());
        let out = b.player_cli.output(
            &[&me.to_string_lossy(), WRAPPER_ARG],
            &["load", "--count", &n, "--batch", &batch],
        )?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let figures: Vec<f64> = stdout
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let &[kib, code, seconds] = &figures[..] else {
            anyhow::bail!("{WRAPPER_ARG} printed {stdout:?}")
        };
        ensure!(
            code == 0.0,
            "player-cli load --count {count} exited with {code}: {}",
            stderr.trim()
        );
        b.db.expect_count(count, &format!("player-cli load --count {count}"))?;
        let (mib, rate) = (kib / 1024.0, count as f64 / seconds.max(1e-9));
        eprintln!(
            "  memory load {count}: peak {mib:.1} MiB, {}/s",
            thousands(rate)
        );
        runs.push((count, mib, seconds, rate));
    }
    b.db.reset()?;
    let header = "players | peak RSS MiB | vs smallest | seconds | players/s";
    let mut section = Section::new(
        format!("Peak memory of `player-cli load --batch {BATCH}`"),
        header,
    );
    let (Some(&first), Some(&last)) = (runs.first(), runs.last()) else {
        return Ok(());
    };
    for (count, mib, seconds, rate) in runs {
        let mut row = vec![
            thousands(count as f64),
            format!("{mib:.1}"),
            fixed(mib / first.1),
        ];
        row.extend([format!("{seconds:.1}"), thousands(rate)]);
        section.row(row);
    }
    let (growth, most, least) = (
        last.1 / first.1,
        thousands(last.0 as f64),
        thousands(first.0 as f64),
    );
    section.note(format!(
        "Memory does not grow with the number of players (peak at {most} ≤ {GROWTH_LIMIT} × peak at {least}): \
         {} ({}×).",
        verdict(growth <= GROWTH_LIMIT),
        fixed(growth)
    ));
    section.note(
        "Peak RSS of the player-cli process (getrusage RUSAGE_CHILDREN); seconds are from process start to exit \
         (start-up and connecting included). The row count is checked after every load.",
    );
    show(&section);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_command_and_keeps_its_exit_code() {
        let (kib, code, seconds) =
            measure(&["sh".into(), "-c".into(), "exit 3".into()]).expect("sh runs");
        assert!(kib > 0 && code == 3 && seconds >= 0.0);
        assert!(measure(&["/nonexistent/program".into()]).is_err());
    }
}
