//! The `OpenAPI` 3.1 document of the native, metrics, registry and access API, generated from the
//! handlers' `#[utoipa::path]` attributes and the wire types, so that it cannot drift from the
//! code. Served at `/api/v1/openapi.json`. Compiled only with `ssr`.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi};

/// What the derives cannot say: the bearer token scheme, and that a record's own fields sit
/// beside its `type` tag (serde reads the tag first, then refuses unknown fields; a schema that
/// said `additionalProperties: false` on the record would forbid the tag itself).
struct Adjustments;

impl Modify for Adjustments {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        for tagged in [
            "OrgUnitRecord",
            "AssetRecord",
            "EdgeRecord",
            "MeasurementRecord",
        ] {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(tagged) {
                object.additional_properties = None;
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "modelgov",
        description = "The metadata graph of a company's ML lineage and the maturity metrics computed from it. Writes need `Authorization: Bearer <token>` (editor; tokens and mappings: admin). Errors are `{\"error\": \"...\"}` naming the problem."
    ),
    paths(
        super::graph::post_records,
        super::graph::get_lineage,
        super::graph::get_history,
        super::graph::get_serving,
        super::graph::get_search,
        super::metrics::get_catalog,
        super::metrics::get_export,
        super::metrics::get_company_scorecard,
        super::metrics::get_scorecard,
        super::metrics::get_children,
        super::metrics::get_trend,
        super::metrics::get_model_metrics,
        super::metrics::post_recompute,
        super::registry::operate,
        super::registry::create_token,
        super::registry::list_tokens,
        super::registry::revoke_token,
        super::mappings::list_mappings,
        super::mappings::put_mapping,
        super::mappings::delete_mapping,
        super::mappings::list_quarantine,
        super::mappings::list_rejections,
        super::mappings::list_events,
        super::governance::post_exemption,
        super::governance::get_exemptions,
        super::governance::get_exemption,
        super::governance::approve,
        super::governance::renew,
        super::governance::revoke,
        super::governance::get_gates,
        super::campaigns::post_campaign,
        super::campaigns::get_campaigns,
        super::campaigns::get_campaign,
        super::campaigns::close,
    ),
    modifiers(&Adjustments),
    tags(
        (name = "graph", description = "records in, lineage, history, serving and search out"),
        (name = "metrics", description = "the catalog, levels, rollups, scorecards and trends"),
        (name = "registry", description = "registry operations on deployments"),
        (name = "access", description = "API tokens"),
        (name = "ingestion", description = "label mappings, quarantine, rejections, OpenLineage events"),
        (name = "governance", description = "campaigns, exemptions and promotion gates"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "the OpenAPI document does not serialize");
        String::from("{}")
    })
});

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let document: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = document["paths"].as_object().unwrap();
        for path in [
            "/api/v1/records",
            "/api/v1/assets/{source}/{id}/lineage",
            "/api/v1/scorecard",
            "/api/v1/operations",
            "/api/v1/mappings/{source}/{label}",
            "/api/v1/exemptions",
            "/api/v1/campaigns/{id}",
            "/api/v1/exemptions/{id}/approve",
            "/api/v1/models/{source}/{id}/gates",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        assert!(document["components"]["schemas"]["Record"].is_object());
        assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    }
}
