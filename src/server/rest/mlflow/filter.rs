//! What MLflow's searches ask for: the filter language (parsed here, matched by Postgres with
//! bound values in `repo::mlflow`), `order_by`, and pages.

use serde_json::Value;

use super::MlflowError;
use super::limits::{MAX_FILTER_CHARS, MAX_FILTER_CLAUSES, MAX_OFFSET, checked};
pub use crate::server::repo::mlflow::Clause;
use crate::server::repo::mlflow::{MODEL_ORDERS, MODEL_TIES, VERSION_ORDERS, VERSION_TIES};

/// Parses MLflow's search filters: clauses joined by AND, each `name`, `run_id` or
/// `tag.<key>` (key in backticks when dotted), compared with =, !=, LIKE or ILIKE to a quoted
/// string.
/// At most [`MAX_FILTER_CLAUSES`] clauses of [`MAX_FILTER_CHARS`] characters in all.
pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, String> {
    parse_filter_checked(filter, &|_| Ok(()))
}

/// [`parse_filter`], with each attribute checked by `check` as soon as it is read (as MLflow
/// does, before the rest of its clause).
fn parse_filter_checked(
    filter: &str,
    check: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Vec<Clause>, String> {
    let bad = |why: &str| format!("bad filter {filter:?}: {why}");
    if filter.chars().count() > MAX_FILTER_CHARS {
        return Err(format!(
            "the filter is longer than {MAX_FILTER_CHARS} characters"
        ));
    }
    let mut clauses = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        if clauses.len() == MAX_FILTER_CLAUSES {
            return Err(format!(
                "the filter has more than {MAX_FILTER_CLAUSES} clauses"
            ));
        }
        // attribute
        let (attribute, after) = if let Some(tag) = rest
            .strip_prefix("tag.`")
            .or_else(|| rest.strip_prefix("tags.`"))
        {
            let end = tag.find('`').ok_or_else(|| bad("an unclosed backtick"))?;
            (format!("tag.{}", &tag[..end]), &tag[end + 1..])
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || "=!<>".contains(c))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let attribute = match word {
                // A version's source, as MLflow's version search names it.
                "source_path" => "source".to_string(),
                w if w.starts_with("tag.") || w.starts_with("tags.") => {
                    format!(
                        "tag.{}",
                        w.split_once('.').map(|(_, k)| k).unwrap_or_default()
                    )
                }
                // Which attributes a search takes is the search's to say (`Search::check`).
                w if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    w.to_string()
                }
                _ => return Err(bad(&format!("{word:?} is not an attribute"))),
            };
            (attribute, &rest[end..])
        };
        check(&attribute)?;
        let after = after.trim_start();
        let (op, after) = [
            "!=", "<=", ">=", "=", "<", ">", "ILIKE ", "LIKE ", "NOT IN", "IN",
        ]
        .iter()
        .find_map(|op| {
            let head = after.get(..op.len())?;
            // A word operator stands alone: `IN (`, not the start of a longer word.
            let next = after[op.len()..].chars().next();
            let word = op.ends_with(|c: char| c.is_ascii_alphabetic());
            (head.eq_ignore_ascii_case(op)
                && !(word && next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')))
            .then(|| (op.trim().to_ascii_uppercase(), &after[op.len()..]))
        })
        .ok_or_else(|| bad("expected =, !=, <, <=, >, >=, LIKE, ILIKE, IN or NOT IN"))?;
        let after = after.trim_start();
        let (value, list, after) = if op.ends_with("IN") {
            let mut inside = after
                .strip_prefix('(')
                .ok_or_else(|| bad("IN takes a list in parentheses"))?
                .trim_start();
            let mut list = Vec::new();
            loop {
                let (item, left) = quoted(inside).ok_or_else(|| bad("IN lists quoted strings"))?;
                list.push(item);
                let left = left.trim_start();
                if let Some(left) = left.strip_prefix(',') {
                    inside = left.trim_start();
                } else {
                    let left = left
                        .strip_prefix(')')
                        .ok_or_else(|| bad("an unclosed IN list"))?;
                    break (String::new(), list, left);
                }
            }
        } else if let Some((value, left)) = quoted(after) {
            (value, Vec::new(), left)
        } else {
            // A number, for version_number.
            let end = after
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(after.len());
            if end == 0 {
                return Err(bad("values are quoted strings or numbers"));
            }
            (after[..end].to_string(), Vec::new(), &after[end..])
        };
        clauses.push(Clause {
            attribute,
            op,
            value,
            list,
        });
        rest = after.trim_start();
        if !rest.is_empty() {
            rest = rest
                .strip_prefix("AND ")
                .or_else(|| rest.strip_prefix("and "))
                .ok_or_else(|| bad("clauses are joined by AND"))?
                .trim_start();
        }
    }
    Ok(clauses)
}

/// A quoted string at the start of `text` (single or double quotes), and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &text[1..];
    let end = body.find(quote)?;
    Some((body[..end].to_string(), &body[end + 1..]))
}

/// The page asked for: `max_results` (from 1 to `most`, `default` when not given) and where
/// `page_token` (a token modelgov gave) starts.
pub(super) fn page(
    max_results: Option<String>,
    page_token: Option<String>,
    default: i64,
    most: i64,
) -> Result<(i64, i64), MlflowError> {
    let limit = match max_results {
        None => default,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| {
                MlflowError::invalid(format!("max_results must be 1-{most}, not {raw}"))
            })?,
    };
    let offset = match page_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=MAX_OFFSET).contains(n))
            .ok_or_else(|| {
                MlflowError::invalid(format!("page_token {token:?} is not one modelgov gave"))
            })?,
    };
    Ok((limit, offset))
}

/// The SQL order of a search's `order_by` (each `column [ASC|DESC]`, at most three), then
/// `default` to break ties; an unknown column is refused naming the ones there are.
pub(super) fn order_by(asked: Option<&Value>, search: Search) -> Result<String, MlflowError> {
    let (columns, default) = match search {
        Search::Models => (MODEL_ORDERS, MODEL_TIES),
        Search::Versions => (VERSION_ORDERS, VERSION_TIES),
    };
    let asked: Vec<String> = match asked {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| MlflowError::invalid("order_by takes strings"))?,
        Some(_) => return Err(MlflowError::invalid("order_by takes strings")),
    };
    if asked.len() > 3 {
        return Err(MlflowError::invalid(
            "order_by takes at most 3 columns".to_string(),
        ));
    }
    let mut parts = Vec::new();
    for clause in asked.iter().filter(|c| !c.trim().is_empty()) {
        checked("order_by", clause)?;
        let mut words = clause.split_whitespace();
        let column = words.next().unwrap_or_default();
        let direction = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => "ASC",
            Some("DESC") => "DESC",
            Some(other) => {
                return Err(MlflowError::invalid(format!(
                    "Invalid order_by clause '{clause}': {other} is not ASC or DESC"
                )));
            }
        };
        if words.next().is_some() {
            return Err(MlflowError::invalid(format!(
                "Invalid order_by clause '{clause}'"
            )));
        }
        let sql = columns
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, sql)| *sql)
            .ok_or_else(|| search.unknown_order(column))?;
        parts.push(format!("{sql} {direction}"));
    }
    parts.push(default.to_string());
    Ok(parts.join(", "))
}

/// The two searches, which differ in the attributes they filter and order by, and in how MLflow
/// words a refusal of either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Search {
    Models,
    Versions,
}

impl Search {
    /// Refuses an attribute this search does not filter by, in MLflow's words.
    fn check(self, attribute: &str) -> Result<(), String> {
        let (valid, listed): (&[&str], &str) = match self {
            Self::Models => (&["name"], "{'name'}"),
            Self::Versions => (
                &["name", "run_id", "source", "version_number"],
                "{'name', 'source_path', 'version_number', 'run_id'}",
            ),
        };
        if attribute.starts_with("tag.") || valid.contains(&attribute) {
            return Ok(());
        }
        let key = if attribute == "source" {
            "source_path"
        } else {
            attribute
        };
        Err(format!(
            "Invalid attribute key '{key}' specified. Valid keys are '{listed}'"
        ))
    }

    /// Refuses an operator or value the clause's attribute does not take: `version_number` is
    /// compared as a whole number (`=`, `!=`, `<`, `<=`, `>`, `>=`); `IN` and `NOT IN` list names
    /// and run ids; the rest compare strings (`=`, `!=`, `LIKE`, `ILIKE`).
    fn check_clause(clause: &Clause) -> Result<(), String> {
        let attribute = clause.attribute.as_str();
        let shown = if attribute == "source" {
            "source_path"
        } else {
            attribute
        };
        let op = clause.op.as_str();
        let fits = match attribute {
            "version_number" => {
                matches!(op, "=" | "!=" | "<" | "<=" | ">" | ">=")
                    && clause.value.parse::<i32>().is_ok()
            }
            "name" | "run_id" if op.ends_with("IN") => !clause.list.is_empty(),
            _ => matches!(op, "=" | "!=" | "LIKE" | "ILIKE") && clause.list.is_empty(),
        };
        if fits {
            Ok(())
        } else {
            Err(format!(
                "Invalid comparator '{op}' with value '{}' for attribute '{shown}'",
                if clause.list.is_empty() {
                    clause.value.clone()
                } else {
                    clause.list.join("', '")
                }
            ))
        }
    }

    /// An unknown `order_by` column, refused in MLflow's words.
    fn unknown_order(self, key: &str) -> MlflowError {
        MlflowError::invalid(match self {
            Self::Models => format!(
                "Invalid order by key '{key}' specified. Valid keys are '{{'name', 'timestamp'}}'"
            ),
            Self::Versions => format!(
                "Invalid order by key '{key}' specified. Valid keys are {{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}}"
            ),
        })
    }
}

/// The clauses of a search's filter, each attribute and comparison one the search takes.
pub(super) fn filter_of(filter: &str, search: Search) -> Result<Vec<Clause>, MlflowError> {
    let clauses = parse_filter_checked(filter, &|attribute| search.check(attribute))
        .map_err(MlflowError::invalid)?;
    for clause in &clauses {
        Search::check_clause(clause).map_err(MlflowError::invalid)?;
    }
    Ok(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_the_client_writes_them() {
        let clauses =
            parse_filter("name LIKE 'm%' AND tag.`mlflow.prompt.is_prompt` != 'true'").unwrap();
        assert_eq!(clauses.len(), 2);
        assert_eq!(clauses[1].attribute, "tag.mlflow.prompt.is_prompt");
        assert_eq!(
            (clauses[1].op.as_str(), clauses[1].value.as_str()),
            ("!=", "true")
        );
        assert_eq!(parse_filter("name='m2'").unwrap()[0].value, "m2");
        // An attribute no search filters by is refused by the search, by name.
        assert!(Search::Versions.check("version").is_err());
        assert!(parse_filter("name = 'unclosed").is_err());
    }

    #[test]
    fn filters_are_bounded() {
        let clause = "name = 'a'";
        let twenty = vec![clause; MAX_FILTER_CLAUSES].join(" AND ");
        assert_eq!(parse_filter(&twenty).unwrap().len(), MAX_FILTER_CLAUSES);
        let more = format!("{twenty} AND {clause}");
        assert!(
            parse_filter(&more)
                .unwrap_err()
                .contains("more than 20 clauses")
        );
        let long = format!("name LIKE '{}'", "%".repeat(MAX_FILTER_CHARS));
        assert!(parse_filter(&long).unwrap_err().contains("longer than"));
    }

    #[test]
    fn numbers_and_lists_parse_and_each_attribute_takes_its_own_comparisons() {
        let clauses =
            parse_filter("name IN ('a', \"b\") AND version_number >= 2 AND run_id NOT IN ('r')")
                .unwrap();
        assert_eq!(clauses[0].list, ["a", "b"]);
        assert_eq!(
            (clauses[1].op.as_str(), clauses[1].value.as_str()),
            (">=", "2")
        );
        assert_eq!(clauses[2].op, "NOT IN");
        for clause in &clauses {
            Search::check_clause(clause).unwrap();
        }
        // `INDEX` is not `IN`; a list must close; numbers are for version_number only.
        assert!(parse_filter("name INDEX 'a'").is_err());
        assert!(parse_filter("name IN ('a'").is_err());
        for bad in [
            "name > 'a'",
            "version_number LIKE '1'",
            "source_path IN ('x')",
        ] {
            let clause = &parse_filter(bad).unwrap()[0];
            assert!(Search::check_clause(clause).is_err(), "{bad}");
        }
    }
}
