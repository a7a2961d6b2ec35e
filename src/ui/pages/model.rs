//! A model source's page: its overall and domain levels, every metric with the evidence that
//! decided it and what would lift it, its lineage from feature sources to deployments, and its
//! change history.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::dashboard::get_model_page;
use crate::api::registry::Operate;
use crate::model::dashboard::{ModelPage, metric_href};
use crate::model::graph::AssetSummary;
use crate::model::metrics::number;
use crate::model::record::Ref;
use crate::model::role::SignedIn;
use crate::ui::components::{
    AssetLink, Breadcrumbs, CsvLink, ErrorPanel, HistoryTable, LevelBadge, LineageChoice,
    LineageGraph, Sentences, ServingTable, chosen_lineage, signed_in, tag_words,
};
use crate::ui::pages::governance::GovernancePanel;
use crate::ui::pages::registry::RegistryPanel;

/// Every scope an exemption may be for, as (scope, label): each domain, then each metric.
fn exemptible(page: &ModelPage) -> Vec<(String, String)> {
    page.domain_names
        .iter()
        .map(|(id, name)| (format!("domain:{id}"), format!("{name} (domain)")))
        .chain(
            page.metrics
                .metrics
                .iter()
                .map(|m| (format!("metric:{}", m.metric), m.metric.replace('_', " "))),
        )
        .collect()
}

#[component]
pub fn ModelRoute() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let operate = ServerAction::<Operate>::new();
    let page = crate::ui::resource::page_resource(
        move || {
            let p = params.read();
            (
                Ref {
                    source: p.get("source").unwrap_or_default(),
                    id: p.get("id").unwrap_or_default(),
                },
                query.read().get("as_of"),
                operate.version().get(),
            )
        },
        |(model, as_of, _)| get_model_page(model, as_of),
    );
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the model…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                let me = signed_in().await;
                match page.await {
                    Ok(page) => view! { <ModelView page me operate /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn status_text(asset: &AssetSummary) -> String {
    asset.status.clone().unwrap_or_else(|| "–".into())
}

#[component]
fn ModelView(
    page: ModelPage,
    me: Option<SignedIn>,
    operate: ServerAction<Operate>,
) -> impl IntoView {
    let m = page.metrics.clone();
    let (direction, depth, problem) = chosen_lineage(3);
    let drawn = page.lineage.within(direction, depth);
    let keep: Vec<(&'static str, String)> = use_query_map()
        .read_untracked()
        .get("as_of")
        .map(|t| vec![("as_of", t)])
        .unwrap_or_default();
    let domain_name = {
        let names = page.domain_names.clone();
        move |id: &str| {
            names
                .iter()
                .find(|(d, _)| d == id)
                .map_or_else(|| id.replace('_', " "), |(_, name)| name.clone())
        }
    };
    let judged = match m.judged_on.as_str() {
        "production" => "the binaries in production",
        "newest_binary" => "the newest binary (nothing is in production)",
        _ => "no binary (none has been registered)",
    };
    let tags = tag_words(&page.tags);
    let csv_rows = {
        let rows: Vec<Vec<String>> = m
            .metrics
            .iter()
            .map(|r| {
                vec![
                    r.metric.clone(),
                    r.domain.clone(),
                    r.level
                        .map_or_else(|| "unknown".into(), |l| l.get().to_string()),
                    r.value.map(number).unwrap_or_default(),
                    r.shown.clone().unwrap_or_default(),
                    r.lift.clone().unwrap_or_default(),
                ]
            })
            .collect();
        Signal::derive(move || rows.clone())
    };
    view! {
        <Title text=format!("{} · model", m.name) />
        <Breadcrumbs crumbs=page.crumbs.clone() />
        <header class="page-head">
            <h1>{m.name.clone()}</h1>
            <span class="kind">"model source"</span>
            <LevelBadge level=m.overall />
        </header>
        <p class="lede">{page.description.clone()}</p>
        <dl class="facts">
            <dt>"Key"</dt>
            <dd>
                <code>{format!("{}/{}", m.model.source, m.model.id)}</code>
            </dd>
            <dt>"Owning unit"</dt>
            <dd>{page.owner_unit.as_ref().map_or_else(|| "none".to_string(), |u| u.name.clone())}</dd>
            <dt>"Owners"</dt>
            <dd>{if page.owners.is_empty() { "none named".to_string() } else { page.owners.join(", ") }}</dd>
            <dt>"Tags"</dt>
            <dd>{if tags.is_empty() { "none".to_string() } else { tags.join(", ") }}</dd>
            <dt>"Judged on"</dt>
            <dd>{judged}</dd>
            <dt>"Results"</dt>
            <dd>
                {format!(
                    "computed {} with catalog {}. ",
                    m.snapshot.computed_at,
                    m.snapshot.catalog_version,
                )}
                <a href=crate::model::routes::NUMBERS_PATH>"How these numbers are made"</a>
            </dd>
        </dl>
        <section aria-label="Domain levels">
            <h2>"Domains"</h2>
            <ul class="domain-levels" data-testid="domain-levels">
                {m
                    .domains
                    .iter()
                    .map(|(domain, level)| {
                        view! {
                            <li>
                                <span class="domain">{domain_name(domain)}</span>
                                <LevelBadge level=*level />
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        <section>
            <h2>"Metrics"</h2>
            <p class="hint">"Open a metric to see what decided its level."</p>
            <CsvLink
                file=format!("{}-metrics.csv", m.model.id.replace('/', "_"))
                header=&["metric", "domain", "level", "value", "shown", "to_lift"]
                rows=csv_rows
            />
            <div class="metric-list" data-testid="metric-list">
                {m
                    .metrics
                    .iter()
                    .map(|r| {
                        view! {
                            <details class="metric" data-testid="metric-row">
                                <summary>
                                    <span class="metric-id">{r.metric.replace('_', " ")}</span>
                                    <span class="muted">{domain_name(&r.domain)}</span>
                                    <LevelBadge level=r.level />
                                    <span class="value">
                                        {r.shown.clone().unwrap_or_else(|| "no value".into())}
                                    </span>
                                </summary>
                                <div class="evidence" data-testid="evidence">
                                    <p class="question">{r.question.clone()}</p>
                                    <Sentences sentences=r.because.clone() />
                                    <p>
                                        <strong>"To lift it: "</strong>
                                        {r
                                            .lift
                                            .clone()
                                            .unwrap_or_else(|| "already at the top level".into())}
                                    </p>
                                    <p>
                                        <a href=metric_href(&r.metric)>"About this metric"</a>
                                    </p>
                                </div>
                            </details>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
        <section id="lineage">
            <h2>"Lineage"</h2>
            <p class="hint">
                "Upstream of the judged binaries on the left, the model's runs, binaries and \
                 deployments to the right; every box is a link."
            </p>
            <LineageChoice direction depth problem keep />
            <LineageGraph lineage=drawn label=format!("Lineage of {}", m.name) />
            <details class="lineage" data-testid="lineage">
                <summary>
                    {upstream_summary(&page.upstream)}
                </summary>
                <ul>
                    {page
                        .upstream
                        .iter()
                        .map(|a| {
                            view! {
                                <li>
                                    <span class="muted">{a.kind.label()}</span>
                                    " "
                                    <AssetLink asset=a.clone() />
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </details>
            <CsvLink
                file=format!("{}-binaries.csv", m.model.id.replace('/', "_"))
                header=&["binary_source", "binary_id", "binary", "run", "run_status", "deployments"]
                rows=Signal::stored(
                    page
                        .binaries
                        .iter()
                        .map(|b| {
                            vec![
                                b.binary.key.source.clone(),
                                b.binary.key.id.clone(),
                                b.binary.name.clone(),
                                b.run.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
                                b.run.as_ref().map(status_text).unwrap_or_default(),
                                b
                                    .deployments
                                    .iter()
                                    .map(|d| format!("{} ({})", d.name, status_text(d)))
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )
            />
            <table data-testid="binaries">
                <thead>
                    <tr>
                        <th scope="col">"Binary"</th>
                        <th scope="col">"Produced by run"</th>
                        <th scope="col">"Deployments"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .binaries
                        .iter()
                        .map(|b| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <AssetLink asset=b.binary.clone() />
                                    </th>
                                    <td>
                                        {b
                                            .run
                                            .as_ref()
                                            .map_or_else(
                                                || "–".into_any(),
                                                |r| {
                                                    view! {
                                                        <AssetLink asset=r.clone() />
                                                        {format!(" ({})", status_text(r))}
                                                    }
                                                        .into_any()
                                                },
                                            )}
                                    </td>
                                    <td>
                                        {b
                                            .deployments
                                            .iter()
                                            .map(|d| {
                                                view! {
                                                    <span class=format!(
                                                        "status status-{}",
                                                        status_text(d),
                                                    )>
                                                        <AssetLink asset=d.clone() />
                                                        {format!(" ({})", status_text(d))}
                                                    </span>
                                                }
                                            })
                                            .collect_view()}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <RegistryPanel page=page.clone() me=me.clone() operate />
        <GovernancePanel model=m.model.clone() scopes=exemptible(&page) me />
        <section>
            <h2>"Serving periods"</h2>
            <p class="hint">"Which binary each of its deployments served, and when; newest first."</p>
            <ServingTable periods=page.serving.clone() />
        </section>
        <section>
            <h2>"History"</h2>
            <CsvLink
                file=format!("{}-history.csv", m.model.id.replace('/', "_"))
                header=&["at", "actor", "subject", "op", "what"]
                rows=Signal::stored(
                    page
                        .history
                        .iter()
                        .map(|c| vec![c.at.clone(), c.actor.clone(), c.subject.clone(), c.op.clone(), c.describe()])
                        .collect::<Vec<_>>(),
                )
            />
            <HistoryTable changes=page.history.clone() />
        </section>
    }
}

/// "Upstream of what is judged: 2 feature sources, 2 logical features and 1 dataset": each kind
/// counted apart, in lineage order.
fn upstream_summary(upstream: &[AssetSummary]) -> String {
    use crate::model::record::AssetKind;
    let parts: Vec<String> = [
        (
            AssetKind::FeatureSource,
            "feature source",
            "feature sources",
        ),
        (
            AssetKind::LogicalFeature,
            "logical feature",
            "logical features",
        ),
        (AssetKind::Dataset, "dataset", "datasets"),
    ]
    .into_iter()
    .filter_map(|(kind, one, many)| {
        let n = upstream.iter().filter(|a| a.kind == kind).count();
        (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
    })
    .collect();
    let listed = match parts.as_slice() {
        [] => "nothing recorded".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    format!("Upstream of what is judged: {listed}")
}
