//! All SQL lives here. Functions take the executor as an argument. Compiled only with `ssr`.

pub mod assets;
pub mod org_units;
