//! One component per route.

mod not_found;
mod overview;

pub use not_found::NotFoundPage;
pub use overview::OverviewPage;
