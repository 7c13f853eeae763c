//! The bank part: `player-cli bank --json` at growing worker counts.

use anyhow::{Context, bail, ensure};
use player_bank::Summary;

use crate::player_cli::PlayerCli;
use crate::report::{Section, fixed, thousands, verdict};

/// Width of the longest text bar, in characters.
const BAR: usize = 40;

/// Runs the bank workload once per worker count, with `extra` arguments for
/// `player-cli bank` (e.g. `--trade one-statement`).
pub fn run(
    cli: &PlayerCli,
    workers: &[usize],
    players: usize,
    seconds: usize,
    extra: &[&str],
) -> anyhow::Result<Vec<Summary>> {
    let mut runs = Vec::new();
    for w in workers {
        let (w, p, s) = (w.to_string(), players.to_string(), seconds.to_string());
        let mut args = vec![
            "bank",
            "--workers",
            &w,
            "--players",
            &p,
            "--seconds",
            &s,
            "--json",
        ];
        args.extend(extra);
        let what = args.join(" ");
        // It exits non-zero when an invariant broke, and prints its report
        // all the same: keep the report, `check` fails the part afterwards.
        let out = cli.output(&[], &args)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let run: Summary = serde_json::from_str(last).with_context(|| {
            format!(
                "player-cli {what} ({}) printed no report: {stderr}",
                out.status
            )
        })?;
        if !out.status.success() && run.invariants_ok {
            bail!(
                "player-cli {what} failed ({}): {}",
                out.status,
                stderr.trim()
            );
        }
        let (rate, p99) = (thousands(run.trades_per_sec), ms(&run, run.p99_ms));
        eprintln!(
            "  {what}: {rate} trades/s, p99 {p99} ms, invariants {}",
            invariants(&run)
        );
        runs.push(run);
    }
    Ok(runs)
}

/// Fails if any run broke an invariant or lost trades: that is a bug, not a slow figure.
pub fn check<'a>(runs: impl IntoIterator<Item = &'a Summary>) -> anyhow::Result<()> {
    for r in runs {
        let w = r.workers;
        ensure!(
            r.invariants_ok,
            "bank with {w} workers: the invariant check failed"
        );
        ensure!(
            r.failed == 0,
            "bank with {w} workers: {} trades failed",
            r.failed
        );
    }
    Ok(())
}

/// Where throughput peaks, and whether it grew up to there: each step up to
/// the peak keeps at least 0.95 of the step before (noise allowance), and the
/// peak is above one worker.
pub fn growth(runs: &[Summary]) -> Option<(usize, bool)> {
    let rate = |i: usize| runs[i].trades_per_sec;
    // The first of equal maxima: a plateau peaks where it starts.
    let peak = (0..runs.len()).reduce(|best, i| if rate(i) > rate(best) { i } else { best })?;
    let grows = peak > 0 && (1..=peak).all(|i| rate(i) >= 0.95 * rate(i - 1));
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
        "workers | trades/s | vs 1 worker | p50 ms | p99 ms | committed | refused | retried | failed | invariants",
    );
    let base = runs.first().map_or(f64::NAN, |r| r.trades_per_sec);
    for r in runs {
        section.row(cells(r, base, true));
    }
    if let Some((peak, grows)) = growth(runs) {
        let p = &runs[peak];
        let (rate, times) = (thousands(p.trades_per_sec), fixed(p.trades_per_sec / base));
        section.note(format!(
            "Throughput peaks at {} workers: {rate} trades/s, {times} × one worker; it grows up to there: {}.",
            p.workers,
            verdict(grows)
        ));
    }
    let ok = verdict(runs.iter().all(|r| r.invariants_ok && r.failed == 0));
    section.note(format!(
        "Invariant check after every run, no failed trade: {ok}."
    ));
    let max = runs.iter().map(|r| r.trades_per_sec).fold(0.0, f64::max);
    let mut bars = String::new();
    for r in runs {
        let (bar, rate) = (
            "█".repeat((r.trades_per_sec / max * BAR as f64).round() as usize),
            thousands(r.trades_per_sec),
        );
        bars += &format!("{:>3} workers {bar:<BAR$} {rate} trades/s\n", r.workers);
    }
    section.preformatted("Throughput against workers", bars);
    section
}

/// The cells of a run from its workers on: its rate, against `one` worker's,
/// its latencies, with `counts` its committed and refused trades, its retried
/// and failed ones, and its invariant check.
pub fn cells(r: &Summary, one: f64, counts: bool) -> Vec<String> {
    let (rate, p50, p99) = (
        thousands(r.trades_per_sec),
        ms(r, r.p50_ms),
        ms(r, r.p99_ms),
    );
    let mut cells = vec![
        r.workers.to_string(),
        rate,
        fixed(r.trades_per_sec / one),
        p50,
        p99,
    ];
    let counted = if counts {
        vec![r.committed, r.refused]
    } else {
        Vec::new()
    };
    cells.extend(
        counted
            .into_iter()
            .chain([r.retried, r.failed])
            .map(|n| thousands(n as f64)),
    );
    cells.push(invariants(r).into());
    cells
}

/// "ok" or "VIOLATED".
pub fn invariants(run: &Summary) -> &'static str {
    if run.invariants_ok { "ok" } else { "VIOLATED" }
}

/// A latency in milliseconds, or n/a for a run without a trade.
pub fn ms(run: &Summary, v: f64) -> String {
    if run.committed + run.refused == 0 {
        "n/a".into()
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(workers: usize, trades_per_sec: f64) -> Summary {
        let json = r#"{"workers":1,"players":10,"seconds":1.0,"trades_limit":null,"seed":1,"txn_mode":null,
            "trade":"transactional","committed":1,"refused":0,"retried":0,"failed":0,"unknown_outcome":0,
            "trades_per_sec":1.0,"p50_ms":1.0,"p99_ms":2.0,"max_ms":3.0,"invariants_ok":true,
            "violations":[],"errors":[],"aborted":null,"totals":null,"interrupted":false}"#;
        Summary {
            workers,
            trades_per_sec,
            ..serde_json::from_str(json).expect("the JSON contract")
        }
    }

    #[test]
    fn growth_finds_the_peak_and_whether_it_was_climbed() {
        let rising = [run(1, 100.0), run(2, 180.0), run(4, 300.0), run(8, 250.0)];
        assert_eq!(growth(&rising), Some((2, true)));
        assert_eq!(
            growth(&[run(1, 100.0), run(2, 50.0), run(4, 300.0)]),
            Some((2, false))
        );
        assert_eq!(growth(&[run(1, 100.0), run(2, 90.0)]), Some((0, false)));
        assert_eq!(
            growth(&[run(1, 100.0), run(2, 200.0), run(4, 200.0)]),
            Some((1, true))
        );
        assert!(check(&rising).is_ok());
        assert!(
            check(&[Summary {
                invariants_ok: false,
                ..run(2, 1.0)
            }])
            .is_err()
        );
        let text = section(&rising).render(false);
        assert!(
            text.contains(&format!("  4 workers {} 300 trades/s", "█".repeat(BAR))),
            "{text}"
        );
    }
}
