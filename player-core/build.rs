//! Rebuilds the crate when a migration changes, so the migrations embedded by
//! `embed_migrations!` are never stale.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
