//! Links to assets and sentences of evidence that name them.

use leptos::prelude::*;

use crate::model::dashboard::asset_href;
use crate::model::evidence::Part;
use crate::model::graph::AssetSummary;

/// An asset's name linking to its page, its kind in the link's title.
#[component]
pub fn AssetLink(asset: AssetSummary) -> impl IntoView {
    view! {
        <a href=asset_href(&asset) title=asset.kind.label() class="asset-link">
            {asset.name.clone()}
        </a>
    }
}

/// Sentences of evidence, each a paragraph; the assets they name are links.
#[component]
pub fn Sentences(sentences: Vec<Vec<Part>>) -> impl IntoView {
    sentences
        .into_iter()
        .map(|sentence| {
            view! {
                <p class="because">
                    {sentence
                        .into_iter()
                        .map(|part| match part {
                            Part::Text { text } => text.into_any(),
                            Part::Asset { asset } => view! { <AssetLink asset /> }.into_any(),
                        })
                        .collect_view()}
                </p>
            }
        })
        .collect_view()
}
