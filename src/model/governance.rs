//! From scorecard to action: exemptions (accepted risk with an expiry) and promotion gates (the
//! levels a model source must meet before a deployment of it enters a status). The rules are
//! pure and shared by the server, which enforces them, and the dashboard, which shows before a
//! click whether a move would pass.

use serde::{Deserialize, Serialize};

use super::metrics::{Catalog, Level};
use super::record::Ref;
use super::registry::Stage;
use super::text::{Lines, check_text};

/// Longest reason of an exemption or a gate override, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// The furthest ahead an exemption may expire, in days: accepted risk is looked at again.
pub const MAX_EXEMPTION_DAYS: i64 = 366;

/// A requirement a model source does not meet, with its level now (`None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unmet {
    pub scope: String,
    pub needed: Level,
    pub current: Option<Level>,
}

impl Unmet {
    /// "domain:safety needs 2 (managed) and is unknown".
    pub fn sentence(&self) -> String {
        let now = self
            .current
            .map_or_else(|| "unknown".to_string(), |l| l.to_string());
        format!("{} needs {} and is {now}", self.scope, self.needed)
    }
}

/// Whether a model source may enter a status: the requirements it misses, and those it misses
/// but an active exemption covers (they do not hold it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateCheck {
    pub status: Stage,
    pub passes: bool,
    pub unmet: Vec<Unmet>,
    pub exempted: Vec<Unmet>,
}

impl GateCheck {
    /// The refusal's words: every unmet requirement with its level now.
    pub fn refusal(&self, what: &str) -> String {
        let unmet: Vec<String> = self.unmet.iter().map(Unmet::sentence).collect();
        format!(
            "the {} gate refuses {what}: {}. An active exemption for a requirement, or an admin's override with a reason (override_reason), lets it pass",
            self.status,
            unmet.join("; ")
        )
    }
}

/// Checks the catalog's gate for `status`: `level` reads the model source's level in a scope
/// (`None` for unknown or never judged), `exempt` says whether an active exemption covers it.
/// A status without a gate passes.
pub fn check_gate(
    catalog: &Catalog,
    status: Stage,
    level: impl Fn(&str) -> Option<Level>,
    exempt: impl Fn(&str) -> bool,
) -> GateCheck {
    let mut check = GateCheck {
        status,
        passes: true,
        unmet: Vec::new(),
        exempted: Vec::new(),
    };
    for gate in catalog.gates.iter().filter(|g| g.status == status) {
        for requirement in &gate.require {
            let current = level(&requirement.scope);
            if current.is_some_and(|l| l >= requirement.level) {
                continue;
            }
            let unmet = Unmet {
                scope: requirement.scope.clone(),
                needed: requirement.level,
                current,
            };
            if exempt(&requirement.scope) {
                check.exempted.push(unmet);
            } else {
                check.unmet.push(unmet);
            }
        }
    }
    check.passes = check.unmet.is_empty();
    check
}

/// True when an exemption for `exempted` (a domain or a metric) covers `scope`: a metric's
/// exemption covers that metric; a domain's covers the domain and every metric in it.
pub fn covers(catalog: &Catalog, exempted: &str, scope: &str) -> bool {
    if exempted == scope {
        return true;
    }
    match (
        exempted.strip_prefix("domain:"),
        scope.strip_prefix("metric:"),
    ) {
        (Some(domain), Some(metric)) => catalog.metric(metric).is_some_and(|m| m.domain == domain),
        _ => false,
    }
}

/// Checks the scope an exemption may be for: one of the catalog's domains or metrics (the overall
/// level is not exempted: it says how the model stands, all told).
pub fn check_exemption_scope(catalog: &Catalog, scope: &str) -> Result<(), String> {
    let known = match scope.split_once(':') {
        Some(("domain", id)) => catalog.domain(id).is_some(),
        Some(("metric", id)) => catalog.metric(id).is_some(),
        _ => false,
    };
    if known {
        Ok(())
    } else {
        let shown: String = scope.chars().take(100).collect();
        Err(format!(
            "scope {shown:?} is not one of the catalog's domains or metrics (domain:<id> or metric:<id>; the overall level cannot be exempted)"
        ))
    }
}

/// Checks a reason (of an exemption or an override): present, at most [`MAX_REASON_CHARS`]
/// characters, line breaks allowed.
pub fn check_reason(what: &str, reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err(format!("{what} must say why"));
    }
    check_text(what, reason, MAX_REASON_CHARS, Lines::Many)
}

/// Where an exemption stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExemptionStatus {
    /// Asked for, not yet approved by an admin: it does not apply.
    Requested,
    /// Approved and not expired: it applies.
    Active,
    /// Past its expiry: it no longer applies (renewing makes it active again).
    Expired,
    /// Withdrawn by an admin.
    Revoked,
}

impl ExemptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Requested, Self::Active, Self::Expired, Self::Revoked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// An exemption: one model source, one domain or metric, a reason, who asked and who approved,
/// and an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Exemption {
    pub id: i64,
    pub model: Ref,
    pub model_name: String,
    pub scope: String,
    pub reason: String,
    pub status: ExemptionStatus,
    pub requested_by: String,
    /// RFC 3339.
    pub requested_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// RFC 3339.
    pub expires_at: String,
}

/// An exemption asked for. An admin's request is approved at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExemption {
    pub model: Ref,
    /// `domain:<id>` or `metric:<id>`.
    pub scope: String,
    pub reason: String,
    /// A date (`2027-03-31`, the start of that day in UTC) or an RFC 3339 time, in the future
    /// and at most 366 days ahead.
    pub expires_at: String,
}

/// A new expiry for an exemption (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    pub expires_at: String,
}

/// What a model page shows of governance: whether each gate would pass now, and the model
/// source's exemptions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelGovernance {
    pub gates: Vec<GateCheck>,
    pub exemptions: Vec<Exemption>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::{Gate, Requirement};

    fn catalog() -> Catalog {
        let mut catalog: Catalog = serde_json::from_value(serde_json::json!({
            "version": "test",
            "overall_rule": "mean",
            "domains": [
                {"id": "safety", "name": "Safety", "rule": "min", "weight": 1.0},
                {"id": "security", "name": "Security", "rule": "min", "weight": 1.0}
            ],
            "metrics": [{
                "id": "safety_evaluation", "domain": "safety", "question": "?",
                "source": {"from": "computed", "name": "safety_evaluation_present"},
                "unit": "flag", "direction": "higher", "thresholds": [1.0, 1.0, 1.0],
                "weight": 1.0, "judged": "", "unknown_when": "never"
            }]
        }))
        .unwrap();
        catalog.gates = vec![Gate {
            status: Stage::Production,
            require: vec![
                Requirement {
                    scope: "domain:safety".into(),
                    level: Level::MANAGED,
                },
                Requirement {
                    scope: "domain:security".into(),
                    level: Level::MANAGED,
                },
            ],
        }];
        catalog
    }

    #[test]
    fn a_gate_names_each_unmet_requirement_with_its_level_now() {
        let catalog = catalog();
        let check = check_gate(
            &catalog,
            Stage::Production,
            |scope| (scope == "domain:safety").then_some(Level::BASIC),
            |_| false,
        );
        assert!(!check.passes);
        let refusal = check.refusal("promoting d");
        assert!(
            refusal.contains("domain:safety needs 2 (managed) and is 1 (basic)"),
            "{refusal}"
        );
        assert!(
            refusal.contains("domain:security needs 2 (managed) and is unknown"),
            "{refusal}"
        );
        let met = check_gate(
            &catalog,
            Stage::Production,
            |_| Some(Level::MANAGED),
            |_| false,
        );
        assert!(met.passes && met.unmet.is_empty());
        let ungated = check_gate(&catalog, Stage::Staging, |_| None, |_| false);
        assert!(ungated.passes, "a status without a gate passes");
    }

    #[test]
    fn an_exemption_covers_its_requirement_and_a_domain_covers_its_metrics() {
        let catalog = catalog();
        let check = check_gate(
            &catalog,
            Stage::Production,
            |scope| (scope == "domain:safety").then_some(Level::MANAGED),
            |scope| scope == "domain:security",
        );
        assert!(check.passes);
        assert_eq!(check.exempted.len(), 1);
        assert!(covers(
            &catalog,
            "domain:safety",
            "metric:safety_evaluation"
        ));
        assert!(covers(&catalog, "domain:safety", "domain:safety"));
        assert!(!covers(
            &catalog,
            "domain:security",
            "metric:safety_evaluation"
        ));
        assert!(!covers(
            &catalog,
            "metric:safety_evaluation",
            "domain:safety"
        ));
    }

    #[test]
    fn an_exemption_is_for_a_domain_or_metric_of_the_catalog_with_a_reason() {
        let catalog = catalog();
        assert!(check_exemption_scope(&catalog, "domain:safety").is_ok());
        assert!(check_exemption_scope(&catalog, "metric:safety_evaluation").is_ok());
        for bad in ["overall", "domain:nope", "metric:", "safety", ""] {
            assert!(check_exemption_scope(&catalog, bad).is_err(), "{bad}");
        }
        assert!(
            check_reason("reason", "  ")
                .unwrap_err()
                .contains("say why")
        );
        assert!(check_reason("reason", "a\0b").unwrap_err().contains("NUL"));
        assert!(check_reason("reason", "waiting on the red team\nticket 42").is_ok());
        assert!(
            check_reason("reason", &"x".repeat(MAX_REASON_CHARS + 1))
                .unwrap_err()
                .contains("longer")
        );
    }
}
