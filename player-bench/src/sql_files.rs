//! The files the command-line client is given: multi-row INSERTs, a CSV for
//! `LOAD DATA`, and trades as plain statements.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use player_core::NewPlayer;

/// How the rows of a bulk load are committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Each multi-row INSERT commits on its own (autocommit).
    PerBatch,
    /// All INSERTs run in one transaction.
    OneTransaction,
}

impl Commit {
    /// Both modes, in the order they are measured.
    pub const ALL: [Commit; 2] = [Commit::PerBatch, Commit::OneTransaction];

    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Commit::PerBatch => "per batch",
            Commit::OneTransaction => "one transaction",
        }
    }
}

/// Writes a file through a buffer.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// A MySQL string literal. Single quotes are doubled, which reads the same with
/// or without `NO_BACKSLASH_ESCAPES`; a backslash would not, so it is refused.
pub fn quote(s: &str) -> io::Result<String> {
    if s.contains('\\') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{s:?} holds a backslash"),
        ));
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// Writes `rows` as multi-row INSERTs of `batch` rows each, the statement shape
/// Diesel sends, wrapped in BEGIN/COMMIT for [`Commit::OneTransaction`].
pub fn write_inserts(
    out: &mut impl Write,
    rows: &[NewPlayer],
    batch: usize,
    commit: Commit,
) -> io::Result<()> {
    if commit == Commit::OneTransaction {
        writeln!(out, "BEGIN;")?;
    }
    for chunk in rows.chunks(batch.max(1)) {
        out.write_all(b"INSERT INTO `player` (`id`, `coins`, `goods`) VALUES ")?;
        for (i, p) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(
                out,
                "{sep}({}, {}, {})",
                quote(p.id.as_str())?,
                p.coins,
                p.goods
            )?;
        }
        out.write_all(b";\n")?;
    }
    if commit == Commit::OneTransaction {
        writeln!(out, "COMMIT;")?;
    }
    Ok(())
}

/// Writes `rows` as `id,coins,goods` lines for [`load_data_statement`].
pub fn write_csv(out: &mut impl Write, rows: &[NewPlayer]) -> io::Result<()> {
    for p in rows {
        if p.id.as_str().contains([',', '\n', '\\', '"']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{:?} cannot go in the CSV unquoted", p.id),
            ));
        }
        writeln!(out, "{},{},{}", p.id, p.coins, p.goods)?;
    }
    Ok(())
}

/// The `LOAD DATA LOCAL INFILE` statement that reads a file of [`write_csv`].
pub fn load_data_statement(csv_path: &str) -> io::Result<String> {
    Ok(format!(
        "LOAD DATA LOCAL INFILE {} INTO TABLE `player` \
         FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' (`id`, `coins`, `goods`)",
        quote(csv_path)?
    ))
}

/// The two directions trades alternate between, so balances never run out:
/// trade `i` has `pair[i % 2]` as (seller, buyer).
pub fn trade_direction<'a, T: ?Sized>(i: usize, a: &'a T, b: &'a T) -> (&'a T, &'a T) {
    if i % 2 == 0 { (a, b) } else { (b, a) }
}

/// Statements one trade of [`write_trades`] sends.
pub const CLIENT_STATEMENTS_PER_TRADE: usize = 6;

/// Writes `count` trades of one good for one coin between `a` and `b`, in
/// alternating directions, each as the six statements of the lock-then-update
/// pattern: BEGIN, SELECT ... FOR UPDATE of the seller, of the buyer, UPDATE of
/// the seller, of the buyer, COMMIT.
pub fn write_trades(out: &mut impl Write, count: usize, a: &str, b: &str) -> io::Result<()> {
    let (qa, qb) = (quote(a)?, quote(b)?);
    for i in 0..count {
        let (seller, buyer) = trade_direction(i, &qa, &qb);
        writeln!(out, "BEGIN;")?;
        writeln!(
            out,
            "SELECT `coins`, `goods` FROM `player` WHERE `id` = {seller} FOR UPDATE;"
        )?;
        writeln!(
            out,
            "SELECT `coins`, `goods` FROM `player` WHERE `id` = {buyer} FOR UPDATE;"
        )?;
        writeln!(
            out,
            "UPDATE `player` SET `coins` = `coins` + 1, `goods` = `goods` - 1 WHERE `id` = {seller};"
        )?;
        writeln!(
            out,
            "UPDATE `player` SET `coins` = `coins` - 1, `goods` = `goods` + 1 WHERE `id` = {buyer};"
        )?;
        writeln!(out, "COMMIT;")?;
    }
    Ok(())
}

/// Writes `count` trades like [`write_trades`], each as the one statement of
/// `player_core::trade_in_one_statement`, sent alone in autocommit: the
/// `UPDATE ... JOIN` of `player-core/src/trade/one_statement.rs`, with the
/// values inline and the smaller id first in the join, as the core writes it.
/// The client does not look at the rows it changed (the core does, and decides
/// on locked rows when there are none); the balance check afterwards does.
pub fn write_trades_one_statement(
    out: &mut impl Write,
    count: usize,
    a: &str,
    b: &str,
) -> io::Result<()> {
    let (qa, qb) = (quote(a)?, quote(b)?);
    for i in 0..count {
        let (seller, buyer) = trade_direction(i, &qa, &qb);
        let (first, second) = if trade_direction(i, a, b).0 <= trade_direction(i, a, b).1 {
            ("seller", "buyer")
        } else {
            ("buyer", "seller")
        };
        writeln!(
            out,
            "UPDATE `player` AS `{first}` JOIN `player` AS `{second}` \
             ON `seller`.`id` = {seller} AND `buyer`.`id` = {buyer} \
             SET `seller`.`goods` = `seller`.`goods` - 1, `seller`.`coins` = `seller`.`coins` + 1, \
             `buyer`.`goods` = `buyer`.`goods` + 1, `buyer`.`coins` = `buyer`.`coins` - 1 \
             WHERE `seller`.`goods` >= 1 AND `buyer`.`coins` >= 1 \
             AND `seller`.`coins` <= 2147483647 - 1 AND `buyer`.`goods` <= 2147483647 - 1 \
             AND `seller`.`id` <> `buyer`.`id`;"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use player_testkit::sql::id;

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).expect("write");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn quote_doubles_single_quotes_and_refuses_backslashes() {
        assert_eq!(quote("it's").expect("quotable"), "'it''s'");
        assert!(quote("a\\b").is_err());
    }

    #[test]
    fn inserts_have_the_batch_shape() {
        let rows: Vec<_> = (0..5)
            .map(|i| NewPlayer::new(id(&format!("p{i}")), i, 10 * i))
            .collect();
        let per_batch = text(|b| write_inserts(b, &rows, 2, Commit::PerBatch));
        assert_eq!(
            per_batch,
            "INSERT INTO `player` (`id`, `coins`, `goods`) VALUES ('p0', 0, 0), ('p1', 1, 10);\n\
             INSERT INTO `player` (`id`, `coins`, `goods`) VALUES ('p2', 2, 20), ('p3', 3, 30);\n\
             INSERT INTO `player` (`id`, `coins`, `goods`) VALUES ('p4', 4, 40);\n"
        );
        let one = text(|b| write_inserts(b, &rows, 2, Commit::OneTransaction));
        assert_eq!(one, format!("BEGIN;\n{per_batch}COMMIT;\n"));
    }

    #[test]
    fn csv_and_trades_are_line_per_row_and_six_statements_per_trade() {
        let rows = [NewPlayer::new(id("a"), 1, 2), NewPlayer::new(id("b"), 3, 4)];
        assert_eq!(text(|b| write_csv(b, &rows)), "a,1,2\nb,3,4\n");
        assert!(write_csv(&mut Vec::new(), &[NewPlayer::new(id("a,b"), 1, 1)]).is_err());
        let trades = text(|b| write_trades(b, 2, "a", "b"));
        assert_eq!(trades.lines().count(), 2 * CLIENT_STATEMENTS_PER_TRADE);
        assert!(
            trades
                .lines()
                .nth(1)
                .is_some_and(|l| l.contains("= 'a' FOR UPDATE"))
        );
        assert!(
            trades
                .lines()
                .nth(7)
                .is_some_and(|l| l.contains("= 'b' FOR UPDATE"))
        );
    }

    #[test]
    fn one_statement_trades_are_the_cores_update_join() {
        let trades = text(|b| write_trades_one_statement(b, 2, "a", "b"));
        let lines: Vec<&str> = trades.lines().collect();
        assert_eq!(lines.len(), 2);
        // The same text as player-core's statement, values inline.
        assert!(
            lines[0].starts_with(
                "UPDATE `player` AS `seller` JOIN `player` AS `buyer` \
                 ON `seller`.`id` = 'a' AND `buyer`.`id` = 'b' \
                 SET `seller`.`goods` = `seller`.`goods` - 1, `seller`.`coins` = `seller`.`coins` + 1, \
                 `buyer`.`goods` = `buyer`.`goods` + 1, `buyer`.`coins` = `buyer`.`coins` - 1 \
                 WHERE `seller`.`goods` >= 1 AND `buyer`.`coins` >= 1 \
                 AND `seller`.`coins` <= 2147483647 - 1 AND `buyer`.`goods` <= 2147483647 - 1 \
             AND `seller`.`id` <> `buyer`.`id`;"
            ),
            "{}",
            lines[0]
        );
        // The second trade sells the other way; the smaller id still comes first.
        assert!(
            lines[1].starts_with(
                "UPDATE `player` AS `buyer` JOIN `player` AS `seller` \
                 ON `seller`.`id` = 'b' AND `buyer`.`id` = 'a' SET"
            ),
            "{}",
            lines[1]
        );
    }

    /// The files load exactly their rows when the stock client runs them.
    #[test]
    fn client_loads_exactly_the_rows_of_each_file() {
        use player_core::players;

        let db = player_testkit::TestDatabase::create();
        let mut conn = db.connect();
        player_core::migrations::run_pending(&mut conn).expect("migrations");
        let url = db.url().parse().expect("test database URL");
        let client = crate::client::Client::new(None, &url).expect("client on PATH");
        let dir = tempfile::tempdir().expect("temp dir");

        let mut rows = crate::data::players(250, crate::data::SEED);
        rows.push(NewPlayer::new(id("it's"), 1, 2));
        let mut expected: Vec<_> = rows
            .iter()
            .map(|p| (p.id.clone(), p.coins, p.goods))
            .collect();
        expected.sort();
        let loaded = |conn: &mut diesel::mysql::MysqlConnection| {
            let found: Vec<_> = players::list(conn, None, 1_000)
                .expect("list")
                .into_iter()
                .map(|p| (p.id, p.coins, p.goods))
                .collect();
            players::delete_all(conn).expect("empty");
            found
        };

        for commit in Commit::ALL {
            let file = dir.path().join(format!("{commit:?}.sql"));
            write_file(&file, |w| write_inserts(w, &rows, 114, commit)).expect("write");
            client.run_file(&file).expect("client runs the INSERTs");
            assert_eq!(loaded(&mut conn), expected, "{commit:?}");
        }

        let csv = dir.path().join("players.csv");
        write_file(&csv, |w| write_csv(w, &rows)).expect("write");
        let sql = load_data_statement(&csv.to_string_lossy()).expect("statement");
        client.run_statement(&sql).expect("LOAD DATA");
        assert_eq!(loaded(&mut conn), expected, "LOAD DATA");
    }
}
