//! A small demo company: an org tree a few levels deep with teams that own model sources.
//! Loading it twice changes nothing. Compiled only with `ssr`.

use sqlx::PgPool;

use super::repo::{assets, org_units};
use crate::error::AppError;

/// The source system the demo records come from.
pub const SOURCE: &str = "demo";

/// `(external id, name, parent's external id)`, parents before children.
const ORG_UNITS: &[(&str, &str, Option<&str>)] = &[
    ("acme", "Acme", None),
    ("ads", "Ads", Some("acme")),
    ("ads-ranking", "Ads Ranking", Some("ads")),
    ("ads-bidding", "Bidding", Some("ads")),
    ("ads-creative", "Creative Understanding", Some("ads")),
    ("feed", "Feed", Some("acme")),
    ("feed-ranking", "Feed Ranking", Some("feed")),
    ("feed-notifications", "Notifications", Some("feed")),
    ("integrity", "Integrity", Some("acme")),
    ("integrity-spam", "Spam", Some("integrity")),
    ("trust-safety", "Trust & Safety", Some("integrity")),
    ("ts-hate-speech", "Hate Speech", Some("trust-safety")),
    ("ts-misinformation", "Misinformation", Some("trust-safety")),
    ("commerce", "Commerce", Some("acme")),
    ("commerce-search", "Product Search", Some("commerce")),
    ("commerce-recs", "Recommendations", Some("commerce")),
];

/// `(external id, name, owning unit's external id)`; `None` is a model nobody has claimed yet.
const MODEL_SOURCES: &[(&str, &str, Option<&str>)] = &[
    (
        "ctr-predictor",
        "Click-through predictor",
        Some("ads-ranking"),
    ),
    ("conversion-model", "Conversion model", Some("ads-ranking")),
    ("bid-shading", "Bid shading", Some("ads-bidding")),
    ("budget-pacing", "Budget pacing", Some("ads-bidding")),
    ("image-embedder", "Ad image embedder", Some("ads-creative")),
    ("feed-ranker", "Feed ranking", Some("feed-ranking")),
    (
        "feed-diversity",
        "Feed diversity re-ranker",
        Some("feed-ranking"),
    ),
    (
        "notif-timing",
        "Notification timing",
        Some("feed-notifications"),
    ),
    ("spam-classifier", "Spam classifier", Some("integrity-spam")),
    (
        "fake-accounts",
        "Fake account detector",
        Some("integrity-spam"),
    ),
    (
        "hate-speech-clf",
        "Hate speech classifier",
        Some("ts-hate-speech"),
    ),
    (
        "misinfo-clf",
        "Misinformation classifier",
        Some("ts-misinformation"),
    ),
    ("claim-matcher", "Claim matcher", Some("ts-misinformation")),
    (
        "search-ranker",
        "Product search ranker",
        Some("commerce-search"),
    ),
    ("query-rewriter", "Query rewriter", Some("commerce-search")),
    ("similar-items", "Similar items", Some("commerce-recs")),
    ("legacy-churn", "Legacy churn model", None),
];

/// Loads the demo company in one transaction; returns how many records were new or changed.
pub async fn load(pool: &PgPool) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let units: Vec<org_units::NewOrgUnit> = ORG_UNITS
        .iter()
        .map(|(id, name, parent)| org_units::NewOrgUnit {
            source: SOURCE.into(),
            external_id: (*id).into(),
            name: (*name).into(),
            parent: parent.map(|p| (SOURCE.to_string(), p.to_string())),
        })
        .collect();
    let mut changed = org_units::upsert_many(&mut tx, &units).await?;
    let models: Vec<assets::NewModelSource> = MODEL_SOURCES
        .iter()
        .map(|(id, name, owner)| assets::NewModelSource {
            source: SOURCE.into(),
            external_id: (*id).into(),
            name: (*name).into(),
            owner: owner.map(|o| (SOURCE.to_string(), o.to_string())),
        })
        .collect();
    changed += assets::upsert_model_sources(&mut tx, &models).await?;
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_parent_and_owner_is_a_unit_listed_before_use() {
        let mut seen = HashSet::new();
        for (id, _, parent) in ORG_UNITS {
            if let Some(parent) = parent {
                assert!(
                    seen.contains(parent),
                    "{id}: parent {parent} not listed before it"
                );
            }
            assert!(seen.insert(*id), "{id} listed twice");
        }
        for (id, _, owner) in MODEL_SOURCES {
            if let Some(owner) = owner {
                assert!(seen.contains(owner), "{id}: owner {owner} is not a unit");
            }
        }
    }
}
