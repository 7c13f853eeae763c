//! `doctor` against the shared server: a migrated database passes every
//! check; a case-insensitive id column fails with the ALTER TABLE that fixes
//! it, and missing CHECK constraints warn with theirs (each hint is then run,
//! and the check passes); `--json`; no password shown; and the scratch
//! database is gone after every run.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use player_admin::doctor::SCRATCH_PREFIX;
use player_testkit::TestDatabase;
use player_testkit::sql::exec;

use crate::common::{Run, cli, player_cli};
use player_testkit::{Need, require};

/// The row of check `name`: its status and the hint under it, if any.
fn row<'a>(run: &'a Run, name: &str) -> (&'a str, Option<&'a str>) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no row {name}: {}", run.stdout));
    let status = lines[at].split_whitespace().next().unwrap_or_default();
    let hint = lines
        .get(at + 1)
        .and_then(|l| l.trim_start().strip_prefix("hint: "));
    (status, hint)
}

/// The scratch database the run named on stderr, which must be gone.
fn assert_scratch_dropped(db: &mut TestDatabase, run: &Run) {
    let notice = run.stderr.lines().next().unwrap_or_default();
    assert!(
        notice.starts_with("changing mysql://") && notice.contains("(doctor's scratch database"),
        "{run:?}"
    );
    let name = notice
        .split('/')
        .nth(3)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default();
    assert!(name.starts_with(SCRATCH_PREFIX), "{notice}");
    let left = player_testkit::databases_starting_with(db.admin(), name).unwrap();
    assert!(left.is_empty(), "{name} was left behind");
}

#[test]
fn a_migrated_database_passes_every_check_and_leaves_no_scratch_database() {
    let mut db = TestDatabase::migrated();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows: Vec<&str> = run.stdout.lines().filter(|l| !l.starts_with(' ')).collect();
    let (summary, checks) = rows.split_last().unwrap();
    for check in checks {
        assert!(check.starts_with("PASS  "), "{check}\n{}", run.stdout);
    }
    for name in [
        "server",
        "tls",
        "isolation",
        "innodb_lock_wait_timeout",
        "time_zone",
        "migrations",
        "player.id",
        "player.balances",
        "player.checks",
        "scratch_database",
        "trailing_spaces",
        "check_enforced",
        "update_row_count",
        "opposite_trades",
    ] {
        assert_eq!(row(&run, name).0, "PASS", "{name}");
    }
    assert_eq!(
        *summary,
        format!(
            "{} checks: {} pass, 0 warn, 0 fail",
            checks.len(),
            checks.len()
        )
    );
    assert!(
        run.stdout
            .contains("both waited for a lock on the smaller id"),
        "the opposite trades did not overlap: {}",
        run.stdout
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert_scratch_dropped(&mut db, &run);
}

#[test]
fn a_case_insensitive_id_column_fails_with_the_alter_table_that_fixes_it() {
    let mut db = TestDatabase::migrated();
    db.connect()
        .batch_execute(
            "ALTER TABLE player MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL",
        )
        .unwrap();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!(run.code, 1, "{run:?}");
    let (status, hint) = row(&run, "player.id");
    assert_eq!(status, "FAIL", "{}", run.stdout);
    assert!(
        run.stdout.contains("utf8mb4_general_ci ignores case"),
        "{}",
        run.stdout
    );
    let hint = hint.expect("a hint under the FAIL");
    assert_eq!(
        hint,
        "ALTER TABLE player MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    );
    // The behaviours, tried in the scratch database, are not the table's.
    assert_eq!(row(&run, "trailing_spaces").0, "PASS");
    assert!(run.stdout.ends_with(" 1 fail\n"), "{}", run.stdout);
    assert_scratch_dropped(&mut db, &run);

    db.connect().batch_execute(hint).unwrap();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!((run.code, row(&run, "player.id").0), (0, "PASS"), "{run:?}");
}

#[test]
fn a_no_pad_id_column_fails_too() {
    let db = TestDatabase::migrated();
    // MariaDB's NO PAD twin of utf8mb4_bin (MySQL and TiDB call theirs utf8mb4_0900_bin).
    db.connect()
        .batch_execute(
            "ALTER TABLE player MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL",
        )
        .unwrap();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!((run.code, row(&run, "player.id").0), (1, "FAIL"), "{run:?}");
    assert!(
        run.stdout.contains("utf8mb4_nopad_bin is NO PAD"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_table_without_its_check_constraints_warns_with_the_alter_table() {
    let db = TestDatabase::migrated();
    db.connect()
        .batch_execute(
            "ALTER TABLE player DROP CONSTRAINT player_coins_non_negative, DROP CONSTRAINT player_goods_non_negative",
        )
        .unwrap();
    let run = cli(db.url(), &["doctor"]);
    // A WARN: the trade does not rely on them.
    assert_eq!(run.code, 0, "{run:?}");
    let (status, hint) = row(&run, "player.checks");
    assert_eq!(status, "WARN", "{}", run.stdout);
    let hint = hint.expect("a hint under the WARN");
    assert_eq!(
        hint,
        "ALTER TABLE player ADD CONSTRAINT player_coins_non_negative CHECK (coins >= 0), \
         ADD CONSTRAINT player_goods_non_negative CHECK (goods >= 0)"
    );
    db.connect().batch_execute(hint).unwrap();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!(
        (run.code, row(&run, "player.checks").0),
        (0, "PASS"),
        "{run:?}"
    );
}

#[test]
fn pending_migrations_and_a_missing_table_fail_with_the_command_that_fixes_them() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["doctor"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        row(&run, "migrations"),
        ("FAIL", Some("player-cli migrate"))
    );
    assert_eq!(row(&run, "player").0, "FAIL");
    // The scratch checks still ran.
    assert_eq!(row(&run, "opposite_trades").0, "PASS");
}

#[test]
fn json_is_one_object_with_every_check() {
    let mut db = TestDatabase::migrated();
    let run = cli(db.url(), &["doctor", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["checks", "failed", "passed", "warned"]);
    let checks = json["checks"].as_array().unwrap();
    assert!(checks.len() >= 14, "{json}");
    for check in checks {
        let keys: Vec<&String> = check.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{check}");
        assert!(
            check["name"].is_string() && check["detail"].is_string(),
            "{check}"
        );
        assert_eq!(check["status"], "pass", "{check}");
        assert!(check["hint"].is_null(), "{check}");
    }
    assert_eq!(json["passed"].as_u64(), Some(checks.len() as u64));
    assert_eq!(
        (json["warned"].as_u64(), json["failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_scratch_dropped(&mut db, &run);

    // A failing check: status, hint and count say so, and the exit status is 1.
    db.connect()
        .batch_execute("ALTER TABLE player MODIFY coins BIGINT NOT NULL")
        .unwrap();
    let run = cli(db.url(), &["doctor", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let balances = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "player.balances")
        .unwrap();
    assert_eq!(balances["status"], "fail");
    assert!(
        balances["hint"]
            .as_str()
            .unwrap()
            .starts_with("ALTER TABLE player MODIFY coins INT NOT NULL")
    );
    assert_eq!(json["failed"].as_u64(), Some(1));
}

/// A user of the shared server with a password, allowed into one test
/// database (and, when asked, into doctor's scratch databases); dropped at
/// the end of the test.
struct User<'a> {
    name: String,
    db: &'a mut TestDatabase,
}

impl<'a> User<'a> {
    const PASSWORD: &'static str = "Dr0ctor-s3cret";

    fn new(db: &'a mut TestDatabase) -> Self {
        let name = format!(
            "doctor_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let database = db.name().to_owned();
        db.admin()
            .batch_execute(&format!(
                "CREATE USER '{name}'@'%' IDENTIFIED BY '{}'; GRANT ALL ON `{database}`.* TO '{name}'@'%'",
                Self::PASSWORD
            ))
            .unwrap();
        Self { name, db }
    }

    fn allow_scratch(&mut self) {
        let grant = format!(
            "GRANT ALL ON `player\\_doctor\\_%`.* TO '{}'@'%'",
            self.name
        );
        self.db.admin().batch_execute(&grant).unwrap();
    }

    fn url(&self) -> String {
        self.db
            .url()
            .replacen("root@", &format!("{}:{}@", self.name, Self::PASSWORD), 1)
    }
}

impl Drop for User<'_> {
    fn drop(&mut self) {
        let _ = self
            .db
            .admin()
            .batch_execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

#[test]
fn a_user_with_a_password_never_sees_it_and_one_without_create_gets_a_warning() {
    let mut db = TestDatabase::migrated();
    let mut user = User::new(&mut db);
    let url = user.url();
    let shown = |run: &Run| format!("{}{}", run.stdout, run.stderr);

    // Not allowed to create the scratch database: the behaviour checks are skipped, with a WARN.
    let run = cli(&url, &["doctor"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(row(&run, "scratch_database").0, "WARN", "{}", run.stdout);
    assert_eq!(row(&run, "player.id").0, "PASS");
    assert!(!shown(&run).contains(User::PASSWORD), "{run:?}");
    assert!(run.stderr.contains(":***@"), "{}", run.stderr);

    user.allow_scratch();
    let run = cli(&url, &["doctor"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(row(&run, "opposite_trades").0, "PASS", "{}", run.stdout);
    assert!(!shown(&run).contains(User::PASSWORD), "{run:?}");
    let run = cli(&url, &["doctor", "--json"]);
    assert!(!shown(&run).contains(User::PASSWORD), "{run:?}");

    // A wrong password: the connection error, masked, and the connect hint.
    let wrong = url.replace(User::PASSWORD, "Wr0ng-s3cret");
    let run = cli(&wrong, &["doctor"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Access denied"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: check the user and password"),
        "{}",
        run.stderr
    );
    assert!(!shown(&run).contains("Wr0ng-s3cret"), "{run:?}");
}

#[test]
fn a_check_the_server_holds_ends_the_run_after_the_stall_timeout() {
    require!(Need::TableLocks);
    let db = TestDatabase::migrated();
    let mut holder = db.connect();
    exec(&mut holder, "LOCK TABLES __diesel_schema_migrations WRITE");
    // Killed, and the test failed, should doctor wait on the lock.
    let run = player_cli()
        .database_url(db.url())
        .args(["--stall-timeout", "0.5", "doctor"])
        .time_limit(Duration::from_secs(20))
        .run();
    exec(&mut holder, "UNLOCK TABLES");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    let stderr = run.stderr_lines();
    assert_eq!(
        stderr[0], "error: the server did not answer within 0.5 s",
        "{stderr:?}"
    );
    assert!(
        stderr.get(1).is_some_and(|h| h.contains("--stall-timeout")),
        "{stderr:?}"
    );
}
