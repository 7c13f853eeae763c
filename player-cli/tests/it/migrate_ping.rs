//! `migrate` and `ping` against the shared server.

use player_testkit::TestDatabase;

use crate::common::{cli, cli_dotenv, cli_env, tables};

#[test]
fn migrate_applies_then_reports_applied() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["migrate", "--status"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("_create_player  pending"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("0 applied now, 2 pending\n"),
        "{}",
        run.stdout
    );
    assert!(tables(&db).is_empty(), "--status created {:?}", tables(&db));

    let run = cli(db.url(), &["migrate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("_create_player  applied now"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("2 applied now, 0 pending\n"));
    assert!(tables(&db).contains(&"player".to_owned()));

    let run = cli(db.url(), &["migrate", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let m = &json["migrations"][0];
    assert_eq!(
        (m["applied"].as_bool(), m["applied_now"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(
        m["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("_create_player"))
    );
}

#[test]
fn ping_prints_version_tls_and_the_url() {
    let db = TestDatabase::create();
    let run = cli(db.url(), &["ping"]);
    assert_eq!(run.code, 0, "{run:?}");
    // What the server says of itself, asked without the binary.
    let info = player_admin::catalog::server_info(&mut db.connect()).expect("server info");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("connected to {}", db.url()));
    assert_eq!(lines[1], format!("server version: {}", info.version));
    // ssl_mode=preferred: encrypted when the server offers TLS (TiDB may; the
    // shared local MariaDB does not).
    let tls = info.tls_cipher.is_some();
    if tls {
        assert!(lines[2].starts_with("TLS: on ("), "{}", lines[2]);
        assert!(lines[2].ends_with("), ssl_mode=preferred"), "{}", lines[2]);
    } else {
        assert_eq!(lines[2], "TLS: off, ssl_mode=preferred");
    }

    let run = cli(db.url(), &["ping", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["tls"], tls);
    assert_eq!(json["server_version"], info.version.as_str());
}

#[test]
fn a_wrong_password_is_never_printed() {
    let db = TestDatabase::create();
    let url = db.url().replacen("root@", "root:pa%24%24w0rd%2Fx@", 1);
    for args in [&["ping"][..], &["player", "list"], &["migrate"]] {
        let run = cli(&url, args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("Access denied"), "{}", run.stderr);
        assert!(run.stderr.contains("root:***@"), "{}", run.stderr);
        for secret in ["pa%24%24w0rd", "pa$$w0rd"] {
            assert!(
                !run.stderr.contains(secret),
                "{args:?} printed the password"
            );
            assert!(!run.stdout.contains(secret));
        }
    }
}

#[test]
fn logs_are_off_by_default_and_follow_rust_log_with_the_password_masked() {
    let db = TestDatabase::migrated();
    let run = cli(db.url(), &["player", "list"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");

    // The URL from the environment, with a password the server does not want.
    let url = db.url().replacen("root@", "root:hunter2@", 1);
    let run = cli_env(
        &["player", "list"],
        &[
            ("DATABASE_URL", url.as_str()),
            ("RUST_LOG", "player_core=debug"),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("DEBUG player_core::db: connecting"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("root:***@"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\u{1b}'),
        "colour codes when not a terminal"
    );
}

#[test]
fn database_url_flag_overrides_the_environment_and_dotenv() {
    let db = TestDatabase::migrated();
    let run = cli_env(
        &["--database-url", db.url(), "player", "list"],
        &[("DATABASE_URL", "mysql://nobody@127.0.0.1:1/none")],
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    let run = cli_env(&["player", "list"], &[("DATABASE_URL", db.url())]);
    assert_eq!(run.code, 0, "{run:?}");

    // .env is read when neither the flag nor the environment gives a URL...
    let dotenv = format!("DATABASE_URL={}\n", db.url());
    let run = cli_dotenv(&["player", "list"], &[], Some(&dotenv));
    assert_eq!(run.code, 0, "{run:?}");
    let bad_dotenv = Some("DATABASE_URL=mysql://nobody@127.0.0.1:1/none\n");
    let run = cli_dotenv(&["player", "list"], &[], bad_dotenv);
    assert_eq!(run.code, 1, "the .env URL is used: {run:?}");
    // ...and the flag overrides it.
    let run = cli_dotenv(
        &["--database-url", db.url(), "player", "list"],
        &[],
        bad_dotenv,
    );
    assert_eq!(run.code, 0, "{run:?}");
}
