//! A chart drawn on the server (SVG from plotters), with its numbers beside it for readers who
//! cannot see it.

use leptos::prelude::*;

use super::CsvLink;

/// `svg` is the server's drawing (its text escaped by plotters, its links by `server::charts`);
/// the children show the same numbers as a table, and `csv` gives them as a download.
#[component]
pub fn Chart(
    svg: String,
    label: &'static str,
    csv_header: &'static [&'static str],
    csv_rows: Vec<Vec<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=format!("chart-{label}")>
            <div class="chart-svg" inner_html=svg></div>
            <figcaption>
                <details>
                    <summary>"The numbers"</summary>
                    {children()}
                    <CsvLink
                        file=format!("{label}.csv")
                        header=csv_header
                        rows=Signal::stored(csv_rows)
                    />
                </details>
            </figcaption>
        </figure>
    }
}
