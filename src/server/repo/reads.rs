//! Reads of the graph: single assets, lineage walks, history, search, and serving as of a time.
//! Compiled only with `ssr`.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgExecutor, PgPool};
use tracing::instrument;

use crate::error::AppError;
use crate::model::graph::{
    AssetSummary, Change, Direction, History, LINEAGE_MAX_DEPTH, LINEAGE_MAX_NODES, Lineage,
    LineageEdge, LineageNode, SearchHit, SearchPage, Serving, ServingAsOf, ServingPeriod, UnitHit,
};
use crate::model::metrics::UnitName;
use crate::model::record::{AssetKind, Ref};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn kind(value: &str) -> Result<AssetKind, AppError> {
    AssetKind::parse(value).ok_or_else(|| {
        tracing::error!(kind = value, "the database holds an unknown kind");
        AppError::Internal
    })
}

/// The id of the asset with this external key, or 404 naming it.
pub async fn asset_id(db: impl PgExecutor<'_>, key: &Ref) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "SELECT id FROM assets WHERE source = $1 AND external_id = $2",
        key.source,
        key.id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no asset {key}")))
}

/// Walks the lineage from `root`: one recursive statement for the nodes, one for the edges among
/// them. `depth` above the hard cap is walked to the cap and reported truncated if more lay beyond.
#[instrument(skip_all, fields(root = %root, ?direction, depth))]
pub async fn lineage(
    db: &sqlx::PgPool,
    root: &Ref,
    direction: Direction,
    depth: u32,
) -> Result<Lineage, AppError> {
    let root_id = asset_id(db, root).await?;
    let capped = depth.min(LINEAGE_MAX_DEPTH);
    // Past the cap, walk one step more to learn whether the cap cut anything.
    let walk_depth = if depth > LINEAGE_MAX_DEPTH {
        capped + 1
    } else {
        capped
    };
    let row_cap = i64::from(LINEAGE_MAX_NODES) * i64::from(walk_depth + 1) + 1;
    let rows = sqlx::query_file!(
        "queries/lineage.sql",
        root_id,
        direction != Direction::Down,
        direction != Direction::Up,
        i32::try_from(walk_depth).unwrap_or(i32::MAX),
        row_cap,
    )
    .fetch_all(db)
    .await?;
    let mut truncated = rows.first().is_some_and(|row| row.hit_row_cap);
    let mut nodes = Vec::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        if row.distance.unsigned_abs() > capped {
            truncated = true;
            continue;
        }
        if nodes.len() >= LINEAGE_MAX_NODES as usize {
            truncated = true;
            break;
        }
        ids.push(row.id);
        nodes.push(LineageNode {
            asset: AssetSummary {
                key: Ref {
                    source: row.source,
                    id: row.external_id,
                },
                kind: kind(&row.kind)?,
                name: row.name,
                status: row.status,
            },
            distance: row.distance,
        });
    }
    let edges = sqlx::query!(
        r#"
        SELECT f.source AS from_source, f.external_id AS from_id,
               t.source AS to_source, t.external_id AS to_id
        FROM edges e
        JOIN assets f ON f.id = e.from_id
        JOIN assets t ON t.id = e.to_id
        WHERE e.from_id = ANY($1::bigint[]) AND e.to_id = ANY($1::bigint[])
        ORDER BY e.from_id, e.to_id
        "#,
        &ids,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| LineageEdge {
        from: Ref {
            source: row.from_source,
            id: row.from_id,
        },
        to: Ref {
            source: row.to_source,
            id: row.to_id,
        },
    })
    .collect();
    Ok(Lineage {
        root: root.clone(),
        direction,
        depth: capped,
        nodes,
        edges,
        truncated,
    })
}

/// The asset's changes, newest first, `limit` at a time, older than change `before`.
#[instrument(skip_all, fields(asset = %key))]
pub async fn history(
    db: &sqlx::PgPool,
    key: &Ref,
    limit: i64,
    before: Option<i64>,
) -> Result<History, AppError> {
    let id = asset_id(db, key).await?;
    // For a link, the asset at its other end, so that the history can name it.
    let rows = sqlx::query!(
        r#"
        SELECT c.id, c.at, c.actor, c.subject, c.op, c.before, c.after,
               o.source AS "other_source?", o.external_id AS "other_id?",
               o.kind::text AS "other_kind?", o.name AS "other_name?", o.status AS other_status
        FROM changes c
        LEFT JOIN assets o ON c.subject = 'edge'
            AND o.id = CASE WHEN c.asset_id = $1 THEN c.related_id ELSE c.asset_id END
        WHERE (c.asset_id = $1 OR c.related_id = $1) AND c.id < $2
        ORDER BY c.id DESC
        LIMIT $3
        "#,
        id,
        before.unwrap_or(i64::MAX),
        limit + 1,
    )
    .fetch_all(db)
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let changes: Vec<Change> =
        rows.into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|row| Change {
                id: row.id,
                at: rfc3339(row.at),
                actor: row.actor,
                subject: row.subject,
                op: row.op,
                before: row.before,
                after: row.after,
                other: match (
                    row.other_source,
                    row.other_id,
                    row.other_kind,
                    row.other_name,
                ) {
                    (Some(source), Some(id), Some(kind), Some(name)) => AssetKind::parse(&kind)
                        .map(|kind| AssetSummary {
                            key: Ref { source, id },
                            kind,
                            name,
                            status: row.other_status,
                        }),
                    _ => None,
                },
            })
            .collect();
    let next_before = if more {
        changes.last().map(|c| c.id)
    } else {
        None
    };
    Ok(History {
        asset: key.clone(),
        changes,
        next_before,
    })
}

/// Escapes `%`, `_` and `\` so that a search text matches literally inside LIKE.
pub fn like_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Assets whose name or description contains `text`, of `kind`, carrying all of `tags`: exact
/// names first, then by kind as a reader looks for them (model sources, deployments, binaries,
/// datasets, logical features, feature sources, and runs last, since there are many), then
/// oldest first. On the first page of a text search with no kind or tag, the org units whose name
/// contains the text too.
#[instrument(skip_all, fields(text = %query.text, kind = ?query.kind))]
pub async fn search(
    db: &sqlx::PgPool,
    query: &crate::model::params::SearchQuery,
    limit: i64,
) -> Result<SearchPage, AppError> {
    let text = query.text.as_str();
    let kind = query.kind.map(AssetKind::as_str);
    let tags = serde_json::to_value(&query.tags).unwrap_or_else(|_| serde_json::json!({}));
    let offset = query.offset;
    let rows = sqlx::query!(
        r#"
        SELECT a.source, a.external_id, a.kind::text AS "kind!", a.name, a.status,
               a.description, a.tags, o.name AS "owner?"
        FROM assets a
        LEFT JOIN org_units o ON o.id = a.owner_unit_id
        WHERE ($6 = '' OR a.search_text LIKE $1)
          AND ($2::text IS NULL OR a.kind = $2::text::asset_kind)
          AND a.tags @> $3
        ORDER BY (lower(a.name) = $6) DESC,
                 array_position(ARRAY['model_source', 'deployment', 'model_binary', 'dataset',
                                      'logical_feature', 'feature_source', 'workflow_run'],
                                a.kind::text),
                 a.id
        LIMIT $4 OFFSET $5
        "#,
        like_pattern(text),
        kind,
        tags,
        limit + 1,
        offset,
        text.to_lowercase(),
    )
    .fetch_all(db)
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let hits = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|row| {
            Ok(SearchHit {
                asset: AssetSummary {
                    key: Ref {
                        source: row.source,
                        id: row.external_id,
                    },
                    kind: self::kind(&row.kind)?,
                    name: row.name,
                    status: row.status,
                },
                description: row.description,
                tags: row.tags,
                owner: row.owner,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let units = if offset == 0 && !text.is_empty() && kind.is_none() && query.tags.is_empty() {
        sqlx::query!(
            r#"
            WITH RECURSIVE found AS (
                SELECT id, source, external_id, name, parent_id
                FROM org_units
                WHERE lower(name) LIKE $1
                ORDER BY (lower(name) = $2) DESC, name, id
                LIMIT 20
            ),
            up(found_id, id, depth) AS (
                SELECT f.id, f.parent_id, 1 FROM found f WHERE f.parent_id IS NOT NULL
                UNION ALL
                SELECT up.found_id, u.parent_id, up.depth + 1
                FROM up JOIN org_units u ON u.id = up.id
                WHERE u.parent_id IS NOT NULL AND up.depth < 64
            )
            SELECT f.id, f.source, f.external_id, f.name,
                   coalesce((SELECT array_agg(u.name ORDER BY up.depth DESC)
                             FROM up JOIN org_units u ON u.id = up.id
                             WHERE up.found_id = f.id), '{}') AS "ancestors!"
            FROM found f
            ORDER BY (lower(f.name) = $2) DESC, f.name, f.id
            "#,
            like_pattern(text),
            text.to_lowercase(),
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|row| UnitHit {
            unit: UnitName {
                id: row.id,
                source: row.source,
                external_id: row.external_id,
                name: row.name,
            },
            ancestors: row.ancestors,
        })
        .collect()
    } else {
        Vec::new()
    };
    Ok(SearchPage {
        hits,
        next_offset: more.then_some(offset + limit),
        units,
    })
}

/// Every period in which a deployment of `key` served a binary, newest first (at most `limit`):
/// for a deployment, what it served; for a model source, every deployment of one of its
/// binaries; for a binary, where it served.
#[instrument(skip_all, fields(asset = %key))]
pub async fn serving_history(
    db: &sqlx::PgPool,
    key: &Ref,
    limit: i64,
) -> Result<Vec<ServingPeriod>, AppError> {
    let id = asset_id(db, key).await?;
    let rows = sqlx::query!(
        r#"
        SELECT d.source AS dep_source, d.external_id AS dep_id, d.name AS dep_name,
               d.status AS dep_status,
               b.source AS bin_source, b.external_id AS bin_id, b.name AS bin_name,
               b.status AS bin_status, p.since AS "since!", p.until
        FROM modelgov_serving_periods($1) p
        JOIN assets d ON d.id = p.deployment_id
        JOIN assets b ON b.id = p.binary_id
        ORDER BY p.since DESC, d.name
        LIMIT $2
        "#,
        id,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ServingPeriod {
            deployment: AssetSummary {
                key: Ref {
                    source: row.dep_source,
                    id: row.dep_id,
                },
                kind: AssetKind::Deployment,
                name: row.dep_name,
                status: row.dep_status,
            },
            binary: AssetSummary {
                key: Ref {
                    source: row.bin_source,
                    id: row.bin_id,
                },
                kind: AssetKind::ModelBinary,
                name: row.bin_name,
                status: row.bin_status,
            },
            since: rfc3339(row.since),
            until: row.until.map(rfc3339),
        })
        .collect())
}

/// Which binary each deployment of `key` served at `as_of`: for a deployment, itself; for a model
/// source, every deployment that served one of its binaries; for a binary, where it served.
#[instrument(skip_all, fields(asset = %key))]
pub async fn serving_as_of(
    db: &sqlx::PgPool,
    key: &Ref,
    as_of: DateTime<Utc>,
) -> Result<ServingAsOf, AppError> {
    let id = asset_id(db, key).await?;
    let rows = sqlx::query!(
        r#"
        SELECT d.source AS dep_source, d.external_id AS dep_id, d.name AS dep_name,
               b.source AS bin_source, b.external_id AS bin_id, p.since AS "since!", p.until,
               (SELECT c.after ->> 'status' FROM changes c
                WHERE c.asset_id = d.id AND c.subject = 'asset' AND c.at <= $2
                ORDER BY c.id DESC LIMIT 1) AS status
        FROM modelgov_serving_periods($1) p
        JOIN assets d ON d.id = p.deployment_id
        JOIN assets b ON b.id = p.binary_id
        WHERE p.since <= $2 AND (p.until IS NULL OR p.until > $2)
        ORDER BY d.source, d.external_id
        "#,
        id,
        as_of,
    )
    .fetch_all(db)
    .await?;
    Ok(ServingAsOf {
        asset: key.clone(),
        as_of: rfc3339(as_of),
        serving: rows
            .into_iter()
            .map(|row| Serving {
                deployment: Ref {
                    source: row.dep_source,
                    id: row.dep_id,
                },
                deployment_name: row.dep_name,
                binary: Ref {
                    source: row.bin_source,
                    id: row.bin_id,
                },
                status: row.status,
                since: rfc3339(row.since),
                until: row.until.map(rfc3339),
            })
            .collect(),
    })
}

/// What the data behind every page is at: the newest metric snapshot and the newest change to
/// the graph (0 for none). A page rendered at one generation holds until it moves.
pub async fn data_generation(pool: &PgPool) -> Result<(i64, i64), AppError> {
    let row = sqlx::query!(
        r#"
        SELECT (SELECT id FROM metric_snapshots ORDER BY computed_at DESC, id DESC LIMIT 1) AS snapshot,
               (SELECT max(id) FROM changes) AS change
        "#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.snapshot.unwrap_or(0), row.change.unwrap_or(0)))
}

/// The newest snapshot computed at or before `at`, as `metrics::reads::snapshot` picks it.
pub async fn snapshot_id_at(pool: &PgPool, at: DateTime<Utc>) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM metric_snapshots WHERE computed_at <= $1 ORDER BY computed_at DESC, id DESC LIMIT 1",
        at,
    )
    .fetch_optional(pool)
    .await?)
}

/// What a model source's page shows of the asset itself: description, named owners, tags and
/// owning unit. `None` when no model source has this key.
pub async fn model_source_facts(
    pool: &PgPool,
    key: &Ref,
) -> Result<Option<ModelSourceFacts>, AppError> {
    Ok(sqlx::query_as!(
        ModelSourceFacts,
        r#"
        SELECT a.description, a.owners, a.tags, a.owner_unit_id
        FROM assets a WHERE a.source = $1 AND a.external_id = $2 AND a.kind = 'model_source'
        "#,
        key.source,
        key.id,
    )
    .fetch_optional(pool)
    .await?)
}

/// See [`model_source_facts`].
pub struct ModelSourceFacts {
    pub description: String,
    pub owners: Vec<String>,
    pub tags: serde_json::Value,
    pub owner_unit_id: Option<i64>,
}

/// What any asset's page shows of the asset itself. `None` when no asset has this key.
pub async fn asset_facts(pool: &PgPool, key: &Ref) -> Result<Option<AssetFacts>, AppError> {
    Ok(sqlx::query_as!(
        AssetFacts,
        r#"
        SELECT a.id, a.kind::text AS "kind!", a.name, a.status, a.description, a.owners, a.tags,
               a.owner_unit_id, a.started_at, a.ended_at
        FROM assets a WHERE a.source = $1 AND a.external_id = $2
        "#,
        key.source,
        key.id,
    )
    .fetch_optional(pool)
    .await?)
}

/// See [`asset_facts`].
pub struct AssetFacts {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub status: Option<String>,
    pub description: String,
    pub owners: Vec<String>,
    pub tags: serde_json::Value,
    pub owner_unit_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The newest report of each measurement on the asset with this id, by name.
pub async fn latest_reports(
    pool: &PgPool,
    asset_id: i64,
) -> Result<Vec<(String, f64, DateTime<Utc>)>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT DISTINCT ON (name) name, value, at
        FROM measurements WHERE asset_id = $1
        ORDER BY name, at DESC
        "#,
        asset_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.value, r.at)).collect())
}

/// The unit that owns the asset with this key, if any.
pub async fn owner_unit(pool: &PgPool, key: &Ref) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT owner_unit_id FROM assets WHERE source = $1 AND external_id = $2",
        key.source,
        key.id,
    )
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// The keys and names of the assets with these ids.
pub async fn asset_names(
    pool: &PgPool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, (Ref, String)>, AppError> {
    let rows = sqlx::query!(
        "SELECT id, source, external_id, name FROM assets WHERE id = ANY($1)",
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                (
                    Ref {
                        source: r.source,
                        id: r.external_id,
                    },
                    r.name,
                ),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(like_pattern("Feed"), "%feed%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
