//! One module per command group: its clap arguments and what it does.
//! Every command checks its arguments before it connects.

pub mod bank;
pub mod doctor;
pub mod ledger;
pub mod load;
pub mod migrate;
pub mod ping;
pub mod player;
pub mod serve;
pub mod setup;
pub mod trade;

use std::time::Duration;

use diesel::mysql::MysqlConnection;
use player_guard::GuardedConnection;
use serde::Serialize;

/// Writes `value` as one line of JSON on `out`.
pub fn write_json(out: &mut impl std::io::Write, value: &impl Serialize) -> anyhow::Result<()> {
    // As an io::Error, so a closed stdout is recognised as such.
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// What was in flight when a step was given up on, for its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight {
    /// Only reads: nothing can have changed.
    Read,
    /// A write: it may or may not have been applied.
    Write,
    /// The step's own error says what became of its writes (`load`, `trade`).
    Described,
}

/// A step of work given up on: the server had not answered it within the
/// deadline, and the connection was shut down.
#[derive(Debug, thiserror::Error)]
#[error("the server did not answer within {} s{}", .after.as_secs_f64(), match .in_flight {
    InFlight::Write => "; the change in flight may or may not have been applied, so read it back",
    InFlight::Read | InFlight::Described => "",
})]
pub struct Stalled {
    /// The deadline.
    pub after: Duration,
    /// What was in flight.
    pub in_flight: InFlight,
}

/// Runs `op` on `conn` under [`GuardedConnection::within`]: if the server has
/// not answered by `deadline`, the connection is shut down and the error says
/// [`Stalled`] first (and that the write in flight may have been applied).
/// Only database work goes in `op`, not printing, so a slow reader of stdout
/// is never taken for a silent server.
pub fn step<T, E>(
    conn: &mut GuardedConnection,
    deadline: Duration,
    op: impl FnOnce(&mut MysqlConnection) -> Result<T, E>,
) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    step_as(conn, deadline, InFlight::Write, op)
}

/// [`step`] for work that only reads.
pub fn read_step<T, E>(
    conn: &mut GuardedConnection,
    deadline: Duration,
    op: impl FnOnce(&mut MysqlConnection) -> Result<T, E>,
) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    step_as(conn, deadline, InFlight::Read, op)
}

/// [`step`], saying of what was in flight what `in_flight` tells.
pub fn step_as<T, E>(
    conn: &mut GuardedConnection,
    deadline: Duration,
    in_flight: InFlight,
    op: impl FnOnce(&mut MysqlConnection) -> Result<T, E>,
) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    let result = conn.within(deadline, op);
    result.map_err(|e| match conn.stalled() {
        Some(after) => e.into().context(Stalled { after, in_flight }),
        None => e.into(),
    })
}
