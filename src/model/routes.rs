//! Every page's address, declared once: the route table, the links pages draw, the page cache
//! and the access rules all read them here, so that none can name a page the others do not know.

/// Declares each page's path segment and its path from the root.
macro_rules! pages {
    ($($(#[$doc:meta])* $segment:ident, $path:ident = $text:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $segment: &str = $text;
            $(#[$doc])*
            pub const $path: &str = concat!("/", $text);
        )*
    };
}

pages! {
    /// All org units, and below it one org unit's page (`/units/{source}/{id}`).
    UNITS, UNITS_PATH = "units";
    /// A model source's page (`/models/{source}/{id}`).
    MODELS, MODELS_PATH = "models";
    /// Any other asset's page (`/assets/{source}/{id}`): runs, binaries, deployments, datasets,
    /// logical features and feature sources.
    ASSETS, ASSETS_PATH = "assets";
    /// A metric's page (`/metrics/{id}`).
    METRICS, METRICS_PATH = "metrics";
    /// Searching the graph.
    SEARCH, SEARCH_PATH = "search";
    /// What modelgov is.
    ABOUT, ABOUT_PATH = "about";
    /// About the numbers: levels, domains, rollups, unknown and the catalog in use.
    NUMBERS, NUMBERS_PATH = "numbers";
    /// The models no org unit owns, as a unit's page (they count at the company only).
    UNOWNED, UNOWNED_PATH = "unowned";
    /// Mappings, quarantine, rejections and the last events.
    INGESTION, INGESTION_PATH = "ingestion";
    /// Signing in with a token.
    SIGN_IN, SIGN_IN_PATH = "signin";
    /// Tokens and mappings, for admins.
    ADMIN, ADMIN_PATH = "admin";
    /// Campaigns, and below it one campaign's page (`/campaigns/{id}`).
    CAMPAIGNS, CAMPAIGNS_PATH = "campaigns";
}

/// The company's page.
pub const COMPANY_PATH: &str = "/";

/// Where the dashboard's server functions are served (the `prefix` of each `#[server]`).
pub const SERVER_FNS: &str = "/api/fn/";

/// Whether `path` is below the page `root` (`/units` covers `/units/hr/a`).
pub fn below(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_their_segments_from_the_root() {
        assert_eq!(UNITS_PATH, "/units");
        assert_eq!(SIGN_IN, "signin");
        assert!(below("/units/hr/a", UNITS_PATH));
        assert!(!below("/units", UNITS_PATH));
        assert!(!below("/unitsx/a", UNITS_PATH));
    }
}
