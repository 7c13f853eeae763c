//! `doctor`: check the assumptions the code depends on against the server,
//! one row per check (PASS, WARN or FAIL) with a hint for what fixes it.
//! The checks live in `player_admin::doctor`; this prints them.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use player_admin::doctor::{self, Check, DoctorError, Report, Status};
use player_core::db::DatabaseUrl;
use serde::Serialize;

use super::{InFlight, Stalled};

/// Arguments of `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print a JSON object instead of lines.
    #[arg(long)]
    pub json: bool,

    /// The scratch database this run creates and drops, named before
    /// anything connects so that the notice on stderr can name it.
    #[arg(skip = doctor::scratch_name())]
    pub scratch: String,
}

/// What `doctor --json` prints, keys in this order:
/// `{"checks":[{"name":..,"status":"pass","detail":..,"hint":null}],"passed":N,"warned":N,"failed":N}`.
#[derive(Debug, Serialize)]
struct DoctorJson<'a> {
    checks: &'a [Check],
    passed: usize,
    warned: usize,
    failed: usize,
}

/// Runs the checks and prints them; `Ok(true)` when one failed (exit 1).
pub fn run(
    a: &DoctorArgs,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let options = doctor::Options {
        scratch: a.scratch.clone(),
        stall,
    };
    let report = doctor::run(url, &options).map_err(|e| match e {
        // Said as every command says it, so that the stall's hint follows.
        DoctorError::Stalled(after) => anyhow::Error::new(Stalled {
            after,
            // Its writes go to a scratch database, dropped after.
            in_flight: InFlight::Read,
        }),
        other => other.into(),
    })?;
    if a.json {
        super::write_json(
            out,
            &DoctorJson {
                checks: &report.checks,
                passed: report.count(Status::Pass),
                warned: report.count(Status::Warn),
                failed: report.count(Status::Fail),
            },
        )?;
    } else {
        print(out, &report)?;
    }
    Ok(report.failed())
}

/// `STATUS  name  detail`, a `hint:` line under each WARN and FAIL, then the counts.
fn print(out: &mut impl Write, report: &Report) -> anyhow::Result<()> {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        writeln!(
            out,
            "{}  {:width$}  {}",
            check.status.label(),
            check.name,
            check.detail
        )?;
        if let Some(hint) = &check.hint {
            writeln!(out, "{:4}  {:width$}  hint: {hint}", "", "")?;
        }
    }
    writeln!(
        out,
        "{} checks: {} pass, {} warn, {} fail",
        report.checks.len(),
        report.count(Status::Pass),
        report.count(Status::Warn),
        report.count(Status::Fail)
    )?;
    Ok(())
}
