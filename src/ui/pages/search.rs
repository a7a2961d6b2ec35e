//! Search over the graph's assets by text, tag and kind; every hit links to its page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::model::dashboard::{Crumb, unit_href, with_query};
use crate::model::routes;
use leptos_router::hooks::use_query_map;

use crate::api::dashboard::search_assets;
use crate::model::record::AssetKind;
use crate::ui::components::{AssetLink, Breadcrumbs, CsvLink, ErrorPanel};

#[component]
pub fn SearchRoute() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.read().get(name).unwrap_or_default();
    // The form's starting values: read once, not followed.
    let initial = move |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let results = crate::ui::resource::page_resource(
        move || (field("q"), field("tag"), field("kind"), field("offset")),
        |(q, tag, kind, offset)| async move {
            if q.trim().is_empty() && tag.trim().is_empty() {
                return Ok(None);
            }
            // A malformed offset is the server's to refuse, with the reason.
            let offset = if offset.is_empty() {
                None
            } else {
                Some(offset.parse::<i64>().unwrap_or(-1))
            };
            search_assets(q, Some(tag), Some(kind), offset)
                .await
                .map(Some)
        },
    );
    let kind_now = initial("kind");
    let page_link = move |offset: i64| {
        with_query(
            routes::SEARCH_PATH,
            &[
                ("q", Some(field("q").as_str()).filter(|v| !v.is_empty())),
                ("tag", Some(field("tag").as_str()).filter(|v| !v.is_empty())),
                (
                    "kind",
                    Some(field("kind").as_str()).filter(|v| !v.is_empty()),
                ),
                (
                    "offset",
                    (offset > 0).then(|| offset.to_string()).as_deref(),
                ),
            ],
        )
    };
    view! {
        <Title text="Search" />
        <Breadcrumbs crumbs=vec![
            Crumb { label: "Company".into(), href: "/".into() },
            Crumb { label: "Search".into(), href: routes::SEARCH_PATH.into() },
        ] />
        <h1>"Search"</h1>
        <form class="filter" method="get" action=routes::SEARCH_PATH role="search">
            <label>
                "Text "
                <input type="search" name="q" value=initial("q") placeholder="name or description" data-testid="search-text" />
            </label>
            <label>
                "Tag "
                <input type="text" name="tag" value=initial("tag") placeholder="key:value, like tier:1" data-testid="search-tag" />
            </label>
            <label>
                "Kind "
                <select name="kind">
                    <option value="" selected=kind_now.is_empty()>"any"</option>
                    {AssetKind::ALL
                        .iter()
                        .map(|k| {
                            view! {
                                <option value=k.as_str() selected=kind_now == k.as_str()>
                                    {k.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(None) => view! { <p class="hint">"Search by text, by tag, or both."</p> }.into_any(),
                    Ok(Some(page)) => {
                        // Read here, so that a page turned in the browser counts from its offset.
                        let offset_now: i64 = field("offset").parse().unwrap_or(0).max(0);
                        let rows: Vec<Vec<String>> = page
                            .hits
                            .iter()
                            .map(|h| vec![h.asset.kind.as_str().to_string(), h.asset.key.source.clone(), h.asset.key.id.clone(), h.asset.name.clone(), h.owner.clone().unwrap_or_default()])
                            .collect();
                        let csv = Signal::derive(move || rows.clone());
                        view! {
                            {(!page.units.is_empty())
                                .then(|| {
                                    view! {
                                        <h2>"Org units"</h2>
                                        <ul class="unit-hits" data-testid="unit-hits">
                                            {page
                                                .units
                                                .iter()
                                                .map(|u| {
                                                    let href = unit_href(&u.unit, false);
                                                    view! {
                                                        <li>
                                                            <a href=href>{u.unit.name.clone()}</a>
                                                            {(!u.ancestors.is_empty())
                                                                .then(|| {
                                                                    view! {
                                                                        <span class="ancestors">
                                                                            {format!(" in {}", u.ancestors.join(" › "))}
                                                                        </span>
                                                                    }
                                                                })}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                        <h2>"Assets"</h2>
                                    }
                                })}
                            <p class="count" data-testid="search-count">
                                {
                                    let first = offset_now + 1;
                                    let last = offset_now + i64::try_from(page.hits.len()).unwrap_or(0);
                                    match (page.hits.len(), page.next_offset.is_some() || offset_now > 0) {
                                        (0, _) => "No asset matches.".to_string(),
                                        (n, false) => format!("{n} results"),
                                        (_, true) => format!("Results {first}–{last}"),
                                    }
                                }
                            </p>
                            <CsvLink file="search.csv".to_string() header=&["kind", "source", "id", "name", "owner"] rows=csv />
                            <table data-testid="search-results">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Kind"</th>
                                        <th scope="col">"Owner"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page
                                        .hits
                                        .into_iter()
                                        .map(|h| {
                                            view! {
                                                <tr data-testid="search-row">
                                                    <th scope="row"><AssetLink asset=h.asset.clone() /></th>
                                                    <td>{h.asset.kind.label()}</td>
                                                    <td>{h.owner.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="More results">
                                {(offset_now > 0)
                                    .then(|| {
                                        view! {
                                            <a href=page_link((offset_now - 50).max(0)) rel="prev">
                                                "Previous 50"
                                            </a>
                                        }
                                    })}
                                {page
                                    .next_offset
                                    .map(|next| {
                                        view! {
                                            <a href=page_link(next) rel="next" data-testid="search-next">
                                                "Next 50"
                                            </a>
                                        }
                                    })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
