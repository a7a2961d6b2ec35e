//! The MLflow registry's own tables (`mlflow_models`, `mlflow_versions`, `mlflow_aliases`) and
//! the few reads of the graph that mirroring MLflow's writes needs. `rest::mlflow` decides what a
//! call means and how MLflow words its answer; `ingest::mlflow` what it means in the graph; this
//! is how both read and write it. Every function takes the call's connection (or transaction).
//! Compiled only with `ssr`.

use serde_json::Value;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::model::record::Ref;

/// A registered model's row.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub name: String,
    pub description: String,
    pub tags: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A model version's row, with its aliases.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub name: String,
    pub version: i32,
    pub source: String,
    pub run_id: String,
    pub run_link: String,
    pub description: String,
    pub stage: String,
    pub tags: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub aliases: Vec<String>,
}

/// An alias of a registered model and the version it points at.
#[derive(Debug, Clone)]
pub struct AliasRow {
    pub name: String,
    pub alias: String,
    pub version: i32,
}

/// A version to register: the number comes from the model's counter.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub version: i32,
    pub source: &'a str,
    pub run_id: &'a str,
    pub run_link: &'a str,
    pub description: &'a str,
    pub tags: &'a Value,
    pub now_ms: i64,
}

/// One clause of a search filter, parsed and checked by the MLflow API: `attribute op value`,
/// or `attribute [NOT] IN (list)` (then `value` is empty). Attributes are `name`, `run_id`,
/// `source`, `version_number` and `tag.<key>`; operators =, !=, <, <=, >, >= (numbers), LIKE,
/// ILIKE, IN and NOT IN.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub attribute: String,
    pub op: String,
    pub value: String,
    pub list: Vec<String>,
}

/// The columns registered models are ordered by, by the name MLflow gives each.
pub const MODEL_ORDERS: &[(&str, &str)] = &[
    ("name", "name"),
    ("timestamp", "created_ms"),
    ("creation_timestamp", "created_ms"),
    ("last_updated_timestamp", "updated_ms"),
];
/// The columns model versions are ordered by, by the name MLflow gives each.
pub const VERSION_ORDERS: &[(&str, &str)] = &[
    ("name", "v.name"),
    ("version_number", "v.version"),
    ("timestamp", "v.created_ms"),
    ("creation_timestamp", "v.created_ms"),
    ("last_updated_timestamp", "v.updated_ms"),
];
/// The order that breaks ties in a search of registered models.
pub const MODEL_TIES: &str = "name";
/// The order that breaks ties in a search of model versions.
pub const VERSION_TIES: &str = "v.name, v.version DESC";

/// A page of a search: at most `limit` rows from `offset`, in `order` (columns of
/// [`MODEL_ORDERS`] or [`VERSION_ORDERS`] with a direction, then the ties).
#[derive(Debug, Clone)]
pub struct Page {
    pub order: String,
    pub limit: i64,
    pub offset: i64,
}

pub async fn model_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("SELECT 1 FROM mlflow_models WHERE name = $1", name)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// The registered models named, in the order of `names` (those that exist).
pub async fn models(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<ModelRow>, sqlx::Error> {
    sqlx::query_as!(
        ModelRow,
        r#"
        SELECT m.name, m.description, m.tags, m.created_ms, m.updated_ms
        FROM unnest($1::text[]) WITH ORDINALITY AS w(name, i)
        JOIN mlflow_models m ON m.name = w.name
        ORDER BY w.i
        "#,
        names,
    )
    .fetch_all(conn)
    .await
}

/// Per model named and stage, its newest version: one index probe each (`mlflow_versions_stage`).
/// MLflow lists these without their aliases (the model lists its aliases itself).
pub async fn newest_per_stage(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
        VersionRow,
        r#"
        SELECT l.name, l.version, l.source, l.run_id, l.run_link, l.description, l.stage, l.tags,
               l.created_ms, l.updated_ms, '{}'::text[] AS "aliases!"
        FROM unnest($1::text[]) AS n(name)
        CROSS JOIN (VALUES ('Archived'), ('None'), ('Production'), ('Staging')) AS s(stage)
        CROSS JOIN LATERAL (
            SELECT v.* FROM mlflow_versions v
            WHERE v.name = n.name AND v.stage = s.stage
            ORDER BY v.version DESC LIMIT 1
        ) l
        "#,
        names,
    )
    .fetch_all(conn)
    .await
}

/// The aliases of the models named, by model and alias.
pub async fn aliases(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<AliasRow>, sqlx::Error> {
    sqlx::query_as!(
        AliasRow,
        "SELECT name, alias, version FROM mlflow_aliases WHERE name = ANY($1) ORDER BY name, alias",
        names,
    )
    .fetch_all(conn)
    .await
}

/// The version an alias of `name` points at.
pub async fn alias_version(
    conn: &mut PgConnection,
    name: &str,
    alias: &str,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT version FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .fetch_optional(conn)
    .await
}

/// Versions of `name` (or of names `LIKE` a pattern), or one of them, newest first.
pub async fn versions(
    conn: &mut PgConnection,
    name: Option<&str>,
    like: Option<&str>,
    version: Option<i32>,
    limit: i64,
    offset: i64,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
        VersionRow,
        r#"
        SELECT v.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, v.tags,
               v.created_ms, v.updated_ms,
               coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a
                         WHERE a.name = v.name AND a.version = v.version), '{}') AS "aliases!"
        FROM mlflow_versions v
        WHERE ($1::text IS NULL OR v.name = $1) AND ($2::text IS NULL OR v.name LIKE $2)
          AND ($3::int IS NULL OR v.version = $3)
        ORDER BY v.name, v.version DESC
        LIMIT $4 OFFSET $5
        "#,
        name,
        like,
        version,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

/// The newest version of `name` in each stage (of `stages`, or every stage that has one), the
/// stages by their oldest version, as MLflow answers them.
pub async fn newest_in_stages(
    conn: &mut PgConnection,
    name: &str,
    stages: Option<&[String]>,
) -> Result<Vec<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        SELECT max(version) AS "version!" FROM mlflow_versions
        WHERE name = $1 AND ($2::text[] IS NULL OR stage = ANY($2))
        GROUP BY stage
        ORDER BY min(version)
        "#,
        name,
        stages as Option<&[String]>,
    )
    .fetch_all(conn)
    .await
}

/// The newest version of `name` in `stage`.
pub async fn newest_in_stage(
    conn: &mut PgConnection,
    name: &str,
    stage: &str,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT max(version) FROM mlflow_versions WHERE name = $1 AND stage = $2",
        name,
        stage
    )
    .fetch_one(conn)
    .await
}

/// Names of registered models matching every clause, a page of them (one more row than the
/// page, so that the caller knows whether another follows).
pub async fn search_model_names(
    conn: &mut PgConnection,
    clauses: &[Clause],
    page: &Page,
) -> Result<Vec<String>, sqlx::Error> {
    searched("SELECT name FROM mlflow_models WHERE TRUE", clauses, page)
        .build_query_scalar()
        .fetch_all(conn)
        .await
}

/// Model versions matching every clause, a page of them (and one more row).
pub async fn search_versions(
    conn: &mut PgConnection,
    clauses: &[Clause],
    page: &Page,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    searched(
        "SELECT v.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, \
                v.tags, v.created_ms, v.updated_ms, \
                coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM mlflow_aliases a \
                          WHERE a.name = v.name AND a.version = v.version), '{}') AS aliases \
         FROM mlflow_versions v WHERE TRUE",
        clauses,
        page,
    )
    .build_query_as()
    .fetch_all(conn)
    .await
}

/// `select` (ending in a `WHERE`) narrowed by the clauses, in the page's order, one row more
/// than the page.
fn searched<'a>(select: &'a str, clauses: &[Clause], page: &Page) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::<Postgres>::new(select);
    push_clauses(&mut query, clauses);
    query.push(" ORDER BY ");
    query.push(page.order.as_str());
    query.push(" LIMIT ");
    query.push_bind(page.limit + 1);
    query.push(" OFFSET ");
    query.push_bind(page.offset);
    query
}

/// Adds `AND <clause>` for each clause, compared in SQL with bound values: `name`, `run_id` and
/// `source` are columns of the row, `tag.<key>` its tag (a missing tag equals nothing and differs
/// from everything, as in MLflow).
fn push_clauses(query: &mut QueryBuilder<'_, Postgres>, clauses: &[Clause]) {
    for clause in clauses {
        query.push(" AND ");
        match clause.attribute.strip_prefix("tag.") {
            Some(key) => {
                query.push("(tags->>");
                query.push_bind(key.to_string());
                query.push(")");
            }
            None if clause.attribute == "run_id" => {
                query.push("run_id");
            }
            None if clause.attribute == "source" => {
                query.push("source");
            }
            None if clause.attribute == "version_number" => {
                // The operator is one of the six comparisons, checked by the API.
                let op = match clause.op.as_str() {
                    op @ ("=" | "!=" | "<" | "<=" | ">" | ">=") => op,
                    _ => "=",
                };
                query.push("version ");
                query.push(op);
                query.push(" ");
                query.push_bind(clause.value.parse::<i32>().unwrap_or(-1));
                continue;
            }
            None => {
                query.push("name");
            }
        }
        if clause.op.ends_with("IN") {
            if clause.op == "NOT IN" {
                query.push(" <> ALL(");
            } else {
                query.push(" = ANY(");
            }
            query.push_bind(clause.list.clone());
            query.push(")");
            continue;
        }
        let (op, pattern) = match clause.op.as_str() {
            "=" => (" = ", false),
            "!=" => (" IS DISTINCT FROM ", false),
            "ILIKE" => (" ILIKE ", true),
            _ => (" LIKE ", true),
        };
        query.push(op);
        query.push_bind(clause.value.clone());
        // `%` and `_` are the only wildcards; a backslash is a character like any other.
        if pattern {
            query.push(" ESCAPE ''");
        }
    }
}

/// Registers a model; false when the name is taken.
pub async fn insert_model(
    conn: &mut PgConnection,
    name: &str,
    description: &str,
    tags: &Value,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"
        INSERT INTO mlflow_models (name, description, tags, created_ms, updated_ms)
        VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING
        "#,
        name,
        description,
        tags,
        now_ms,
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn set_model_description(
    conn: &mut PgConnection,
    name: &str,
    description: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mlflow_models SET description = $2, updated_ms = $3 WHERE name = $1",
        name,
        description,
        now_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A registered model's description and tags (what its model source mirrors).
pub async fn model_description_tags(
    conn: &mut PgConnection,
    name: &str,
) -> Result<(String, Value), sqlx::Error> {
    let row = sqlx::query!(
        "SELECT description, tags FROM mlflow_models WHERE name = $1",
        name
    )
    .fetch_one(conn)
    .await?;
    Ok((row.description, row.tags))
}

/// Renames a registered model (its versions and aliases follow by their keys' cascade) and its
/// assets in the graph: the model source, its binaries (`<name>/<version>`) and its deployments
/// (`<name>@…`), matched exactly so that another model whose name starts the same is left alone.
pub async fn rename_model(
    conn: &mut PgConnection,
    source: &str,
    name: &str,
    new_name: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mlflow_models SET name = $2, updated_ms = $3 WHERE name = $1",
        name,
        new_name,
        now_ms
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"
        UPDATE assets
        SET external_id = $2 || substr(external_id, length($1) + 1),
            name = CASE WHEN starts_with(name, $1) THEN $2 || substr(name, length($1) + 1) ELSE name END
        WHERE source = $3
          AND (external_id = $1
               OR (starts_with(external_id, $1 || '/') AND substr(external_id, length($1) + 2) ~ '^[0-9]+$')
               OR (starts_with(external_id, $1 || '@')
                   AND substr(external_id, length($1) + 2) ~ '^(Staging|Production|alias:.+)$'))
        "#,
        name,
        new_name,
        source,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_model(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM mlflow_models WHERE name = $1", name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets a registered model's tag, or removes it when `value` is `None`.
pub async fn set_model_tag(
    conn: &mut PgConnection,
    name: &str,
    key: &str,
    value: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    match value {
        Some(value) => sqlx::query!(
            "UPDATE mlflow_models SET tags = tags || jsonb_build_object($2::text, $3::text), updated_ms = $4 WHERE name = $1",
            name, key, value, now_ms
        )
        .execute(conn)
        .await?,
        None => sqlx::query!(
            "UPDATE mlflow_models SET tags = tags - $2::text, updated_ms = $3 WHERE name = $1",
            name,
            key,
            now_ms
        )
        .execute(conn)
        .await?,
    };
    Ok(())
}

/// Marks the registered model as changed at `now_ms` (as MLflow does when one of its versions
/// changes).
pub async fn touch_model(
    conn: &mut PgConnection,
    name: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mlflow_models SET updated_ms = $2 WHERE name = $1",
        name,
        now_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The next version number of `name`, taken from its counter (which holds the model's row until
/// the transaction ends: one version at a time).
pub async fn take_version_number(conn: &mut PgConnection, name: &str) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE mlflow_models SET next_version = next_version + 1 WHERE name = $1 RETURNING next_version - 1 AS \"n!\"",
        name
    )
    .fetch_one(conn)
    .await
}

pub async fn insert_version(
    conn: &mut PgConnection,
    new: &NewVersion<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO mlflow_versions (name, version, source, run_id, run_link, description, tags, created_ms, updated_ms)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        "#,
        new.name,
        new.version,
        new.source,
        new.run_id,
        new.run_link,
        new.description,
        new.tags,
        new.now_ms,
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, new.name, new.now_ms).await
}

pub async fn set_version_description(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
    description: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mlflow_versions SET description = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
        name, version, description, now_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_version(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM mlflow_versions WHERE name = $1 AND version = $2",
        name,
        version
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a version into `stage`; with `archive_others`, the other versions in that stage go to
/// Archived.
pub async fn set_stage(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
    stage: &str,
    archive_others: bool,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    if archive_others {
        sqlx::query!(
            "UPDATE mlflow_versions SET stage = 'Archived', updated_ms = $4 WHERE name = $1 AND stage = $2 AND version <> $3",
            name, stage, version, now_ms
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE mlflow_versions SET stage = $3, updated_ms = $4 WHERE name = $1 AND version = $2",
        name,
        version,
        stage,
        now_ms
    )
    .execute(&mut *conn)
    .await?;
    touch_model(conn, name, now_ms).await
}

/// Sets a version's tag, or removes it when `value` is `None`.
pub async fn set_version_tag(
    conn: &mut PgConnection,
    name: &str,
    version: i32,
    key: &str,
    value: Option<&str>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    match value {
        Some(value) => sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags || jsonb_build_object($3::text, $4::text), updated_ms = $5 WHERE name = $1 AND version = $2",
            name, version, key, value, now_ms
        )
        .execute(conn)
        .await?,
        None => sqlx::query!(
            "UPDATE mlflow_versions SET tags = tags - $3::text, updated_ms = $4 WHERE name = $1 AND version = $2",
            name, version, key, now_ms
        )
        .execute(conn)
        .await?,
    };
    Ok(())
}

/// Points an alias of `name` at `version` (moving it when it pointed elsewhere).
pub async fn set_alias(
    conn: &mut PgConnection,
    name: &str,
    alias: &str,
    version: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO mlflow_aliases (name, alias, version) VALUES ($1, $2, $3)
        ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version
        "#,
        name,
        alias,
        version
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_alias(
    conn: &mut PgConnection,
    name: &str,
    alias: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM mlflow_aliases WHERE name = $1 AND alias = $2",
        name,
        alias
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the graph holds an asset with this key (of any kind).
pub async fn graph_has(conn: &mut PgConnection, key: &Ref) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "SELECT 1 FROM assets WHERE source = $1 AND external_id = $2",
        key.source,
        key.id
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// The deployments of `source` whose ids start with `prefix` and are not retired.
pub async fn live_deployments(
    conn: &mut PgConnection,
    source: &str,
    prefix: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        SELECT external_id FROM assets
        WHERE source = $1 AND kind = 'deployment' AND starts_with(external_id, $2)
          AND status <> 'retired'
        "#,
        source,
        prefix,
    )
    .fetch_all(conn)
    .await
}

/// A workflow run of the graph as another registered model's version can share it.
#[derive(Debug, Clone)]
pub struct GraphRun {
    pub id: i64,
    /// The model source that executes it, if any.
    pub model: Option<String>,
    pub status: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

/// The workflow run with this key, the model source executing it, and its state and times (RFC
/// 3339).
pub async fn graph_run(
    conn: &mut PgConnection,
    key: &Ref,
) -> Result<Option<GraphRun>, sqlx::Error> {
    sqlx::query_as!(
        GraphRun,
        r#"
        SELECT r.id, m.external_id AS "model?", r.status,
               to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at,
               to_char(r.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ended_at
        FROM assets r
        LEFT JOIN edges e ON e.to_id = r.id AND e.from_kind = 'model_source'
        LEFT JOIN assets m ON m.id = e.from_id
        WHERE r.source = $1 AND r.external_id = $2
        "#,
        key.source,
        key.id,
    )
    .fetch_optional(conn)
    .await
}

/// The datasets a workflow run of the graph trained on.
pub async fn run_datasets(conn: &mut PgConnection, run: i64) -> Result<Vec<Ref>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"
        SELECT d.source, d.external_id
        FROM edges e JOIN assets d ON d.id = e.from_id
        WHERE e.to_id = $1 AND e.from_kind = 'dataset'
        "#,
        run,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|d| Ref {
        source: d.source,
        id: d.external_id,
    })
    .collect())
}
