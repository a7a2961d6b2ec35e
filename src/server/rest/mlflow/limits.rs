//! How long and of what shape each argument of an MLflow call may be.

use super::MlflowError;

/// Most characters of a name, alias, tag key or other one-line argument (MLflow's own limit for
/// entity keys is 250).
pub(super) const MAX_KEY_CHARS: usize = 250;
/// Most characters of a tag value, a version's source or run link.
pub(super) const MAX_VALUE_CHARS: usize = 5_000;
/// Most characters of a search filter.
pub(super) const MAX_FILTER_CHARS: usize = 2_000;
/// The furthest a page token reaches.
pub(super) const MAX_OFFSET: i64 = 1_000_000_000;
/// Most clauses of a search filter.
pub(super) const MAX_FILTER_CLAUSES: usize = 20;

/// Checks an argument's text by what it is: one line and bounded, a description may hold lines.
pub(super) fn checked(key: &str, value: &str) -> Result<(), MlflowError> {
    use crate::model::text::{Lines, check_text};
    let (most, lines) = match key {
        "description" => (crate::model::record::MAX_DESCRIPTION_CHARS, Lines::Many),
        "value" => (MAX_VALUE_CHARS, Lines::Many),
        "source" | "run_link" | "page_token" => (MAX_VALUE_CHARS, Lines::One),
        "filter" => (MAX_FILTER_CHARS, Lines::One),
        _ => (MAX_KEY_CHARS, Lines::One),
    };
    check_text(key, value, most, lines).map_err(MlflowError::invalid)
}
