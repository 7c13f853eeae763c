//! Part 3, the bank workload: `player-cli bank --json` at growing worker counts.

use anyhow::{Context, bail};
use player_bank::Summary;

use crate::chart::{self, Point};
use crate::player_cli::PlayerCli;
use crate::report::{Section, Verdict, ratio, thousands};

/// Parses the output of `bank --json`: the whole output, or its last non-empty line.
pub fn parse(stdout: &str) -> anyhow::Result<Summary> {
    serde_json::from_str(stdout.trim()).or_else(|whole| {
        stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or(whole)
            .context("bank --json printed no JSON object of the expected shape")
    })
}

/// Runs the bank workload once per worker count. `Ok(None)` when `player-cli`
/// has no `bank` command (the reason is printed).
pub fn run(
    cli: &PlayerCli,
    workers: &[usize],
    players: usize,
    seconds: u64,
) -> anyhow::Result<Option<Vec<Summary>>> {
    if let Some(why) = cli.missing("bank") {
        eprintln!("bank: skipped ({why})");
        return Ok(None);
    }
    run_with(cli, workers, players, seconds, &[]).map(Some)
}

/// Runs the bank workload once per worker count, with `extra` arguments for
/// `player-cli bank` (e.g. `--trade one-statement`).
pub fn run_with(
    cli: &PlayerCli,
    workers: &[usize],
    players: usize,
    seconds: u64,
    extra: &[&str],
) -> anyhow::Result<Vec<Summary>> {
    let mut runs = Vec::new();
    for &w in workers {
        let (w_s, p_s, s_s) = (w.to_string(), players.to_string(), seconds.to_string());
        let args = [
            "bank",
            "--workers",
            &w_s,
            "--players",
            &p_s,
            "--seconds",
            &s_s,
            "--json",
        ]
        .into_iter()
        .chain(extra.iter().copied());
        // It exits non-zero when an invariant broke, and prints its report
        // all the same: keep the report, `check` fails the part afterwards.
        let out = cli.output(&[], args)?;
        let w = if extra.is_empty() {
            w.to_string()
        } else {
            format!("{w} {}", extra.join(" "))
        };
        let run = parse(&String::from_utf8_lossy(&out.stdout)).map_err(|e| {
            anyhow::anyhow!(
                "player-cli bank --workers {w} ({}): {e:#}; stderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        if !out.status.success() && run.invariants_ok {
            bail!(
                "player-cli bank --workers {w} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        eprintln!(
            "  bank --workers {w}: {} trades/s, p99 {} ms, invariants {}",
            thousands(run.trades_per_sec),
            ms(&run, run.p99_ms),
            if run.invariants_ok { "ok" } else { "VIOLATED" }
        );
        runs.push(run);
    }
    Ok(runs)
}

/// Fails if any run broke an invariant or lost trades: that is a bug, not a slow figure.
pub fn check(runs: &[Summary]) -> anyhow::Result<()> {
    for r in runs {
        if !r.invariants_ok {
            bail!(
                "bank with {} workers: the invariant check failed",
                r.workers
            );
        }
        if r.failed > 0 {
            bail!(
                "bank with {} workers: {} trades failed",
                r.workers,
                r.failed
            );
        }
    }
    Ok(())
}

/// Where throughput peaks, and whether it grew up to there: each step up to
/// the peak keeps at least 0.95 of the step before (noise allowance), and the
/// peak is above one worker.
pub fn growth(runs: &[Summary]) -> Option<(usize, bool)> {
    // The first of equal maxima: a plateau peaks where it starts.
    let peak = (0..runs.len()).reduce(|best, i| {
        if runs[i].trades_per_sec > runs[best].trades_per_sec {
            i
        } else {
            best
        }
    })?;
    let grows = peak > 0
        && runs[..=peak]
            .windows(2)
            .all(|w| w[1].trades_per_sec >= 0.95 * w[0].trades_per_sec);
    Some((peak, grows))
}

/// The section of the bank runs, with a text chart of throughput against workers.
pub fn section(runs: &[Summary]) -> Section {
    let (players, seconds) = runs.first().map_or((0, 0.0), |r| (r.players, r.seconds));
    let mut section = Section::new(
        format!(
            "Bank workload ({} players, {seconds:.0} s per run)",
            thousands(players as f64)
        ),
        &[
            "workers",
            "trades/s",
            "vs 1 worker",
            "p50 ms",
            "p99 ms",
            "committed",
            "refused",
            "retried",
            "failed",
            "invariants",
        ],
    );
    let base = runs.first().map_or(f64::NAN, |r| r.trades_per_sec);
    for r in runs {
        section.row(vec![
            r.workers.to_string(),
            thousands(r.trades_per_sec),
            ratio(r.trades_per_sec / base),
            ms(r, r.p50_ms),
            ms(r, r.p99_ms),
            thousands(r.committed as f64),
            thousands(r.refused as f64),
            thousands(r.retried as f64),
            thousands(r.failed as f64),
            if r.invariants_ok { "ok" } else { "VIOLATED" }.into(),
        ]);
    }
    if let Some((peak, grows)) = growth(runs) {
        let p = &runs[peak];
        section.note(format!(
            "Throughput peaks at {} workers: {} trades/s, {} × one worker; it grows up to there: {}.",
            p.workers,
            thousands(p.trades_per_sec),
            ratio(p.trades_per_sec / base),
            Verdict::of(grows)
        ));
    }
    let ok = runs.iter().all(|r| r.invariants_ok && r.failed == 0);
    section.note(format!(
        "Invariant check after every run, no failed trade: {}.",
        Verdict::of(ok)
    ));
    let points = points(runs);
    let bars = chart::text_bars(&points, "trades/s");
    section.preformatted("Throughput against workers", bars);
    section
}

/// A latency in milliseconds, or n/a for a run without a trade.
fn ms(run: &Summary, v: f64) -> String {
    if run.committed + run.refused == 0 {
        "n/a".into()
    } else {
        format!("{v:.2}")
    }
}

/// (workers, trades/s) of each run, noted with its p99 latency.
pub fn points(runs: &[Summary]) -> Vec<Point> {
    runs.iter()
        .map(|r| Point {
            x: r.workers,
            y: r.trades_per_sec,
            note: (r.committed > 0).then(|| format!("p99 {:.1} ms", r.p99_ms)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(workers: usize, tps: f64) -> Summary {
        Summary {
            workers,
            players: 10,
            seconds: 1.0,
            trades_limit: None,
            seed: 1,
            txn_mode: None,
            trade: "transactional".into(),
            committed: 1,
            refused: 0,
            retried: 0,
            failed: 0,
            unknown_outcome: 0,
            trades_per_sec: tps,
            p50_ms: 1.0,
            p99_ms: 2.0,
            max_ms: 3.0,
            invariants_ok: true,
            violations: Vec::new(),
            errors: Vec::new(),
            aborted: None,
            totals: None,
            reconciliation: None,
            interrupted: false,
            keyed: false,
            resolved_by_key: 0,
        }
    }

    #[test]
    fn parses_the_json_contract_alone_or_after_other_lines() {
        let json = serde_json::to_string(&run(4, 500.5)).expect("serialize");
        let r = parse(&json).expect("whole output");
        assert_eq!((r.workers, r.trades_per_sec, r.p99_ms), (4, 500.5, 2.0));
        assert!(parse(&format!("starting\n{json}\n")).is_ok());
        assert!(parse("no json").is_err());
    }

    #[test]
    fn growth_finds_the_peak_and_whether_it_was_climbed() {
        let rising = [run(1, 100.0), run(2, 180.0), run(4, 300.0), run(8, 250.0)];
        assert_eq!(growth(&rising), Some((2, true)));
        let dip = [run(1, 100.0), run(2, 50.0), run(4, 300.0)];
        assert_eq!(growth(&dip), Some((2, false)));
        let falling = [run(1, 100.0), run(2, 90.0)];
        assert_eq!(growth(&falling), Some((0, false)));
        let plateau = [run(1, 100.0), run(2, 200.0), run(4, 200.0)];
        assert_eq!(growth(&plateau), Some((1, true)));
        assert!(check(&rising).is_ok());
        let mut broken = run(2, 1.0);
        broken.invariants_ok = false;
        assert!(check(&[broken]).is_err());
    }
}
