//! Exemptions and promotion gates, whichever surface asks: editors ask for exemptions, admins
//! approve, renew and revoke them (an admin's own request is approved at once); every change is
//! one row of the model source's history, written through the write service (so a recompute
//! follows and the rollups count the exemption). The gate check reads the levels that hold now.
//! Compiled only with `ssr`.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::write::WriteService;
use crate::error::AppError;
use crate::model::governance::{
    Exemption, ExemptionStatus, GateCheck, MAX_EXEMPTION_DAYS, NewExemption, check_exemption_scope,
    check_gate, check_reason, covers,
};
use crate::model::metrics::Catalog;
use crate::model::record::{Ref, check_ref};
use crate::model::registry::Stage;
use crate::model::role::Role;
use crate::server::auth::Caller;
use crate::server::metrics::reads::held_levels;
use crate::server::repo::exemptions;
use crate::server::repo::registry::{Node, node, record};

/// Most exemptions a list answers with.
pub const MAX_LIST: i64 = 500;

/// Reads an expiry: a date (the start of that day in UTC) or an RFC 3339 time, after `now` and
/// at most [`MAX_EXEMPTION_DAYS`] ahead of it.
pub fn expiry(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    let shown: String = text.chars().take(64).collect();
    let at = parse_time("expires_at", text)?;
    if at <= now {
        return Err(AppError::BadRequest(format!(
            "expires_at {shown:?} is not in the future"
        )));
    }
    if at > now + chrono::Duration::days(MAX_EXEMPTION_DAYS) {
        return Err(AppError::BadRequest(format!(
            "expires_at {shown:?} is more than {MAX_EXEMPTION_DAYS} days ahead: accepted risk is looked at again within a year"
        )));
    }
    Ok(at)
}

/// Reads a time a person gives: a date (the start of that day in UTC) or an RFC 3339 time; 400
/// naming `what` otherwise.
pub fn parse_time(what: &str, text: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| {
            let shown: String = text.chars().take(64).collect();
            AppError::BadRequest(format!(
                "{what} {shown:?} is neither a date (2027-03-31) nor an RFC 3339 time"
            ))
        })
}

fn is_admin(caller: &Caller) -> bool {
    caller.require(Role::Admin).is_ok()
}

/// Writes the history row of an exemption's change on its model source.
async fn remember(
    tx: &mut PgConnection,
    verb: &str,
    model: &Node,
    exemption: &Exemption,
    before: serde_json::Value,
    summary: String,
) -> Result<(), AppError> {
    record(
        tx,
        verb,
        Some(model),
        model,
        before,
        json!({
            "summary": summary,
            "exemption": exemption.id,
            "scope": exemption.scope,
            "reason": exemption.reason,
            "status": exemption.status,
            "expires_at": exemption.expires_at,
        }),
    )
    .await?;
    Ok(())
}

/// Asks for an exemption (editor); an admin's request is approved at once. 409 when one for the
/// same model source and scope is already asked for or applies.
pub async fn request(
    writes: &WriteService,
    catalog: &Catalog,
    caller: &Caller,
    new: &NewExemption,
) -> Result<Exemption, AppError> {
    check_ref("model", &new.model).map_err(AppError::BadRequest)?;
    check_exemption_scope(catalog, &new.scope).map_err(AppError::BadRequest)?;
    check_reason("reason", &new.reason).map_err(AppError::BadRequest)?;
    let expires_at = expiry(&new.expires_at, Utc::now())?;
    let admin = is_admin(caller);
    let actor = caller.actor();
    writes
        .run(caller, Role::Editor, |tx| {
            let (actor, new) = (actor.clone(), new.clone());
            Box::pin(async move {
                let model = node(tx, &new.model, "model_source").await?;
                if let Some(open) = exemptions::open_for(tx, model.id, &new.scope).await? {
                    return Err(AppError::Conflict(format!(
                        "exemption {open} for {} of {} is already asked for or applies; renew it instead",
                        new.scope, model.key
                    )));
                }
                let id = exemptions::insert(
                    tx,
                    model.id,
                    &new.scope,
                    &new.reason,
                    &actor,
                    admin.then_some(actor.as_str()),
                    expires_at,
                )
                .await?;
                let exemption = exemptions::one(tx, id).await?;
                let (verb, done) = if admin {
                    ("exemption_approved", "granted")
                } else {
                    ("exemption_requested", "asked for")
                };
                let summary = format!(
                    "exemption {id} for {} {done} until {}: {}",
                    new.scope, exemption.expires_at, new.reason
                );
                remember(tx, verb, &model, &exemption, serde_json::Value::Null, summary).await?;
                Ok(exemption)
            })
        })
        .await
}

/// What an admin does to an exemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Renew(DateTime<Utc>),
    Revoke,
}

/// Approves, renews or revokes exemption `id` (admin). 409 for a move its status does not allow:
/// approving one that is not asked for, renewing or revoking a revoked one.
pub async fn decide(
    writes: &WriteService,
    caller: &Caller,
    id: i64,
    decision: Decision,
) -> Result<Exemption, AppError> {
    let actor = caller.actor();
    writes
        .run(caller, Role::Admin, |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                let (model_id, before) = exemptions::locked(tx, id).await?;
                let refuse = |why: &str| {
                    Err(AppError::Conflict(format!(
                        "exemption {id} is {}: {why}",
                        before.status.as_str()
                    )))
                };
                let verb = match (decision, before.status) {
                    (_, ExemptionStatus::Revoked) => {
                        return refuse("a revoked exemption stays revoked; ask for a new one");
                    }
                    (Decision::Approve, ExemptionStatus::Requested) => {
                        exemptions::approve(tx, id, &actor).await?;
                        "exemption_approved"
                    }
                    (Decision::Approve, _) => return refuse("only a requested one is approved"),
                    (Decision::Renew(until), _) => {
                        exemptions::renew(tx, id, until).await?;
                        "exemption_renewed"
                    }
                    (Decision::Revoke, _) => {
                        exemptions::revoke(tx, id, &actor).await?;
                        "exemption_revoked"
                    }
                };
                let after = exemptions::one(tx, id).await?;
                let model = crate::server::repo::registry::by_id(tx, model_id).await?;
                let summary = match decision {
                    Decision::Approve => format!(
                        "exemption {id} for {} approved until {}",
                        after.scope, after.expires_at
                    ),
                    Decision::Renew(_) => format!(
                        "exemption {id} for {} renewed until {}",
                        after.scope, after.expires_at
                    ),
                    Decision::Revoke => format!("exemption {id} for {} revoked", after.scope),
                };
                let before = json!({ "status": before.status, "expires_at": before.expires_at });
                remember(tx, verb, &model, &after, before, summary).await?;
                Ok(after)
            })
        })
        .await
}

/// One exemption; 404 when there is none.
pub async fn one(pool: &PgPool, id: i64) -> Result<Exemption, AppError> {
    let mut conn = pool.acquire().await?;
    exemptions::one(&mut conn, id).await
}

/// Exemptions, newest first (at most [`MAX_LIST`]): of one model source or all, in one status
/// or any. 404 for a model source that does not exist.
pub async fn list(
    pool: &PgPool,
    model: Option<&Ref>,
    status: Option<ExemptionStatus>,
) -> Result<Vec<Exemption>, AppError> {
    let model_id = match model {
        Some(key) => {
            check_ref("model", key).map_err(AppError::BadRequest)?;
            let mut conn = pool.acquire().await?;
            Some(exemptions::model_source_id(&mut conn, key).await?)
        }
        None => None,
    };
    exemptions::list(pool, model_id, status, MAX_LIST).await
}

/// Whether model source `model_id` may enter `status`: the catalog's gate against the levels
/// that hold now and the exemptions that apply now.
pub async fn gate(
    conn: &mut PgConnection,
    catalog: &Catalog,
    model_id: i64,
    status: Stage,
) -> Result<GateCheck, AppError> {
    if !catalog.gates.iter().any(|g| g.status == status) {
        return Ok(check_gate(catalog, status, |_| None, |_| false));
    }
    let levels = held_levels(conn, model_id).await?;
    let exempt = exemptions::applying_to(conn, model_id, Utc::now()).await?;
    Ok(check_gate(
        catalog,
        status,
        |scope| {
            levels
                .iter()
                .find(|(s, _)| s == scope)
                .and_then(|(_, level)| *level)
        },
        |scope| exempt.iter().any(|e| covers(catalog, e, scope)),
    ))
}

/// Every gate of the catalog for one model source, for its page: would a promotion pass now?
pub async fn gates_of(
    pool: &PgPool,
    catalog: &Catalog,
    model: &Ref,
) -> Result<Vec<GateCheck>, AppError> {
    let mut conn = pool.acquire().await?;
    let id = exemptions::model_source_id(&mut conn, model).await?;
    let mut checks = Vec::new();
    for status in catalog.gates.iter().map(|g| g.status) {
        checks.push(gate(&mut conn, catalog, id, status).await?);
    }
    Ok(checks)
}

/// What lets a move past a gate that refuses it: an admin's override, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub reason: String,
}

impl Override {
    /// The override `reason` asks for: `None` without one; 403 unless `caller` is an admin; 400
    /// for a reason that does not read.
    pub fn asked(caller: &Caller, reason: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(reason) = reason else {
            return Ok(None);
        };
        check_reason("override_reason", reason).map_err(AppError::BadRequest)?;
        caller.require(Role::Admin).map_err(|_| {
            AppError::Forbidden(
                "overriding a promotion gate needs the admin role; ask an admin, or for an exemption"
                    .into(),
            )
        })?;
        Ok(Some(Self {
            reason: reason.to_string(),
        }))
    }
}

/// What a write needs to enforce the promotion gates: the catalog, and an admin's override when
/// the caller asked for one.
#[derive(Debug, Clone)]
pub struct Gating {
    pub catalog: Arc<Catalog>,
    pub overridden: Option<Override>,
}

impl Gating {
    /// Enforces the gate of `status` on model source `model` (see [`enforce`]).
    pub async fn enforce(
        &self,
        conn: &mut PgConnection,
        model: i64,
        status: Stage,
        what: &str,
    ) -> Result<Option<serde_json::Value>, AppError> {
        enforce(
            conn,
            &self.catalog,
            model,
            status,
            what,
            self.overridden.as_ref(),
        )
        .await
    }
}

/// Enforces the gate of `status` on model source `model` for a move described by `what`:
/// passes (returning what to record: the exemptions used, or the override) or refuses with 409.
pub async fn enforce(
    conn: &mut PgConnection,
    catalog: &Catalog,
    model: i64,
    status: Stage,
    what: &str,
    overridden: Option<&Override>,
) -> Result<Option<serde_json::Value>, AppError> {
    let check = gate(conn, catalog, model, status).await?;
    if check.passes {
        return Ok((!check.exempted.is_empty())
            .then(|| json!({ "gate": status, "exempted": check.exempted })));
    }
    match overridden {
        Some(o) => Ok(Some(json!({
            "gate": status,
            "overridden": o.reason,
            "unmet": check.unmet,
            "exempted": check.exempted,
        }))),
        None => Err(AppError::Conflict(check.refusal(what))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_is_a_date_or_a_time_in_the_coming_year() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            expiry("2027-03-31", now).unwrap().to_rfc3339(),
            "2027-03-31T00:00:00+00:00"
        );
        assert!(expiry("2027-01-01T08:00:00+01:00", now).is_ok());
        for (bad, says) in [
            ("2026-12-01", "not in the future"),
            ("2028-12-31", "more than 366 days"),
            ("tomorrow", "neither a date"),
            ("", "neither a date"),
        ] {
            let error = expiry(bad, now).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
