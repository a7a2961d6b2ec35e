//! The user interface: pages (one per route) and the presentational components they share.

pub mod components;
pub mod pages;
pub mod resource;
