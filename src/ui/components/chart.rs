//! A chart drawn on the server (SVG from plotters), with its numbers beside it for readers who
//! cannot see it.

use leptos::prelude::*;

/// `svg` is the server's drawing (its text escaped by plotters, its links by `server::charts`);
/// `numbers` is the same data as a table or text.
#[component]
pub fn Chart(svg: String, label: &'static str, children: Children) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=format!("chart-{label}")>
            <div class="chart-svg" inner_html=svg></div>
            <figcaption>
                <details>
                    <summary>"The numbers"</summary>
                    {children()}
                </details>
            </figcaption>
        </figure>
    }
}
