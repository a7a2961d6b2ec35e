//! Any asset's page (a run, binary, deployment, dataset, logical feature or feature source):
//! what it is and who owns it, its lineage drawn as a graph (direction and depth chosen in the
//! address) and listed step by step, its newest reports and its history. Model sources have their own page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::dashboard::get_asset_page;
use crate::model::dashboard::{AssetPage, LineageStep};
use crate::model::graph::Lineage;
use crate::model::metrics::number;
use crate::model::record::Ref;
use crate::model::text::natural_cmp;
use crate::ui::components::{
    AssetLink, Breadcrumbs, ErrorPanel, HistoryTable, LineageChoice, LineageGraph, ServingTable,
    chosen_lineage, tag_words,
};

#[component]
pub fn AssetRoute() -> impl IntoView {
    let params = use_params_map();
    let page = crate::ui::resource::page_resource(
        move || {
            let p = params.read();
            Ref {
                source: p.get("source").unwrap_or_default(),
                id: p.get("id").unwrap_or_default(),
            }
        },
        get_asset_page,
    );
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the asset…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AssetView page /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The heading of a lineage column: how far and which way.
fn step_label(distance: i32) -> String {
    match distance {
        0 => "this asset".into(),
        d if d < 0 => format!("{} step{} upstream", -d, if d == -1 { "" } else { "s" }),
        d => format!("{d} step{} downstream", if d == 1 { "" } else { "s" }),
    }
}

/// The drawn walk's nodes as columns by distance, upstream first, each by name.
fn steps(lineage: &Lineage) -> Vec<LineageStep> {
    let mut nodes = lineage.nodes.clone();
    nodes.sort_by(|a, b| {
        a.distance
            .cmp(&b.distance)
            .then_with(|| natural_cmp(&a.asset.name, &b.asset.name))
    });
    let mut steps: Vec<LineageStep> = Vec::new();
    for node in nodes {
        match steps.last_mut() {
            Some(step) if step.distance == node.distance => step.assets.push(node.asset),
            _ => steps.push(LineageStep {
                distance: node.distance,
                assets: vec![node.asset],
            }),
        }
    }
    steps
}

#[component]
fn AssetView(page: AssetPage) -> impl IntoView {
    let a = page.asset.clone();
    let (direction, depth, problem) = chosen_lineage(5);
    let shown = page.lineage.within(direction, depth);
    let steps = steps(&shown);
    let tags = tag_words(&page.tags);
    view! {
        <Title text=format!("{} · {}", a.name, a.kind.label()) />
        <Breadcrumbs crumbs=page.crumbs.clone() />
        <header class="page-head">
            <h1>{a.name.clone()}</h1>
            <span class="kind">{a.kind.label()}</span>
            {a.status.clone().map(|s| view! { <span class=format!("status status-{s}")>{s.clone()}</span> })}
        </header>
        <p class="lede">{page.description.clone()}</p>
        <dl class="facts">
            <dt>"Key"</dt>
            <dd>
                <code>{format!("{}/{}", a.key.source, a.key.id)}</code>
            </dd>
            <dt>"Model source"</dt>
            <dd>
                {if page.models.is_empty() {
                    "none upstream".into_any()
                } else {
                    page.models
                        .iter()
                        .map(|m| view! { <AssetLink asset=m.clone() /> " " })
                        .collect_view()
                        .into_any()
                }}
            </dd>
            <dt>"Owning unit"</dt>
            <dd>{page.owner_unit.as_ref().map_or_else(|| "none".to_string(), |u| u.name.clone())}</dd>
            <dt>"Owners"</dt>
            <dd>{if page.owners.is_empty() { "none named".to_string() } else { page.owners.join(", ") }}</dd>
            <dt>"Tags"</dt>
            <dd>{if tags.is_empty() { "none".to_string() } else { tags.join(", ") }}</dd>
            {page.started_at.clone().map(|t| view! { <dt>"Started"</dt> <dd>{t}</dd> })}
            {page.ended_at.clone().map(|t| view! { <dt>"Ended"</dt> <dd>{t}</dd> })}
        </dl>
        <section aria-labelledby="lineage-heading" id="lineage">
            <h2 id="lineage-heading">"Lineage"</h2>
            <p class="hint">
                "From its sources on the left to where it is served on the right; every box is a link."
            </p>
            <LineageChoice direction depth problem />
            <LineageGraph lineage=shown label=format!("Lineage of {}", a.name) />
            <h3>"Step by step"</h3>
            <ol class="lineage-steps" data-testid="lineage-steps">
                {steps
                    .iter()
                    .map(|step| {
                        view! {
                            <li class=if step.distance == 0 { "step here" } else { "step" }>
                                <h3>{step_label(step.distance)}</h3>
                                <ul>
                                    {step
                                        .assets
                                        .iter()
                                        .map(|n| {
                                            view! {
                                                <li>
                                                    <span class="muted">{n.kind.label()}</span>
                                                    " "
                                                    {if step.distance == 0 {
                                                        view! { <strong>{n.name.clone()}</strong> }.into_any()
                                                    } else {
                                                        view! { <AssetLink asset=n.clone() /> }.into_any()
                                                    }}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
        <section aria-labelledby="reports-heading">
            <h2 id="reports-heading">"Reports"</h2>
            {if page.reports.is_empty() {
                view! { <p class="hint">"No measurement has been reported for it."</p> }.into_any()
            } else {
                view! {
                    <table data-testid="reports">
                        <thead>
                            <tr>
                                <th scope="col">"Measurement"</th>
                                <th scope="col">"Newest value"</th>
                                <th scope="col">"Reported at"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .reports
                                .iter()
                                .map(|r| {
                                    view! {
                                        <tr>
                                            <th scope="row">{r.name.clone()}</th>
                                            <td>{number(r.value)}</td>
                                            <td>{r.at.clone()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
        {(!page.serving.is_empty())
            .then(|| {
                view! {
                    <section aria-labelledby="serving-heading">
                        <h2 id="serving-heading">"Serving periods"</h2>
                        <ServingTable periods=page.serving.clone() />
                    </section>
                }
            })}
        <section aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <HistoryTable changes=page.history.clone() />
        </section>
    }
}
