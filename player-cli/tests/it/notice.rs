//! A command that changes data first says on stderr which database (password
//! masked) and where its URL came from; read-only commands stay quiet.

use std::path::Path;

use player_testkit::TestDatabase;

use crate::common::{Run, cli, cli_env, player_cli, tutorial_players_db};

/// Runs `player-cli ARGS` from `dir` without DATABASE_URL in the environment.
fn cli_in(dir: &Path, args: &[&str]) -> Run {
    player_cli().args(args).current_dir(dir).run()
}

/// A folder with `sub/deeper` in it, removed when dropped.
fn temp_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("player-cli-notice-")
        .tempdir()
        .expect("temp dir");
    std::fs::create_dir_all(dir.path().join("sub/deeper")).expect("dirs");
    dir
}

#[test]
fn the_flag_and_the_environment_are_named() {
    let db = tutorial_players_db();
    let run = cli(db.url(), &["player", "create", "x"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("changing {} (URL from --database-url)\n", db.url())
    );
    let run = cli_env(
        &["player", "update", "x", "--coins", "4"],
        &[("DATABASE_URL", db.url())],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "changing {} (URL from DATABASE_URL in the environment)\n",
            db.url()
        )
    );
}

#[test]
fn a_dotenv_in_a_parent_folder_is_named_by_its_path() {
    let db = tutorial_players_db();
    let temp = temp_dir();
    let dir = temp.path();
    std::fs::write(dir.join(".env"), format!("DATABASE_URL={}\n", db.url())).unwrap();
    let run = cli_in(&dir.join("sub/deeper"), &["player", "delete", "1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = dir.join(".env");
    assert_eq!(
        run.stderr,
        format!(
            "changing {} (URL from DATABASE_URL in {})\n",
            db.url(),
            path.display()
        )
    );
    // The environment wins over .env, and says so.
    let run = cli_env(&["player", "list"], &[("DATABASE_URL", db.url())]);
    assert_eq!(run.stderr, "", "read-only: {run:?}");
}

#[test]
fn the_default_is_named_and_passwords_are_masked() {
    let temp = temp_dir();
    let dir = temp.path();
    // An id no one has: deleting it changes nothing wherever the default points.
    let id = format!("nobody-{}", uuid::Uuid::new_v4().simple());
    let run = cli_in(dir, &["player", "delete", &id[..36]]);
    assert_eq!(
        run.stderr.lines().next(),
        Some("changing mysql://root@127.0.0.1:4000/test (URL from the built-in default)"),
        "{run:?}"
    );
    assert_ne!(run.code, 0, "{run:?}");

    let run = cli(
        "mysql://root:hunter2@127.0.0.1:1/somewhere",
        &["load", "--count", "1"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with(
            "changing mysql://root:***@127.0.0.1:1/somewhere (URL from --database-url)\nerror: cannot connect"
        ),
        "{run:?}"
    );
    assert!(!run.stderr.contains("hunter2"), "{run:?}");
}

#[test]
fn bank_names_its_own_database() {
    let db = TestDatabase::create();
    // The database of the URL is refused, after the notice and before any change.
    let run = cli(db.url(), &["bank", "--bank-database", db.name()]);
    assert_eq!(run.code, 1, "{run:?}");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "changing {} (the bank's database, on the server of --database-url)",
            db.url()
        )
    );
}

#[test]
fn read_only_commands_and_bad_input_stay_quiet() {
    let db = tutorial_players_db();
    for args in [
        &["player", "get", "1"][..],
        &["player", "list"],
        &["ping"],
        &["migrate", "--status"],
        &["player", "get", "1", "--json"],
    ] {
        let run = cli(db.url(), args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
    // Refused before the notice: nothing was going to be changed.
    let run = cli(db.url(), &["player", "create", "x", "--coins", "-1"]);
    assert!(run.stderr.starts_with("error: "), "{run:?}");
}

#[test]
fn a_malformed_dotenv_line_is_named_without_its_value() {
    let temp = temp_dir();
    let dir = temp.path();
    std::fs::write(
        dir.join(".env"),
        "OTHER=1\nDATABASE_URL='mysql://root:hunter2@127.0.0.1:4000/test\n",
    )
    .unwrap();
    let run = cli_in(dir, &["player", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot read {}: the line of DATABASE_URL is not KEY=VALUE (unbalanced quotes?); its text is not shown, it may hold a password\n",
            dir.join(".env").display()
        )
    );
}
