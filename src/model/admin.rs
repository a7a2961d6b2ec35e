//! What the admin page shows: the API tokens (never their secrets) and the label mappings.

use serde::{Deserialize, Serialize};

use super::ingestion::MappingRow;
use super::role::Role;

/// A token as listed: its name, role and dates; never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenRow {
    pub name: String,
    pub role: Role,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent while the token is active.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revoked_at: Option<String>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub name: String,
    pub role: Role,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminPage {
    pub tokens: Vec<TokenRow>,
    pub mappings: Vec<MappingRow>,
}
