// @generated automatically by Diesel CLI.

diesel::table! {
    keyed_trade (key_hash) {
        #[max_length = 32]
        key_hash -> Binary,
        #[max_length = 255]
        idempotency_key -> Varchar,
        #[max_length = 36]
        seller -> Varchar,
        #[max_length = 36]
        buyer -> Varchar,
        amount -> Integer,
        price -> Integer,
        #[max_length = 20]
        outcome -> Varchar,
        created_at -> Timestamp,
    }
}

diesel::table! {
    player (id) {
        #[max_length = 36]
        id -> Varchar,
        coins -> Integer,
        goods -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(keyed_trade, player,);
