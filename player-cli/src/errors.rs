//! Hints for runtime errors, and which errors are usage errors.

use diesel::result::Error as DieselError;

/// The database error inside `err`, wherever the layers put it.
fn database_error(err: &anyhow::Error) -> Option<&DieselError> {
    err.chain().find_map(|e| {
        if let Some(e) = e.downcast_ref::<DieselError>() {
            return Some(e);
        }
        if let Some(player_core::TradeError::Database(e)) =
            e.downcast_ref::<player_core::TradeError>()
        {
            return Some(e);
        }
        match e.downcast_ref::<player_core::Error>() {
            Some(player_core::Error::Database(e)) => Some(e),
            _ => None,
        }
    })
}

/// A next step for errors that are not about the connection.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    if let Some(DieselError::DatabaseError(_, info)) = database_error(err)
        && info.message().contains("doesn't exist")
    {
        return Some("apply the migrations first: player-cli migrate");
    }
    None
}

/// True when `err` is a closed stdout (e.g. `player-cli player list | head -1`):
/// the reader has what it wanted, so that is not worth a message.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
