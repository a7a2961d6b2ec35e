//! The parameters the HTTP API and the dashboard's server functions share, parsed once with one
//! set of limits, so that the two surfaces cannot answer the same question differently.

use std::collections::BTreeMap;

use super::record::AssetKind;

/// The trend windows, in days, a unit's trend is read over.
pub const TREND_DAYS: [i64; 4] = [7, 30, 90, 365];
/// The window when none is asked for.
pub const DEFAULT_TREND_DAYS: i64 = 30;

/// A trend window: one of [`TREND_DAYS`], [`DEFAULT_TREND_DAYS`] when `None`. `raw` is the text
/// asked for, for the message (a surface that reads text passes what it could not read as `None`
/// with the text).
pub fn trend_days(days: Option<i64>, raw: Option<&str>) -> Result<i64, String> {
    match (days, raw) {
        (None, None) => Ok(DEFAULT_TREND_DAYS),
        (Some(d), _) if TREND_DAYS.contains(&d) => Ok(d),
        (Some(d), _) => Err(format!("days must be one of 7, 30, 90, 365, not {d}")),
        (None, Some(text)) => Err(format!("days must be one of 7, 30, 90, 365, not {text:?}")),
    }
}

/// Reads an `as_of` time: `None` when none (or nothing) is given; the message names the value
/// when it is not an RFC 3339 time.
#[cfg(feature = "ssr")]
pub fn as_of(value: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| format!("as_of {v:?} is not an RFC 3339 time: {e}"))
        })
        .transpose()
}

/// Reads a whole number from text, `None` when it is not one.
pub fn whole(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| t.trim().parse().ok())
}

/// The longest search text, in characters.
pub const MAX_SEARCH_TEXT: usize = 200;
/// The furthest into the hits a search pages.
pub const MAX_SEARCH_OFFSET: i64 = 10_000;

/// The furthest a unit page's model list pages (a company may hold 100,000 models and more).
pub const MAX_MODELS_OFFSET: i64 = 1_000_000;

/// A search of the graph: words of the name or description, a kind, tags, where to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub kind: Option<AssetKind>,
    /// `key:value` pairs the hits must all carry.
    pub tags: BTreeMap<String, String>,
    pub offset: i64,
}

impl SearchQuery {
    /// Checks and reads a search: `kind` an asset kind's name (empty for any), each of `tags`
    /// `key:value`, `offset` 0 to [`MAX_SEARCH_OFFSET`] (`offset_raw` as for [`trend_days`]).
    pub fn parse(
        text: &str,
        kind: Option<&str>,
        tags: &[&str],
        offset: Option<i64>,
        offset_raw: Option<&str>,
    ) -> Result<Self, String> {
        if text.chars().count() > MAX_SEARCH_TEXT {
            return Err(format!(
                "the search text is longer than {MAX_SEARCH_TEXT} characters"
            ));
        }
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => Some(AssetKind::parse(k).ok_or_else(|| {
                format!(
                    "kind {k:?} is not one of {}",
                    AssetKind::ALL.map(AssetKind::as_str).join(", ")
                )
            })?),
        };
        let mut pairs = BTreeMap::new();
        for tag in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let (key, value) = tag.split_once(':').ok_or_else(|| {
                format!("a tag must be key:value, like team:ranking, not {tag:?}")
            })?;
            pairs.insert(key.trim().to_string(), value.trim().to_string());
        }
        let offset = match (offset, offset_raw) {
            (None, None) => 0,
            (Some(o), _) if (0..=MAX_SEARCH_OFFSET).contains(&o) => o,
            (Some(o), _) => return Err(format!("offset must be 0-{MAX_SEARCH_OFFSET}, not {o}")),
            (None, Some(text)) => {
                return Err(format!(
                    "offset must be 0-{MAX_SEARCH_OFFSET}, not {text:?}"
                ));
            }
        };
        Ok(Self {
            text: text.trim().to_string(),
            kind,
            tags: pairs,
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_windows_are_one_of_four() {
        assert_eq!(trend_days(None, None), Ok(30));
        assert_eq!(trend_days(Some(365), Some("365")), Ok(365));
        assert_eq!(
            trend_days(Some(60), Some("60")).unwrap_err(),
            "days must be one of 7, 30, 90, 365, not 60"
        );
        assert!(trend_days(None, Some("x")).unwrap_err().contains("\"x\""));
    }

    #[test]
    fn searches_are_read_once() {
        let query = SearchQuery::parse(
            " ranker ",
            Some("model_source"),
            &["team: ads", ""],
            Some(20),
            None,
        )
        .unwrap();
        assert_eq!(query.text, "ranker");
        assert_eq!(query.kind, Some(AssetKind::ModelSource));
        assert_eq!(query.tags["team"], "ads");
        assert_eq!(
            SearchQuery::parse("", None, &[], Some(10_001), None).unwrap_err(),
            "offset must be 0-10000, not 10001"
        );
        assert!(SearchQuery::parse("", Some("thing"), &[], None, None).is_err());
        assert!(SearchQuery::parse("", None, &["nocolon"], None, None).is_err());
        assert!(SearchQuery::parse(&"a".repeat(201), None, &[], None, None).is_err());
    }
}
