//! Many clients trading on a few players at once: every answer is a
//! trade's (made or refused), never a 5xx, and no coin or goods is made or
//! lost.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::common::Service;

const CLIENTS: usize = 16;
const TRADES_PER_CLIENT: usize = 25;
const HOT: [&str; 4] = ["h1", "h2", "h3", "h4"];
const SEED: (i64, i64) = (1_000, 100);

#[test]
fn sixteen_clients_on_hot_players_conserve_totals_and_see_no_5xx() {
    let s = Service::with(|c| c.request_timeout = Duration::from_secs(30));
    for id in HOT {
        s.http.players(&[(id, SEED.0 as i32, SEED.1 as i32)]);
    }
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let http = s.http.clone();
            std::thread::spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
                let mut done = Vec::new();
                let mut statuses = BTreeMap::new();
                for n in 0..TRADES_PER_CLIENT {
                    let seller = rng.random_range(0..HOT.len());
                    let buyer = (seller + rng.random_range(1..HOT.len())) % HOT.len();
                    let (amount, price) = (rng.random_range(1..=10), rng.random_range(1..=50));
                    let body = json!({"seller": HOT[seller], "buyer": HOT[buyer], "amount": amount, "price": price});
                    let key = format!("c{client}-{n}");
                    let answer = http.trade(Some(&key), &body);
                    *statuses.entry(answer.status).or_insert(0) += 1;
                    if answer.status == 201 && answer.body["outcome"] == "done" {
                        done.push((seller, buyer, amount, price));
                    }
                    // Every few, the same request again: the stored answer.
                    if n % 5 == 0 {
                        let again = http.trade(Some(&key), &body);
                        assert_eq!((again.status, &again.body), (answer.status, &answer.body));
                    }
                }
                (done, statuses)
            })
        })
        .collect();
    let mut expected = vec![SEED; HOT.len()];
    let mut statuses = BTreeMap::new();
    for client in clients {
        let (done, seen) = client.join().unwrap();
        for (status, n) in seen {
            *statuses.entry(status).or_insert(0) += n;
        }
        for (seller, buyer, amount, price) in done {
            expected[seller].0 += price;
            expected[seller].1 -= amount;
            expected[buyer].0 -= price;
            expected[buyer].1 += amount;
        }
    }
    assert_eq!(
        statuses,
        BTreeMap::from([(201, CLIENTS * TRADES_PER_CLIENT)])
    );
    let found: Vec<(i64, i64)> = HOT
        .iter()
        .map(|id| {
            let p = s.http.get(&format!("/players/{id}")).body;
            (p["coins"].as_i64().unwrap(), p["goods"].as_i64().unwrap())
        })
        .collect();
    // Each balance is its seed plus the trades acknowledged, so the totals hold.
    assert_eq!(found, expected);
    let total = |f: fn(&(i64, i64)) -> i64| found.iter().map(f).sum::<i64>();
    assert_eq!((total(|b| b.0), total(|b| b.1)), (SEED.0 * 4, SEED.1 * 4));
    assert!(found.iter().all(|(c, g)| *c >= 0 && *g >= 0), "{found:?}");
}
