//! What keeps one run from destroying another's work: the scenarios leave a
//! table holding anyone else's rows alone, migrations adopt (or refuse with a
//! statement) a `player` table Diesel did not record and take turns on a
//! named lock, and one bank run at a time works a bank database.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use player_core::NewPlayer;
use player_testkit::TestDatabase;
use player_testkit::poll_until;
use player_testkit::sql::{exec, id, insert};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{cli, player_cli, rows};

const TUTORIAL_TAIL: &str = "buy player 1 coins not enough\ntrade success\nid:1, coins:0, goods:2\nid:2, coins:114614, goods:18\n";

/// The one `error:` line after the notice.
fn error_line(run: &crate::common::Run) -> String {
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{run:?}");
    lines[0].to_owned()
}

#[test]
fn the_scenarios_leave_a_table_with_someone_elses_rows_alone() {
    let db = TestDatabase::migrated();
    insert(&mut db.connect(), &[("alice", 5, 6)]);
    let run = player_cli().database_url(db.url()).run();
    assert_eq!(run.code, 1, "{run:?}");
    let line = error_line(&run);
    assert!(line.contains("--reset"), "{line}");
    assert!(line.contains("DATABASE_URL"), "{line}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(rows(&db).len(), 1);
    let run = cli(db.url(), &["scenarios"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(rows(&db).len(), 1);

    let run = player_cli().database_url(db.url()).arg("--reset").run();
    assert!(run.stdout.ends_with(TUTORIAL_TAIL), "{run:?}");
    // What a run leaves is its own: the next runs empty it.
    for _ in 0..2 {
        let run = player_cli().database_url(db.url()).run();
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.ends_with(TUTORIAL_TAIL), "{run:?}");
    }
    let run = cli(db.url(), &["player", "list", "--reset"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// A table left by a run, with one row drawn to look like the scenarios'
/// (their ids, their balances, UUIDs) but not be one: always refused; the
/// run's own rows, any subset of them: always accepted.
#[test]
fn drawn_rows_are_told_from_the_scenarios() {
    let db = TestDatabase::migrated();
    let run = player_cli().database_url(db.url()).run();
    assert_eq!(run.code, 0, "{run:?}");
    let mut conn = db.connect();
    let uuid = || uuid::Uuid::new_v4().to_string();
    let ids = prop_oneof![
        Just("test".to_owned()),
        Just("1".to_owned()),
        Just("2".to_owned()),
        Just("test ".to_owned()),
        Just(uuid().to_uppercase()),
        Just(uuid().replace('-', "")),
        // Spaces anywhere, but never only spaces: PlayerId refuses those.
        "[a-z0-9 -]{0,34}[a-z0-9-][ ]{0,1}",
    ];
    let balances = prop_oneof![Just(10_000), Just(1), Just(0), Just(100), 0..200_000i32];
    let strangers = (ids, balances.clone(), balances);
    let mut runner = TestRunner::new(Config::with_cases(24));
    runner
        .run(&strangers, |(raw, coins, goods)| {
            let mut tx = db.connect();
            tx.batch_execute("BEGIN").unwrap();
            // Replacing a scenario row with a look-alike, or adding one.
            exec(
                &mut tx,
                &format!(
                    "DELETE FROM player WHERE BINARY id = '{}'",
                    raw.replace('\'', "''")
                ),
            );
            let made =
                player_core::players::create(&mut tx, &NewPlayer::new(id(&raw), coins, goods));
            let verdict = player_admin::leftovers::scenario_rows(&mut tx)
                .unwrap()
                .err();
            let own = matches!(
                (raw.as_str(), coins, goods),
                ("test", 1, 1)
                    | ("1", 100, 0)
                    | ("1", 0, 2)
                    | ("2", 114_514, 20)
                    | ("2", 114_614, 18)
            );
            tx.batch_execute("ROLLBACK").unwrap();
            if made.is_ok() {
                prop_assert_eq!(verdict.is_none(), own, "{:?} {} {}", raw, coins, goods);
            }
            Ok(())
        })
        .unwrap();
    // Subsets of a run's rows.
    for keep in [0, 1, 3, 1000] {
        exec(
            &mut conn,
            &format!("DELETE FROM player ORDER BY id LIMIT {keep}"),
        );
        assert_eq!(
            player_admin::leftovers::scenario_rows(&mut conn)
                .unwrap()
                .err(),
            None
        );
    }
    // One random player too many.
    let mut conn = db.connect();
    player_core::players::create(&mut conn, &NewPlayer::new(id("test"), 1, 1)).ok();
    player_core::players::bulk_create(
        &mut conn,
        (0..1_919).map(|_| NewPlayer::random(10_000, 10_000)),
        500,
    )
    .unwrap();
    assert!(
        player_admin::leftovers::scenario_rows(&mut conn)
            .unwrap()
            .err()
            .is_some()
    );
}

/// A row another client writes after the run's check and before its delete
/// (here while the run waits for the migrations' lock, which the test holds)
/// stays: the run deletes only the rows its check found.
#[test]
fn a_row_written_after_the_check_is_not_deleted() {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    use player_admin::lock::NamedLock;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    let db = TestDatabase::migrated();
    let first = player_cli().database_url(db.url()).run();
    assert_eq!(first.code, 0, "{first:?}");
    let mut holder = db.connect();
    let lock = NamedLock::acquire(&mut holder, "migrate", db.name(), Duration::from_secs(1))
        .unwrap()
        .expect("the migrations' lock is free");
    let run = player_cli().database_url(db.url()).spawn();
    // The run has checked the table once it has waited a second for the lock.
    let mut observer = db.connect();
    poll_until(
        "the run waits for the migrations' lock",
        Duration::from_secs(20),
        || {
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST \
             WHERE DB = ? AND INFO LIKE '%GET_LOCK%' AND TIME >= 1",
            )
            .bind::<Text, _>(db.name())
            .get_result::<Count>(&mut observer)
            .expect("read the process list")
            .n > 0
        },
    );
    insert(&mut observer, &[("alice", 5, 5)]);
    lock.release(&mut holder).unwrap();
    let second = run.finish();
    assert_eq!(second.code, 0, "{second:?}");
    let alice = player_testkit::sql::all(&mut observer)
        .into_iter()
        .find(|p| p.id.as_str() == "alice")
        .map(|p| (p.coins, p.goods));
    assert_eq!(alice, Some((5, 5)), "{second:?}");
}

/// The migration's own table, made and not recorded (a run cut after CREATE
/// TABLE): adopted with a line, and the scenarios run on it.
#[test]
fn a_table_of_the_migrations_shape_is_adopted() {
    let db = TestDatabase::create();
    let up = include_str!("../../../migrations/2026-11-24-000000_create_player/up.sql");
    db.connect().batch_execute(up).unwrap();
    let run = cli(db.url(), &["migrate"]);
    assert_eq!(run.code, 0, "{run:?}");
    let line = error_line(&run);
    assert!(line.starts_with("adopted the player table"), "{line}");
    assert!(run.stdout.contains("create_player  applied\n"), "{run:?}");
    let run = cli(db.url(), &["migrate"]);
    assert!(run.stderr_lines().is_empty(), "{run:?}");
    let run = player_cli().database_url(db.url()).run();
    assert!(run.stdout.ends_with(TUTORIAL_TAIL), "{run:?}");
}

/// peewee's table: nullable balances (and, where the server's default
/// collation is not binary, a case-insensitive id) are refused with the one
/// statement that fixes them; after it, the table is adopted.
#[test]
fn the_peewee_table_is_refused_with_the_statement_that_fixes_it() {
    for (create, fixes) in [
        (
            "CREATE TABLE player (id VARCHAR(36) COLLATE utf8mb4_bin PRIMARY KEY, coins INT, goods INT)",
            "ALTER TABLE player MODIFY coins INT NOT NULL, MODIFY goods INT NOT NULL",
        ),
        (
            "CREATE TABLE player (id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, coins INT NOT NULL, goods INT)",
            "ALTER TABLE player MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, MODIFY goods INT NOT NULL",
        ),
    ] {
        let db = TestDatabase::create();
        db.connect().batch_execute(create).unwrap();
        let run = cli(db.url(), &["setup"]);
        assert_eq!(run.code, 1, "{run:?}");
        let line = error_line(&run);
        assert!(line.contains(&format!("run `{fixes}`")), "{line}");
        assert!(crate::common::tables(&db).contains(&"player".to_owned()));
        db.connect().batch_execute(fixes).unwrap();
        let run = cli(db.url(), &["setup"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("adopted the player table"), "{run:?}");
    }
}

#[test]
fn a_table_of_another_shape_is_refused_with_what_differs() {
    for (create, differs) in [
        (
            "CREATE TABLE player (id VARCHAR(36) PRIMARY KEY, coins BIGINT NOT NULL, goods INT NOT NULL)",
            "coins is bigint",
        ),
        (
            "CREATE TABLE player (id VARCHAR(64) PRIMARY KEY, coins INT NOT NULL, goods INT NOT NULL)",
            "id is varchar(64)",
        ),
        (
            "CREATE TABLE player (id VARCHAR(36) PRIMARY KEY, coins INT NOT NULL, goods INT NOT NULL, name TEXT)",
            "column `name`",
        ),
        (
            "CREATE TABLE player (id VARCHAR(36), coins INT NOT NULL, goods INT NOT NULL)",
            "primary key",
        ),
    ] {
        let db = TestDatabase::create();
        db.connect().batch_execute(create).unwrap();
        let run = cli(db.url(), &["migrate"]);
        assert_eq!(run.code, 1, "{run:?}");
        let line = error_line(&run);
        assert!(line.contains(differs), "{create}: {line}");
        assert!(line.contains("rename or drop it"), "{line}");
    }
}

/// Setups, migrations and scenario runs started together on a fresh
/// database take turns instead of failing with `Table 'player' already exists`.
#[test]
fn concurrent_setups_and_runs_take_turns() {
    let db = TestDatabase::create();
    let runs: Vec<_> = [
        "setup",
        "migrate",
        "scenarios",
        "setup",
        "migrate",
        "scenarios",
    ]
    .into_iter()
    .map(|command| player_cli().database_url(db.url()).arg(command).spawn())
    .collect();
    // Only the first to take the lock finds migrations to apply.
    let mut runs_that_applied = 0;
    for running in runs {
        let run = running.finish();
        assert_eq!(run.code, 0, "{run:?}");
        runs_that_applied += usize::from(run.stdout.contains("applied now\n"));
    }
    assert!(runs_that_applied <= 1, "{runs_that_applied}");
    let run = player_cli().database_url(db.url()).run();
    assert!(run.stdout.ends_with(TUTORIAL_TAIL), "{run:?}");
}

/// A second `bank` on the bank database of a running one is refused at once
/// and changes nothing; the first ends as if alone.
#[test]
fn a_second_bank_run_on_the_same_database_is_refused() {
    let users = TestDatabase::create();
    let bank = TestDatabase::create();
    let args = [
        "bank",
        "--bank-database",
        bank.name(),
        "--players",
        "50",
        "--workers",
        "2",
        "--seconds",
        "4",
    ];
    let first = player_cli().database_url(users.url()).args(args).spawn();
    let mut conn = bank.connect();
    poll_until("the first run to trade", Duration::from_secs(30), || {
        player_admin::catalog::tables_in(&mut conn, bank.name())
            .is_ok_and(|t| t.contains(&"player".to_owned()))
            && rows(&bank).len() == 50
    });
    let started = Instant::now();
    let second = player_cli().database_url(users.url()).args(args).run();
    assert_eq!(second.code, 1, "{second:?}");
    let line = error_line(&second);
    assert!(
        line.contains("another bank run is using database"),
        "{line}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let first = first.finish();
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("invariants: ok"), "{first:?}");
}
