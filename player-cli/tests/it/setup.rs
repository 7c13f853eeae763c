//! `setup`: creates the database of the URL when it is missing, then applies
//! the migrations; refuses a name that is not one before connecting.

use diesel::connection::SimpleConnection;
use player_testkit::TestDatabase;

use crate::common::{cli, tables};

/// A database name the testkit's sweep recognises (so a crashed run's is
/// dropped later), dropped at the end of the test.
struct Missing<'a> {
    name: String,
    db: &'a mut TestDatabase,
}

impl<'a> Missing<'a> {
    fn new(db: &'a mut TestDatabase) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let name = format!(
            "{}{secs}_{}",
            player_testkit::PREFIX,
            uuid::Uuid::new_v4().simple()
        );
        Self { name, db }
    }

    fn url(&self) -> String {
        let server = self.db.server_url();
        format!("{}/{}", server.trim_end_matches('/'), self.name)
    }

    fn exists(&mut self) -> bool {
        player_admin::catalog::database_exists(self.db.admin(), &self.name).unwrap()
    }
}

impl Drop for Missing<'_> {
    fn drop(&mut self) {
        let _ = self
            .db
            .admin()
            .batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

#[test]
fn a_missing_database_is_created_and_migrated() {
    let mut server = TestDatabase::create();
    let mut missing = Missing::new(&mut server);
    assert!(!missing.exists());
    let url = missing.url();
    let run = cli(&url, &["setup"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("changing {url} (URL from --database-url)\n")
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("created database {}", missing.name));
    assert!(lines[1].ends_with("_create_player  applied now"), "{run:?}");
    assert!(
        lines[2].ends_with("_create_keyed_trade  applied now"),
        "{run:?}"
    );
    assert_eq!(lines[3], "2 applied now, 0 pending");
    assert!(missing.exists());
    // The table is there: a player can be created.
    let run = cli(&url, &["player", "create", "a", "--coins", "1"]);
    assert_eq!(run.code, 0, "{run:?}");

    // A second run changes nothing, in JSON this time.
    let run = cli(&url, &["setup", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["database"], missing.name.as_str());
    assert_eq!(json["created"], false);
    assert_eq!(json["migrations"][0]["applied"], true);
    assert_eq!(json["migrations"][0]["applied_now"], false);
    assert!(
        run.stdout.starts_with("{\"database\":")
            && run.stdout.contains(",\"created\":false,\"migrations\":["),
        "key order: {}",
        run.stdout
    );
}

#[test]
fn an_existing_database_is_only_migrated() {
    let db = TestDatabase::create();
    db.connect()
        .batch_execute("CREATE TABLE keep (id INT PRIMARY KEY); INSERT INTO keep VALUES (7)")
        .unwrap();
    let run = cli(db.url(), &["setup"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("database {} exists\n", db.name())),
        "{run:?}"
    );
    assert!(
        run.stdout.ends_with("2 applied now, 0 pending\n"),
        "{run:?}"
    );
    assert_eq!(
        tables(&db),
        [
            "keep",
            "keyed_trade",
            "player",
            "__diesel_schema_migrations"
        ],
        "migrated, the other table kept"
    );
    let run = cli(db.url(), &["setup"]);
    assert!(
        run.stdout.ends_with("0 applied now, 0 pending\n"),
        "{run:?}"
    );
}

#[test]
fn bad_names_are_refused_before_connecting() {
    let mut server = TestDatabase::create();
    let base = server.server_url().trim_end_matches('/').to_owned();
    let long = "n".repeat(65);
    let cases = [
        (
            format!("{base}/{long}"),
            "cannot be a database name: it is longer than 64 characters",
        ),
        (format!("{base}/bad%20name"), "does not decode"),
        (format!("{base}/bad%60name"), "does not decode"),
        (
            format!("{base}/bad name"),
            "\"bad name\" would reach the server percent-encoded",
        ),
        (format!("{base}/"), "the URL names no database"),
        // No server answers here: refused before any connection is tried.
        (
            "mysql://root@127.0.0.1:1/x%60y".to_owned(),
            "does not decode",
        ),
    ];
    for (url, needle) in cases {
        let run = cli(&url, &["setup"]);
        assert_eq!(run.code, 1, "{url}: {run:?}");
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 1, "{url}: {run:?}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(needle),
            "{url}: {run:?}"
        );
        assert_eq!(run.stdout, "");
    }
    for name in [long.as_str(), "bad%20name", "bad name", "bad`name"] {
        assert!(
            !player_admin::catalog::database_exists(server.admin(), name).unwrap(),
            "{name} was created"
        );
    }
}

#[test]
fn names_with_backticks_are_quoted() {
    let mut server = TestDatabase::create();
    let name = format!("{}`x", server.name());
    let created = player_admin::catalog::create_database(server.admin(), &name).unwrap();
    let exists = player_admin::catalog::database_exists(server.admin(), &name).unwrap();
    server
        .admin()
        .batch_execute(&format!(
            "DROP DATABASE {}",
            player_admin::catalog::quote_identifier(&name)
        ))
        .unwrap();
    assert!(created && exists, "{name}");
    let own = server.name().to_owned();
    let created = player_admin::catalog::create_database(server.admin(), &own).unwrap();
    assert!(!created, "an existing database is not created again");
}
