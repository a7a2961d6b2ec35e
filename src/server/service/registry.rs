//! Registry operations on the graph, each one transaction: the asset and edge writes (whose
//! history the triggers keep) and one `operation` row in `changes` that says what was done, by
//! whom, in words. A move the rules refuse changes nothing and says why. Compiled only with `ssr`.

use serde_json::json;
use sqlx::PgConnection;
use tracing::instrument;

use super::governance::{Gating, Override};
use super::write::WriteService;
use crate::error::AppError;
use std::sync::Arc;

use crate::model::metrics::Catalog;
use crate::model::record::{Ref, check_description, check_key_part, check_name};
use crate::model::registry::{Operation, Outcome, Stage};
use crate::model::role::Role;
use crate::server::auth::Caller;
use crate::server::repo::registry::{
    New, Node, absent, add, by_id, mark_rolled_back, model_of_binary, model_of_run, node, record,
    serve, serving, serving_periods, set_status,
};

/// Runs `op` for `caller` (an editor) through the write service: one transaction, history
/// under the caller's name, a recompute after.
/// A promotion into a gated stage, or a deploy into a deployment in one, must pass the
/// catalog's gate (an admin may override it with a reason, which the history keeps).
pub async fn operate(
    writes: &WriteService,
    catalog: &Arc<Catalog>,
    caller: &Caller,
    op: &Operation,
) -> Result<Outcome, AppError> {
    check(op)?;
    let gates = Gating {
        catalog: catalog.clone(),
        overridden: Override::asked(caller, op.override_reason())?,
    };
    writes
        .run(caller, Role::Editor, |conn| {
            let (op, gates) = (op.clone(), gates.clone());
            Box::pin(async move { apply(conn, &op, &gates).await })
        })
        .await
}

/// Runs `op` in the transaction `tx` (see [`operate`]).
#[instrument(skip_all, fields(op = op.verb()))]
async fn apply(tx: &mut PgConnection, op: &Operation, gates: &Gating) -> Result<Outcome, AppError> {
    let outcome = match op {
        Operation::Register {
            model,
            binary,
            run,
            name,
            description,
        } => register(tx, model, binary, run, name, description).await?,
        Operation::CreateDeployment {
            model,
            deployment,
            name,
            binary,
        } => create_deployment(tx, model, deployment, name, binary).await?,
        Operation::Promote { deployment, to, .. } => promote(tx, deployment, *to, gates).await?,
        Operation::Deploy {
            deployment, binary, ..
        } => {
            let deployment = locked_deployment(tx, deployment).await?;
            let binary = node(tx, binary, "model_binary").await?;
            deploy(tx, &deployment, &binary, "deployed", Some(gates)).await?
        }
        Operation::Rollback { deployment } => rollback(tx, deployment).await?,
        Operation::Retire { deployment } => retire(tx, deployment).await?,
    };
    Ok(outcome)
}

/// The checks that need no database: keys, names and descriptions within bounds.
fn check(op: &Operation) -> Result<(), AppError> {
    let bad = AppError::BadRequest;
    let key = |what: &str, r: &Ref| {
        check_key_part(&format!("{what}.source"), &r.source)
            .and_then(|()| check_key_part(&format!("{what}.id"), &r.id))
    };
    let (refs, name, description): (Vec<(&str, &Ref)>, Option<&String>, Option<&String>) = match op
    {
        Operation::Register {
            model,
            binary,
            run,
            name,
            description,
        } => (
            vec![("model", model), ("binary", binary), ("run", run)],
            Some(name),
            Some(description),
        ),
        Operation::CreateDeployment {
            model,
            deployment,
            name,
            binary,
        } => (
            vec![
                ("model", model),
                ("deployment", deployment),
                ("binary", binary),
            ],
            Some(name),
            None,
        ),
        Operation::Deploy {
            deployment, binary, ..
        } => (
            vec![("deployment", deployment), ("binary", binary)],
            None,
            None,
        ),
        Operation::Promote { deployment, .. }
        | Operation::Rollback { deployment }
        | Operation::Retire { deployment } => (vec![("deployment", deployment)], None, None),
    };
    for (what, r) in refs {
        key(what, r).map_err(bad)?;
    }
    if let Some(name) = name {
        check_name(name).map_err(bad)?;
    }
    if let Some(description) = description {
        check_description(description).map_err(bad)?;
    }
    Ok(())
}

/// Checks that `binary` is a binary of `model`.
async fn binary_of(tx: &mut PgConnection, binary: &Node, model: &Node) -> Result<(), AppError> {
    match model_of_binary(tx, binary.id).await? {
        Some(owner) if owner.id == model.id => Ok(()),
        Some(owner) => Err(AppError::Conflict(format!(
            "binary {} is a binary of model source {}, not of {}",
            binary.key, owner.key, model.key
        ))),
        None => Err(AppError::Conflict(format!(
            "binary {} was not produced by a run of any model source, so it cannot serve {}",
            binary.key, model.key
        ))),
    }
}

async fn locked_deployment(tx: &mut PgConnection, key: &Ref) -> Result<Node, AppError> {
    node(tx, key, "deployment").await
}

fn stage(deployment: &Node) -> Result<Stage, AppError> {
    deployment
        .status
        .as_deref()
        .and_then(Stage::parse)
        .ok_or(AppError::Internal)
}

fn reference(node: &Node) -> serde_json::Value {
    json!({ "source": node.key.source, "id": node.key.id, "name": node.name })
}

async fn register(
    tx: &mut PgConnection,
    model: &Ref,
    binary: &Ref,
    run: &Ref,
    name: &str,
    description: &str,
) -> Result<Outcome, AppError> {
    let model = node(tx, model, "model_source").await?;
    let run = node(tx, run, "workflow_run").await?;
    if model_of_run(tx, run.id).await? != Some(model.id) {
        return Err(AppError::Conflict(format!(
            "run {} is not a run of model source {}; register the binary from one of its runs",
            run.key, model.key
        )));
    }
    absent(tx, binary).await?;
    let id = add(
        tx,
        New {
            key: binary,
            kind: "model_binary",
            name,
            description,
            status: None,
            owner: model.owner,
        },
        &run,
    )
    .await?;
    let registered = by_id(tx, id).await?;
    let summary = format!("registered binary {} from run {}", name, run.name);
    let change = record(
        tx,
        "registered",
        Some(&model),
        &registered,
        serde_json::Value::Null,
        json!({ "summary": summary, "binary": reference(&registered), "run": reference(&run) }),
    )
    .await?;
    Ok(Outcome {
        change,
        op: "registered".into(),
        summary,
        model: Some(model.key),
        deployment: None,
        status: None,
        binary: Some(registered.key),
    })
}

async fn create_deployment(
    tx: &mut PgConnection,
    model: &Ref,
    deployment: &Ref,
    name: &str,
    binary: &Ref,
) -> Result<Outcome, AppError> {
    let model = node(tx, model, "model_source").await?;
    let binary = node(tx, binary, "model_binary").await?;
    binary_of(tx, &binary, &model).await?;
    absent(tx, deployment).await?;
    let id = add(
        tx,
        New {
            key: deployment,
            kind: "deployment",
            name,
            description: "",
            status: Some(Stage::Development),
            owner: model.owner,
        },
        &binary,
    )
    .await?;
    let created = by_id(tx, id).await?;
    let summary = format!(
        "created deployment {} in development, serving {}",
        name, binary.name
    );
    let change = record(
        tx,
        "deployment_created",
        Some(&model),
        &created,
        serde_json::Value::Null,
        json!({ "summary": summary, "status": "development", "binary": reference(&binary) }),
    )
    .await?;
    Ok(Outcome {
        change,
        op: "deployment_created".into(),
        summary,
        model: Some(model.key),
        deployment: Some(created.key),
        status: Some(Stage::Development),
        binary: Some(binary.key),
    })
}

/// The binary a deployment serves and its model, refusing a deployment that serves none.
async fn served(
    tx: &mut PgConnection,
    deployment: &Node,
) -> Result<(Node, Option<Node>), AppError> {
    let binary = serving(tx, deployment.id).await?.ok_or_else(|| {
        AppError::Conflict(format!(
            "deployment {} serves no binary; deploy one first",
            deployment.key
        ))
    })?;
    let model = model_of_binary(tx, binary.id).await?;
    Ok((binary, model))
}

async fn promote(
    tx: &mut PgConnection,
    deployment: &Ref,
    to: Stage,
    gates: &Gating,
) -> Result<Outcome, AppError> {
    let deployment = locked_deployment(tx, deployment).await?;
    let from = stage(&deployment)?;
    let to = from
        .promote(to)
        .map_err(|why| AppError::Conflict(format!("cannot promote {}: {why}", deployment.key)))?;
    let (binary, model) = served(tx, &deployment).await?;
    let what = format!("promoting {} to {to}", deployment.key);
    let gate = match &model {
        Some(model) => gates.enforce(tx, model.id, to, &what).await?,
        // A binary no model source produced cannot be judged: the lineage checks refuse it
        // elsewhere.
        None => None,
    };
    set_status(tx, &deployment, to).await?;
    let summary = format!(
        "promoted {} from {from} to {to}{}",
        deployment.name,
        overridden_note(gate.as_ref())
    );
    let change = record(
        tx,
        "promoted",
        model.as_ref(),
        &deployment,
        json!({ "status": from }),
        json!({ "summary": summary, "status": to, "binary": reference(&binary), "gate": gate }),
    )
    .await?;
    Ok(Outcome {
        change,
        op: "promoted".into(),
        summary,
        model: model.map(|m| m.key),
        deployment: Some(deployment.key),
        status: Some(to),
        binary: Some(binary.key),
    })
}

/// The words a summary adds when an admin let the move past its gate.
fn overridden_note(gate: Option<&serde_json::Value>) -> String {
    gate.and_then(|g| g.get("overridden"))
        .and_then(serde_json::Value::as_str)
        .map(|reason| format!(" (gate overridden: {reason})"))
        .unwrap_or_default()
}

/// Points `deployment` at `binary`; `verb` is `deployed` or `rolled_back`. A deploy (with
/// `gates`) passes the gate of the deployment's status; a rollback returns to what was served
/// before and is never held back.
async fn deploy(
    tx: &mut PgConnection,
    deployment: &Node,
    binary: &Node,
    verb: &str,
    gates: Option<&Gating>,
) -> Result<Outcome, AppError> {
    let status = stage(deployment)?;
    if status == Stage::Retired {
        return Err(AppError::Conflict(format!(
            "deployment {} is retired and serves nothing; create a new deployment",
            deployment.key
        )));
    }
    let current = serving(tx, deployment.id).await?;
    let lineage_missing = |b: &Node| {
        AppError::Conflict(format!(
            "binary {} was not produced by a run of a model source, so it cannot tell which model deployment {} serves",
            b.key, deployment.key
        ))
    };
    // The deployment's model is its current binary's; a deployment serving nothing takes the
    // model of the binary deployed to it.
    let model = match &current {
        Some(current) if current.id == binary.id => {
            return Err(AppError::Conflict(format!(
                "deployment {} already serves binary {}",
                deployment.key, binary.key
            )));
        }
        Some(current) => model_of_binary(tx, current.id)
            .await?
            .ok_or_else(|| lineage_missing(current))?,
        None => model_of_binary(tx, binary.id)
            .await?
            .ok_or_else(|| lineage_missing(binary))?,
    };
    binary_of(tx, binary, &model).await?;
    let gate = match gates {
        Some(gates) => {
            let what = format!("deploying {} to {} ({status})", binary.key, deployment.key);
            gates.enforce(tx, model.id, status, &what).await?
        }
        None => None,
    };
    serve(tx, deployment.id, binary.id).await?;
    let was = current
        .as_ref()
        .map_or_else(String::new, |c| c.name.clone());
    let summary = match verb {
        "rolled_back" => format!(
            "rolled back {} from {was} to {}",
            deployment.name, binary.name
        ),
        _ if current.is_some() => format!(
            "deployed {} to {} (was {was})",
            binary.name, deployment.name
        ),
        _ => format!("deployed {} to {}", binary.name, deployment.name),
    } + &overridden_note(gate.as_ref());
    let change = record(
        tx,
        verb,
        Some(&model),
        deployment,
        json!({ "binary": current.as_ref().map(reference) }),
        json!({ "summary": summary, "status": status, "binary": reference(binary), "gate": gate }),
    )
    .await?;
    Ok(Outcome {
        change,
        op: verb.into(),
        summary,
        model: Some(model.key),
        deployment: Some(deployment.key.clone()),
        status: Some(status),
        binary: Some(binary.key.clone()),
    })
}

async fn rollback(tx: &mut PgConnection, deployment: &Ref) -> Result<Outcome, AppError> {
    let deployment = locked_deployment(tx, deployment).await?;
    let (current, _) = served(tx, &deployment).await?;
    let periods = serving_periods(tx, deployment.id).await?;
    let previous = previous_binary(periods)
        .filter(|id| *id != current.id)
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "cannot roll back {}: no binary served it before {} (or every earlier one was already rolled back)",
                deployment.key, current.key
            ))
        })?;
    let previous = by_id(tx, previous).await?;
    let outcome = deploy(tx, &deployment, &previous, "rolled_back", None).await?;
    mark_rolled_back(tx, deployment.id).await?;
    Ok(outcome)
}

/// The binary a rollback returns to, from a deployment's serving periods in order (binary, and
/// whether a rollback started the period): a deploy pushes its binary, a rollback pops the one
/// rolled away from, so rolling back twice after deploying A, B, C serves B, then A.
fn previous_binary(periods: impl IntoIterator<Item = (i64, bool)>) -> Option<i64> {
    let mut served: Vec<i64> = Vec::new();
    for (binary, rolled_back) in periods {
        if rolled_back {
            served.pop();
        }
        if served.last() != Some(&binary) {
            served.push(binary);
        }
    }
    served.len().checked_sub(2).map(|i| served[i])
}

async fn retire(tx: &mut PgConnection, deployment: &Ref) -> Result<Outcome, AppError> {
    let deployment = locked_deployment(tx, deployment).await?;
    let from = stage(&deployment)?;
    if from == Stage::Retired {
        return Err(AppError::Conflict(format!(
            "deployment {} is already retired",
            deployment.key
        )));
    }
    let current = serving(tx, deployment.id).await?;
    let model = match &current {
        Some(binary) => model_of_binary(tx, binary.id).await?,
        None => None,
    };
    set_status(tx, &deployment, Stage::Retired).await?;
    let summary = format!("retired {} (was in {from})", deployment.name);
    let change = record(
        tx,
        "retired",
        model.as_ref(),
        &deployment,
        json!({ "status": from }),
        json!({ "summary": summary, "status": Stage::Retired }),
    )
    .await?;
    Ok(Outcome {
        change,
        op: "retired".into(),
        summary,
        model: model.map(|m| m.key),
        deployment: Some(deployment.key),
        status: Some(Stage::Retired),
        binary: current.map(|b| b.key),
    })
}

#[cfg(test)]
mod tests {
    use super::previous_binary;

    #[test]
    fn rollbacks_walk_back_through_what_was_deployed() {
        let (a, b, c) = (1, 2, 3);
        assert_eq!(previous_binary([(a, false)]), None);
        assert_eq!(
            previous_binary([(a, false), (b, false), (c, false)]),
            Some(b)
        );
        // Rolled back to B: the next rollback goes to A, not back to C.
        assert_eq!(
            previous_binary([(a, false), (b, false), (c, false), (b, true)]),
            Some(a)
        );
        assert_eq!(
            previous_binary([(a, false), (b, false), (c, false), (b, true), (a, true)]),
            None
        );
        // A deploy after a rollback is pushed as usual.
        assert_eq!(
            previous_binary([(a, false), (b, false), (a, true), (c, false)]),
            Some(a)
        );
    }
}
