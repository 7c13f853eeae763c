//! Administration of the server, apart from the lesson in `player-core`:
//! what the server says about itself (version, TLS cipher, TiDB's transaction
//! mode), which databases and tables it has, and creating a database by a
//! checked, quoted name; and the checks of `player-cli doctor`. `player-cli
//! ping`, `setup` and `doctor`, the bank's guard and the test support read the
//! server through here, so that no binary holds SQL. Also: named locks,
//! migrating with a lock (adopting a `player` table made before Diesel
//! recorded it), and telling the scenarios' rows from anyone's.
#![warn(missing_docs)]

pub mod catalog;
pub mod doctor;
pub mod leftovers;
pub mod lock;
pub mod migrate;
