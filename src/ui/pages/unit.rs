//! The company, org and team pages: one unit's scorecard in a scope, its children ranked and by
//! domain, its trend, and the models holding it back.
//!
//! Every filter is in the address (`scope`, `level`, `as_of`, `days`) and set by a GET form, so
//! the page works without JavaScript; once hydrated, the tables sort and filter in place.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use crate::api::dashboard::{TREND_DAYS, get_unit_page};
use crate::model::dashboard::{Bucket, UnitCharts, UnitPage, model_href, unowned_ref, with_query};
use crate::model::metrics::{Counts, TrendPoint, number};
use crate::model::record::Ref;
use crate::ui::components::{Breadcrumbs, Chart, CsvLink, ErrorPanel, LevelBadge, LevelBar};
use crate::ui::pages::CampaignTable;

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "–".to_string(), |s| format!("{s:.2}"))
}

/// What a score rests on: "rests on 5 of 6 models (1 unknown)".
fn coverage(counts: &Counts) -> String {
    let total = counts.total();
    let known = total - counts.unknown;
    match (known, total) {
        (_, 0) => "no model here".into(),
        (0, _) => format!("all {total} models unknown: no score"),
        (k, t) if k == t => format!("rests on all {t} models"),
        (k, t) => format!("rests on {k} of {t} models ({} unknown)", counts.unknown),
    }
}

/// The score's change over the trend's window, and what it compares: ("+0.12", "change since
/// Oct 30 (30 days)").
fn score_change(trend: &[TrendPoint], days: i64) -> (String, String) {
    let known: Vec<(&str, f64)> = trend
        .iter()
        .filter_map(|p| Some((p.computed_at.as_str(), p.score?)))
        .collect();
    match (known.first(), known.last()) {
        (Some(first), Some(last)) if known.len() > 1 => {
            let delta = last.1 - first.1;
            let sign = if delta > 0.005 { "+" } else { "" };
            (
                format!("{sign}{delta:.2}"),
                format!(
                    "change since {} ({days}-day window)",
                    first.0.get(..10).unwrap_or(first.0)
                ),
            )
        }
        _ => (
            "–".into(),
            format!("change: fewer than two results in the last {days} days"),
        ),
    }
}

/// The company page (`/`) and every unit's (`/units/:source/:id`).
#[component]
pub fn UnitRoute() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let query = use_query_map();
    let page = crate::ui::resource::page_resource(
        move || {
            let p = params.read();
            let q = query.read();
            let unit = match (p.get("source"), p.get("id")) {
                (Some(source), Some(id)) => Some(Ref { source, id }),
                // `/unowned`: the models no unit owns.
                _ if location.pathname.read().as_str() == crate::model::routes::UNOWNED_PATH => {
                    Some(unowned_ref())
                }
                _ => None,
            };
            (
                unit,
                q.get("scope"),
                q.get("level"),
                q.get("as_of"),
                q.get("days").and_then(|d| d.parse::<i64>().ok()),
                // A malformed offset is the server's to refuse, with the reason.
                q.get("offset").map(|o| o.parse::<i64>().unwrap_or(-1)),
            )
        },
        |(unit, scope, level, as_of, days, offset)| {
            get_unit_page(unit, scope, level, as_of, days, offset)
        },
    );
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the scorecard…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <UnitView page /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page's charts. The server draws them into the HTML it renders; hydration keeps that
/// drawing, so they are in no page data. A page the browser renders itself, after following a
/// link, finds its charts missing and asks the server for them.
fn unit_charts(page: &UnitPage) -> RwSignal<Option<UnitCharts>> {
    #[cfg(feature = "ssr")]
    let drawn = Some(crate::server::service::pages::unit_charts(page));
    #[cfg(not(feature = "ssr"))]
    let drawn = None;
    let charts = RwSignal::new(drawn);
    #[cfg(feature = "hydrate")]
    {
        let unit = match page.kind.as_str() {
            "company" => None,
            "unowned" => Some(unowned_ref()),
            _ => Some(Ref {
                source: page.unit.source.clone(),
                id: page.unit.external_id.clone(),
            }),
        };
        let args = (
            unit,
            Some(page.scope.scope.clone()),
            page.as_of.clone(),
            Some(page.trend_days),
        );
        let unit_id = page.unit.id;
        Effect::new(move |_| {
            let drawn_here = leptos::prelude::document()
                .query_selector(&format!("[data-charts-of=\"{unit_id}\"] .chart-svg svg"))
                .ok()
                .flatten()
                .is_some();
            if drawn_here || charts.read_untracked().is_some() {
                return;
            }
            let (unit, scope, as_of, days) = args.clone();
            leptos::task::spawn_local(async move {
                if let Ok(drawn) =
                    crate::api::dashboard::get_unit_charts(unit, scope, as_of, days).await
                {
                    charts.set(Some(drawn));
                }
            });
        });
    }
    charts
}

#[component]
fn UnitView(page: UnitPage) -> impl IntoView {
    let title = format!("{} scorecard", page.unit.name);
    let here = page
        .crumbs
        .last()
        .map_or_else(|| "/".into(), |c| c.href.clone());
    let scope = page.scope.scope.clone();
    let as_of = page.snapshot.computed_at.clone();
    let change = score_change(&page.trend, page.trend_days);
    let charts = unit_charts(&page);
    let chart = move |pick: fn(&UnitCharts) -> Option<String>| {
        Signal::derive(move || charts.read().as_ref().and_then(pick))
    };
    // CSV files say which unit and which table.
    let file = {
        let unit = page.unit.external_id.clone();
        move |table: &str| format!("{unit}-{table}.csv")
    };
    let heat = (!page.children.is_empty()).then(|| {
        let page = page.clone();
        view! {
            <Chart
                svg=chart(|c| c.heat_map.clone())
                label="heat-map"
                file=file("domains-by-unit")
                csv_header=&["unit_source", "unit_id", "unit", "domain", "score"]
                csv_rows=heat_csv(&page)
            >
                <HeatTable page />
            </Chart>
        }
    });
    let bucket_links = {
        let here = here.clone();
        let scope = scope.clone();
        Bucket::ALL
            .iter()
            .map(|b| {
                let href = format!(
                    "{}#models",
                    with_query(
                        &here,
                        &[
                            ("scope", (scope != "overall").then_some(scope.as_str())),
                            ("level", Some(&b.key())),
                        ],
                    ),
                );
                view! {
                    <tr>
                        <td>
                            <a href=href data-testid=format!("bucket-{}", b.key())>
                                {b.name()}
                            </a>
                        </td>
                        <td class="num">{b.count(&page.counts)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let domain_links = page
        .domains
        .iter()
        .map(|d| {
            let href = format!(
                "{}#models",
                with_query(&here, &[("scope", Some(d.scope.scope.as_str()))]),
            );
            view! {
                <tr>
                    <td>
                        <a href=href>{d.scope.label.clone()}</a>
                    </td>
                    <td class="num">{score_text(d.score)}</td>
                </tr>
            }
        })
        .collect_view();
    let trend_rows = page
        .trend
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td>{p.computed_at.clone()}</td>
                    <td class="num">{score_text(p.score)}</td>
                    <td class="num">{p.counts.total()}</td>
                </tr>
            }
        })
        .collect_view();
    let bucket_text = page
        .bucket
        .map(|b| format!(" at level {}", b.name()))
        .unwrap_or_default();
    view! {
        <Title text=title.clone() />
        <Breadcrumbs crumbs=page.crumbs.clone() />
        <header class="page-head">
            <h1>{page.unit.name.clone()}</h1>
            <span class="kind" data-testid="unit-kind">
                {page.kind.clone()}
            </span>
            // Without JavaScript, the browser's own print gets the same print stylesheet.
            <button
                type="button"
                class="print"
                on:click=move |_| {
                    let _ = window().print();
                }
            >
                "Print scorecard"
            </button>
        </header>
        <p class="lede">
            "Results computed " <time datetime=as_of.clone()>{as_of.clone()}</time>
            " with catalog " <code>{page.snapshot.catalog_version.clone()}</code> ". "
            <a href=crate::model::routes::NUMBERS_PATH>"How these numbers are made"</a>
        </p>
        <ScopeForm page=page.clone() here=here.clone() />
        <section class="stats" aria-label="Scorecard">
            <div class="stat">
                <span class="value" data-testid="overall-score">
                    {score_text(page.overall_score)}
                </span>
                <span class="label">"overall score (0-3)"</span>
                <LevelBar counts=page.overall score=page.overall_score />
                <span class="coverage" data-testid="overall-coverage">{coverage(&page.overall)}</span>
            </div>
            {(page.scope.scope != "overall")
                .then(|| {
                    view! {
                        <div class="stat">
                            <span class="value" data-testid="scope-score">
                                {score_text(page.score)}
                            </span>
                            <span class="label">{format!("{} score", page.scope.label)}</span>
                            <LevelBar counts=page.counts score=page.score />
                            <span class="coverage" data-testid="scope-coverage">{coverage(&page.counts)}</span>
                        </div>
                    }
                })}
            <div class="stat">
                <span class="value" data-testid="score-change">{change.0.clone()}</span>
                <span class="label">{change.1.clone()}</span>
            </div>
            <div class="stat">
                <span class="value">{page.overall.total()}</span>
                <span class="label">"model sources"</span>
            </div>
        </section>
        <div class="charts" data-charts-of=page.unit.id.to_string()>
            <Chart
                svg=chart(|c| Some(c.distribution.clone()))
                label="distribution"
                file=file("levels")
                csv_header=&["level", "models"]
                csv_rows=Bucket::ALL.iter().map(|b| vec![b.key(), b.count(&page.counts).to_string()]).collect()
            >
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Level"</th>
                            <th scope="col" class="num">
                                "Models"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{bucket_links}
                    </tbody>
                </table>
            </Chart>
            <Chart
                svg=chart(|c| Some(c.domains.clone()))
                label="domains"
                file=file("domain-scores")
                csv_header=&["domain", "score"]
                csv_rows=page.domains.iter().map(|d| vec![d.scope.label.clone(), d.score.map(number).unwrap_or_default()]).collect()
            >
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Domain"</th>
                            <th scope="col" class="num">
                                "Score"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{domain_links}
                    </tbody>
                </table>
            </Chart>
            <Chart
                svg=chart(|c| Some(c.trend.clone()))
                label="trend"
                file=file("trend")
                csv_header=&["computed_at", "score", "models"]
                csv_rows=page.trend.iter().map(|p| vec![p.computed_at.clone(), p.score.map(number).unwrap_or_default(), p.counts.total().to_string()]).collect()
            >
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Computed"</th>
                            <th scope="col" class="num">
                                "Score"
                            </th>
                            <th scope="col" class="num">
                                "Models"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{trend_rows}
                    </tbody>
                </table>
            </Chart>
        </div>
        {heat}
        <ChildTable page=page.clone() />
        {page
            .unowned
            .map(|n| {
                view! {
                    <p class="unowned" data-testid="unowned-link">
                        <a href=crate::model::routes::UNOWNED_PATH>
                            {format!("{n} model source{} no unit owns", if n == 1 { "" } else { "s" })}
                        </a>
                        " count here, at the company, and at no unit below it."
                    </p>
                }
            })}
        <section id="models" class="models">
            <h2>
                {if page.kind == "unowned" {
                    format!("The models in {}{bucket_text}", page.scope.label)
                } else {
                    format!("Models below {} in {}{bucket_text}", page.unit.name, page.scope.label)
                }}
            </h2>
            <ModelTable page=page.clone() />
        </section>
        <section id="campaigns">
            <h2>"Campaigns"</h2>
            <p class="hint">"The campaigns whose selection touches this unit."</p>
            <CampaignTable campaigns=page.campaigns.clone() />
        </section>
    }
}

/// Scope, level, as-of time and trend range, as a GET form.
#[component]
fn ScopeForm(page: UnitPage, here: String) -> impl IntoView {
    let current = page.scope.scope.clone();
    let bucket = page.bucket.map(Bucket::key).unwrap_or_default();
    view! {
        <form class="filter" method="get" action=here data-testid="scope-form">
            <label>
                "Scope"
                <select name="scope" data-testid="scope-select">
                    {page
                        .scopes
                        .iter()
                        .map(|s| {
                            view! {
                                <option value=s.scope.clone() selected=s.scope == current>
                                    {s.label.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Level"
                <select name="level">
                    <option value="" selected=bucket.is_empty()>
                        "any"
                    </option>
                    {Bucket::ALL
                        .iter()
                        .map(|b| {
                            view! {
                                <option value=b.key() selected=b.key() == bucket>
                                    {b.name()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Trend"
                <select name="days">
                    {TREND_DAYS
                        .iter()
                        .map(|d| {
                            view! {
                                <option value=d.to_string() selected=*d == page.trend_days>
                                    {format!("{d} days")}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "As of"
                <input
                    type="text"
                    name="as_of"
                    placeholder="now, or 2026-11-01T00:00:00Z"
                    data-testid="as-of"
                />
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

/// The heat map's cells as CSV rows: one per child unit and domain.
fn heat_csv(page: &UnitPage) -> Vec<Vec<String>> {
    page.children
        .iter()
        .flat_map(|c| {
            page.domains.iter().zip(&c.domain_scores).map(|(d, s)| {
                vec![
                    c.rollup.unit.source.clone(),
                    c.rollup.unit.external_id.clone(),
                    c.rollup.unit.name.clone(),
                    d.scope.label.clone(),
                    s.map(number).unwrap_or_default(),
                ]
            })
        })
        .collect()
}

#[component]
fn HeatTable(page: UnitPage) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">"Unit"</th>
                    {page
                        .domains
                        .iter()
                        .map(|d| view! { <th scope="col">{d.scope.label.clone()}</th> })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {page
                    .children
                    .iter()
                    .map(|c| {
                        view! {
                            <tr>
                                <th scope="row">{c.rollup.unit.name.clone()}</th>
                                {c
                                    .domain_scores
                                    .iter()
                                    .map(|s| view! { <td class="num">{score_text(*s)}</td> })
                                    .collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// How the child table is sorted; the server ranks by score, lowest first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ChildSort {
    Score,
    Name,
    Models,
}

#[component]
fn ChildTable(page: UnitPage) -> impl IntoView {
    if page.children.is_empty() {
        return ().into_any();
    }
    // `?sort=name|models` sorts on the server too, so the headers work as links without
    // JavaScript; with it, they sort in place.
    let query = use_query_map();
    let sort = RwSignal::new(match query.read_untracked().get("sort").as_deref() {
        Some("name") => ChildSort::Name,
        Some("models") => ChildSort::Models,
        _ => ChildSort::Score,
    });
    let children = StoredValue::new(page.children.clone());
    let rows = Memo::new(move |_| {
        let mut rows = children.get_value();
        match sort.get() {
            ChildSort::Score => {}
            ChildSort::Name => rows.sort_by_key(|r| r.rollup.unit.name.to_lowercase()),
            ChildSort::Models => rows.sort_by_key(|r| std::cmp::Reverse(r.rollup.counts.total())),
        }
        rows
    });
    let csv_rows = Signal::derive(move || {
        rows.get()
            .iter()
            .map(|r| {
                vec![
                    r.rollup.unit.source.clone(),
                    r.rollup.unit.external_id.clone(),
                    r.rollup.unit.name.clone(),
                    r.rollup.counts.total().to_string(),
                    r.rollup.score.map(number).unwrap_or_default(),
                ]
            })
            .collect()
    });
    let sorted_by = move |by: ChildSort| {
        let q = query.read_untracked();
        let keep = |name: &str| q.get(name).filter(|v| !v.is_empty());
        let key = match by {
            ChildSort::Score => None,
            ChildSort::Name => Some("name"),
            ChildSort::Models => Some("models"),
        };
        format!(
            "{}#children",
            with_query(
                &use_location().pathname.get_untracked(),
                &[
                    ("scope", keep("scope").as_deref()),
                    ("level", keep("level").as_deref()),
                    ("as_of", keep("as_of").as_deref()),
                    ("days", keep("days").as_deref()),
                    ("sort", key),
                ],
            )
        )
    };
    let header_button = move |label: &'static str, by: ChildSort| {
        view! {
            <a
                href=sorted_by(by)
                class="sort"
                class:active=move || sort.get() == by
                aria-current=move || (sort.get() == by).then_some("true")
                on:click=move |ev| {
                    ev.prevent_default();
                    sort.set(by);
                }
            >
                {label}
            </a>
        }
    };
    view! {
        <section class="children" id="children">
            <h2>{format!("Child units ranked by {} score", page.scope.label)}</h2>
            <CsvLink
                file=format!("{}-children.csv", page.unit.external_id)
                header=&["unit_source", "unit_id", "unit", "models", "score"]
                rows=csv_rows
            />
            <table data-testid="child-table">
                <thead>
                    <tr>
                        <th scope="col">{header_button("Unit", ChildSort::Name)}</th>
                        <th scope="col" class="num">
                            {header_button("Models", ChildSort::Models)}
                        </th>
                        <th scope="col">{header_button("Maturity", ChildSort::Score)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || rows.get()
                        key=|r| r.rollup.unit.id
                        children=|r| {
                            view! {
                                <tr data-testid="child-row">
                                    <th scope="row">
                                        <a href=r.href.clone()>{r.rollup.unit.name.clone()}</a>
                                    </th>
                                    <td class="num">{r.rollup.counts.total()}</td>
                                    <td>
                                        <LevelBar counts=r.rollup.counts score=r.rollup.score />
                                    </td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn ModelTable(page: UnitPage) -> impl IntoView {
    let query = use_query_map();
    // `?q=` filters the listed models by name on the server too, so the form works without
    // JavaScript; with it, the table filters as one types.
    let filter = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let models = StoredValue::new(page.models.clone());
    let rows = Memo::new(move |_| {
        let needle = filter.read().trim().to_lowercase();
        models
            .get_value()
            .into_iter()
            .filter(|m| needle.is_empty() || m.name.to_lowercase().contains(&needle))
            .collect::<Vec<_>>()
    });
    let csv_rows = Signal::derive(move || {
        rows.get()
            .iter()
            .map(|m| {
                vec![
                    m.model.source.clone(),
                    m.model.id.clone(),
                    m.name.clone(),
                    m.level
                        .map_or_else(|| "unknown".into(), |l| l.get().to_string()),
                    m.at_risk_metrics.to_string(),
                ]
            })
            .collect()
    });
    let listed = i64::try_from(page.models.len()).unwrap_or(0);
    let of = page.models_shown_of;
    let from = page.models_offset;
    // The page's other parameters, kept by the filter form.
    let kept: Vec<(&'static str, String)> = {
        let q = query.read_untracked();
        ["scope", "level", "as_of", "days", "offset"]
            .into_iter()
            .filter_map(|name| q.get(name).filter(|v| !v.is_empty()).map(|v| (name, v)))
            .collect()
    };
    // The same page's address with another offset, every other parameter kept.
    let at_offset = move |offset: i64| {
        let q = query.read_untracked();
        let keep = |name: &str| q.get(name).filter(|v| !v.is_empty());
        let (scope, level, as_of, days) =
            (keep("scope"), keep("level"), keep("as_of"), keep("days"));
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "{}#models",
            with_query(
                &use_location().pathname.get_untracked(),
                &[
                    ("scope", scope.as_deref()),
                    ("level", level.as_deref()),
                    ("as_of", as_of.as_deref()),
                    ("days", days.as_deref()),
                    ("offset", offset.as_deref()),
                ],
            )
        )
    };
    // Effects run only in the browser: the marker tells readers (and tests) the table is live.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <p class="count" data-testid="models-count">
            {if listed == 0 {
                format!("None of the {of} models here on this page.")
            } else if from == 0 && listed == of {
                format!("All {of} models, the lowest first")
            } else {
                format!("Models {}–{} of {of}, the lowest first", from + 1, from + listed)
            }}
        </p>
        <nav class="pager" aria-label="More models">
            {(from > 0)
                .then(|| {
                    view! {
                        <a href=at_offset((from - 50).max(0)) rel="prev">
                            "Previous 50"
                        </a>
                    }
                })}
            {(from + listed < of)
                .then(|| {
                    view! {
                        <a href=at_offset(from + 50) rel="next" data-testid="models-next">
                            "Next 50"
                        </a>
                    }
                })}
        </nav>
        <div class="table-tools" data-hydrated=move || hydrated.get().to_string()>
            <form
                method="get"
                action="#models"
                class="filter-form"
                on:submit=move |ev| ev.prevent_default()
            >
                {kept
                    .into_iter()
                    .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                    .collect_view()}
                <label>
                    "Filter these models by name "
                    <input
                        type="search"
                        name="q"
                        data-testid="model-filter"
                        prop:value=filter
                        on:input=move |ev| filter.set(event_target_value(&ev))
                    />
                </label>
                // Without JavaScript the form goes to the server; with it, the table is already
                // filtered as one types.
                <button type="submit">"Filter"</button>
            </form>
            <CsvLink
                file=format!("{}-models.csv", page.unit.external_id)
                header=&["model_source", "model_id", "model", "level", "metrics_at_risk"]
                rows=csv_rows
            />
        </div>
        <table data-testid="model-table">
            <thead>
                <tr>
                    <th scope="col">"Model source"</th>
                    <th scope="col">"Level"</th>
                    <th scope="col" class="num">
                        "Metrics at risk"
                    </th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || rows.get()
                    key=|m| m.model.clone()
                    children=|m| {
                        view! {
                            <tr data-testid="model-row">
                                <th scope="row">
                                    <a href=model_href(&m.model)>{m.name.clone()}</a>
                                </th>
                                <td>
                                    <LevelBadge level=m.level />
                                </td>
                                <td class="num">{m.at_risk_metrics}</td>
                            </tr>
                        }
                    }
                />
            </tbody>
        </table>
        <Show when=move || rows.read().is_empty()>
            <p class="empty">"No model here."</p>
        </Show>
    }
}
