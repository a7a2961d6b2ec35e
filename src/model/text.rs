//! Text that comes in from any tool and goes out into pages: the one rule for what a text field
//! may hold, and escaping for the one place markup is written by hand (the page title).

use std::fmt::Write;

use serde_json::Value;

/// Whether a field is one line (names, ids, labels) or may hold lines (descriptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Checks one text field: at most `max_chars` characters and no control characters (in a
/// multi-line field, tab, line feed and carriage return are allowed). The error names the field.
pub fn check_text(field: &str, value: &str, max_chars: usize, lines: Lines) -> Result<(), String> {
    if value.chars().count() > max_chars {
        return Err(format!("{field} is longer than {max_chars} characters"));
    }
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\t' | '\n' | '\r');
    if let Some(c) = value.chars().find(|c| c.is_control() && !allowed(*c)) {
        let what = if c == '\0' {
            "the NUL character".to_string()
        } else {
            format!("a control character (U+{:04X})", u32::from(c))
        };
        return Err(format!("{field} must not contain {what}"));
    }
    Ok(())
}

/// The path (`facets.x.y[2]`) of the first string or key in `value` that holds a NUL character,
/// which Postgres can store neither in `text` nor in `jsonb`.
pub fn find_nul(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.replace('\0', "\u{fffd}"));
                let found = key.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| {
        if path.is_empty() {
            "the body".into()
        } else {
            path
        }
    })
}

/// Replaces every NUL character in `value`'s strings and keys with U+FFFD, so that a refused
/// record can still be kept (and shown) as it was sent.
pub fn scrub_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{fffd}"),
        Value::Array(items) => items.iter_mut().for_each(scrub_nul),
        Value::Object(map) if map.keys().any(|k| k.contains('\0')) => {
            let taken = std::mem::take(map);
            for (key, mut item) in taken {
                scrub_nul(&mut item);
                map.insert(key.replace('\0', "\u{fffd}"), item);
            }
        }
        Value::Object(map) => map.values_mut().for_each(scrub_nul),
        _ => {}
    }
}

/// `text` with `&`, `<`, `>`, `"` and `'` written as character references, for text placed in
/// markup by hand.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Compares names as a person reads them: runs of digits by their value, so that "v9" comes
/// before "v10" and "run #2" before "run #11"; the rest by its characters.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let take = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                    let mut digits = String::new();
                    while let Some(d) = it.next_if(char::is_ascii_digit) {
                        digits.push(d);
                    }
                    digits
                };
                let (x, y) = (take(&mut a), take(&mut b));
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                let by_value = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
                if by_value != Ordering::Equal {
                    return by_value;
                }
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a.next();
                b.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_with_the_field_named() {
        assert!(check_text("name", "Ads", 10, Lines::One).is_ok());
        assert_eq!(
            check_text("name", "A\0", 10, Lines::One).unwrap_err(),
            "name must not contain the NUL character"
        );
        assert_eq!(
            check_text("tags.tier", "a\u{1b}[31m", 10, Lines::One).unwrap_err(),
            "tags.tier must not contain a control character (U+001B)"
        );
        assert!(check_text("name", "a\nb", 10, Lines::One).is_err());
        assert!(check_text("description", "a\n\tb\r\n", 10, Lines::Many).is_ok());
        assert!(check_text("description", "a\0", 10, Lines::Many).is_err());
        assert_eq!(
            check_text("name", "ééé", 2, Lines::One).unwrap_err(),
            "name is longer than 2 characters"
        );
    }

    #[test]
    fn nul_is_found_and_scrubbed_anywhere_in_json() {
        let mut value = serde_json::json!({"a": [1, {"b": "x\u{0}y"}], "c": "ok"});
        assert_eq!(find_nul(&value).as_deref(), Some("a[1].b"));
        scrub_nul(&mut value);
        assert_eq!(find_nul(&value), None);
        assert_eq!(value["a"][1]["b"], "x\u{fffd}y");
        let mut key = serde_json::json!({"k\u{0}": 1});
        assert!(find_nul(&key).is_some());
        scrub_nul(&mut key);
        assert_eq!(key["k\u{fffd}"], 1);
        assert_eq!(
            find_nul(&serde_json::json!("\u{0}")).as_deref(),
            Some("the body")
        );
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_html(r#"Ads</title><meta content="0;url=/x"><title>&'"#),
            "Ads&lt;/title&gt;&lt;meta content=&quot;0;url=/x&quot;&gt;&lt;title&gt;&amp;&#39;"
        );
    }
}

#[cfg(test)]
mod natural_order {
    use super::natural_cmp;

    #[test]
    fn numbers_in_names_sort_by_value() {
        let mut names = vec![
            "scorer v12",
            "scorer v9",
            "scorer v2",
            "scorer v11",
            "scorer v10",
            "scorer v1",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "scorer v1",
                "scorer v2",
                "scorer v9",
                "scorer v10",
                "scorer v11",
                "scorer v12"
            ]
        );
        assert_eq!(natural_cmp("run #007", "run #7"), std::cmp::Ordering::Equal);
        assert!(natural_cmp("a", "b").is_lt());
        assert!(natural_cmp("v1.10", "v1.9").is_gt());
        assert!(natural_cmp("v1", "v1a").is_lt());
    }
}
