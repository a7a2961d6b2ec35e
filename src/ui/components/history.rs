//! An asset's changes as a table (when, who, what), and a deployment's serving periods.

use leptos::prelude::*;

use super::AssetLink;
use crate::model::graph::{Change, ServingPeriod};

/// A row of the history: when, who, and what happened, each said once with how many times.
type Row = (String, String, Vec<(String, usize)>);

/// One row per change: the changes one writer made at one moment (one request) together, each
/// said once with how many times it happened.
fn grouped(changes: &[Change]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for c in changes {
        let what = c.describe();
        match rows.last_mut() {
            Some((at, actor, whats)) if *at == c.at && *actor == c.actor => {
                match whats.iter_mut().find(|(w, _)| *w == what) {
                    Some((_, n)) => *n += 1,
                    None => whats.push((what, 1)),
                }
            }
            _ => rows.push((c.at.clone(), c.actor.clone(), vec![(what, 1)])),
        }
    }
    rows
}

/// When each deployment served which binary, newest first.
#[component]
pub fn ServingTable(periods: Vec<ServingPeriod>) -> impl IntoView {
    if periods.is_empty() {
        return view! { <p class="hint">"No deployment has served it."</p> }.into_any();
    }
    view! {
        <table data-testid="serving-periods">
            <thead>
                <tr>
                    <th scope="col">"Deployment"</th>
                    <th scope="col">"Served"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Until"</th>
                </tr>
            </thead>
            <tbody>
                {periods
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <td><AssetLink asset=p.deployment /></td>
                                <td><AssetLink asset=p.binary /></td>
                                <td>{p.since}</td>
                                <td>{p.until.unwrap_or_else(|| "serving now".into())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

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
                {grouped(&changes)
                    .into_iter()
                    .map(|(at, actor, whats)| {
                        let said = |(what, n): (String, usize)| {
                            if n > 1 { format!("{what} (×{n})") } else { what }
                        };
                        let what = if whats.len() == 1 {
                            whats.into_iter().map(said).collect_view().into_any()
                        } else {
                            view! {
                                <ul class="changes">
                                    {whats
                                        .into_iter()
                                        .map(|w| view! { <li>{said(w)}</li> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        };
                        view! {
                            <tr>
                                <td>{at}</td>
                                <td>{actor}</td>
                                <td>{what}</td>
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
