//! Repeated measurements of several sides: each round starts at another side,
//! so a drift in the machine hits every side alike; the median is kept, and the
//! command counts of the first run that had them.

use player_core::db::DatabaseUrl;

use crate::Bench;
use crate::bench_db::BenchDb;
use crate::client::Client;
use crate::counters::CommandCounts;
use crate::peewee::Peewee;
use crate::report::median;

/// Where the sides of a comparison run: ours on a connection of their own,
/// every side to `url`; the benchmark's own connection resets and checks.
pub struct Setup<'a> {
    /// The benchmark's database.
    pub db: &'a mut BenchDb,
    /// The URL every side connects to: the database's, or through the latency proxy.
    pub url: DatabaseUrl,
    /// The command-line client, set up for `url`.
    pub client: &'a Client,
    /// Whether the client is timed and counted by probes in its own session
    /// (see `probe`), else from process start to exit, uncounted.
    pub probed: bool,
    /// The tutorial's side, or why it is missing.
    pub peewee: Result<&'a Peewee, &'a str>,
    /// Runs of each side.
    pub repeat: usize,
    /// What progress lines start with.
    pub prefix: String,
}

impl<'a> Setup<'a> {
    /// Every side on the benchmark's database directly, the client timed from
    /// process start to exit.
    pub fn direct(b: &'a mut Bench) -> Self {
        let (url, repeat) = (b.db.url().clone(), b.args.repeat);
        let (db, client, peewee) = (
            &mut b.db,
            &b.client,
            b.peewee.as_ref().map_err(String::as_str),
        );
        Self {
            db,
            url,
            client,
            probed: false,
            peewee,
            repeat,
            prefix: String::new(),
        }
    }
}

/// The runs of one side.
#[derive(Debug, Default)]
pub struct Tally {
    /// One rate per run.
    pub rates: Vec<f64>,
    /// Commands per unit, from the first run that counted them.
    pub counts: Option<CommandCounts>,
}

impl Tally {
    /// The median rate (NaN without a run).
    pub fn rate(&self) -> f64 {
        median(&self.rates)
    }

    /// Round trips per unit, if counted.
    pub fn round_trips(&self) -> Option<f64> {
        self.counts.as_ref().map(|c| c.round_trips)
    }
}

/// Measures each of `sides` `repeat` times: `once` returns a side's rate and
/// counts, or `None` for a side that is missing (peewee without its Python).
pub fn measure<S: Copy>(
    sides: &[S],
    repeat: usize,
    mut once: impl FnMut(S) -> anyhow::Result<Option<(f64, Option<CommandCounts>)>>,
) -> anyhow::Result<Vec<(S, Tally)>> {
    let mut tallies: Vec<_> = sides.iter().map(|&s| (s, Tally::default())).collect();
    for round in 0..repeat {
        for k in 0..sides.len() {
            let (side, tally) = &mut tallies[(k + round) % sides.len()];
            if let Some((rate, counts)) = once(*side)? {
                tally.rates.push(rate);
                tally.counts = tally.counts.take().or(counts);
            }
        }
    }
    Ok(tallies)
}

/// The tally of `side`, empty if it was not measured.
pub fn of<S: PartialEq>(tallies: &[(S, Tally)], side: S) -> &Tally {
    static NONE: Tally = Tally {
        rates: Vec::new(),
        counts: None,
    };
    tallies
        .iter()
        .find(|(s, _)| *s == side)
        .map_or(&NONE, |(_, t)| t)
}
