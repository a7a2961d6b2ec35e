//! The registry operations' reads and writes of the graph (`service::registry` decides what an
//! operation does; this is how it reads and writes it). Every function takes the operation's
//! transaction. Compiled only with `ssr`.

use sqlx::PgConnection;

use crate::error::AppError;
use crate::model::record::Ref;
use crate::model::registry::Stage;

/// An asset as the operations need it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: i64,
    pub key: Ref,
    pub name: String,
    pub status: Option<String>,
    pub owner: Option<i64>,
}

/// The asset with this key, which must be of `kind`, locked until the transaction ends (so that
/// operations on one deployment happen one after the other).
pub async fn node(tx: &mut PgConnection, key: &Ref, kind: &str) -> Result<Node, AppError> {
    let row = sqlx::query!(
        r#"
        SELECT id, kind::text AS "kind!", name, status, owner_unit_id
        FROM assets WHERE source = $1 AND external_id = $2
        FOR UPDATE
        "#,
        key.source,
        key.id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no {} {key}", kind.replace('_', " "))))?;
    if row.kind != kind {
        return Err(AppError::Conflict(format!(
            "{key} is a {}, not a {}",
            row.kind.replace('_', " "),
            kind.replace('_', " ")
        )));
    }
    Ok(Node {
        id: row.id,
        key: key.clone(),
        name: row.name,
        status: row.status,
        owner: row.owner_unit_id,
    })
}

pub async fn absent(tx: &mut PgConnection, key: &Ref) -> Result<(), AppError> {
    let existing = sqlx::query_scalar!(
        r#"SELECT kind::text AS "kind!" FROM assets WHERE source = $1 AND external_id = $2"#,
        key.source,
        key.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    match existing {
        None => Ok(()),
        Some(kind) => Err(AppError::Conflict(format!(
            "{key} already exists (a {}); pick another id",
            kind.replace('_', " ")
        ))),
    }
}

pub async fn by_id(tx: &mut PgConnection, id: i64) -> Result<Node, AppError> {
    let row = sqlx::query!(
        "SELECT source, external_id, name, status, owner_unit_id FROM assets WHERE id = $1",
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Node {
        id,
        key: Ref {
            source: row.source,
            id: row.external_id,
        },
        name: row.name,
        status: row.status,
        owner: row.owner_unit_id,
    })
}

/// The asset with this id, when there is one.
async fn by_optional_id(tx: &mut PgConnection, id: Option<i64>) -> Result<Option<Node>, AppError> {
    match id {
        Some(id) => by_id(tx, id).await.map(Some),
        None => Ok(None),
    }
}

/// The model source whose run produced this binary, if the lineage says.
pub async fn model_of_binary(tx: &mut PgConnection, binary: i64) -> Result<Option<Node>, AppError> {
    let model = sqlx::query_scalar!(
        r#"
        SELECT m.from_id FROM edges r
        JOIN edges m ON m.to_id = r.from_id AND m.from_kind = 'model_source'
        WHERE r.to_id = $1 AND r.from_kind = 'workflow_run'
        "#,
        binary
    )
    .fetch_optional(&mut *tx)
    .await?;
    by_optional_id(tx, model).await
}

/// The binary a deployment serves now.
pub async fn serving(tx: &mut PgConnection, deployment: i64) -> Result<Option<Node>, AppError> {
    let id = sqlx::query_scalar!(
        "SELECT from_id FROM edges WHERE to_id = $1 AND from_kind = 'model_binary'",
        deployment
    )
    .fetch_optional(&mut *tx)
    .await?;
    by_optional_id(tx, id).await
}

/// Writes the operation's row of the history; returns its id.
pub async fn record(
    tx: &mut PgConnection,
    verb: &str,
    model: Option<&Node>,
    subject: &Node,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<i64, AppError> {
    let id = sqlx::query_scalar!(
        r#"
        INSERT INTO changes (actor, subject, op, asset_id, related_id, before, after)
        VALUES (modelgov_actor(), 'operation', $1, $2, $3, $4, $5)
        RETURNING id
        "#,
        verb,
        model.map_or(subject.id, |m| m.id),
        subject.id,
        before,
        after,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

/// An asset an operation creates.
pub struct New<'a> {
    pub key: &'a Ref,
    pub kind: &'static str,
    pub name: &'a str,
    pub description: &'a str,
    pub status: Option<Stage>,
    pub owner: Option<i64>,
}

/// Creates `new` with its edge from `from` (the run of a binary, the binary of a deployment);
/// returns its id.
pub async fn add(tx: &mut PgConnection, new: New<'_>, from: &Node) -> Result<i64, AppError> {
    let id = sqlx::query_scalar!(
        r#"
        INSERT INTO assets (source, external_id, kind, name, description, status, owner_unit_id)
        VALUES ($1, $2, $3::text::asset_kind, $4, $5, $6, $7)
        RETURNING id
        "#,
        new.key.source,
        new.key.id,
        new.kind,
        new.name,
        new.description,
        new.status.map(Stage::as_str),
        new.owner,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        r#"
        INSERT INTO edges (from_id, from_kind, to_id, to_kind)
        SELECT $1, a.kind, $2, $3::text::asset_kind FROM assets a WHERE a.id = $1
        "#,
        from.id,
        id,
        new.kind,
    )
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

pub async fn set_status(
    tx: &mut PgConnection,
    deployment: &Node,
    to: Stage,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE assets SET status = $2, updated_at = now() WHERE id = $1",
        deployment.id,
        to.as_str()
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The model source a run is a run of, if any.
pub async fn model_of_run(tx: &mut PgConnection, run: i64) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT from_id FROM edges WHERE to_id = $1 AND from_kind = 'model_source'",
        run
    )
    .fetch_optional(&mut *tx)
    .await?)
}

/// Makes `binary` the one `deployment` serves: the edge into the deployment moves, or is made.
pub async fn serve(tx: &mut PgConnection, deployment: i64, binary: i64) -> Result<(), AppError> {
    let moved = sqlx::query!(
        "UPDATE edges SET from_id = $2 WHERE to_id = $1 AND from_kind = 'model_binary'",
        deployment,
        binary
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        sqlx::query!(
            "INSERT INTO edges (from_id, from_kind, to_id, to_kind) VALUES ($1, 'model_binary', $2, 'deployment')",
            binary,
            deployment
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A deployment's serving periods in order: the binary, and whether a rollback started it.
pub async fn serving_periods(
    tx: &mut PgConnection,
    deployment: i64,
) -> Result<Vec<(i64, bool)>, AppError> {
    let rows = sqlx::query!(
        "SELECT binary_id, rolled_back FROM serving_periods WHERE deployment_id = $1 ORDER BY since",
        deployment
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|p| (p.binary_id, p.rolled_back))
        .collect())
}

/// Marks the period a deployment is in now as started by a rollback.
pub async fn mark_rolled_back(tx: &mut PgConnection, deployment: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE serving_periods SET rolled_back = true WHERE deployment_id = $1 AND until IS NULL",
        deployment
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
