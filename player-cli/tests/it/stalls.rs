//! Work the server does not answer: every command that talks to the database
//! gives up after `--stall-timeout`, says so first, and hints at the flag.
//! The server is made to hold the work with `LOCK TABLES` from another
//! session, which blocks every other session's statements on those tables
//! until released (the metadata lock wait is a year by default), so to the
//! client it is a server that never answers.

use std::time::{Duration, Instant};

use player_testkit::sql::exec;
use player_testkit::{Need, require};

use crate::common::{cli, player_cli, tutorial_players_db};

/// Each command with what its error must say beyond the stall.
const COMMANDS: &[(&[&str], &str)] = &[
    (&["player", "get", "1"], "cannot read the player"),
    (&["player", "list"], "cannot list players"),
    (&["player", "create", "x"], "cannot create the player"),
    (
        &["player", "update", "1", "--coins", "5"],
        "cannot update the player",
    ),
    (&["player", "delete", "2"], "cannot read the player"),
    (&["scenarios"], ""),
    (&["migrate"], ""),
    (&["migrate", "--status"], ""),
    (&["setup"], ""),
    (
        &["load", "--count", "10"],
        "0 players committed; the batch in flight (10) got no answer, so it may have been too",
    ),
    (
        &["load", "--count", "10", "--transaction"],
        "no players committed (the transaction is rolled back)",
    ),
];

/// The commands whose stalled step has a write in flight, of which the error
/// says it may have been applied.
const WRITES: &[&[&str]] = &[
    &["player", "create", "x"],
    &["player", "update", "1", "--coins", "5"],
    &["player", "delete", "2"],
    &["migrate"],
    &["setup"],
];

#[test]
fn every_command_gives_up_on_work_the_server_holds() {
    require!(Need::TableLocks);
    let db = tutorial_players_db();
    let mut holder = db.connect();
    exec(
        &mut holder,
        "LOCK TABLES player WRITE, __diesel_schema_migrations WRITE",
    );
    for (args, says) in COMMANDS {
        let started = Instant::now();
        // Killed, and the test failed, should the command wait on the lock.
        let run = player_cli()
            .database_url(db.url())
            .args(["--stall-timeout", "0.5"])
            .args(*args)
            .time_limit(Duration::from_secs(20))
            .run();
        let took = started.elapsed();
        let stderr = run.stderr_lines();
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            stderr[0].starts_with("error: the server did not answer within 0.5 s")
                && stderr[0].contains(says),
            "{args:?}: {stderr:?}"
        );
        // "May have been applied" where a write was in flight, said once;
        // never for a read, nor after the command said what was committed.
        let maybe = stderr[0]
            .matches("may or may not have been applied")
            .count()
            + stderr[0].matches("may have been").count();
        let write = WRITES.iter().any(|w| w == args);
        assert_eq!(
            maybe,
            usize::from(write || says.contains("may have been")),
            "{args:?}: {stderr:?}"
        );
        assert!(
            stderr.get(1).is_some_and(|h| h.contains("--stall-timeout")),
            "{args:?}: {stderr:?}"
        );
        eprintln!("{args:?} gave up after {took:?}");
    }
    exec(&mut holder, "UNLOCK TABLES");

    // The same commands run through once the tables are free.
    let run = cli(db.url(), &["--stall-timeout", "5", "player", "get", "1"]);
    assert_eq!(run.code, 0, "{run:?}");
}
