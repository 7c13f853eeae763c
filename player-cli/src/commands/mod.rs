//! One module per command group: its clap arguments and what it does.
//! Every command checks its arguments before it connects.

pub mod bank;
pub mod load;
pub mod migrate;
pub mod ping;
pub mod player;
pub mod setup;
pub mod trade;

use serde::Serialize;

/// Writes `value` as one line of JSON on `out`.
pub fn write_json(out: &mut impl std::io::Write, value: &impl Serialize) -> anyhow::Result<()> {
    // As an io::Error, so a closed stdout is recognised as such.
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
