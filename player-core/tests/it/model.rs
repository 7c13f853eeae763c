//! Model-based property test: random sequences of create, update, delete and
//! trade (both forms) run against the real server, and after every step the
//! table must equal an in-memory model that states the intended semantics:
//! ids are the column's (PAD SPACE: `a` and `a ` are one player, stored as
//! first written), balances never go negative (the CHECK constraints), a trade
//! moves coins and goods both ways or nothing, and its refusals and errors
//! come in a fixed order. Keyed trades draw their keys from a few, and a
//! step may send the last keyed trade again, so keys repeat: the first call
//! with a key applies (or refuses) its trade, a later one with the same trade
//! returns that outcome and changes nothing, and one with another trade is
//! refused; a typed error leaves the key free.
//!
//! Ids are drawn to include collation twins, case and leading-space
//! variants, 36-character and multi-byte ids, one character too many, quotes,
//! backslashes and SQL fragments; amounts include 0, 1, -1 and the INT maximum.
//!
//! `PLAYER_PROPTEST_CASES` (default 200, about a second) sets the number of sequences and
//! `PLAYER_PROPTEST_SEED` replays one; a failure prints its seed and the
//! shrunk sequence.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use player_core::ledger::{self, IdempotencyKey, KeyedTradeError};
use player_core::models::PlayerChanges;
use player_core::schema::keyed_trade;
use player_core::trade::Balance;
use player_core::{Error, NewPlayer, PlayerId, Refusal, Trade, TradeError, TradeOutcome, players};
use player_testkit::TestDatabase;
use player_testkit::sql::all;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use crate::Form;

/// One step of a sequence. Ids are raw strings: some are not valid ids.
#[derive(Debug, Clone)]
enum Op {
    Create(String, i32, i32),
    Update(String, Option<i32>, Option<i32>),
    Delete(String),
    Trade {
        form: Form,
        seller: String,
        buyer: String,
        amount: i32,
        price: i32,
    },
    KeyedTrade {
        key: String,
        seller: String,
        buyer: String,
        amount: i32,
        price: i32,
    },
    /// The last `KeyedTrade` of the sequence again, as a caller resends it
    /// after a lost connection (nothing, if there was none).
    Resend,
}

/// What a step returned, in terms both the server and the model can give.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Created,
    /// `update` or `delete`: whether the player was there.
    Found(bool),
    /// The id cannot be a `PlayerId` (empty or too long).
    InvalidId,
    AlreadyExists,
    /// A negative balance, refused before anything is sent.
    Rejected,
    Done,
    Refused(Refusal),
    InvalidTrade,
    UnknownPlayer(String),
    Overflow(&'static str, String),
    /// A keyed trade whose key was used before for the same trade: its outcome.
    Replayed(Box<Outcome>),
    /// A keyed trade whose key was used before for another trade.
    KeyReused,
    /// `Resend` with no keyed trade before it.
    Nothing,
}

/// A trade as the ledger compares them: ids as the column does.
type TradeRecord = (PlayerId, PlayerId, i32, i32);

/// The intended state: balances by id, keyed (and ordered) as the column
/// compares ids; a key keeps the spelling it was created with.
#[derive(Debug, Default)]
struct Model(
    BTreeMap<PlayerId, (i32, i32)>,
    /// The ledger: each key's trade and outcome.
    BTreeMap<String, (TradeRecord, Outcome)>,
);

impl Model {
    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Create(id, coins, goods) => {
                let Ok(id) = PlayerId::new(id.as_str()) else {
                    return Outcome::InvalidId;
                };
                if *coins < 0 || *goods < 0 {
                    return Outcome::Rejected;
                }
                match self.0.entry(id) {
                    Entry::Occupied(_) => Outcome::AlreadyExists,
                    Entry::Vacant(slot) => {
                        slot.insert((*coins, *goods));
                        Outcome::Created
                    }
                }
            }
            Op::Update(id, coins, goods) => {
                let Ok(id) = PlayerId::new(id.as_str()) else {
                    return Outcome::InvalidId;
                };
                if coins.is_some_and(|c| c < 0) || goods.is_some_and(|g| g < 0) {
                    return Outcome::Rejected;
                }
                let Some(balance) = self.0.get_mut(&id) else {
                    return Outcome::Found(false);
                };
                *balance = (coins.unwrap_or(balance.0), goods.unwrap_or(balance.1));
                Outcome::Found(true)
            }
            Op::Delete(id) => match PlayerId::new(id.as_str()) {
                Ok(id) => Outcome::Found(self.0.remove(&id).is_some()),
                Err(_) => Outcome::InvalidId,
            },
            Op::Trade {
                seller,
                buyer,
                amount,
                price,
                ..
            } => self.trade(seller, buyer, *amount, *price),
            Op::KeyedTrade {
                key,
                seller,
                buyer,
                amount,
                price,
            } => self.keyed_trade(key, seller, buyer, *amount, *price),
            Op::Resend => Outcome::Nothing,
        }
    }

    fn keyed_trade(
        &mut self,
        key: &str,
        seller: &str,
        buyer: &str,
        amount: i32,
        price: i32,
    ) -> Outcome {
        let (Ok(s), Ok(b)) = (PlayerId::new(seller), PlayerId::new(buyer)) else {
            return Outcome::InvalidId;
        };
        if amount <= 0 || price <= 0 || s == b {
            return Outcome::InvalidTrade;
        }
        let record = (s, b, amount, price);
        if let Some((stored, outcome)) = self.1.get(key) {
            return if *stored == record {
                Outcome::Replayed(Box::new(outcome.clone()))
            } else {
                Outcome::KeyReused
            };
        }
        let outcome = self.trade(seller, buyer, amount, price);
        if matches!(outcome, Outcome::Done | Outcome::Refused(_)) {
            self.1.insert(key.to_owned(), (record, outcome.clone()));
        }
        outcome
    }

    fn trade(&mut self, seller: &str, buyer: &str, amount: i32, price: i32) -> Outcome {
        let (Ok(s), Ok(b)) = (PlayerId::new(seller), PlayerId::new(buyer)) else {
            return Outcome::InvalidId;
        };
        if amount <= 0 || price <= 0 || s == b {
            return Outcome::InvalidTrade;
        }
        let Some(&(s_coins, s_goods)) = self.0.get(&s) else {
            return Outcome::UnknownPlayer(seller.to_owned());
        };
        let Some(&(b_coins, b_goods)) = self.0.get(&b) else {
            return Outcome::UnknownPlayer(buyer.to_owned());
        };
        if s_goods < amount {
            return Outcome::Refused(Refusal::SellerLacksGoods);
        }
        if b_coins < price {
            return Outcome::Refused(Refusal::BuyerLacksCoins);
        }
        let (Some(s_coins), Some(b_goods)) =
            (s_coins.checked_add(price), b_goods.checked_add(amount))
        else {
            let (which, who) = if s_coins.checked_add(price).is_none() {
                ("coins", seller)
            } else {
                ("goods", buyer)
            };
            return Outcome::Overflow(which, who.to_owned());
        };
        self.0.insert(s, (s_coins, s_goods - amount));
        self.0.insert(b, (b_coins - price, b_goods));
        Outcome::Done
    }

    /// The rows as `(id as stored, coins, goods)`, in the column's order.
    fn rows(&self) -> Vec<(String, i32, i32)> {
        self.0
            .iter()
            .map(|(id, (coins, goods))| (id.to_string(), *coins, *goods))
            .collect()
    }
}

/// Runs `op` against the server.
fn run(conn: &mut MysqlConnection, op: &Op) -> Outcome {
    let id = |raw: &str| PlayerId::new(raw).ok();
    match op {
        Op::Create(raw, coins, goods) => {
            let Some(id) = id(raw) else {
                return Outcome::InvalidId;
            };
            match players::create(conn, &NewPlayer::new(id, *coins, *goods)) {
                Ok(()) => Outcome::Created,
                Err(Error::AlreadyExists(_)) => Outcome::AlreadyExists,
                Err(Error::NegativeBalance { .. }) => Outcome::Rejected,
                Err(e) => panic!("create {raw:?}: {e}"),
            }
        }
        Op::Update(raw, coins, goods) => {
            let Some(id) = id(raw) else {
                return Outcome::InvalidId;
            };
            let changes = PlayerChanges {
                coins: *coins,
                goods: *goods,
            };
            match players::update(conn, &id, &changes) {
                Ok(found) => Outcome::Found(found),
                Err(Error::NegativeBalance { .. }) => Outcome::Rejected,
                Err(e) => panic!("update {raw:?}: {e}"),
            }
        }
        Op::Delete(raw) => match id(raw) {
            Some(id) => Outcome::Found(players::delete(conn, &id).expect("delete")),
            None => Outcome::InvalidId,
        },
        Op::Trade {
            form,
            seller,
            buyer,
            amount,
            price,
        } => {
            let (Some(s), Some(b)) = (id(seller), id(buyer)) else {
                return Outcome::InvalidId;
            };
            let trade = Trade {
                seller: &s,
                buyer: &b,
                amount: *amount,
                price: *price,
            };
            match form.with_retry(conn, &trade, &Default::default()) {
                Ok(traded) => outcome(traded.outcome),
                Err(e) => trade_error(&trade, e),
            }
        }
        Op::KeyedTrade {
            key,
            seller,
            buyer,
            amount,
            price,
        } => {
            let (Some(s), Some(b)) = (id(seller), id(buyer)) else {
                return Outcome::InvalidId;
            };
            let trade = Trade {
                seller: &s,
                buyer: &b,
                amount: *amount,
                price: *price,
            };
            let key = IdempotencyKey::new(key.as_str()).expect("drawn keys are valid");
            match ledger::trade(conn, &key, &trade, &Default::default()) {
                Ok(traded) if traded.replayed => {
                    Outcome::Replayed(Box::new(outcome(traded.outcome)))
                }
                Ok(traded) => outcome(traded.outcome),
                Err(KeyedTradeError::KeyReused(_)) => Outcome::KeyReused,
                Err(KeyedTradeError::Trade(e)) => trade_error(&trade, e),
                Err(e) => panic!("keyed trade {trade:?}: {e}"),
            }
        }
        Op::Resend => Outcome::Nothing,
    }
}

fn outcome(outcome: TradeOutcome) -> Outcome {
    match outcome {
        TradeOutcome::Done => Outcome::Done,
        TradeOutcome::Refused(r) => Outcome::Refused(r),
    }
}

fn trade_error(trade: &Trade, error: TradeError) -> Outcome {
    match error {
        TradeError::Invalid(_) => Outcome::InvalidTrade,
        TradeError::UnknownPlayer(who) => Outcome::UnknownPlayer(who.to_string()),
        TradeError::Overflow { balance, player } => {
            let which = if balance == Balance::Coins {
                "coins"
            } else {
                "goods"
            };
            Outcome::Overflow(which, player.to_string())
        }
        e => panic!("trade {trade:?}: {e}"),
    }
}

fn raw_ids() -> impl Strategy<Value = String> {
    let fixed = vec![
        "a".to_owned(),
        "a ".to_owned(),
        "a   ".to_owned(),
        "A".to_owned(),
        " a".to_owned(),
        "a\t".to_owned(),
        "b".to_owned(),
        "b ".to_owned(),
        "é".repeat(36),
        "🦀".to_owned(),
        "x".repeat(36),
        format!("{} ", "x".repeat(35)),
        "x".repeat(37),
        String::new(),
        "x'y".to_owned(),
        "\"".to_owned(),
        "\\".to_owned(),
        "%_".to_owned(),
        "'; DROP TABLE player; --".to_owned(),
    ];
    prop::sample::select(fixed)
}

fn balances() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(-1),
        Just(i32::MAX),
        Just(i32::MAX - 1),
        0..200i32,
    ]
}

fn traders() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a".to_owned(), "b".to_owned()])
}

/// Mostly amounts a trade between existing players can move.
fn amounts() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 1..150i32, 1 => balances()]
}

fn keys() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["k".to_owned(), "k ".to_owned(), "order-1".to_owned()])
}

fn forms() -> impl Strategy<Value = Form> {
    prop::sample::select(crate::FORMS.to_vec())
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (raw_ids(), balances(), balances()).prop_map(|(i, c, g)| Op::Create(i, c, g)),
        1 => (raw_ids(), prop::option::of(balances()), balances())
            .prop_map(|(i, c, g)| Op::Update(i, c, Some(g))),
        1 => raw_ids().prop_map(Op::Delete),
        5 => (forms(), raw_ids(), raw_ids(), balances(), balances()).prop_map(
            |(form, seller, buyer, amount, price)| Op::Trade {
                form,
                seller,
                buyer,
                amount,
                price,
            }
        ),
        // Few keys, so they repeat (`k ` is another key than `k`), and few
        // players, so they exist.
        4 => (traders(), amounts(), amounts()).prop_map(|(i, c, g)| Op::Create(i, c, g)),
        3 => (keys(), traders(), traders(), amounts(), amounts()).prop_map(
            |(key, seller, buyer, amount, price)| Op::KeyedTrade {
                key,
                seller,
                buyer,
                amount,
                price,
            }
        ),
        2 => Just(Op::Resend),
    ]
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn random_sequences_keep_the_table_equal_to_the_model() {
    let cases = env_number("PLAYER_PROPTEST_CASES").unwrap_or(200);
    let seed = env_number("PLAYER_PROPTEST_SEED").unwrap_or_else(rand::random);
    eprintln!("model test: {cases} cases, PLAYER_PROPTEST_SEED={seed}");
    let config = Config {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    let db = TestDatabase::migrated();
    // The runner takes a `Fn`: the one connection is borrowed per case.
    let conn = RefCell::new(db.connect());
    let result = TestRunner::new(config).run(&prop::collection::vec(ops(), 1..24), |sequence| {
        let conn = &mut *conn.borrow_mut();
        players::delete_all(conn).expect("reset");
        diesel::delete(keyed_trade::table)
            .execute(conn)
            .expect("reset the ledger");
        let mut model = Model::default();
        let mut last_keyed = None;
        for (step, op) in sequence.iter().enumerate() {
            let op = match op {
                Op::Resend => last_keyed.as_ref().unwrap_or(op),
                Op::KeyedTrade { .. } => last_keyed.insert(op.clone()),
                _ => op,
            };
            let expected = model.apply(op);
            let got = run(conn, op);
            if got != expected {
                return Err(TestCaseError::fail(format!(
                    "step {step} {op:?}: server {got:?}, model {expected:?}"
                )));
            }
            let table: Vec<(String, i32, i32)> = all(conn)
                .into_iter()
                .map(|p| (p.id.to_string(), p.coins, p.goods))
                .collect();
            if table != model.rows() {
                return Err(TestCaseError::fail(format!(
                    "after step {step} {op:?}: table {table:?}, model {:?}",
                    model.rows()
                )));
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, sequence)) => {
            panic!("PLAYER_PROPTEST_SEED={seed} fails: {reason}\nshrunk sequence: {sequence:#?}")
        }
        Err(e) => panic!("PLAYER_PROPTEST_SEED={seed}: {e}"),
    }
}
