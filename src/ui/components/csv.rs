//! "Download CSV" for a table: the rows shown, as a `data:` link, so it works without JavaScript
//! and without another request.

use leptos::prelude::*;

use crate::model::dashboard::encode;

/// One CSV field, quoted when it must be; fields that a spreadsheet would run as a formula get a
/// leading apostrophe.
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
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
pub fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        text.push('\n');
    }
    text
}

#[component]
pub fn CsvLink(
    file: String,
    header: &'static [&'static str],
    rows: Signal<Vec<Vec<String>>>,
) -> impl IntoView {
    let href = move || {
        format!(
            "data:text/csv;charset=utf-8,{}",
            encode(&csv_text(header, &rows.read()))
        )
    };
    view! {
        <a class="csv" href=href download=file data-testid="csv-link" rel="external">
            "Download CSV"
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-0.5"), "-0.5");
        assert_eq!(
            csv_text(&["a", "b"], &[vec!["1".into(), "x,y".into()]]),
            "a,b\n1,\"x,y\"\n"
        );
    }
}
