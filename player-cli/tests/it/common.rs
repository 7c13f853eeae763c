//! Running the binary (through [`player_testkit::cli::Cli`], the one way the
//! tests run it) and looking at the database around it.

use player_core::Player;
use player_testkit::TestDatabase;
use player_testkit::cli::Cli;
use player_testkit::sql::id;

pub use player_testkit::cli::{Run, without_notice};

/// `player-cli`, from an empty folder, with no `DATABASE_URL`, `RUST_LOG` or
/// `.env` around it, killed (failing the test) after two minutes.
pub fn player_cli() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_player-cli"))
}

/// Runs `player-cli --database-url URL ARGS...`.
pub fn cli(url: &str, args: &[&str]) -> Run {
    player_cli().database_url(url).args(args).run()
}

/// Runs `player-cli ARGS...` with only `env` set of `DATABASE_URL` and `RUST_LOG`.
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    player_cli().args(args).envs(env.iter().copied()).run()
}

/// As [`cli_env`], with a `.env` file holding `dotenv` in the working folder.
pub fn cli_dotenv(args: &[&str], env: &[(&str, &str)], dotenv: Option<&str>) -> Run {
    let cli = player_cli().args(args).envs(env.iter().copied());
    match dotenv {
        Some(text) => cli.dotenv(text),
        None => cli,
    }
    .run()
}

/// A migrated database holding the tutorial's players "1" (100 coins, 0 goods)
/// and "2" (114,514 coins, 20 goods).
pub fn tutorial_players_db() -> TestDatabase {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    for p in [
        player_core::NewPlayer::new(id("1"), 100, 0),
        player_core::NewPlayer::new(id("2"), 114_514, 20),
    ] {
        player_core::players::create(&mut conn, &p).expect("insert");
    }
    db
}

/// Every row of `player`, ordered by id.
pub fn rows(db: &TestDatabase) -> Vec<Player> {
    player_testkit::sql::all(&mut db.connect())
}

/// Every table of the database, to tell that nothing was created.
pub fn tables(db: &TestDatabase) -> Vec<String> {
    player_admin::catalog::tables_in(&mut db.connect(), db.name()).expect("list tables")
}
