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
    out: &mut dyn Write,
    rows: &[NewPlayer],
    batch: usize,
    commit: Commit,
) -> io::Result<()> {
    let (begin, end) = match commit {
        Commit::PerBatch => ("", ""),
        Commit::OneTransaction => ("BEGIN;\n", "COMMIT;\n"),
    };
    out.write_all(begin.as_bytes())?;
    for chunk in rows.chunks(batch.max(1)) {
        out.write_all(b"INSERT INTO `player` (`id`, `coins`, `goods`) VALUES ")?;
        for (i, p) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let (id, coins, goods) = (quote(p.id.as_str())?, p.coins, p.goods);
            write!(out, "{sep}({id}, {coins}, {goods})")?;
        }
        out.write_all(b";\n")?;
    }
    out.write_all(end.as_bytes())
}

/// Writes `rows` as `id,coins,goods` lines for [`load_data_statement`].
pub fn write_csv(out: &mut dyn Write, rows: &[NewPlayer]) -> io::Result<()> {
    for p in rows {
        if p.id.as_str().contains([',', '\n', '\\', '"']) {
            let why = format!("{:?} cannot go in the CSV unquoted", p.id);
            return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
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
/// trade `i` has (a, b) as (seller, buyer) when `i` is even, else (b, a).
pub fn trade_direction<'a, T: ?Sized>(i: usize, a: &'a T, b: &'a T) -> (&'a T, &'a T) {
    if i % 2 == 0 { (a, b) } else { (b, a) }
}

/// Statements one trade of [`write_trades`] sends.
pub const CLIENT_STATEMENTS_PER_TRADE: usize = 6;

/// Writes `count` trades of one good for one coin between `a` and `b`, in
/// alternating directions, each as the six statements of the lock-then-update
/// pattern: BEGIN, SELECT ... FOR UPDATE of the seller, of the buyer, UPDATE of
/// the seller, of the buyer, COMMIT.
pub fn write_trades(out: &mut dyn Write, count: usize, a: &str, b: &str) -> io::Result<()> {
    let (qa, qb) = (quote(a)?, quote(b)?);
    for i in 0..count {
        let (seller, buyer) = trade_direction(i, &qa, &qb);
        let lock = "SELECT `coins`, `goods` FROM `player` WHERE `id` =";
        let set = "UPDATE `player` SET `coins` = `coins`";
        writeln!(
            out,
            "BEGIN;\n{lock} {seller} FOR UPDATE;\n{lock} {buyer} FOR UPDATE;\n\
             {set} + 1, `goods` = `goods` - 1 WHERE `id` = {seller};\n\
             {set} - 1, `goods` = `goods` + 1 WHERE `id` = {buyer};\nCOMMIT;"
        )?;
    }
    Ok(())
}

/// Writes `count` trades like [`write_trades`], each as the one statement of
/// `player_core::trade_in_one_statement`, sent alone in autocommit: the
/// `UPDATE ... JOIN` of `player-core/src/trade/one_statement.rs`, with the
/// values inline and the smaller id first in the join, as the core writes it.
/// The client does not look at the rows it changed (the core does); the
/// balance check afterwards does.
pub fn write_trades_one_statement(
    out: &mut dyn Write,
    count: usize,
    a: &str,
    b: &str,
) -> io::Result<()> {
    let (qa, qb) = (quote(a)?, quote(b)?);
    for i in 0..count {
        let (seller, buyer) = trade_direction(i, &qa, &qb);
        let (s, b) = trade_direction(i, a, b);
        let [first, second] = if s <= b {
            ["seller", "buyer"]
        } else {
            ["buyer", "seller"]
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
    use player_core::players;
    use player_testkit::sql::id;

    use super::*;

    /// The files load exactly their rows when the stock client runs them (the
    /// trade files are checked by the balances after every run).
    #[test]
    fn the_client_loads_exactly_the_rows_of_each_file() {
        let db = player_testkit::TestDatabase::create();
        let mut conn = db.connect();
        player_core::migrations::run_pending(&mut conn).expect("migrations");
        let client =
            crate::client::Client::new(None, &db.url().parse().expect("URL")).expect("client");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut rows = crate::data::players(250);
        rows.push(NewPlayer::new(id("it's"), 1, 2));
        let mut expected: Vec<_> = rows
            .iter()
            .map(|p| (p.id.clone(), p.coins, p.goods))
            .collect();
        expected.sort();
        let mut loaded = || {
            let found = players::list(&mut conn, None, 1_000).expect("list");
            players::delete_all(&mut conn).expect("empty");
            found
                .into_iter()
                .map(|p| (p.id, p.coins, p.goods))
                .collect::<Vec<_>>()
        };
        let file = dir.path().join("rows");
        for commit in Commit::ALL {
            write_file(&file, |w| write_inserts(w, &rows, 114, commit)).expect("write");
            client.run_file(&file).expect("client runs the INSERTs");
            assert_eq!(loaded(), expected, "{commit:?}");
        }
        write_file(&file, |w| write_csv(w, &rows)).expect("write");
        let load = load_data_statement(&file.to_string_lossy()).expect("statement");
        client.run_statement(&load).expect("LOAD DATA");
        assert_eq!(loaded(), expected, "LOAD DATA");

        assert!(quote("a\\b").is_err());
        assert!(write_csv(&mut Vec::new(), &[NewPlayer::new(id("a,b"), 1, 1)]).is_err());
    }
}
