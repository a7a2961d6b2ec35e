//! Campaigns, whichever surface asks: editors create and close them, everyone reads them. A
//! campaign's burn-down is filled in from the snapshots kept since its start when it is created,
//! and every recompute adds a point (`record_points`), so that its page reads points instead of
//! recounting 100,000 models per day of history. Compiled only with `ssr`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::governance::parse_time;
use super::write::WriteService;
use crate::error::AppError;
use crate::model::campaign::{
    BurnPoint, Campaign, CampaignPage, MAX_NAME_CHARS, MAX_SELECTION, NewCampaign, Progress,
    SHORT_SHOWN, ShortModel, UnitProgress, exempting, goal, projection,
};
use crate::model::dashboard::{UNOWNED_NAME, UNOWNED_UNIT_ID};
use crate::model::metrics::{Catalog, Level, UnitName, lift_to};
use crate::model::record::{check_key_part, check_ref, check_tag_value};
use crate::model::registry::Stage;
use crate::model::role::Role;
use crate::model::text::{Lines, check_text};
use crate::server::auth::Caller;
use crate::server::charts;
use crate::server::metrics::reads::{Snapshot, level, rfc3339, snapshot};
use crate::server::repo::campaigns::{self as repo, Row};
use crate::server::repo::org_units;

/// The longest a campaign may run, in days.
const MAX_DAYS: i64 = 5 * 366;

fn check_words(what: &str, text: &str) -> Result<(), AppError> {
    if text.trim().is_empty() {
        return Err(AppError::BadRequest(format!("{what} must not be empty")));
    }
    check_text(what, text, MAX_NAME_CHARS, Lines::One).map_err(AppError::BadRequest)
}

/// Checks a campaign to create (everything that needs no database).
fn check(
    catalog: &Catalog,
    new: &NewCampaign,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    check_words("name", &new.name)?;
    check_words("owner", &new.owner)?;
    catalog.check_scope(&new.scope)?;
    if new.units.len() > MAX_SELECTION || new.tags.len() > MAX_SELECTION {
        return Err(AppError::BadRequest(format!(
            "a selection names at most {MAX_SELECTION} units and {MAX_SELECTION} tags"
        )));
    }
    for (i, unit) in new.units.iter().enumerate() {
        check_ref(&format!("units[{i}]"), unit).map_err(AppError::BadRequest)?;
    }
    for (key, value) in &new.tags {
        check_key_part("tag key", key).map_err(AppError::BadRequest)?;
        check_tag_value(&format!("tags.{key}"), value).map_err(AppError::BadRequest)?;
    }
    let starts = match &new.starts_at {
        Some(text) => parse_time("starts_at", text)?,
        None => now,
    };
    let deadline = parse_time("deadline", &new.deadline)?;
    if deadline <= starts {
        return Err(AppError::BadRequest(format!(
            "the deadline {} is not after the start {}",
            rfc3339(deadline),
            rfc3339(starts)
        )));
    }
    if deadline > starts + chrono::Duration::days(MAX_DAYS) {
        return Err(AppError::BadRequest(format!(
            "a campaign runs at most {MAX_DAYS} days"
        )));
    }
    Ok((starts, deadline))
}

/// Creates a campaign (editor) and fills in its burn-down from the snapshots kept since its
/// start.
pub async fn create(
    writes: &WriteService,
    catalog: &Catalog,
    caller: &Caller,
    new: &NewCampaign,
) -> Result<Campaign, AppError> {
    let (starts, deadline) = check(catalog, new, Utc::now())?;
    let exempting = exempting(catalog, &new.scope);
    let actor = caller.actor();
    let id = writes
        .run(caller, Role::Editor, |tx| {
            let (new, actor, exempting) = (new.clone(), actor.clone(), exempting.clone());
            Box::pin(async move {
                let mut unit_ids = Vec::new();
                for unit in &new.units {
                    unit_ids.push(org_units::id_of(&mut *tx, unit).await?);
                }
                let tags = serde_json::to_value(&new.tags).map_err(|_| AppError::Internal)?;
                let id = repo::insert(
                    tx,
                    repo::New {
                        name: &new.name,
                        scope: &new.scope,
                        min_level: i16::from(new.min_level.get()),
                        unit_ids: &unit_ids,
                        tags,
                        deployment_status: new.deployment_status.map(Stage::as_str),
                        starts_at: starts,
                        deadline,
                        owner: &new.owner,
                        created_by: &actor,
                    },
                )
                .await?;
                for snapshot in repo::snapshots_since(tx, starts).await? {
                    repo::record_point(tx, snapshot, id, &exempting).await?;
                }
                let summary = format!("campaign {id} “{}” created", new.name);
                repo::remember(tx, "campaign_created", &summary, id).await?;
                Ok::<_, AppError>(id)
            })
        })
        .await?;
    let mut conn = writes.pool().acquire().await?;
    let row = repo::get(&mut conn, id).await?;
    shown(&mut conn, row).await
}

/// A stored campaign as the API shows it (its units named).
async fn shown(conn: &mut PgConnection, row: Row) -> Result<Campaign, AppError> {
    let mut units = org_units::names(&mut *conn, &row.unit_ids).await?;
    units.sort_by(|a, b| a.name.cmp(&b.name));
    let tags: BTreeMap<String, String> = serde_json::from_value(row.tags).unwrap_or_default();
    let min_level = u8::try_from(row.min_level)
        .ok()
        .and_then(Level::new)
        .ok_or(AppError::Internal)?;
    let status = row.deployment_status.as_deref().and_then(Stage::parse);
    Ok(Campaign {
        goal: goal(&row.scope, min_level, &units, &tags, status),
        id: row.id,
        name: row.name,
        scope: row.scope,
        min_level,
        units,
        tags,
        deployment_status: status,
        starts_at: rfc3339(row.starts_at),
        deadline: rfc3339(row.deadline),
        owner: row.owner,
        created_by: row.created_by,
        closed_at: row.closed_at.map(rfc3339),
        closed_by: row.closed_by,
    })
}

/// Every campaign, open ones first, by deadline.
pub async fn list(pool: &PgPool) -> Result<Vec<Campaign>, AppError> {
    let rows = repo::list(pool).await?;
    let mut conn = pool.acquire().await?;
    let mut campaigns = Vec::with_capacity(rows.len());
    for row in rows {
        campaigns.push(shown(&mut conn, row).await?);
    }
    Ok(campaigns)
}

/// The campaigns that touch unit `unit` (see `repo::campaigns::touching`).
pub async fn touching(pool: &PgPool, unit: i64) -> Result<Vec<Campaign>, AppError> {
    let rows = repo::touching(pool, unit).await?;
    let mut conn = pool.acquire().await?;
    let mut campaigns = Vec::with_capacity(rows.len());
    for row in rows {
        campaigns.push(shown(&mut conn, row).await?);
    }
    Ok(campaigns)
}

/// Campaign `id` as of `as_of` (now when `None`): its progress, by unit, its burn-down, pace
/// and projection, and the models still short with what would lift each.
pub async fn page(
    pool: &PgPool,
    id: i64,
    as_of: Option<DateTime<Utc>>,
) -> Result<CampaignPage, AppError> {
    let mut conn = pool.acquire().await?;
    let row = repo::get(&mut conn, id).await?;
    drop(conn);
    let snapshot = snapshot(pool, as_of).await?;
    let exempting = exempting(&snapshot.catalog, &row.scope);
    let final_figures = row.r#final.clone();
    let snapshot_id = snapshot.meta.id;
    // Three reads at once: the figures by owner, the points, the short models.
    let (by_owner, (units_tree, company), points, short) = tokio::try_join!(
        repo::by_owner(pool, snapshot_id, id, &exempting),
        repo::tree(pool),
        repo::points(pool, id, snapshot_id),
        short_models(pool, &snapshot, &row, &exempting),
    )?;
    let roots = if row.unit_ids.is_empty() {
        company.into_iter().collect()
    } else {
        row.unit_ids.clone()
    };
    let by_unit = by_top_unit(&units_tree, &roots, &by_owner);
    let progress = by_unit
        .iter()
        .fold(Progress::default(), |p, (_, met, exempt, total)| Progress {
            met: p.met + met,
            exempt: p.exempt + exempt,
            total: p.total + total,
        });
    let units = named_units(pool, &by_unit).await?;
    let burn_down: Vec<BurnPoint> = points
        .into_iter()
        .map(|(at, met, exempt, total)| BurnPoint {
            at: rfc3339(at),
            progress: Progress {
                met: i64::from(met),
                exempt: i64::from(exempt),
                total: i64::from(total),
            },
        })
        .collect();
    let (pace_per_week, projected) = pace(&burn_down, &snapshot, progress);
    let drawn: Vec<(DateTime<Utc>, i64)> = burn_down
        .iter()
        .filter_map(|p| {
            let at = DateTime::parse_from_rfc3339(&p.at).ok()?;
            Some((at.with_timezone(&Utc), p.progress.short()))
        })
        .collect();
    let burn_down_svg = charts::burn_down(
        "Models short of the goal",
        &drawn,
        row.starts_at,
        row.deadline,
    );
    let mut conn = pool.acquire().await?;
    Ok(CampaignPage {
        campaign: shown(&mut conn, row).await?,
        snapshot: snapshot.meta,
        progress,
        units,
        burn_down,
        burn_down_svg,
        pace_per_week,
        projected,
        short,
        final_figures,
    })
}

/// The pace from the first point of the burn-down to the results read now.
fn pace(points: &[BurnPoint], snapshot: &Snapshot, now: Progress) -> (Option<f64>, Option<String>) {
    let seconds = |at: &str| {
        DateTime::parse_from_rfc3339(at)
            .map(|t| t.timestamp())
            .unwrap_or_default()
    };
    let Some(first) = points.first() else {
        return (None, None);
    };
    projection(
        (seconds(&first.at), first.progress.short()),
        (seconds(&snapshot.meta.computed_at), now.short()),
        |t| {
            DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        },
    )
}

/// Sums the figures by owner up to the units a campaign's page breaks down by: each unit directly
/// below a root (a selected unit, or the company), the root itself for its own models, and unit
/// 0 for the models no unit owns.
fn by_top_unit(
    units: &[(i64, Option<i64>)],
    roots: &[i64],
    by_owner: &[(Option<i64>, i64, i64, i64)],
) -> Vec<(i64, i64, i64, i64)> {
    let parent: HashMap<i64, Option<i64>> = units.iter().copied().collect();
    let top = |owner: i64| {
        let mut at = owner;
        // The tree has no cycles (a trigger refuses them); the bound only guards a broken one.
        for _ in 0..=units.len() {
            if roots.contains(&at) {
                return at;
            }
            match parent.get(&at).copied().flatten() {
                Some(up) if roots.contains(&up) => return at,
                Some(up) => at = up,
                None => return at,
            }
        }
        at
    };
    let mut sums: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for (owner, met, exempt, total) in by_owner {
        let unit = owner.map_or(0, top);
        let sum = sums.entry(unit).or_default();
        sum.0 += met;
        sum.1 += exempt;
        sum.2 += total;
    }
    sums.into_iter()
        .map(|(unit, (met, exempt, total))| (unit, met, exempt, total))
        .collect()
}

async fn named_units(
    pool: &PgPool,
    by_unit: &[(i64, i64, i64, i64)],
) -> Result<Vec<UnitProgress>, AppError> {
    let ids: Vec<i64> = by_unit.iter().map(|(id, ..)| *id).collect();
    let names: HashMap<i64, UnitName> = org_units::names(pool, &ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut units: Vec<UnitProgress> = by_unit
        .iter()
        .map(|(id, met, exempt, total)| UnitProgress {
            unit: names.get(id).cloned().unwrap_or_else(|| UnitName {
                id: UNOWNED_UNIT_ID,
                source: String::new(),
                external_id: String::new(),
                name: UNOWNED_NAME.into(),
            }),
            progress: Progress {
                met: *met,
                exempt: *exempt,
                total: *total,
            },
        })
        .collect();
    // The most short first: where the work is.
    units.sort_by(|a, b| {
        b.progress
            .short()
            .cmp(&a.progress.short())
            .then_with(|| a.unit.name.cmp(&b.unit.name))
    });
    Ok(units)
}

/// The selected models short of the goal, with what would lift each: for a metric, its own
/// next step; for a domain, each of its metrics below the goal; overall, each domain below it.
async fn short_models(
    pool: &PgPool,
    snapshot: &Snapshot,
    row: &Row,
    exempting: &[String],
) -> Result<Vec<ShortModel>, AppError> {
    let rows = repo::short(pool, snapshot.meta.id, row.id, exempting, SHORT_SHOWN).await?;
    let ids: Vec<i64> = rows.iter().map(|(id, ..)| *id).collect();
    let names = crate::server::repo::reads::asset_names(pool, &ids).await?;
    let catalog = &snapshot.catalog;
    let wanted = row.min_level;
    let target = u8::try_from(wanted)
        .ok()
        .and_then(Level::new)
        .unwrap_or(Level::OPTIMIZED);
    Ok(rows
        .into_iter()
        .filter_map(|(id, scope_level, values, levels)| {
            let (key, name) = names.get(&id)?.clone();
            let below = |i: usize| levels.get(i).copied().flatten().is_none_or(|l| l < wanted);
            let lifts: Vec<String> = catalog
                .metrics
                .iter()
                .enumerate()
                .filter(|(_, m)| match row.scope.split_once(':') {
                    Some(("metric", metric)) => m.id == metric,
                    Some(("domain", domain)) => m.domain == domain,
                    _ => true,
                })
                .filter(|(i, _)| below(*i))
                .filter_map(|(i, m)| {
                    lift_to(m, values.get(i).copied().flatten(), target)
                        .map(|l| format!("{}: {l}", m.id))
                })
                .collect();
            Some(ShortModel {
                model: key,
                name,
                level: level(scope_level),
                lift: lifts,
            })
        })
        .collect())
}

/// Closes campaign `id` (editor), keeping its figures as they are now.
pub async fn close(writes: &WriteService, caller: &Caller, id: i64) -> Result<Campaign, AppError> {
    let figures = page(writes.pool(), id, None).await?;
    let kept = json!({
        "progress": figures.progress,
        "units": figures.units,
        "short": figures.short,
        "snapshot": figures.snapshot,
    });
    let actor = caller.actor();
    writes
        .run(caller, Role::Editor, |tx| {
            let (kept, actor) = (kept.clone(), actor.clone());
            Box::pin(async move {
                let row = repo::locked(tx, id).await?;
                if row.closed_at.is_some() {
                    return Err(AppError::Conflict(format!(
                        "campaign {id} is closed already; its final figures stay as they were"
                    )));
                }
                repo::close(tx, id, &actor, &kept).await?;
                repo::remember(
                    tx,
                    "campaign_closed",
                    &format!("campaign {id} “{}” closed", row.name),
                    id,
                )
                .await?;
                Ok(())
            })
        })
        .await?;
    let mut conn = writes.pool().acquire().await?;
    let row = repo::get(&mut conn, id).await?;
    shown(&mut conn, row).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_sum_up_to_the_units_below_the_roots() {
        // company 1 > org 2 > team 3; company 1 > org 4.
        let units = [(1, None), (2, Some(1)), (3, Some(2)), (4, Some(1))];
        let by_owner = [
            (Some(3), 1, 0, 2),
            (Some(2), 0, 1, 1),
            (Some(4), 1, 0, 1),
            (Some(1), 0, 0, 1),
            (None, 0, 0, 3),
        ];
        assert_eq!(
            by_top_unit(&units, &[1], &by_owner),
            vec![(0, 0, 0, 3), (1, 0, 0, 1), (2, 1, 1, 3), (4, 1, 0, 1)]
        );
        // Selecting org 2: its team, and its own models at itself.
        assert_eq!(
            by_top_unit(&units, &[2], &by_owner[..2]),
            vec![(2, 0, 1, 1), (3, 1, 0, 2)]
        );
    }
}
