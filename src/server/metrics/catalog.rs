//! Reading and checking `metrics/catalog.toml`. A bad catalog stops the server at start with a
//! message naming the line. Compiled only with `ssr`.

use std::collections::HashSet;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::model::metrics::{
    Better, COMPUTED_FACTS, Catalog, Domain, Gate, Level, Metric, Requirement, Rule, Source,
};
use crate::model::registry::Stage;

/// The catalog built into the binary (the repository's `metrics/catalog.toml`).
pub const BUILT_IN: &str = include_str!("../../../metrics/catalog.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    overall: Overall,
    #[serde(default)]
    domain: Vec<Spanned<DomainEntry>>,
    #[serde(default)]
    metric: Vec<Spanned<MetricEntry>>,
    #[serde(default)]
    gate: Vec<Spanned<GateEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GateEntry {
    status: Spanned<String>,
    require: Vec<Spanned<RequirementEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementEntry {
    scope: String,
    level: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overall {
    rule: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainEntry {
    id: Spanned<String>,
    name: String,
    rule: Spanned<String>,
    #[serde(default = "one")]
    weight: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricEntry {
    id: Spanned<String>,
    domain: Spanned<String>,
    question: String,
    source: Spanned<String>,
    unit: String,
    direction: Spanned<String>,
    thresholds: Spanned<Vec<f64>>,
    #[serde(default = "one")]
    weight: Spanned<f64>,
    judged: String,
    unknown_when: String,
    /// How the value reads (`Shown`); a plain number when absent.
    shown_as: Option<Spanned<String>>,
}

fn one() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

/// The 1-based line of a byte offset.
fn line(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses and checks a catalog; an error names the file's line and the rule broken.
pub fn parse(name: &str, text: &str) -> Result<Catalog, String> {
    let at = |span: std::ops::Range<usize>| format!("{name}, line {}", line(text, span.start));
    let file: File = toml::from_str(text).map_err(|e| {
        let place = e.span().map_or_else(|| name.to_string(), &at);
        format!("{place}: {}", e.message())
    })?;
    let rule = |value: &Spanned<String>| match value.get_ref().as_str() {
        "mean" => Ok(Rule::Mean),
        "min" => Ok(Rule::Min),
        other => Err(format!(
            "{}: rule must be \"mean\" or \"min\", not {other:?}",
            at(value.span())
        )),
    };
    let weight = |value: &Spanned<f64>| {
        let w = *value.get_ref();
        if w.is_finite() && w > 0.0 {
            Ok(w)
        } else {
            Err(format!(
                "{}: weight must be a positive number, not {w}",
                at(value.span())
            ))
        }
    };

    let overall_rule = rule(&file.overall.rule)?;
    let mut domains = Vec::new();
    let mut domain_ids = HashSet::new();
    for entry in &file.domain {
        let d = entry.get_ref();
        let id = d.id.get_ref().clone();
        check_id(&id).map_err(|e| format!("{}: {e}", at(d.id.span())))?;
        if !domain_ids.insert(id.clone()) {
            return Err(format!(
                "{}: the domain id {id:?} is used twice",
                at(d.id.span())
            ));
        }
        domains.push(Domain {
            id,
            name: d.name.clone(),
            rule: rule(&d.rule)?,
            weight: weight(&d.weight)?,
        });
    }
    if domains.is_empty() {
        return Err(format!("{name}: the catalog declares no [[domain]]"));
    }

    let mut metrics = Vec::new();
    let mut metric_ids = HashSet::new();
    for entry in &file.metric {
        let m = entry.get_ref();
        let id = m.id.get_ref().clone();
        check_id(&id).map_err(|e| format!("{}: {e}", at(m.id.span())))?;
        if !metric_ids.insert(id.clone()) {
            return Err(format!(
                "{}: the metric id {id:?} is used twice",
                at(m.id.span())
            ));
        }
        let domain = m.domain.get_ref().clone();
        if !domain_ids.contains(&domain) {
            return Err(format!(
                "{}: metric {id:?} names the unknown domain {domain:?}",
                at(m.domain.span())
            ));
        }
        let source = match m.source.get_ref().split_once(':') {
            Some(("computed", fact)) if COMPUTED_FACTS.contains(&fact) => {
                Source::Computed(fact.into())
            }
            Some(("computed", fact)) => {
                return Err(format!(
                    "{}: {fact:?} is not a computed fact; known: {}",
                    at(m.source.span()),
                    COMPUTED_FACTS.join(", ")
                ));
            }
            Some(("measurement", measured)) if check_id(measured).is_ok() => {
                Source::Measurement(measured.into())
            }
            _ => {
                return Err(format!(
                    "{}: source must be computed:<fact> or measurement:<name>, not {:?}",
                    at(m.source.span()),
                    m.source.get_ref()
                ));
            }
        };
        let direction = match m.direction.get_ref().as_str() {
            "higher" => Better::Higher,
            "lower" => Better::Lower,
            other => {
                return Err(format!(
                    "{}: direction must be \"higher\" or \"lower\", not {other:?}",
                    at(m.direction.span())
                ));
            }
        };
        let thresholds: [f64; 3] = m.thresholds.get_ref().as_slice().try_into().map_err(|_| {
            format!(
                "{}: thresholds must list three values, where levels 1, 2 and 3 begin",
                at(m.thresholds.span())
            )
        })?;
        let in_order = match direction {
            Better::Higher => thresholds[0] <= thresholds[1] && thresholds[1] <= thresholds[2],
            Better::Lower => thresholds[0] >= thresholds[1] && thresholds[1] >= thresholds[2],
        };
        if !in_order || thresholds.iter().any(|t| !t.is_finite()) {
            return Err(format!(
                "{}: thresholds {thresholds:?} are out of order: with direction {:?} each level must be at least as hard to reach as the one below",
                at(m.thresholds.span()),
                m.direction.get_ref()
            ));
        }
        for (field, text) in [
            ("unit", &m.unit),
            ("judged", &m.judged),
            ("unknown_when", &m.unknown_when),
        ] {
            if text.trim().is_empty() {
                return Err(format!(
                    "{}: metric {id:?} must say its {field}",
                    at(m.id.span())
                ));
            }
        }
        let shown_as = match &m.shown_as {
            None => crate::model::metrics::Shown::Number,
            Some(text) => crate::model::metrics::Shown::parse(text.get_ref()).ok_or_else(|| {
                format!(
                    "{}: shown_as {:?} is not one of {}",
                    at(text.span()),
                    text.get_ref(),
                    crate::model::metrics::Shown::ALL
                        .map(|(name, _)| name)
                        .join(", ")
                )
            })?,
        };
        metrics.push(Metric {
            shown_as,
            levels: crate::model::metrics::levels_text(direction, thresholds, &m.unit),
            id,
            domain,
            question: m.question.clone(),
            source,
            unit: m.unit.clone(),
            direction,
            thresholds,
            weight: weight(&m.weight)?,
            judged: m.judged.clone(),
            unknown_when: m.unknown_when.clone(),
        });
    }
    for domain in &domains {
        if !metrics.iter().any(|m| m.domain == domain.id) {
            return Err(format!("{name}: the domain {:?} has no metric", domain.id));
        }
    }
    let mut catalog = Catalog {
        version: hex::encode(&Sha256::digest(text.as_bytes())[..6]),
        overall_rule,
        domains,
        metrics,
        gates: Vec::new(),
    };
    catalog.gates = gates(&file.gate, &catalog, &at)?;
    Ok(catalog)
}

/// The promotion gates: one per gated status (staging or production), each requirement a scope
/// of the catalog and a level.
fn gates(
    entries: &[Spanned<GateEntry>],
    catalog: &Catalog,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
) -> Result<Vec<Gate>, String> {
    let mut gates: Vec<Gate> = Vec::new();
    for entry in entries {
        let g = entry.get_ref();
        let Some(status @ (Stage::Staging | Stage::Production)) = Stage::parse(g.status.get_ref())
        else {
            return Err(format!(
                "{}: a gate's status is \"staging\" or \"production\", not {:?}",
                at(g.status.span()),
                g.status.get_ref()
            ));
        };
        if gates.iter().any(|other| other.status == status) {
            return Err(format!(
                "{}: the {status} gate is declared twice",
                at(g.status.span())
            ));
        }
        let mut require = Vec::new();
        for r in &g.require {
            let place = at(r.span());
            let r = r.get_ref();
            if !catalog.scopes().contains(&r.scope) {
                return Err(format!(
                    "{place}: the gate requires {:?}, which is not one of the catalog's scopes (overall, domain:<id>, metric:<id>)",
                    r.scope
                ));
            }
            let level = Level::new(r.level)
                .ok_or_else(|| format!("{place}: a level is 0-3, not {}", r.level))?;
            require.push(Requirement {
                scope: r.scope.clone(),
                level,
            });
        }
        if require.is_empty() {
            return Err(format!(
                "{}: the {status} gate requires nothing",
                at(entry.span())
            ));
        }
        gates.push(Gate { status, require });
    }
    Ok(gates)
}

fn check_id(id: &str) -> Result<(), String> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(format!("the id {id:?} must be 1-64 of a-z, 0-9 and _"))
    }
}

/// The catalog the server uses: the file named by `MODELGOV_CATALOG`, or the built-in one.
pub fn load(path: Option<&str>) -> Result<Catalog, String> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the catalog {path} (MODELGOV_CATALOG): {e}"))?;
            parse(path, &text)
        }
        None => parse("metrics/catalog.toml (built in)", BUILT_IN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_states_what_it_judges_its_unit_its_levels_and_when_it_is_unknown() {
        let catalog = parse("built-in", BUILT_IN).unwrap();
        for metric in &catalog.metrics {
            let id = &metric.id;
            assert!(metric.judged.len() > 10, "{id} says what it judges");
            assert!(metric.unit.len() > 2, "{id} has a unit");
            assert!(
                metric.unknown_when.starts_with("never")
                    || metric.unknown_when.contains("no ")
                    || metric.unknown_when.contains("never"),
                "{id} says when it is unknown: {}",
                metric.unknown_when
            );
            let side = match metric.direction {
                Better::Higher => "at or above",
                Better::Lower => "at or below",
            };
            assert_eq!(
                metric.levels.matches(side).count(),
                3,
                "{id}: {}",
                metric.levels
            );
            assert!(
                metric.levels.ends_with(&format!("({})", metric.unit)),
                "{id}"
            );
        }
        let missing = BUILT_IN.replacen("judged = ", "jduged = ", 1);
        assert!(parse("x", &missing).is_err());
    }

    #[test]
    fn the_built_in_catalog_is_valid_and_covers_every_domain_twice() {
        let catalog = parse("catalog.toml", BUILT_IN).unwrap();
        assert_eq!(catalog.domains.len(), 8);
        for domain in &catalog.domains {
            let n = catalog
                .metrics
                .iter()
                .filter(|m| m.domain == domain.id)
                .count();
            assert!(n >= 2, "{} has {n} metrics", domain.id);
        }
        assert_eq!(catalog.version.len(), 12);
        assert_eq!(catalog.scopes().len(), catalog.metrics.len() + 9);
    }

    /// The example gates, as a company would append them.
    const GATES: &str = include_str!("../../../metrics/gates.example.toml");

    #[test]
    fn gates_name_a_gated_status_and_scopes_of_the_catalog() {
        assert!(parse("built-in", BUILT_IN).unwrap().gates.is_empty());
        let gated = parse("gated", &format!("{BUILT_IN}\n{GATES}")).unwrap();
        let production = gated
            .gates
            .iter()
            .find(|g| g.status == Stage::Production)
            .unwrap();
        assert_eq!(production.require.len(), 2);
        assert_eq!(production.require[0].scope, "domain:safety");
        assert_eq!(production.require[0].level, Level::MANAGED);
        let bad = |from: &str, to: &str| {
            assert!(GATES.contains(from), "{from}");
            parse(
                "gated",
                &format!("{BUILT_IN}\n{}", GATES.replacen(from, to, 1)),
            )
            .unwrap_err()
        };
        assert!(bad("\"staging\"", "\"retired\"").contains("a gate's status is"));
        assert!(bad("\"staging\"", "\"production\"").contains("declared twice"));
        assert!(
            bad("domain:security", "domain:securty").contains("not one of the catalog's scopes")
        );
        assert!(bad("level = 1", "level = 4").contains("a level is 0-3"));
    }

    fn broken(from: &str, to: &str) -> String {
        assert!(BUILT_IN.contains(from), "{from}");
        parse("catalog.toml", &BUILT_IN.replacen(from, to, 1)).unwrap_err()
    }

    fn line_of(needle: &str) -> usize {
        line(BUILT_IN, BUILT_IN.find(needle).unwrap())
    }

    #[test]
    fn a_bad_catalog_names_the_line() {
        let error = broken("domain = \"fairness\"", "domain = \"fairnes\"");
        assert_eq!(
            error,
            format!(
                "catalog.toml, line {}: metric \"fairness_evaluation\" names the unknown domain \"fairnes\"",
                line_of("domain = \"fairness\"")
            )
        );
        let error = broken(
            "thresholds = [0.10, 0.05, 0.02]",
            "thresholds = [0.02, 0.05, 0.10]",
        );
        assert!(
            error.starts_with(&format!(
                "catalog.toml, line {}: thresholds",
                line_of("thresholds = [0.10, 0.05, 0.02]")
            )),
            "{error}"
        );
        assert!(error.contains("out of order"), "{error}");
        let error = broken("id = \"fairness_gap\"", "id = \"fairness_evaluation\"");
        assert!(
            error.contains("the metric id \"fairness_evaluation\" is used twice"),
            "{error}"
        );
        assert!(
            error.starts_with(&format!(
                "catalog.toml, line {}",
                line_of("id = \"fairness_gap\"")
            )),
            "{error}"
        );
        let error = broken("rule = \"min\"", "rule = \"median\"");
        assert!(
            error.contains("rule must be \"mean\" or \"min\""),
            "{error}"
        );
        let error = broken(
            "source = \"computed:lineage_completeness\"",
            "source = \"computed:vibes\"",
        );
        assert!(
            error.contains("\"vibes\" is not a computed fact"),
            "{error}"
        );
        let error = broken("[overall]", "[overall");
        assert!(error.starts_with("catalog.toml, line "), "{error}");
    }
}
