//! The company overview: the org tree with the model sources each unit owns and their overall
//! maturity, filterable.
//!
//! The filter works without JavaScript (a GET form, `?q=` read on the server) and, once hydrated,
//! narrows the list as the reader types.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::model::dashboard::Crumb;
use crate::model::routes;
use leptos_router::hooks::use_query_map;

use std::collections::HashMap;

use crate::api::metrics::list_scope_spread;
use crate::api::org_units::list_org_units;
use crate::error::AppError;
use crate::model::metrics::Counts;
use crate::model::{OrgUnitSummary, filter_units};
use crate::ui::components::{Breadcrumbs, CsvLink, ErrorPanel, LevelBar};

/// Each unit's overall counts and score, by unit id.
type Scores = HashMap<i64, (Counts, Option<f64>)>;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let units = crate::ui::resource::page_resource(|| (), |()| list_org_units());
    let scores =
        crate::ui::resource::page_resource(|| (), |()| list_scope_spread("overall".into(), None));
    let initial = use_query_map().with_untracked(|q| q.get("q").unwrap_or_default());
    let query = RwSignal::new(initial);
    // Effects run only in the browser: the marker tells readers (and tests) the page is live.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title text="All org units" />
        <Breadcrumbs crumbs=vec![
            Crumb { label: "Company".into(), href: "/".into() },
            Crumb { label: "All org units".into(), href: routes::UNITS_PATH.into() },
        ] />
        <h1>"All org units"</h1>
        <p class="lede">
            "Every org unit and the model sources it owns, counted with the units below it."
        </p>
        <form
            class="filter"
            method="get"
            action=routes::UNITS_PATH
            role="search"
            data-hydrated=move || hydrated.get().to_string()
        >
            <label for="unit-filter">"Filter org units"</label>
            <input
                id="unit-filter"
                name="q"
                type="search"
                placeholder="Name of an org or team"
                autocomplete="off"
                data-testid="unit-filter"
                prop:value=query
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading org units…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                // Before the first recompute there are no scores yet: the tree shows without them.
                let scores: Result<Scores, AppError> = scores
                    .await
                    .map(|rows| rows.into_iter().map(|r| (r.rollup.unit.id, (r.rollup.counts, r.rollup.score))).collect());
                match (units.await, scores) {
                    (Ok(units), Ok(scores)) => {
                        view! { <UnitTable units scores query=query.read_only() /> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UnitTable(
    units: Vec<OrgUnitSummary>,
    scores: Scores,
    query: ReadSignal<String>,
) -> impl IntoView {
    let total = units.len();
    let model_sources: i64 = units
        .iter()
        .filter(|u| u.depth == 0)
        .map(|u| u.model_sources)
        .sum();
    let teams = units.iter().filter(|u| u.is_team()).count();
    let units = StoredValue::new(units);
    let scores = StoredValue::new(scores);
    let shown = Memo::new(move |_| {
        units.with_value(|all| {
            filter_units(all, &query.read())
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    view! {
        <section class="stats" aria-label="Totals">
            <div class="stat">
                <span class="value" data-testid="total-units">{total}</span>
                <span class="label">"org units"</span>
            </div>
            <div class="stat">
                <span class="value">{teams}</span>
                <span class="label">"teams"</span>
            </div>
            <div class="stat">
                <span class="value">{model_sources}</span>
                <span class="label">"owned model sources"</span>
            </div>
        </section>
        <p class="count" data-testid="shown-count" aria-live="polite">
            {move || format!("Showing {} of {total} org units", shown.read().len())}
        </p>
        <CsvLink
            file="org-units.csv".to_string()
            header=&["unit_source", "unit_id", "unit", "depth", "units_below", "model_sources", "score"]
            rows=Signal::derive(move || {
                shown
                    .get()
                    .iter()
                    .map(|u| {
                        let score = scores
                            .with_value(|s| s.get(&u.unit.id).and_then(|(_, score)| *score));
                        vec![
                            u.unit.source.clone(),
                            u.unit.external_id.clone(),
                            u.unit.name.clone(),
                            u.depth.to_string(),
                            u.children.to_string(),
                            u.model_sources.to_string(),
                            score.map(crate::model::metrics::number).unwrap_or_default(),
                        ]
                    })
                    .collect()
            })
        />
        <table
            class="units"
            class:filtered=move || !query.read().trim().is_empty()
            data-testid="unit-table"
        >
            <thead>
                <tr>
                    <th scope="col">"Org unit"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col" class="num">"Units below"</th>
                    <th scope="col" class="num">"Model sources"</th>
                    <th scope="col">"Overall maturity"</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || shown.get()
                    key=|unit| unit.unit.id
                    children=move |unit| {
                        let score = scores.with_value(|s| s.get(&unit.unit.id).copied());
                        view! { <UnitRow unit score /> }
                    }
                />
            </tbody>
        </table>
        <Show when=move || shown.read().is_empty()>
            <p class="empty" data-testid="no-match">
                "No org unit matches this filter."
            </p>
        </Show>
    }
}

#[component]
fn UnitRow(unit: OrgUnitSummary, score: Option<(Counts, Option<f64>)>) -> impl IntoView {
    let kind = match (unit.depth, unit.is_team()) {
        (0, _) => "company",
        (_, true) => "team",
        _ => "org",
    };
    let ancestors = (!unit.ancestors.is_empty()).then(|| unit.ancestors.join(" › "));
    view! {
        <tr data-testid="unit-row" data-depth=unit.depth>
            <th scope="row" class="unit-name" style=format!("--depth: {}", unit.depth)>
                <a class="name" href=format!(
                    "{}/{}/{}",
                    crate::model::routes::UNITS_PATH,
                    crate::model::dashboard::encode(&unit.unit.source),
                    crate::model::dashboard::encode(&unit.unit.external_id),
                )>{unit.unit.name}</a>
                {ancestors.map(|a| view! { <span class="ancestors">{a}</span> })}
            </th>
            <td>{kind}</td>
            <td class="num">{unit.children}</td>
            <td class="num">{unit.model_sources}</td>
            <td>
                {match score {
                    Some((counts, score)) => view! { <LevelBar counts score /> }.into_any(),
                    None => view! { <span class="muted">"not computed yet"</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}
