//! "Download CSV" for a table: the rows shown, as a `data:` link, so it works without JavaScript
//! and without another request.

use leptos::prelude::*;

use crate::model::csv;
use crate::model::dashboard::encode;

#[component]
pub fn CsvLink(
    file: String,
    header: &'static [&'static str],
    rows: Signal<Vec<Vec<String>>>,
) -> impl IntoView {
    let href = move || {
        format!(
            "data:text/csv;charset=utf-8,{}",
            encode(&csv::text(header, &rows.read()))
        )
    };
    view! {
        <a class="csv" href=href download=file data-testid="csv-link" rel="external">
            "Download CSV"
        </a>
    }
}
