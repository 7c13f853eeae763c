//! The rows every loader is given: the same ids and balances, in the same order.

use player_core::{NewPlayer, PlayerId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The seed of the benchmark's rows, so every run loads the same data.
const SEED: u64 = 20_261_124;

/// `count` players with UUID ids (version 4 shape, drawn from a seeded generator,
/// so their order in the primary key is as random as the tutorial's) and
/// balances between 0 and 10,000.
pub fn players(count: usize) -> Vec<NewPlayer> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..count)
        .map(|_| {
            let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
            NewPlayer::new(
                PlayerId::new(id.to_string()).unwrap_or_else(|e| unreachable!("a UUID: {e}")),
                rng.random_range(0..=10_000),
                rng.random_range(0..=10_000),
            )
        })
        .collect()
}
