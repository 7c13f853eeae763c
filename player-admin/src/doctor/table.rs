//! The URL's database, read without changing anything: the migrations, and
//! the `player` table's id collation, balance types and CHECK constraints.
//!
//! The constraints are read from `information_schema.CHECK_CONSTRAINTS` by
//! their names, which TiDB (v7.2+), MySQL (8.0.16+) and MariaDB all have.
//! `TABLE_CONSTRAINTS` would tie them to the table, but TiDB's lists only
//! primary keys, unique keys and foreign keys, never a CHECK. Whether one is
//! `NOT ENFORCED` (MySQL and TiDB) is read from `SHOW CREATE TABLE`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use player_core::migrations;

use super::server::{Facts, Kind};
use super::{Check, DoctorError, Session};
use crate::catalog;

/// The collation the code's `PlayerId` compares as: PAD SPACE, byte order.
pub(super) const ID_COLLATION: &str = "utf8mb4_bin";

/// The statement that gives `player.id` the collation and type the code expects.
const FIX_ID: &str =
    "ALTER TABLE player MODIFY id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL";

/// The constraints the migration creates: name and column.
pub(super) const CONSTRAINTS: [(&str, &str); 2] = [
    ("player_coins_non_negative", "coins"),
    ("player_goods_non_negative", "goods"),
];

/// One column of `player`, as `information_schema.COLUMNS` has it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub(super) struct Column {
    #[diesel(sql_type = Text)]
    pub(super) name: String,
    /// `varchar`, `int`...
    #[diesel(sql_type = Text)]
    pub(super) data_type: String,
    /// The full type: `varchar(36)`, `int(11)`, `int unsigned`...
    #[diesel(sql_type = Text)]
    pub(super) column_type: String,
    /// `YES` or `NO`.
    #[diesel(sql_type = Text)]
    pub(super) nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) charset: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) collation: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(super) max_chars: Option<i64>,
}

/// How a collation compares, asked of the server itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub(super) struct Behaviour {
    /// `'a' = 'a '`: trailing spaces ignored (PAD SPACE).
    #[diesel(sql_type = BigInt)]
    pub(super) pads: i64,
    /// `'a' = 'A'`: case ignored.
    #[diesel(sql_type = BigInt)]
    pub(super) folds_case: i64,
}

/// A CHECK constraint found by name, with its clause.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub(super) struct Constraint {
    #[diesel(sql_type = Text)]
    pub(super) name: String,
    #[diesel(sql_type = Text)]
    pub(super) clause: String,
}

#[derive(QueryableByName)]
struct CreateTable {
    #[diesel(sql_type = Text, column_name = "Create Table")]
    sql: String,
}

/// The rows for the URL's database `database`.
pub(super) fn checks(
    session: &mut Session,
    database: &str,
    facts: &Facts,
) -> Result<Vec<Check>, DoctorError> {
    let mut checks = vec![match session.step(migrations::status)? {
        Ok(statuses) => {
            let pending: Vec<String> = statuses
                .iter()
                .filter(|m| !m.applied)
                .map(|m| m.name.clone())
                .collect();
            migrations_check(statuses.len(), &pending)
        }
        Err(e) => Check::fail(
            "migrations",
            format!("could not read them: {e}"),
            "grant the user SELECT on the database",
        ),
    }];

    let tables = match session.step(|c| catalog::tables_in(c, database))? {
        Ok(tables) => tables,
        Err(e) => {
            checks.push(Check::refused("player", &e));
            return Ok(checks);
        }
    };
    if !tables.iter().any(|t| t == "player") {
        checks.push(Check::fail(
            "player",
            format!("database {database} has no player table"),
            "player-cli setup (or player-cli migrate)",
        ));
        return Ok(checks);
    }

    let columns = match session.step(|c| columns(c, database))? {
        Ok(columns) => columns,
        Err(e) => {
            checks.push(Check::refused("player.id", &e));
            return Ok(checks);
        }
    };
    let id = columns.iter().find(|c| c.name.eq_ignore_ascii_case("id"));
    let behaviour = match id {
        Some(id) => session.step(|c| behaviour(c, id))?.ok().flatten(),
        None => None,
    };
    checks.push(id_check(id, behaviour));
    checks.push(balances_check(&columns));

    let found = session.step(|c| constraints(c, database))?;
    let create = session.step(create_table)?.ok();
    checks.push(match found {
        Ok(found) => constraints_check(&found, create.as_deref(), facts.kind),
        // Before v7.2, TiDB has no CHECK_CONSTRAINTS table: no constraint at all.
        Err(e) if e.to_string().contains("doesn't exist") => {
            constraints_check(&[], create.as_deref(), facts.kind)
        }
        Err(e) => Check::refused("player.checks", &e),
    });
    Ok(checks)
}

fn columns(conn: &mut MysqlConnection, database: &str) -> QueryResult<Vec<Column>> {
    diesel::sql_query(
        "SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, \
         IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, \
         CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED) AS max_chars \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'player' \
         ORDER BY ORDINAL_POSITION",
    )
    .bind::<Text, _>(database)
    .load(conn)
}

/// Asks the server how the id column's collation compares; `None` when the
/// column has no collation, or one whose name is not plain (it cannot be
/// bound, so it is spliced only when made of letters, digits and `_`).
fn behaviour(conn: &mut MysqlConnection, id: &Column) -> QueryResult<Option<Behaviour>> {
    let plain =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let (Some(charset), Some(collation)) = (&id.charset, &id.collation) else {
        return Ok(None);
    };
    if !plain(charset) || !plain(collation) {
        return Ok(None);
    }
    let text = |s: &str| format!("CONVERT('{s}' USING {charset}) COLLATE {collation}");
    let sql = format!(
        "SELECT CAST({} = {} AS SIGNED) AS pads, CAST({} = {} AS SIGNED) AS folds_case",
        text("a"),
        text("a "),
        text("a"),
        text("A")
    );
    diesel::sql_query(sql).get_result(conn).map(Some)
}

fn constraints(conn: &mut MysqlConnection, database: &str) -> QueryResult<Vec<Constraint>> {
    diesel::sql_query(
        "SELECT CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause \
         FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = ? AND CONSTRAINT_NAME IN (?, ?)",
    )
    .bind::<Text, _>(database)
    .bind::<Text, _>(CONSTRAINTS[0].0)
    .bind::<Text, _>(CONSTRAINTS[1].0)
    .load(conn)
}

fn create_table(conn: &mut MysqlConnection) -> QueryResult<String> {
    diesel::sql_query("SHOW CREATE TABLE player")
        .get_result::<CreateTable>(conn)
        .map(|t| t.sql)
}

fn migrations_check(known: usize, pending: &[String]) -> Check {
    const NAME: &str = "migrations";
    if pending.is_empty() {
        Check::pass(NAME, format!("all {known} applied"))
    } else {
        Check::fail(
            NAME,
            format!(
                "{} of {known} pending: {}",
                pending.len(),
                pending.join(", ")
            ),
            "player-cli migrate",
        )
    }
}

/// The id column compares as `PlayerId` does only under `utf8mb4_bin`:
/// PAD SPACE (`a` and `a ` one id), case- and accent-sensitive, in code point
/// order (the trade orders its locks by that order, the server by its own).
pub(super) fn id_check(id: Option<&Column>, behaviour: Option<Behaviour>) -> Check {
    const NAME: &str = "player.id";
    let Some(id) = id else {
        return Check::fail(NAME, "the player table has no id column", FIX_ID);
    };
    let collation = id.collation.as_deref().unwrap_or("no collation");
    let mut problems = Vec::new();
    if !collation.eq_ignore_ascii_case(ID_COLLATION) {
        match behaviour {
            Some(b) if b.folds_case != 0 => problems.push(format!(
                "{collation} ignores case ('a' = 'A'), so `Alice` and `alice` are one row while the code calls them two players"
            )),
            Some(b) if b.pads == 0 => problems.push(format!(
                "{collation} is NO PAD ('a' <> 'a '), so `a` and `a ` are two rows while the code calls them one player"
            )),
            _ => problems.push(format!(
                "{collation} is not {ID_COLLATION}, whose order and equality the code assumes"
            )),
        }
    }
    if id.nullable.eq_ignore_ascii_case("YES") {
        problems.push("it is nullable".to_owned());
    }
    if id.max_chars.is_some_and(|n| n < 36) {
        problems.push(format!(
            "{} holds fewer than the 36 characters an id may have",
            id.column_type
        ));
    }
    if problems.is_empty() {
        Check::pass(
            NAME,
            format!(
                "{} {collation}: PAD SPACE and case-sensitive, as PlayerId compares",
                id.column_type
            ),
        )
    } else {
        Check::fail(NAME, problems.join("; "), FIX_ID)
    }
}

/// `coins` and `goods` are `INT NOT NULL`: Rust reads them as `i32`, and the
/// trade's overflow guard compares with `2147483647`.
pub(super) fn balances_check(columns: &[Column]) -> Check {
    const NAME: &str = "player.balances";
    let mut problems = Vec::new();
    for name in ["coins", "goods"] {
        match columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
            None => problems.push(format!("no {name} column")),
            Some(c) => {
                let signed_int = c.data_type.eq_ignore_ascii_case("int")
                    && !c.column_type.to_ascii_lowercase().contains("unsigned");
                if !signed_int {
                    problems.push(format!("{name} is {}, not INT", c.column_type));
                }
                if c.nullable.eq_ignore_ascii_case("YES") {
                    problems.push(format!("{name} is nullable"));
                }
            }
        }
    }
    if problems.is_empty() {
        Check::pass(NAME, "coins and goods are INT NOT NULL")
    } else {
        Check::fail(
            NAME,
            problems.join("; "),
            "ALTER TABLE player MODIFY coins INT NOT NULL, MODIFY goods INT NOT NULL",
        )
    }
}

/// A clause as the servers print it (`(coins >= 0)`, `` (`coins` >= 0) ``),
/// without quotes, brackets, spaces or case.
fn normalise(clause: &str) -> String {
    clause
        .chars()
        .filter(|c| !matches!(c, '`' | '(' | ')' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the `SHOW CREATE TABLE` line of constraint `name` says `NOT ENFORCED`.
fn not_enforced(create: &str, name: &str) -> bool {
    create
        .lines()
        .any(|line| line.contains(name) && line.to_ascii_uppercase().contains("NOT ENFORCED"))
}

/// The non-negative balance constraints, present, with their clauses, and
/// enforced. A WARN at worst: the trade never relies on them, they are a
/// second line of defence against code that writes balances by hand.
pub(super) fn constraints_check(found: &[Constraint], create: Option<&str>, kind: Kind) -> Check {
    const NAME: &str = "player.checks";
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    for (name, column) in CONSTRAINTS {
        let add = format!("ADD CONSTRAINT {name} CHECK ({column} >= 0)");
        match found.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
            None => {
                problems.push(format!("{name} is missing"));
                fixes.push(add);
            }
            Some(c) if normalise(&c.clause) != format!("{column}>=0") => {
                problems.push(format!("{name} checks {} instead", c.clause));
                fixes.push(format!("DROP CONSTRAINT {name}, {add}"));
            }
            Some(_) if create.is_some_and(|sql| not_enforced(sql, name)) => {
                problems.push(format!("{name} is NOT ENFORCED"));
                fixes.push(format!("ALTER CONSTRAINT {name} ENFORCED"));
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Check::pass(
            NAME,
            "player_coins_non_negative CHECK (coins >= 0) and player_goods_non_negative CHECK (goods >= 0)",
        );
    }
    let alter = format!("ALTER TABLE player {}", fixes.join(", "));
    let hint = if kind == Kind::TiDb {
        format!("SET GLOBAL tidb_enable_check_constraint = ON; {alter}")
    } else {
        alter
    };
    Check::warn(
        NAME,
        format!(
            "{} (the trade never relies on them: they stop other code from writing a negative balance)",
            problems.join("; ")
        ),
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn column(name: &str, data_type: &str, column_type: &str, collation: Option<&str>) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            nullable: "NO".into(),
            charset: collation.map(|_| "utf8mb4".into()),
            collation: collation.map(Into::into),
            max_chars: collation.map(|_| 36),
        }
    }

    const BIN: Behaviour = Behaviour {
        pads: 1,
        folds_case: 0,
    };

    #[test]
    fn only_utf8mb4_bin_passes_and_the_fix_is_the_alter_table() {
        let id = |c| column("id", "varchar", "varchar(36)", Some(c));
        assert_eq!(
            id_check(Some(&id("utf8mb4_bin")), Some(BIN)).status,
            Status::Pass
        );
        let ci = id_check(
            Some(&id("utf8mb4_general_ci")),
            Some(Behaviour {
                pads: 1,
                folds_case: 1,
            }),
        );
        assert_eq!(ci.status, Status::Fail);
        assert!(ci.detail.contains("ignores case"), "{}", ci.detail);
        assert_eq!(ci.hint.as_deref(), Some(FIX_ID));
        let no_pad = id_check(
            Some(&id("utf8mb4_0900_bin")),
            Some(Behaviour {
                pads: 0,
                folds_case: 0,
            }),
        );
        assert_eq!(no_pad.status, Status::Fail);
        assert!(no_pad.detail.contains("NO PAD"), "{}", no_pad.detail);
        // Without the server's answer, the name alone decides.
        assert_eq!(id_check(Some(&id("utf8_bin")), None).status, Status::Fail);
        assert_eq!(id_check(None, None).status, Status::Fail);
        let mut short = id("utf8mb4_bin");
        short.max_chars = Some(20);
        assert!(
            id_check(Some(&short), Some(BIN))
                .detail
                .contains("fewer than")
        );
    }

    #[test]
    fn balances_must_be_signed_int_not_null() {
        let ok = [
            column("coins", "int", "int(11)", None),
            column("goods", "int", "int", None),
        ];
        assert_eq!(balances_check(&ok).status, Status::Pass);
        let mut bad = ok.clone();
        bad[0] = column("coins", "bigint", "bigint(20)", None);
        bad[1].column_type = "int(10) unsigned".into();
        let c = balances_check(&bad);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("bigint(20)") && c.detail.contains("unsigned"),
            "{}",
            c.detail
        );
        let mut nullable = ok.clone();
        nullable[1].nullable = "YES".into();
        assert_eq!(balances_check(&nullable).status, Status::Fail);
        assert_eq!(balances_check(&ok[..1]).status, Status::Fail);
    }

    fn found(clauses: &[(&str, &str)]) -> Vec<Constraint> {
        clauses
            .iter()
            .map(|(name, clause)| Constraint {
                name: (*name).into(),
                clause: (*clause).into(),
            })
            .collect()
    }

    #[test]
    fn constraints_as_each_server_prints_them_pass() {
        for (coins, goods) in [
            ("`coins` >= 0", "`goods` >= 0"),     // MariaDB
            ("(`coins` >= 0)", "(`goods` >= 0)"), // MySQL, TiDB
        ] {
            let f = found(&[
                ("player_coins_non_negative", coins),
                ("player_goods_non_negative", goods),
            ]);
            assert_eq!(
                constraints_check(&f, None, Kind::MariaDb).status,
                Status::Pass
            );
        }
    }

    #[test]
    fn missing_wrong_or_unenforced_constraints_warn_with_the_alter_table() {
        let none = constraints_check(&[], None, Kind::MariaDb);
        assert_eq!(none.status, Status::Warn);
        assert_eq!(
            none.hint.as_deref(),
            Some(
                "ALTER TABLE player ADD CONSTRAINT player_coins_non_negative CHECK (coins >= 0), \
                 ADD CONSTRAINT player_goods_non_negative CHECK (goods >= 0)"
            )
        );
        let tidb = constraints_check(&[], None, Kind::TiDb);
        assert!(tidb.hint.as_deref().is_some_and(|h| {
            h.starts_with("SET GLOBAL tidb_enable_check_constraint = ON; ALTER TABLE player ADD")
        }));

        let f = found(&[
            ("player_coins_non_negative", "(`coins` >= 0)"),
            ("player_goods_non_negative", "(`goods` > -5)"),
        ]);
        let wrong = constraints_check(&f, None, Kind::MySql);
        assert_eq!(wrong.status, Status::Warn);
        assert!(
            wrong
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("DROP CONSTRAINT player_goods_non_negative, ADD"))
        );

        let f = found(&[
            ("player_coins_non_negative", "(`coins` >= 0)"),
            ("player_goods_non_negative", "(`goods` >= 0)"),
        ]);
        let create = "CREATE TABLE `player` (\n  CONSTRAINT `player_coins_non_negative` CHECK ((`coins` >= 0)) /*!80016 NOT ENFORCED */,\n  CONSTRAINT `player_goods_non_negative` CHECK ((`goods` >= 0))\n)";
        let lax = constraints_check(&f, Some(create), Kind::MySql);
        assert_eq!(lax.status, Status::Warn);
        assert_eq!(
            lax.hint.as_deref(),
            Some("ALTER TABLE player ALTER CONSTRAINT player_coins_non_negative ENFORCED")
        );
    }

    #[test]
    fn pending_migrations_fail_with_migrate() {
        assert_eq!(migrations_check(1, &[]).status, Status::Pass);
        let c = migrations_check(1, &["2026-11-24-000000_create_player".into()]);
        assert_eq!(
            (c.status, c.hint.as_deref()),
            (Status::Fail, Some("player-cli migrate"))
        );
    }
}
