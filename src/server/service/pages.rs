//! The dashboard's pages, each assembled from precomputed results in a handful of indexed reads,
//! and a unit page's charts drawn from its numbers. The server functions of `crate::api::dashboard` call these.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tracing::instrument;

use crate::error::AppError;
use crate::model::dashboard::{
    AssetPage, BinaryRow, Bucket, ChildRow, Crumb, DomainRow, MetricPage, ModelPage, ReportRow,
    ScopeName, UNOWNED_UNIT_ID, UnitCharts, UnitPage, asset_href, model_href, unit_href,
    unowned_ref, with_query,
};
use crate::model::graph::{AssetSummary, Direction};
use crate::model::metrics::{Catalog, ChildRollup, Counts, UnitName};
use crate::model::record::{AssetKind, Ref};
use crate::model::text::natural_cmp;
use crate::server::charts;
use crate::server::metrics::reads;
use crate::server::repo::org_units;
use crate::server::repo::reads as graph_reads;

/// How many models a unit page lists at most.
const MODELS_LISTED: i64 = 50;

/// Every scope of the catalog with the words a reader knows it by.
pub fn scope_names(catalog: &Catalog) -> Vec<ScopeName> {
    std::iter::once(ScopeName {
        scope: "overall".into(),
        label: "Overall".into(),
    })
    .chain(catalog.domains.iter().map(|d| ScopeName {
        scope: format!("domain:{}", d.id),
        label: d.name.clone(),
    }))
    .chain(catalog.metrics.iter().map(|m| ScopeName {
        scope: format!("metric:{}", m.id),
        label: format!("{} ({})", m.id.replace('_', " "), m.domain),
    }))
    .collect()
}

fn crumbs(chain: &[(UnitName, bool)]) -> Vec<Crumb> {
    chain
        .iter()
        .map(|(unit, top)| Crumb {
            label: unit.name.clone(),
            href: unit_href(unit, *top),
        })
        .collect()
}

/// The company (`unit` `None`), org or team page in `scope`, its model list narrowed to `bucket`.
#[instrument(skip_all, fields(?unit, scope))]
pub async fn unit_page(
    pool: &PgPool,
    unit: Option<&Ref>,
    scope: &str,
    bucket: Option<Bucket>,
    as_of: Option<DateTime<Utc>>,
    days: i64,
    offset: i64,
) -> Result<UnitPage, AppError> {
    let snapshot = reads::snapshot(pool, as_of).await?;
    // A page as of a time shows the snapshot it resolves to, as of that snapshot's time: every
    // time between two snapshots gives the same page (and one kept page).
    let as_of = as_of.and_then(|_| {
        DateTime::parse_from_rfc3339(&snapshot.meta.computed_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    });
    let catalog = &snapshot.catalog;
    let position = usize::try_from(snapshot.position(scope)? - 1).unwrap_or(0);
    let scopes = scope_names(catalog);
    let this_scope = scopes
        .iter()
        .find(|s| s.scope == scope)
        .cloned()
        .ok_or_else(|| AppError::BadRequest(format!("unknown scope {scope:?}")))?;
    let unit = reads::unit(pool, unit).await?;
    // The models no unit owns sit below the company, in no unit.
    let chain = if unit.id == UNOWNED_UNIT_ID {
        let company = reads::unit(pool, None).await?;
        let mut chain = org_units::ancestry(pool, company.id).await?;
        chain.push((unit.clone(), false));
        chain
    } else {
        org_units::ancestry(pool, unit.id).await?
    };
    let is_company = chain.len() == 1 && chain[0].1;
    let card = reads::scorecard(pool, &snapshot, unit.clone()).await?;
    let unowned = if is_company {
        let own = reads::unit(pool, Some(&unowned_ref())).await?;
        let card = reads::scorecard(pool, &snapshot, own).await?;
        card.rollups
            .iter()
            .find(|r| r.scope == "overall")
            .map(|r| r.counts.total())
            .filter(|n| *n > 0)
    } else {
        None
    };
    let rollup = |scope: &str| card.rollups.iter().find(|r| r.scope == scope);
    let children = reads::child_rollups(pool, &snapshot, unit.id).await?;
    let models = reads::worst_models(
        pool,
        &snapshot,
        unit.id,
        scope,
        bucket,
        MODELS_LISTED,
        offset,
    )
    .await?;
    let until = as_of.unwrap_or_else(Utc::now);
    let trend = reads::trend(
        pool,
        unit.id,
        scope,
        until - chrono::Duration::days(days),
        until,
    )
    .await?;

    let as_of_text = as_of.map(reads::rfc3339);
    let link = |base: &str, scope: &str, bucket: Option<Bucket>| {
        unit_link(base, scope, bucket, as_of_text.as_deref())
    };
    let (counts, scope_score) =
        rollup(scope).map_or((Counts::default(), None), |r| (r.counts, r.score));
    let (overall, overall_score) =
        rollup("overall").map_or((Counts::default(), None), |r| (r.counts, r.score));
    let domains: Vec<DomainRow> = catalog
        .domains
        .iter()
        .map(|d| {
            let scope = format!("domain:{}", d.id);
            let r = rollup(&scope);
            DomainRow {
                scope: ScopeName {
                    scope,
                    label: d.name.clone(),
                },
                counts: r.map(|r| r.counts).unwrap_or_default(),
                score: r.and_then(|r| r.score),
            }
        })
        .collect();
    let domain_positions: Vec<usize> = (0..catalog.domains.len())
        .map(|i| catalog.metrics.len() + i)
        .collect();
    let mut child_rows: Vec<ChildRow> = children
        .into_iter()
        .map(|c| ChildRow {
            href: link(&unit_href(&c.unit, false), scope, None),
            domain_scores: domain_positions
                .iter()
                .map(|i| c.scores.get(*i).copied().flatten())
                .collect(),
            rollup: ChildRollup {
                counts: c.counts.get(position).copied().unwrap_or_default(),
                score: c.scores.get(position).copied().flatten(),
                unit: c.unit,
            },
        })
        .collect();
    // Ranked: the lowest score first, units without known levels last.
    child_rows.sort_by(|a, b| match (a.rollup.score, b.rollup.score) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });

    let kind = if is_company {
        "company"
    } else if unit.id == UNOWNED_UNIT_ID {
        "unowned"
    } else if child_rows.is_empty() {
        "team"
    } else {
        "org"
    };
    let campaigns = if unit.id == UNOWNED_UNIT_ID {
        Vec::new()
    } else {
        super::campaigns::touching(pool, unit.id).await?
    };
    Ok(UnitPage {
        campaigns,
        unit,
        kind: kind.into(),
        crumbs: crumbs(&chain),
        snapshot: snapshot.meta.clone(),
        scope: this_scope,
        scopes,
        bucket,
        counts,
        score: scope_score,
        overall,
        overall_score,
        domains,
        children: child_rows,
        models_shown_of: bucket.map_or_else(|| counts.total(), |b| b.count(&counts)),
        models_offset: offset,
        models,
        trend,
        trend_days: days,
        trend_until: reads::rfc3339(until),
        as_of: as_of_text,
        unowned,
    })
}

/// A unit page's address in `scope` (left out for overall), narrowed to `bucket`, as of `as_of`.
fn unit_link(base: &str, scope: &str, bucket: Option<Bucket>, as_of: Option<&str>) -> String {
    let key = bucket.map(Bucket::key);
    with_query(
        base,
        &[
            ("scope", (scope != "overall").then_some(scope)),
            ("level", key.as_deref()),
            ("as_of", as_of),
        ],
    )
}

/// The unit page's charts, drawn from its numbers. They are not part of `UnitPage`, so that a
/// page's data carries each chart once: in its HTML, never again in its hydration data.
pub fn unit_charts(page: &UnitPage) -> UnitCharts {
    let here = page.crumbs.last().map_or("/", |c| c.href.as_str());
    let link = |base: &str, scope: &str, bucket: Option<Bucket>| {
        unit_link(base, scope, bucket, page.as_of.as_deref())
    };
    let scope = page.scope.scope.as_str();
    let until = DateTime::parse_from_rfc3339(&page.trend_until)
        .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc));
    let days = page.trend_days;
    UnitCharts {
        distribution: charts::distribution(
            &format!("Models by level: {}", page.scope.label),
            &page.counts,
            |b| format!("{}#models", link(here, scope, Some(b))),
        ),
        domains: charts::domain_scores(
            "Score by domain",
            &page
                .domains
                .iter()
                .map(|d| {
                    (
                        d.scope.label.clone(),
                        d.score,
                        format!("{}#models", link(here, &d.scope.scope, None)),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        heat_map: (!page.children.is_empty()).then(|| {
            let names: Vec<String> = page.domains.iter().map(|d| d.scope.label.clone()).collect();
            let rows: Vec<charts::HeatRow> = page
                .children
                .iter()
                .map(|c| {
                    let base = unit_href(&c.rollup.unit, false);
                    (
                        c.rollup.unit.name.clone(),
                        c.domain_scores.clone(),
                        page.domains
                            .iter()
                            .map(|d| format!("{}#models", link(&base, &d.scope.scope, None)))
                            .collect(),
                    )
                })
                .collect();
            charts::heat_map("Child units by domain (score 0-3)", &names, &rows)
        }),
        trend: charts::trend(
            &format!("{}: score over {days} days", page.scope.label),
            &page
                .trend
                .iter()
                .filter_map(|p| {
                    DateTime::parse_from_rfc3339(&p.computed_at)
                        .ok()
                        .map(|t| (t.with_timezone(&Utc), p.score))
                })
                .collect::<Vec<_>>(),
            (until - chrono::Duration::days(days), until),
        ),
    }
}

/// How many serving periods a model or asset page lists, newest first.
const SERVING_PERIODS_SHOWN: i64 = 50;

/// A model source's page: its levels with evidence, lineage, binaries and history.
#[instrument(skip_all, fields(model = %key))]
pub async fn model_page(
    pool: &PgPool,
    key: &Ref,
    as_of: Option<DateTime<Utc>>,
) -> Result<ModelPage, AppError> {
    let snapshot = reads::snapshot(pool, as_of).await?;
    let metrics = reads::model_metrics(pool, &snapshot, key).await?;
    let asset = graph_reads::model_source_facts(pool, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no model source {key}")))?;
    let chain = match asset.owner_unit_id {
        Some(unit) => org_units::ancestry(pool, unit).await?,
        None => Vec::new(),
    };
    let mut trail = crumbs(&chain);
    trail.push(Crumb {
        label: metrics.name.clone(),
        href: model_href(key),
    });

    // Downstream: runs, the binaries they produced, the deployments serving them.
    let down = graph_reads::lineage(pool, key, Direction::Down, 3).await?;
    let node = |r: &Ref| {
        down.nodes
            .iter()
            .find(|n| &n.asset.key == r)
            .map(|n| n.asset.clone())
    };
    let mut binaries: Vec<BinaryRow> = down
        .nodes
        .iter()
        .filter(|n| n.asset.kind == AssetKind::ModelBinary)
        .map(|b| BinaryRow {
            run: down
                .edges
                .iter()
                .find(|e| e.to == b.asset.key)
                .and_then(|e| node(&e.from)),
            deployments: down
                .edges
                .iter()
                .filter(|e| e.from == b.asset.key)
                .filter_map(|e| node(&e.to))
                .collect(),
            binary: b.asset.clone(),
        })
        .collect();
    // Newest first: deployed binaries, then by version (binary names carry it: v12 before v9).
    binaries.sort_by(|a, b| {
        b.deployments
            .len()
            .cmp(&a.deployments.len())
            .then_with(|| natural_cmp(&b.binary.name, &a.binary.name))
    });
    let mut runs: Vec<AssetSummary> = down
        .nodes
        .iter()
        .filter(|n| n.asset.kind == AssetKind::WorkflowRun)
        .map(|n| n.asset.clone())
        .collect();
    runs.sort_by(|a, b| natural_cmp(&b.name, &a.name));
    // Upstream of what is judged: the datasets, logical features and feature sources behind it.
    // With the walk down, they make the model's drawn lineage: runs at 1 step, binaries at 2,
    // deployments at 3; datasets at -1, logical features at -2, feature sources at -3.
    let mut lineage = down.clone();
    let mut upstream: Vec<AssetSummary> = Vec::new();
    for binary in metrics.judged_binaries.iter().take(3) {
        let up = graph_reads::lineage(pool, binary, Direction::Up, 4).await?;
        lineage.truncated |= up.truncated;
        for edge in up.edges {
            if !lineage.edges.contains(&edge) {
                lineage.edges.push(edge);
            }
        }
        for n in up.nodes {
            if matches!(
                n.asset.kind,
                AssetKind::Dataset | AssetKind::LogicalFeature | AssetKind::FeatureSource
            ) && !upstream.iter().any(|u| u.key == n.asset.key)
            {
                lineage.nodes.push(crate::model::graph::LineageNode {
                    asset: n.asset.clone(),
                    distance: n.distance + 1,
                });
                upstream.push(n.asset);
            }
        }
    }
    lineage.direction = Direction::Both;
    upstream.sort_by_key(|a| match a.kind {
        AssetKind::FeatureSource => 0,
        AssetKind::LogicalFeature => 1,
        _ => 2,
    });
    let history = graph_reads::history(pool, key, 20, None).await?;
    let serving = graph_reads::serving_history(pool, key, SERVING_PERIODS_SHOWN).await?;
    let owner_unit = chain.last().map(|(u, _)| u.clone());
    Ok(ModelPage {
        crumbs: trail,
        domain_names: snapshot
            .catalog
            .domains
            .iter()
            .map(|d| (d.id.clone(), d.name.clone()))
            .collect(),
        description: asset.description,
        owners: asset.owners,
        tags: asset.tags,
        owner_unit,
        metrics,
        upstream,
        lineage,
        binaries,
        runs,
        serving,
        history: history.changes,
    })
}

/// Any asset's page (model sources have their own, richer one).
#[instrument(skip_all, fields(asset = %key))]
pub async fn asset_page(pool: &PgPool, key: &Ref) -> Result<AssetPage, AppError> {
    let row = graph_reads::asset_facts(pool, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no asset {key}")))?;
    let kind = AssetKind::parse(&row.kind).ok_or(AppError::Internal)?;
    let asset = AssetSummary {
        key: key.clone(),
        kind,
        name: row.name,
        status: row.status,
    };
    let chain = match row.owner_unit_id {
        Some(unit) => org_units::ancestry(pool, unit).await?,
        None => Vec::new(),
    };
    let walk = graph_reads::lineage(pool, key, Direction::Both, 5).await?;
    let models: Vec<AssetSummary> = walk
        .nodes
        .iter()
        .filter(|n| n.distance < 0 && n.asset.kind == AssetKind::ModelSource)
        .map(|n| n.asset.clone())
        .collect();
    let reports = graph_reads::latest_reports(pool, row.id)
        .await?
        .into_iter()
        .map(|(name, value, at)| ReportRow {
            name,
            value,
            at: reads::rfc3339(at),
        })
        .collect();
    let history = graph_reads::history(pool, key, 20, None).await?;
    let serving = if matches!(kind, AssetKind::Deployment | AssetKind::ModelBinary) {
        graph_reads::serving_history(pool, key, SERVING_PERIODS_SHOWN).await?
    } else {
        Vec::new()
    };
    // Runs, binaries and deployments sit under their model source's unit when they name none.
    let mut trail = match (chain.is_empty(), models.first()) {
        (true, Some(model)) => {
            let owner = graph_reads::owner_unit(pool, &model.key).await?;
            match owner {
                Some(unit) => crumbs(&org_units::ancestry(pool, unit).await?),
                None => Vec::new(),
            }
        }
        _ => crumbs(&chain),
    };
    if let Some(model) = models.first() {
        trail.push(Crumb {
            label: model.name.clone(),
            href: model_href(&model.key),
        });
    }
    trail.push(Crumb {
        label: asset.name.clone(),
        href: asset_href(&asset),
    });
    Ok(AssetPage {
        crumbs: trail,
        asset,
        description: row.description,
        owner_unit: chain.last().map(|(u, _)| u.clone()),
        owners: row.owners,
        tags: row.tags,
        started_at: row.started_at.map(reads::rfc3339),
        ended_at: row.ended_at.map(reads::rfc3339),
        models,
        lineage: walk,
        serving,
        reports,
        history: history.changes,
    })
}

/// A metric's page: what it asks, its thresholds, and how the org tree spreads over its levels.
#[instrument(skip_all, fields(metric = id))]
pub async fn metric_page(
    pool: &PgPool,
    id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<MetricPage, AppError> {
    let snapshot = reads::snapshot(pool, as_of).await?;
    let metric = snapshot
        .catalog
        .metric(id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no metric {id:?} in the catalog")))?;
    let domain = snapshot.catalog.domain(&metric.domain).map_or_else(
        || ScopeName {
            scope: format!("domain:{}", metric.domain),
            label: metric.domain.clone(),
        },
        |d| ScopeName {
            scope: format!("domain:{}", d.id),
            label: d.name.clone(),
        },
    );
    let spread = reads::spread(pool, &snapshot, &format!("metric:{id}")).await?;
    Ok(MetricPage {
        metric,
        domain,
        snapshot: snapshot.meta.clone(),
        spread,
    })
}
