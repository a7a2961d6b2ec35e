//! A lineage drawn as a graph: one column per kind, from feature sources on the left to
//! deployments on the right, every node a link to its page, the edges between them, and what was
//! left out said in words. It is SVG written by the view itself, so it renders on the server
//! (readable without JavaScript), hydrates, and draws again after an in-app link alike.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::dashboard::asset_href;
use crate::model::graph::{
    AssetSummary, Direction, Lineage, PAGE_LINEAGE_DEPTHS, page_lineage_choice,
};
use crate::model::record::{AssetKind, Ref};
use crate::model::text::natural_cmp;

/// The columns, in the order data flows.
const COLUMNS: [AssetKind; 7] = [
    AssetKind::FeatureSource,
    AssetKind::LogicalFeature,
    AssetKind::Dataset,
    AssetKind::ModelSource,
    AssetKind::WorkflowRun,
    AssetKind::ModelBinary,
    AssetKind::Deployment,
];
const BOX_W: i32 = 176;
const BOX_H: i32 = 30;
const GAP_X: i32 = 48;
const GAP_Y: i32 = 10;
const HEAD: i32 = 28;
const PAD: i32 = 8;
/// Nodes drawn per column; the rest are counted under it.
const PER_COLUMN: usize = 12;

fn plural(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::FeatureSource => "feature sources",
        AssetKind::LogicalFeature => "logical features",
        AssetKind::Dataset => "datasets",
        AssetKind::ModelSource => "model sources",
        AssetKind::WorkflowRun => "workflow runs",
        AssetKind::ModelBinary => "model binaries",
        AssetKind::Deployment => "deployments",
    }
}

fn short(name: &str) -> String {
    if name.chars().count() > 24 {
        name.chars().take(23).chain(std::iter::once('…')).collect()
    } else {
        name.to_string()
    }
}

struct Placed {
    asset: AssetSummary,
    x: i32,
    y: i32,
}

/// Where each drawn node sits, each column's header and what it left out, and the size.
struct Layout {
    nodes: Vec<Placed>,
    columns: Vec<(i32, AssetKind, usize)>,
    width: i32,
    height: i32,
}

fn layout(lineage: &Lineage) -> Layout {
    let mut nodes = Vec::new();
    let mut columns = Vec::new();
    let mut tallest = 0;
    let mut x = PAD;
    for kind in COLUMNS {
        let mut here: Vec<&AssetSummary> = lineage
            .nodes
            .iter()
            .map(|n| &n.asset)
            .filter(|a| a.kind == kind)
            .collect();
        if here.is_empty() {
            continue;
        }
        // The root first in its column, then by name as a person reads it (v2 before v10).
        here.sort_by(|a, b| {
            (a.key != lineage.root)
                .cmp(&(b.key != lineage.root))
                .then_with(|| natural_cmp(&a.name, &b.name))
        });
        let left_out = here.len().saturating_sub(PER_COLUMN);
        here.truncate(PER_COLUMN);
        tallest = tallest.max(here.len());
        for (row, asset) in (0..).zip(here) {
            nodes.push(Placed {
                asset: asset.clone(),
                x,
                y: HEAD + row * (BOX_H + GAP_Y),
            });
        }
        columns.push((x, kind, left_out));
        x += BOX_W + GAP_X;
    }
    let rows = i32::try_from(tallest).unwrap_or(0);
    Layout {
        nodes,
        columns,
        width: (x - GAP_X + PAD).max(BOX_W + 2 * PAD),
        height: HEAD + rows * (BOX_H + GAP_Y) + 22,
    }
}

/// The lineage of `lineage.root` as a graph; `label` names it for assistive technology.
#[component]
pub fn LineageGraph(lineage: Lineage, label: String) -> impl IntoView {
    if lineage.nodes.is_empty() {
        return view! { <p class="hint">"Nothing is linked to it in this direction."</p> }
            .into_any();
    }
    let drawn = layout(&lineage);
    let at: HashMap<&Ref, (i32, i32)> = drawn
        .nodes
        .iter()
        .map(|n| (&n.asset.key, (n.x, n.y)))
        .collect();
    let edges: Vec<String> = lineage
        .edges
        .iter()
        .filter_map(|e| {
            let (&(x1, y1), &(x2, y2)) = (at.get(&e.from)?, at.get(&e.to)?);
            let (x1, y1, x2, y2) = (x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2);
            let bend = (x2 - x1).abs() / 2;
            Some(format!(
                "M{x1} {y1} C{} {y1} {} {y2} {x2} {y2}",
                x1 + bend,
                x2 - bend
            ))
        })
        .collect();
    let hidden = lineage.edges.len() - edges.len();
    let left_out: usize = drawn.columns.iter().map(|c| c.2).sum();
    let summary = {
        let mut parts = vec![format!(
            "{} assets and {} links drawn",
            drawn.nodes.len(),
            edges.len()
        )];
        if left_out > 0 {
            parts.push(format!(
                "{left_out} more assets not drawn ({PER_COLUMN} a column at most)"
            ));
        }
        if lineage.truncated {
            parts.push("the walk was cut short: there is more beyond".into());
        }
        if hidden > 0 && left_out == 0 {
            parts.push(format!("{hidden} links to assets not drawn"));
        }
        parts.join("; ")
    };
    let root = lineage.root.clone();
    view! {
        <div class="lineage-graph" data-testid="lineage-graph">
            <svg
                role="group"
                aria-label=label
                width=drawn.width
                height=drawn.height
                viewBox=format!("0 0 {} {}", drawn.width, drawn.height)
                font-family="sans-serif"
                font-size="12"
            >
                {drawn
                    .columns
                    .iter()
                    .map(|(x, kind, left_out)| {
                        view! {
                            <text x=*x y="16" class="head">{plural(*kind)}</text>
                            {(*left_out > 0)
                                .then(|| {
                                    view! {
                                        <text x=*x y=drawn.height - 6 class="more">
                                            {format!("+{left_out} more")}
                                        </text>
                                    }
                                })}
                        }
                    })
                    .collect_view()}
                {edges.into_iter().map(|d| view! { <path d=d class="edge" /> }).collect_view()}
                {drawn
                    .nodes
                    .into_iter()
                    .map(|n| {
                        let here = n.asset.key == root;
                        let title = format!("{}: {}", n.asset.kind.label(), n.asset.name);
                        // Inside a `g`, so that `a` and `title` are made as SVG elements when the
                        // browser draws this itself.
                        view! {
                            <g class:here=here>
                                <a href=asset_href(&n.asset)>
                                    <title>{title}</title>
                                    <rect x=n.x y=n.y width=BOX_W height=BOX_H rx="5" />
                                    <text x=n.x + 8 y=n.y + 19>{short(&n.asset.name)}</text>
                                </a>
                            </g>
                        }
                    })
                    .collect_view()}
            </svg>
            <p class="hint" data-testid="lineage-summary">{summary}</p>
        </div>
    }
    .into_any()
}

/// The lineage a page's address asks for (`direction`, `depth`), with `default_depth` steps
/// both ways when it asks nothing, and a sentence naming a value that is not one of the choices.
pub fn chosen_lineage(default_depth: u32) -> (Direction, u32, Option<String>) {
    let query = use_query_map();
    let q = query.read_untracked();
    match page_lineage_choice(q.get("direction").as_deref(), q.get("depth").as_deref()) {
        Ok((direction, depth)) => (
            direction.unwrap_or(Direction::Both),
            depth.unwrap_or(default_depth),
            None,
        ),
        Err(problem) => (Direction::Both, default_depth, Some(problem)),
    }
}

/// Direction and depth of the drawn lineage, as a GET form (it works without JavaScript);
/// `keep` holds the page's other parameters.
#[component]
pub fn LineageChoice(
    direction: Direction,
    depth: u32,
    problem: Option<String>,
    #[prop(optional)] keep: Vec<(&'static str, String)>,
) -> impl IntoView {
    let ways = [
        (Direction::Both, "both", "both ways"),
        (Direction::Up, "up", "upstream only"),
        (Direction::Down, "down", "downstream only"),
    ];
    view! {
        <form method="get" action="#lineage" class="lineage-choice" data-testid="lineage-choice">
            {keep
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <label>
                "Direction"
                <select name="direction">
                    {ways
                        .into_iter()
                        .map(|(way, value, label)| {
                            view! { <option value=value selected=way == direction>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Steps"
                <select name="depth">
                    {PAGE_LINEAGE_DEPTHS
                        .into_iter()
                        .map(|d| {
                            view! { <option value=d.to_string() selected=d == depth>{d}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Draw"</button>
        </form>
        {problem.map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
    }
}
