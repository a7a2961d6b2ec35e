//! modelgov: a self-hosted governance dashboard for machine-learning models.
//!
//! One crate, two builds: `ssr` is the axum server (with the `server` module), `hydrate` is the
//! browser bundle that hydrates the server-rendered pages.

// Page views nest deeply typed element trees.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod error;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser bundle: hydrates the page the server rendered.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console for development builds; the release bundle (which aborts on
    // panic) goes without the formatting code it needs.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
