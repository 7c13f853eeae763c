//! One module per command group: its clap arguments and what it does.
//! Every command checks its arguments before it connects.

pub mod bank;
pub mod load;
pub mod migrate;
pub mod ping;
pub mod player;
pub mod setup;
pub mod trade;

use player_core::db::GuardedConnection;
use serde::Serialize;

/// Writes `value` as one line of JSON on `out`.
pub fn write_json(out: &mut impl std::io::Write, value: &impl Serialize) -> anyhow::Result<()> {
    // As an io::Error, so a closed stdout is recognised as such.
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// `result` of an operation run with [`GuardedConnection::within`], with the
/// stall said first when the deadline ended it.
pub fn unless_stalled<T, E>(conn: &GuardedConnection, result: Result<T, E>) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    result.map_err(|e| match conn.stalled() {
        Some(after) => e.into().context(format!(
            "the server did not answer within {} s",
            after.as_secs()
        )),
        None => e.into(),
    })
}
