//! Org units: the company -> org -> ... -> team tree that owns assets.

use serde::{Deserialize, Serialize};

use crate::model::metrics::UnitName;

/// One org unit as the overview lists it: where it sits in the tree and how many model sources it
/// owns, itself and through the units below it. Its name and keys are the unit as every
/// scorecard names it (flattened: the JSON has them at the top).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnitSummary {
    #[serde(flatten)]
    pub unit: UnitName,
    /// Names of the units above this one, from the top of the tree down.
    pub ancestors: Vec<String>,
    /// 0 for the company, 1 for its orgs, and so on.
    pub depth: i32,
    /// Units directly below this one.
    pub children: i64,
    /// Model sources owned by this unit and every unit below it.
    pub model_sources: i64,
}

impl OrgUnitSummary {
    /// The unit's place in the tree as a readable path, e.g. `Acme › Ads › Ranking`.
    pub fn path(&self) -> String {
        let mut parts: Vec<&str> = self.ancestors.iter().map(String::as_str).collect();
        parts.push(&self.unit.name);
        parts.join(" › ")
    }

    /// A unit with nothing below it is a team.
    pub fn is_team(&self) -> bool {
        self.children == 0 && self.depth > 0
    }
}

/// The units whose name or any ancestor's name contains every word of `query`, case-insensitively,
/// in their tree order. An empty query keeps every unit.
pub fn filter_units<'a>(units: &'a [OrgUnitSummary], query: &str) -> Vec<&'a OrgUnitSummary> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    units
        .iter()
        .filter(|unit| {
            let haystack = unit.path().to_lowercase();
            words.iter().all(|word| haystack.contains(word.as_str()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, ancestors: &[&str], children: i64) -> OrgUnitSummary {
        OrgUnitSummary {
            unit: UnitName {
                id: 1,
                source: "hr".into(),
                external_id: name.to_lowercase(),
                name: name.into(),
            },
            ancestors: ancestors.iter().map(|a| (*a).to_string()).collect(),
            depth: i32::try_from(ancestors.len()).unwrap(),
            children,
            model_sources: 0,
        }
    }

    fn names<'a>(units: &[&'a OrgUnitSummary]) -> Vec<&'a str> {
        units.iter().map(|u| u.unit.name.as_str()).collect()
    }

    #[test]
    fn empty_query_keeps_everything_in_order() {
        let units = vec![unit("Acme", &[], 2), unit("Ads", &["Acme"], 1)];
        assert_eq!(names(&filter_units(&units, "  ")), ["Acme", "Ads"]);
    }

    #[test]
    fn matches_name_and_ancestors_case_insensitively() {
        let units = vec![
            unit("Acme", &[], 2),
            unit("Ads", &["Acme"], 1),
            unit("Ranking", &["Acme", "Ads"], 0),
            unit("Feed", &["Acme"], 0),
        ];
        assert_eq!(names(&filter_units(&units, "RANK")), ["Ranking"]);
        assert_eq!(names(&filter_units(&units, "ads")), ["Ads", "Ranking"]);
        assert_eq!(names(&filter_units(&units, "ads rank")), ["Ranking"]);
        assert!(filter_units(&units, "nothing-like-this").is_empty());
    }

    #[test]
    fn path_and_team() {
        let team = unit("Ranking", &["Acme", "Ads"], 0);
        assert_eq!(team.path(), "Acme › Ads › Ranking");
        assert!(team.is_team());
        assert!(!unit("Acme", &[], 0).is_team());
    }
}
