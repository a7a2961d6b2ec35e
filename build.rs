//! Rebuilds when a migration or a query file changes: `sqlx::migrate!` and `query_file!` read
//! them at compile time, and cargo does not see that by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=queries");
    println!("cargo:rerun-if-changed=metrics/catalog.toml");
}
