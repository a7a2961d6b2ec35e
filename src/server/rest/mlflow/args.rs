//! Reading an MLflow call's arguments: the query string or the JSON body, each argument
//! checked by what it is (MLflow's own length limits), versions, stages and tags.

use serde_json::{Value, json};

use super::{MlflowError, STAGES};

/// A query string as MLflow's client sends it: repeated keys become arrays.
pub(super) fn query_args(query: &str) -> Value {
    let mut args = serde_json::Map::new();
    for (key, value) in url_pairs(query) {
        match args.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
            None => {
                args.insert(key, Value::String(value));
            }
        }
    }
    Value::Object(args)
}

/// The pairs of a query string, `+` and `%XX` decoded (invalid UTF-8 replaced).
pub(super) fn url_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

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

pub(super) fn text(args: &Value, key: &str) -> Result<String, MlflowError> {
    match args.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            checked(key, s)?;
            Ok(s.clone())
        }
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(MlflowError::invalid(format!(
            "Missing value for required parameter '{key}'. See the API docs for more information about request parameters."
        ))),
    }
}

pub(super) fn optional(args: &Value, key: &str) -> Result<Option<String>, MlflowError> {
    match args.get(key) {
        Some(Value::String(s)) => {
            checked(key, s)?;
            Ok(Some(s.clone()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        _ => Ok(None),
    }
}

pub(super) fn version_of(args: &Value) -> Result<i32, MlflowError> {
    let raw = text(args, "version")?;
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            MlflowError::invalid(format!(
                "Parameter 'version' must be an integer, got '{raw}'."
            ))
        })
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn tags_json(tags: &Value) -> Value {
    Value::Array(
        tags.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| json!({"key": k, "value": v.as_str().unwrap_or_default()}))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// Tags as sent (`[{key, value}]`) into an object.
pub(super) fn tags_in(args: &Value) -> Result<Value, MlflowError> {
    let mut tags = serde_json::Map::new();
    if let Some(list) = args.get("tags").and_then(Value::as_array) {
        for tag in list {
            let key = text(tag, "key")?;
            let value = optional(tag, "value")?.unwrap_or_default();
            tags.insert(key, Value::String(value));
        }
    }
    Ok(Value::Object(tags))
}

pub(super) fn canonical_stage(stage: &str) -> Result<&'static str, MlflowError> {
    STAGES
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(stage.trim()))
        .ok_or_else(|| {
            MlflowError::invalid(format!(
                "Invalid Model Version stage: {stage}. Value must be one of None, Staging, Production, Archived."
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_keep_repeated_keys() {
        let args = query_args("name=a%20b&order_by=name+ASC&order_by=x&page_token=eyJ%3D");
        assert_eq!(args["name"], "a b");
        assert_eq!(args["order_by"], json!(["name ASC", "x"]));
        assert_eq!(args["page_token"], "eyJ=");
    }
}
