//! Exemptions' SQL: asking, approving, renewing, revoking, listing, the ones that apply at a time
//! (for the rollups and the gates), and recording expiries. `service::governance` holds the
//! rules. Compiled only with `ssr`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::AppError;
use crate::model::governance::{Exemption, ExemptionStatus};
use crate::model::record::Ref;
use crate::server::metrics::reads::rfc3339;

/// An exemption as stored, with its model source's key and name.
struct Row {
    id: i64,
    source: String,
    external_id: String,
    model_name: String,
    scope: String,
    reason: String,
    status: String,
    requested_by: String,
    requested_at: DateTime<Utc>,
    approved_by: Option<String>,
    approved_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

impl From<Row> for Exemption {
    fn from(r: Row) -> Self {
        Exemption {
            id: r.id,
            model: Ref {
                source: r.source,
                id: r.external_id,
            },
            model_name: r.model_name,
            scope: r.scope,
            reason: r.reason,
            status: ExemptionStatus::parse(&r.status).unwrap_or(ExemptionStatus::Revoked),
            requested_by: r.requested_by,
            requested_at: rfc3339(r.requested_at),
            approved_by: r.approved_by,
            approved_at: r.approved_at.map(rfc3339),
            expires_at: rfc3339(r.expires_at),
        }
    }
}

/// The id of the model source with this key: 404 when there is none, 409 for another kind.
pub async fn model_source_id(conn: &mut PgConnection, key: &Ref) -> Result<i64, AppError> {
    let id: Option<(i64, String)> =
        sqlx::query_as("SELECT id, kind::text FROM assets WHERE source = $1 AND external_id = $2")
            .bind(&key.source)
            .bind(&key.id)
            .fetch_optional(&mut *conn)
            .await?;
    match id {
        Some((id, kind)) if kind == "model_source" => Ok(id),
        Some((_, kind)) => Err(AppError::Conflict(format!(
            "{key} is a {}, not a model source",
            kind.replace('_', " ")
        ))),
        None => Err(AppError::NotFound(format!("no model source {key}"))),
    }
}

/// A new exemption; approved at once when `approved_by` is given. Returns its id.
pub async fn insert(
    tx: &mut PgConnection,
    model_id: i64,
    scope: &str,
    reason: &str,
    requested_by: &str,
    approved_by: Option<&str>,
    expires_at: DateTime<Utc>,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"
        INSERT INTO exemptions (model_id, scope, reason, requested_by, approved_by, approved_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END, $6)
        RETURNING id
        "#,
        model_id,
        scope,
        reason,
        requested_by,
        approved_by,
        expires_at,
    )
    .fetch_one(&mut *tx)
    .await?)
}

/// The exemption of `model_id` for `scope` that is asked for or applies now, if any.
pub async fn open_for(
    tx: &mut PgConnection,
    model_id: i64,
    scope: &str,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM exemptions WHERE model_id = $1 AND scope = $2 AND revoked_at IS NULL AND expires_at > now() LIMIT 1",
        model_id,
        scope,
    )
    .fetch_optional(&mut *tx)
    .await?)
}

/// One exemption, locked until the transaction ends; with its model source's id.
pub async fn locked(tx: &mut PgConnection, id: i64) -> Result<(i64, Exemption), AppError> {
    let model_id = sqlx::query_scalar!(
        "SELECT model_id FROM exemptions WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no exemption {id}")))?;
    let exemption = one(&mut *tx, id).await?;
    Ok((model_id, exemption))
}

/// One exemption as the API shows it.
pub async fn one(db: &mut PgConnection, id: i64) -> Result<Exemption, AppError> {
    sqlx::query_as!(
        Row,
        r#"
        SELECT e.id, a.source, a.external_id, a.name AS model_name, e.scope, e.reason,
               (CASE WHEN e.revoked_at IS NOT NULL THEN 'revoked'
                     WHEN e.expires_at <= now() THEN 'expired'
                     WHEN e.approved_at IS NULL THEN 'requested'
                     ELSE 'active' END) AS "status!",
               e.requested_by, e.requested_at, e.approved_by, e.approved_at, e.expires_at
        FROM exemptions e JOIN assets a ON a.id = e.model_id
        WHERE e.id = $1
        "#,
        id,
    )
    .fetch_optional(&mut *db)
    .await?
    .map(Exemption::from)
    .ok_or_else(|| AppError::NotFound(format!("no exemption {id}")))
}

/// Exemptions, newest first: of one model source (`model_id`) or all, in one status or any.
pub async fn list(
    pool: &PgPool,
    model_id: Option<i64>,
    status: Option<ExemptionStatus>,
    limit: i64,
) -> Result<Vec<Exemption>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"
        SELECT e.id, a.source, a.external_id, a.name AS model_name, e.scope, e.reason,
               x.status AS "status!",
               e.requested_by, e.requested_at, e.approved_by, e.approved_at, e.expires_at
        FROM exemptions e
        JOIN assets a ON a.id = e.model_id
        CROSS JOIN LATERAL (
            SELECT CASE WHEN e.revoked_at IS NOT NULL THEN 'revoked'
                        WHEN e.expires_at <= now() THEN 'expired'
                        WHEN e.approved_at IS NULL THEN 'requested'
                        ELSE 'active' END AS status
        ) x
        WHERE ($1::bigint IS NULL OR e.model_id = $1) AND ($2::text IS NULL OR x.status = $2)
        ORDER BY e.id DESC
        LIMIT $3
        "#,
        model_id,
        status.map(ExemptionStatus::as_str),
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Exemption::from).collect())
}

pub async fn approve(tx: &mut PgConnection, id: i64, actor: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE exemptions SET approved_by = $2, approved_at = now() WHERE id = $1",
        id,
        actor
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn renew(
    tx: &mut PgConnection,
    id: i64,
    expires_at: DateTime<Utc>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE exemptions SET expires_at = $2, expiry_recorded = false WHERE id = $1",
        id,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn revoke(tx: &mut PgConnection, id: i64, actor: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE exemptions SET revoked_by = $2, revoked_at = now() WHERE id = $1",
        id,
        actor
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The scopes of `model_id` that an approved exemption covers at `at`.
pub async fn applying_to(
    db: &mut PgConnection,
    model_id: i64,
    at: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"
        SELECT scope FROM exemptions
        WHERE model_id = $1 AND approved_at <= $2 AND expires_at > $2
          AND (revoked_at IS NULL OR revoked_at > $2)
        "#,
        model_id,
        at,
    )
    .fetch_all(&mut *db)
    .await?)
}

/// Every (model source, scope) that an approved exemption covers at `at`, for the rollups.
pub async fn applying(
    db: &mut PgConnection,
    at: DateTime<Utc>,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        r#"
        SELECT model_id, scope FROM exemptions
        WHERE approved_at <= $1 AND expires_at > $1 AND (revoked_at IS NULL OR revoked_at > $1)
        "#,
        at,
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.model_id, r.scope)).collect())
}

/// Records in the history each approved exemption found expired at `at` for the first time
/// (the recompute calls it, so an expiry shows at the next recompute); returns how many.
pub async fn record_expiries(db: &mut PgConnection, at: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        r#"
        WITH expired AS (
            UPDATE exemptions SET expiry_recorded = true
            WHERE revoked_at IS NULL AND NOT expiry_recorded AND approved_at IS NOT NULL
              AND expires_at <= $1
            RETURNING id, model_id, scope, expires_at
        )
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before, after)
        SELECT 'system', 'operation', 'exemption_expired', x.model_id, x.model_id,
               jsonb_build_object('status', 'active'),
               jsonb_build_object(
                   'summary', format('exemption %s for %s expired', x.id, x.scope),
                   'exemption', x.id, 'scope', x.scope, 'status', 'expired',
                   'expires_at', x.expires_at)
        FROM expired x
        "#,
        at,
    )
    .execute(&mut *db)
    .await?
    .rows_affected())
}
