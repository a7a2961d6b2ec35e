//! CSV as the dashboard's downloads and the exports write it.

/// One CSV field, quoted when it must be. A text a spreadsheet would run as a formula (one that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a number) gets a
/// leading apostrophe.
pub fn field(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err() {
            format!("'{value}")
        } else {
            value.to_string()
        };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The CSV text of `header` and `rows`.
pub fn text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_never_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-cmd|calc"), "'-cmd|calc");
        assert_eq!(field("-0.5"), "-0.5", "numbers stay numbers");
        assert_eq!(
            text(&["a", "b"], &[vec!["1".into(), "x,y".into()]]),
            "a,b\n1,\"x,y\"\n"
        );
    }
}
