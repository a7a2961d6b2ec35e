//! Campaigns' SQL: creating and closing them, their burn-down points, and the three reads of a
//! campaign at a snapshot (its figures, by unit, and the models still short). The reads share
//! one selection, [`SELECTED`], so that they cannot disagree on which models a campaign holds.
//! Compiled only with `ssr`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::AppError;
use crate::model::campaign::exempting;
use crate::model::metrics::Catalog;

/// The model sources campaign `$2` selects at snapshot `$1`, each with its level in the
/// campaign's scope then and whether an exemption (one of the scopes `$3`) covered it then:
/// their owning unit (then) at or below a selected unit, carrying every selected tag (now: the
/// graph keeps no past tags), with a deployment in the selected status: for production, as the
/// snapshot judged it (a model judged on its production binaries has one), which costs nothing;
/// for another status, now, from the graph (a walk over every deployment: about a second at
/// 100,000 model sources).
const SELECTED: &str = r"
WITH RECURSIVE
c AS (SELECT * FROM campaigns WHERE id = $2),
s AS (
    SELECT m.id, m.computed_at, array_position(m.scopes, c.scope) AS pos
    FROM metric_snapshots m, c WHERE m.id = $1
),
below(id) AS (
    SELECT unnest(unit_ids) FROM c
    UNION
    SELECT u.id FROM org_units u JOIN below b ON u.parent_id = b.id
),
deployed AS (
    SELECT DISTINCT m.from_id AS id
    FROM c
    JOIN assets dep ON dep.kind = 'deployment' AND dep.status = c.deployment_status
    JOIN edges d ON d.to_id = dep.id AND d.from_kind = 'model_binary'
    JOIN edges r ON r.to_id = d.from_id AND r.from_kind = 'workflow_run'
    JOIN edges m ON m.to_id = r.from_id AND m.from_kind = 'model_source'
    WHERE c.deployment_status <> 'production'
),
exempt AS (
    SELECT DISTINCT e.model_id FROM exemptions e, s
    WHERE e.scope = ANY($3) AND e.approved_at <= s.computed_at AND e.expires_at > s.computed_at
      AND (e.revoked_at IS NULL OR e.revoked_at > s.computed_at)
),
selected AS (
    SELECT r.model_id, r.owner_unit_id, r.metric_values, r.metric_levels,
           (r.metric_levels || r.domain_levels || ARRAY[r.overall_level])[s.pos] AS level,
           r.model_id IN (SELECT model_id FROM exempt) AS exempt,
           c.min_level
    FROM model_results r, s, c
    WHERE r.snapshot_id <= s.id AND r.valid_to > s.id AND s.pos IS NOT NULL
      AND (cardinality(c.unit_ids) = 0 OR r.owner_unit_id IN (SELECT id FROM below))
      AND (c.tags = '{}'::jsonb
           OR EXISTS (SELECT 1 FROM assets a WHERE a.id = r.model_id AND a.tags @> c.tags))
      AND (c.deployment_status IS NULL
           OR (c.deployment_status = 'production' AND r.judged_on = 'production')
           OR (c.deployment_status <> 'production' AND r.model_id IN (SELECT id FROM deployed)))
)
";

/// A campaign as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub min_level: i16,
    pub unit_ids: Vec<i64>,
    pub tags: serde_json::Value,
    pub deployment_status: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub owner: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub r#final: Option<serde_json::Value>,
}

const COLUMNS: &str = "id, name, scope, min_level, unit_ids, tags, deployment_status, starts_at, deadline, owner, created_by, created_at, closed_by, closed_at, final";

/// A campaign to create, with its units already resolved to ids.
pub struct New<'a> {
    pub name: &'a str,
    pub scope: &'a str,
    pub min_level: i16,
    pub unit_ids: &'a [i64],
    pub tags: serde_json::Value,
    pub deployment_status: Option<&'a str>,
    pub starts_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub owner: &'a str,
    pub created_by: &'a str,
}

pub async fn insert(tx: &mut PgConnection, new: New<'_>) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"
        INSERT INTO campaigns (name, scope, min_level, unit_ids, tags, deployment_status,
                               starts_at, deadline, owner, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING id
        "#,
        new.name,
        new.scope,
        new.min_level,
        new.unit_ids,
        new.tags,
        new.deployment_status,
        new.starts_at,
        new.deadline,
        new.owner,
        new.created_by,
    )
    .fetch_one(&mut *tx)
    .await?)
}

/// Records a campaign's change in the history (it moves the data generation, so kept pages
/// turn over).
pub async fn remember(
    tx: &mut PgConnection,
    op: &str,
    summary: &str,
    campaign: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"
        INSERT INTO changes (actor, subject, op, after)
        VALUES (modelgov_actor(), 'operation', $1, jsonb_build_object('summary', $2::text, 'campaign', $3::bigint))
        "#,
        op,
        summary,
        campaign,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get(db: &mut PgConnection, id: i64) -> Result<Row, AppError> {
    sqlx::query_as::<_, Row>(&format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no campaign {id}")))
}

/// Locked until the transaction ends (closing twice at once closes once).
pub async fn locked(tx: &mut PgConnection, id: i64) -> Result<Row, AppError> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no campaign {id}")))
}

/// Every campaign, open ones first, then by deadline.
pub async fn list(pool: &PgPool) -> Result<Vec<Row>, AppError> {
    Ok(sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM campaigns ORDER BY closed_at IS NOT NULL, deadline, id LIMIT 1000"
    ))
    .fetch_all(pool)
    .await?)
}

/// The campaigns whose selection touches unit `unit`: company-wide ones, and those selecting
/// the unit, a unit above it or a unit below it.
pub async fn touching(pool: &PgPool, unit: i64) -> Result<Vec<Row>, AppError> {
    Ok(sqlx::query_as::<_, Row>(&format!(
        r"
        WITH RECURSIVE up(id) AS (
            SELECT $1::bigint
            UNION
            SELECT u.parent_id FROM org_units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL
        ),
        down(id) AS (
            SELECT $1::bigint
            UNION
            SELECT u.id FROM org_units u JOIN down d ON u.parent_id = d.id
        )
        SELECT {COLUMNS} FROM campaigns c
        WHERE cardinality(c.unit_ids) = 0
           OR c.unit_ids && (SELECT array_agg(id) FROM up)
           OR c.unit_ids && (SELECT array_agg(id) FROM down)
        ORDER BY c.closed_at IS NOT NULL, c.deadline, c.id
        LIMIT 100
        "
    ))
    .bind(unit)
    .fetch_all(pool)
    .await?)
}

pub async fn close(
    tx: &mut PgConnection,
    id: i64,
    actor: &str,
    figures: &serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE campaigns SET closed_by = $2, closed_at = now(), final = $3 WHERE id = $1",
        id,
        actor,
        figures,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records campaign `campaign`'s point at snapshot `snapshot` (`exempting`: the scopes whose
/// exemptions cover the campaign's scope); a point already there stays.
pub async fn record_point(
    db: &mut PgConnection,
    snapshot: i64,
    campaign: i64,
    exempting: &[String],
) -> Result<(), AppError> {
    sqlx::query(&format!(
        r"{SELECTED}
        INSERT INTO campaign_points (campaign_id, snapshot_id, at, met, exempt, total)
        SELECT $2, s.id, s.computed_at,
               count(x.model_id) FILTER (WHERE NOT x.exempt AND x.level >= x.min_level),
               count(x.model_id) FILTER (WHERE x.exempt),
               count(x.model_id)
        FROM s LEFT JOIN selected x ON true
        GROUP BY s.id, s.computed_at
        ON CONFLICT DO NOTHING
        "
    ))
    .bind(snapshot)
    .bind(campaign)
    .bind(exempting)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The open campaigns that had started by `at`, with their scopes (for the recompute).
pub async fn open_at(
    db: &mut PgConnection,
    at: DateTime<Utc>,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, scope FROM campaigns WHERE closed_at IS NULL AND starts_at <= $1",
    )
    .bind(at)
    .fetch_all(&mut *db)
    .await?)
}

/// The snapshots a new campaign's burn-down is filled in from: the last of each day from its
/// start, and the newest.
pub async fn snapshots_since(
    db: &mut PgConnection,
    since: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"
        SELECT max(id) AS "id!" FROM metric_snapshots WHERE computed_at >= $1
        GROUP BY date_trunc('day', computed_at)
        ORDER BY 1
        "#,
        since,
    )
    .fetch_all(&mut *db)
    .await?)
}

/// A burn-down point: when, how many met the goal, were exempt, were selected.
pub type Point = (DateTime<Utc>, i32, i32, i32);

/// Campaign `campaign`'s points up to snapshot `snapshot`, oldest first. They go with their
/// snapshots when those are thinned: every point of the last two days stays, and the last of
/// each day before.
pub async fn points(pool: &PgPool, campaign: i64, snapshot: i64) -> Result<Vec<Point>, AppError> {
    Ok(sqlx::query_as(
        r"
        SELECT at, met, exempt, total FROM campaign_points
        WHERE campaign_id = $1 AND snapshot_id <= $2
        ORDER BY at, snapshot_id
        ",
    )
    .bind(campaign)
    .bind(snapshot)
    .fetch_all(pool)
    .await?)
}

/// The campaign's figures by owning unit (as of the snapshot; `None`: no unit owns them): owner,
/// met, exempt, selected. The service sums them up to the units the page breaks down by.
pub async fn by_owner(
    pool: &PgPool,
    snapshot: i64,
    campaign: i64,
    exempting: &[String],
) -> Result<Vec<(Option<i64>, i64, i64, i64)>, AppError> {
    Ok(sqlx::query_as(&format!(
        r"{SELECTED}
        SELECT owner_unit_id,
               count(*) FILTER (WHERE NOT exempt AND level >= min_level),
               count(*) FILTER (WHERE exempt),
               count(*)
        FROM selected
        GROUP BY owner_unit_id
        "
    ))
    .bind(snapshot)
    .bind(campaign)
    .bind(exempting)
    .fetch_all(pool)
    .await?)
}

/// Every org unit with its parent, and the company, for summing up the tree in memory.
pub async fn tree(pool: &PgPool) -> Result<(Vec<(i64, Option<i64>)>, Option<i64>), AppError> {
    let units = sqlx::query_as("SELECT id, parent_id FROM org_units")
        .fetch_all(pool)
        .await?;
    let company: Option<i64> = sqlx::query_scalar("SELECT modelgov_company()")
        .fetch_one(pool)
        .await?;
    Ok((units, company))
}

/// A model still short of the goal: id, level in the scope, metric values and levels.
pub type Short = (i64, Option<i16>, Vec<Option<f64>>, Vec<Option<i16>>);

/// The selected models short of the goal (not exempt, below the level or unknown), lowest
/// first, `limit` of them.
pub async fn short(
    pool: &PgPool,
    snapshot: i64,
    campaign: i64,
    exempting: &[String],
    limit: i64,
) -> Result<Vec<Short>, AppError> {
    Ok(sqlx::query_as(&format!(
        r"{SELECTED}
        SELECT model_id, level, metric_values, metric_levels FROM selected
        WHERE NOT exempt AND (level IS NULL OR level < min_level)
        ORDER BY coalesce(level, -1), model_id
        LIMIT $4
        "
    ))
    .bind(snapshot)
    .bind(campaign)
    .bind(exempting)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The newest snapshot id (the results now).
pub async fn newest_snapshot(db: &mut PgConnection) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!("SELECT max(id) FROM metric_snapshots")
        .fetch_one(&mut *db)
        .await?)
}

/// Adds each open campaign's point for the snapshot a recompute is writing (in its
/// transaction).
pub async fn record_points(
    tx: &mut PgConnection,
    catalog: &Catalog,
    snapshot: i64,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    for (campaign, scope) in open_at(tx, at).await? {
        record_point(tx, snapshot, campaign, &exempting(catalog, &scope)).await?;
    }
    Ok(())
}
