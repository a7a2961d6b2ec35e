//! A chart drawn on the server (SVG from plotters), with its numbers beside it for readers who
//! cannot see it.

use leptos::prelude::*;

use super::CsvLink;

/// `svg` is the server's drawing (its text escaped by plotters, its links by `server::charts`).
/// It is `None` while hydrating a page the server rendered: the drawing is in the HTML already,
/// and hydration leaves it there. The children show the same numbers as a table, and `file`
/// gives them as a CSV download.
#[component]
pub fn Chart(
    #[prop(into)] svg: Signal<Option<String>>,
    label: &'static str,
    file: String,
    csv_header: &'static [&'static str],
    csv_rows: Vec<Vec<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=format!("chart-{label}")>
            <div class="chart-svg" inner_html=move || svg.get()></div>
            <figcaption>
                <details>
                    <summary>"The numbers"</summary>
                    {children()}
                    <CsvLink
                        file
                        header=csv_header
                        rows=Signal::stored(csv_rows)
                    />
                </details>
            </figcaption>
        </figure>
    }
}
