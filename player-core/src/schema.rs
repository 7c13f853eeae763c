// @generated automatically by Diesel CLI.

diesel::table! {
    player (id) {
        #[max_length = 36]
        id -> Varchar,
        coins -> Integer,
        goods -> Integer,
    }
}
