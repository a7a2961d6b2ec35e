//! Registry operations and administration from the dashboard: each checks the signed-in
//! session's role and CSRF secret on the server, then does what the HTTP API does.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::admin::{AdminPage, CreatedToken};
use crate::model::registry::{Operation, Outcome};

/// Runs one registry operation as the signed-in editor.
#[server(prefix = "/api/fn", endpoint = "operate", input = Json)]
pub async fn operate(csrf: String, op: Operation) -> Result<Outcome, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{auth::Caller, service::registry, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Editor, &csrf)?;
        registry::operate(
            &state.write_service,
            &state.catalog,
            &Caller(session.caller),
            &op,
        )
        .await
    }
    .await
    .map_err(respond_error)
}

/// The admin page: every token (never a secret) and every label mapping. Admins only.
#[server(prefix = "/api/fn", endpoint = "get_admin_page")]
pub async fn get_admin_page() -> Result<AdminPage, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{repo::ingestion, repo::tokens, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::current().ok_or_else(|| {
            AppError::Unauthorized("sign in with an admin token to manage tokens".into())
        })?;
        if !session.caller.role.allows(Role::Admin) {
            return Err(AppError::Forbidden(format!(
                "the admin page needs the admin role; you are signed in with the {} role",
                session.caller.role
            )));
        }
        Ok(AdminPage {
            tokens: tokens::list(&state.pool).await?,
            mappings: ingestion::mappings(&state.pool).await?,
        })
    }
    .await
    .map_err(respond_error)
}

/// Creates a token; the answer is the only time its secret is shown.
#[server(prefix = "/api/fn", endpoint = "create_token")]
pub async fn create_token(
    csrf: String,
    name: String,
    role: String,
) -> Result<CreatedToken, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{repo::tokens, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        session::authorize(Role::Admin, &csrf)?;
        let role = Role::parse(&role).ok_or_else(|| {
            AppError::BadRequest(format!(
                "role must be viewer, editor or admin, not {role:?}"
            ))
        })?;
        let name = name.trim().to_string();
        let token = tokens::create(&state.pool, &name, role).await?;
        Ok(CreatedToken { name, role, token })
    }
    .await
    .map_err(respond_error)
}

/// Revokes the active token with this name; its sessions end with it.
#[server(prefix = "/api/fn", endpoint = "revoke_token")]
pub async fn revoke_token(csrf: String, name: String) -> Result<(), AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{repo::tokens, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        session::authorize(Role::Admin, &csrf)?;
        if tokens::revoke(&state.pool, &name).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "no active token named {name:?}"
            )))
        }
    }
    .await
    .map_err(respond_error)
}

/// Maps a tool's label to a kind and applies the quarantined records it covers; says what it
/// did.
#[server(prefix = "/api/fn", endpoint = "set_mapping")]
pub async fn set_mapping(
    csrf: String,
    source: String,
    label: String,
    kind: String,
) -> Result<String, AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{auth::Caller, ingest::remap, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        let session = session::authorize(Role::Admin, &csrf)?;
        let caller = Caller(session.caller);
        let done = remap::put(
            &state.write_service,
            &caller,
            source.trim(),
            label.trim(),
            kind.trim(),
        )
        .await?;
        Ok(format!(
            "{} label {:?} now maps to {}: {} quarantined records applied, {} still waiting, {} events replayed",
            done.source,
            done.label,
            done.kind.as_str(),
            done.applied.len(),
            done.still_quarantined,
            done.replayed_events
        ))
    }
    .await
    .map_err(respond_error)
}

/// Removes a mapping; assets already written keep their kind.
#[server(prefix = "/api/fn", endpoint = "delete_mapping")]
pub async fn delete_mapping(csrf: String, source: String, label: String) -> Result<(), AppError> {
    use crate::error::respond_error;
    use crate::model::role::Role;
    use crate::server::{ingest::remap, session, state::AppState};

    let state = expect_context::<AppState>();
    async {
        session::authorize(Role::Admin, &csrf)?;
        remap::remove(&state.pool, &source, &label).await
    }
    .await
    .map_err(respond_error)
}
