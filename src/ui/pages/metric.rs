//! A metric's page: the question it answers, where its value comes from, its thresholds, and how
//! the org tree spreads over its levels.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::dashboard::get_metric_page;
use crate::model::dashboard::{Bucket, MetricPage, unit_href, with_query};
use crate::model::metrics::{Better, Level, Source, number};
use crate::ui::components::{CsvLink, ErrorPanel, LevelBar};

#[component]
pub fn MetricRoute() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let page = crate::ui::resource::page_resource(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("as_of"),
            )
        },
        |(id, as_of)| get_metric_page(id, as_of),
    );
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the metric…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <MetricView page /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MetricView(page: MetricPage) -> impl IntoView {
    let m = page.metric.clone();
    let scope = format!("metric:{}", m.id);
    let (from, source) = match &m.source {
        Source::Computed(name) => ("computed from the graph", name.clone()),
        Source::Measurement(name) => ("a reported measurement", name.clone()),
    };
    let (better, compare, below) = match m.direction {
        Better::Higher => ("higher is better", "at least", "below"),
        Better::Lower => ("lower is better", "at most", "above"),
    };
    let csv_rows = {
        let rows: Vec<Vec<String>> = page
            .spread
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.rollup.unit.source.clone(),
                    r.rollup.unit.external_id.clone(),
                    r.rollup.unit.name.clone(),
                ];
                row.extend(
                    Bucket::ALL
                        .iter()
                        .map(|b| b.count(&r.rollup.counts).to_string()),
                );
                row.push(r.rollup.score.map(number).unwrap_or_default());
                row
            })
            .collect();
        Signal::derive(move || rows.clone())
    };
    view! {
        <Title text=format!("{} · metric", m.id) />
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <ol>
                <li>
                    <a href="/">"Company"</a>
                </li>
                <li>
                    <a href=with_query("/", &[("scope", Some(page.domain.scope.as_str()))])>
                        {page.domain.label.clone()}
                    </a>
                </li>
                <li>
                    <a href="" aria-current="page">
                        {m.id.replace('_', " ")}
                    </a>
                </li>
            </ol>
        </nav>
        <h1>{m.id.replace('_', " ")}</h1>
        <p class="lede question" data-testid="question">
            {m.question.clone()}
        </p>
        <dl class="facts">
            <dt>"Domain"</dt>
            <dd>{page.domain.label.clone()}</dd>
            <dt>"Value"</dt>
            <dd>
                {format!("{from}: ")}
                <code>{source}</code>
                {format!(" ({}), {better}", m.unit)}
            </dd>
            <dt>"Judged on"</dt>
            <dd data-testid="judged">{m.judged.clone()}</dd>
            <dt>"Unknown when"</dt>
            <dd>{m.unknown_when.clone()}</dd>
            <dt>"Levels"</dt>
            <dd data-testid="levels-text">{m.levels.clone()}</dd>
            <dt>"Weight in its domain"</dt>
            <dd>{number(m.weight)}</dd>
        </dl>
        <h2>"Levels"</h2>
        <CsvLink
            file=format!("{}-levels.csv", m.id)
            header=&["level", "threshold", "reached_when"]
            rows=Signal::stored(
                Level::ALL
                    .iter()
                    .map(|level| match level.get() {
                        0 => vec![
                            "0".to_string(),
                            number(m.thresholds[0]),
                            format!("{below} {}", number(m.thresholds[0])),
                        ],
                        i => {
                            let t = m.thresholds[usize::from(i) - 1];
                            vec![i.to_string(), number(t), format!("{compare} {}", number(t))]
                        }
                    })
                    .collect::<Vec<_>>(),
            )
        />
        <table class="thresholds" data-testid="thresholds">
            <thead>
                <tr>
                    <th scope="col">"Level"</th>
                    <th scope="col">"Reached when the value is"</th>
                </tr>
            </thead>
            <tbody>
                {Level::ALL
                    .iter()
                    .map(|level| {
                        let rule = match level.get() {
                            0 => format!("{} {}", below, number(m.thresholds[0])),
                            i => format!("{compare} {}", number(m.thresholds[usize::from(i) - 1])),
                        };
                        view! {
                            <tr>
                                <td>
                                    <span class=format!("badge level-{}", level.get())>
                                        {format!("{} · {}", level.get(), level.name())}
                                    </span>
                                </td>
                                <td>{rule}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <h2>"Spread over the org tree"</h2>
        <CsvLink
            file=format!("{}-spread.csv", m.id)
            header=&["unit_source", "unit_id", "unit", "level_0", "level_1", "level_2", "level_3", "unknown", "score"]
            rows=csv_rows
        />
        <table data-testid="spread">
            <thead>
                <tr>
                    <th scope="col">"Org unit"</th>
                    <th scope="col" class="num">
                        "Models"
                    </th>
                    <th scope="col">"Maturity"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .spread
                    .iter()
                    .map(|r| {
                        let href = with_query(
                            &unit_href(&r.rollup.unit, r.parent_id.is_none()),
                            &[("scope", Some(scope.as_str()))],
                        );
                        view! {
                            <tr>
                                <th scope="row" class="unit-name" style=format!("--depth: {}", r.depth)>
                                    <a href=href>{r.rollup.unit.name.clone()}</a>
                                </th>
                                <td class="num">{r.rollup.counts.total()}</td>
                                <td>
                                    <LevelBar counts=r.rollup.counts score=r.rollup.score />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
