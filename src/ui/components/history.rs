//! An asset's changes as a table: when, who, what.

use leptos::prelude::*;

use crate::model::graph::Change;

#[component]
pub fn HistoryTable(changes: Vec<Change>) -> impl IntoView {
    view! {
        <table data-testid="history">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                </tr>
            </thead>
            <tbody>
                {changes
                    .iter()
                    .map(|c| {
                        view! {
                            <tr>
                                <td>{c.at.clone()}</td>
                                <td>{c.actor.clone()}</td>
                                <td>{c.describe()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// An asset's tags as `key:value` words.
pub fn tag_words(tags: &serde_json::Value) -> Vec<String> {
    tags.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    format!(
                        "{k}:{}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
