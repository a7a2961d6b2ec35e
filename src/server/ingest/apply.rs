//! Applying a batch of records to the graph in one transaction.
//!
//! Every record is checked before anything is written: its fields, its label, the records it
//! references (in the database or elsewhere in the batch, in any order), the kind and cardinality
//! rules of its edges, and the org tree's shape. Rejected records change nothing; the rest are
//! written with a handful of set-based statements whatever the batch size. The database's own
//! constraints back the checks up: a concurrent writer that slips between check and write makes
//! the transaction fail, and the batch is checked and written again. Compiled only with `ssr`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{PgConnection, PgPool};
use tracing::instrument;

use super::parse::{Item, Place};
use crate::error::AppError;
use crate::model::record::{
    AssetKind, AssetRecord, Cardinality, MeasurementRecord, OrgUnitRecord, Outcome, Record,
    RecordResult, Ref, check_description, check_key_part, check_name, check_ref, check_tag_value,
    check_value, edge_rule, statuses_of,
};
use crate::server::repo::graph::{
    self, AssetRow, AssetWrite, EdgeWrite, MeasurementWrite, UnitWrite,
};

/// Most tags on one asset, most named owners, and their lengths.
const MAX_TAGS: usize = 100;
const MAX_OWNERS: usize = 100;
const MAX_TAG_KEY_CHARS: usize = 256;
const MAX_TAG_VALUE_CHARS: usize = 2048;
/// Times a batch is checked and written again after a concurrent writer got in its way.
const ATTEMPTS: usize = 4;

/// Applies `items` as `actor` and answers per record, in the order given.
#[instrument(skip_all, fields(records = items.len(), actor = %actor))]
pub async fn apply(
    pool: &PgPool,
    actor: &str,
    items: &[Item],
) -> Result<Vec<RecordResult>, AppError> {
    for _ in 0..ATTEMPTS {
        let mut tx = pool.begin().await?;
        match apply_in(&mut tx, actor, items).await {
            Ok(results) => {
                tx.commit().await?;
                return Ok(results);
            }
            Err(error) if is_race(&error) => {
                tracing::info!(%error, "a concurrent write got in the way; checking the batch again");
                tx.rollback().await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Conflict(
        "concurrent writes to the same records kept getting in the way; send the request again"
            .into(),
    ))
}

/// True for the errors a concurrent writer causes between our checks and our writes.
pub fn is_race(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("23505" | "23503" | "40001" | "40P01")
        ),
        sqlx::Error::RowNotFound => true,
        _ => false,
    }
}

/// What the checks decided for one item.
#[derive(Debug, Clone)]
enum Decision {
    Rejected(String),
    Quarantined,
    Unit(Ref),
    Asset(Ref),
    Edge(Ref, Ref),
    Measurement(MeasurementKey),
}

type MeasurementKey = (Ref, String, DateTime<Utc>);

#[derive(Debug, Clone)]
struct AssetPlan {
    key: Ref,
    kind: Option<AssetKind>,
    label: Option<String>,
    name: String,
    description: Option<String>,
    owner: Option<Ref>,
    owners: Option<Vec<String>>,
    tags: Option<BTreeMap<String, String>>,
    status: Option<String>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl AssetPlan {
    /// Fields present in `later` replace this plan's (two records for one asset in one batch).
    fn merge(&mut self, later: AssetPlan) {
        self.name = later.name;
        self.kind = later.kind.or(self.kind);
        self.label = later.label.or(self.label.take());
        self.description = later.description.or(self.description.take());
        self.owner = later.owner.or(self.owner.take());
        self.owners = later.owners.or(self.owners.take());
        self.tags = later.tags.or(self.tags.take());
        self.status = later.status.or(self.status.take());
        self.started_at = later.started_at.or(self.started_at);
        self.ended_at = later.ended_at.or(self.ended_at);
    }
}

/// Checks and writes `items` as `actor` inside the caller's transaction (which commits or rolls
/// back); a race with a concurrent writer comes back as an error for which [`is_race`] is true.
pub async fn apply_in(
    tx: &mut PgConnection,
    actor: &str,
    items: &[Item],
) -> Result<Vec<RecordResult>, sqlx::Error> {
    graph::set_actor(&mut *tx, actor).await?;

    // 1. Fields of each record on its own.
    let mut decisions: Vec<Decision> = Vec::with_capacity(items.len());
    let mut units: Vec<(usize, UnitWrite, Option<Ref>)> = Vec::new();
    let mut assets: Vec<(usize, AssetPlan)> = Vec::new();
    let mut edges: Vec<(usize, Ref, Ref)> = Vec::new();
    let mut measurements: Vec<(usize, MeasurementKey, f64)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let checked = match &item.record {
            Err(message) => Err(message.clone()),
            Ok(Record::OrgUnit(unit)) => check_unit(unit).map(|(write, parent)| {
                units.push((index, write.clone(), parent));
                Decision::Unit(write.key)
            }),
            Ok(Record::Asset(asset)) => check_asset(asset).map(|plan| {
                let key = plan.key.clone();
                assets.push((index, plan));
                Decision::Asset(key)
            }),
            Ok(Record::Edge(edge)) => check_ref("from", &edge.from)
                .and_then(|()| check_ref("to", &edge.to))
                .map(|()| {
                    edges.push((index, edge.from.clone(), edge.to.clone()));
                    Decision::Edge(edge.from.clone(), edge.to.clone())
                }),
            Ok(Record::Measurement(measurement)) => {
                check_measurement(measurement).map(|(key, value)| {
                    measurements.push((index, key.clone(), value));
                    Decision::Measurement(key)
                })
            }
        };
        decisions.push(checked.unwrap_or_else(Decision::Rejected));
    }

    // 2. Labels without a kind go through the mapping table; unmapped ones wait in quarantine.
    let wanted_labels: HashSet<(String, String)> = assets
        .iter()
        .filter(|(_, plan)| plan.kind.is_none())
        .filter_map(|(_, plan)| {
            plan.label
                .clone()
                .map(|label| (plan.key.source.clone(), label))
        })
        .collect();
    let mappings = graph::label_mappings(&mut *tx, &wanted_labels).await?;
    let mut quarantined: Vec<(usize, AssetPlan)> = Vec::new();
    assets.retain_mut(|(index, plan)| {
        if plan.kind.is_some() {
            return true;
        }
        let label = plan.label.clone().unwrap_or_default();
        if let Some(kind) = mappings.get(&(plan.key.source.clone(), label)) {
            plan.kind = Some(*kind);
            true
        } else {
            decisions[*index] = Decision::Quarantined;
            quarantined.push((*index, plan.clone()));
            false
        }
    });

    // 3. What the database already holds of everything the batch names.
    let mut unit_keys: HashSet<Ref> = HashSet::new();
    for (_, write, parent) in &units {
        unit_keys.insert(write.key.clone());
        unit_keys.extend(parent.clone());
    }
    unit_keys.extend(assets.iter().filter_map(|(_, plan)| plan.owner.clone()));
    let mut asset_keys: HashSet<Ref> = assets.iter().map(|(_, plan)| plan.key.clone()).collect();
    for (_, from, to) in &edges {
        asset_keys.insert(from.clone());
        asset_keys.insert(to.clone());
    }
    asset_keys.extend(measurements.iter().map(|(_, key, _)| key.0.clone()));
    let db_units = graph::find_units(&mut *tx, &unit_keys).await?;
    let db_assets = graph::find_assets(&mut *tx, &asset_keys).await?;

    // 4. Org units: parents must exist (here or in the batch) and the tree must stay a tree.
    let mut merged_units: BTreeMap<Ref, UnitWrite> = BTreeMap::new();
    for (_, write, _) in &units {
        merged_units
            .entry(write.key.clone())
            .and_modify(|earlier| {
                earlier.name.clone_from(&write.name);
                if write.description.is_some() {
                    earlier.description.clone_from(&write.description);
                }
            })
            .or_insert_with(|| write.clone());
    }
    let mut parent_of: HashMap<Ref, Ref> = graph::unit_ancestry(
        &mut *tx,
        &units
            .iter()
            .filter_map(|(_, _, parent)| parent.clone())
            .collect::<HashSet<_>>(),
    )
    .await?;
    let mut accepted_units: HashSet<Ref> = merged_units.keys().cloned().collect();
    // A parent named only by a rejected record is missing too: repeat until nothing changes.
    loop {
        let mut changed = false;
        for (index, write, parent) in &units {
            let Some(parent) = parent else { continue };
            if matches!(decisions[*index], Decision::Rejected(_)) {
                continue;
            }
            if !db_units.contains_key(parent) && !accepted_units.contains(parent) {
                decisions[*index] = Decision::Rejected(format!(
                    "reference rule: the parent org unit {parent} does not exist"
                ));
                changed = true;
                if !units.iter().any(|(other, w, _)| {
                    w.key == write.key && !matches!(decisions[*other], Decision::Rejected(_))
                }) {
                    accepted_units.remove(&write.key);
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut parent_writes: BTreeMap<Ref, Ref> = BTreeMap::new();
    for (index, write, parent) in &units {
        let Some(parent) = parent else { continue };
        if matches!(decisions[*index], Decision::Rejected(_)) {
            continue;
        }
        if would_cycle(&parent_of, &write.key, parent) {
            decisions[*index] = Decision::Rejected(format!(
                "org tree rule: {} cannot sit below {parent}, which is already below it",
                write.key
            ));
            continue;
        }
        parent_of.insert(write.key.clone(), parent.clone());
        parent_writes.insert(write.key.clone(), parent.clone());
    }
    let unit_known = |key: &Ref| db_units.contains_key(key) || accepted_units.contains(key);

    // 5. Assets: one kind for life, owners that exist, statuses their kind allows.
    let mut merged_assets: BTreeMap<Ref, AssetPlan> = BTreeMap::new();
    for (index, plan) in &assets {
        let existing_kind = db_assets.get(&plan.key).map(|row| row.kind);
        let batch_kind = merged_assets.get(&plan.key).and_then(|p| p.kind);
        let problem = match (plan.kind, existing_kind.or(batch_kind)) {
            (Some(kind), Some(before)) if kind != before => Some(format!(
                "kind rule: {} is a {}; a record cannot make it a {}",
                plan.key,
                before.label(),
                kind.label()
            )),
            _ => None,
        }
        .or_else(|| {
            plan.owner
                .as_ref()
                .filter(|owner| !unit_known(owner))
                .map(|owner| format!("reference rule: the owning org unit {owner} does not exist"))
        })
        .or_else(|| check_status(plan).err());
        if let Some(problem) = problem {
            decisions[*index] = Decision::Rejected(problem);
            continue;
        }
        match merged_assets.get_mut(&plan.key) {
            Some(earlier) => earlier.merge(plan.clone()),
            None => {
                merged_assets.insert(plan.key.clone(), plan.clone());
            }
        }
    }
    // A deployment created without a status starts in development.
    for plan in merged_assets.values_mut() {
        if plan.kind == Some(AssetKind::Deployment)
            && plan.status.is_none()
            && !db_assets.contains_key(&plan.key)
        {
            plan.status = Some("development".into());
        }
    }
    let kinds: HashMap<Ref, AssetKind> = db_assets
        .iter()
        .map(|(key, row)| (key.clone(), row.kind))
        .chain(
            merged_assets
                .iter()
                .filter_map(|(key, plan)| Some((key.clone(), plan.kind?))),
        )
        .collect();
    let kind_of = |key: &Ref| kinds.get(key).copied();
    // An edge or measurement naming a record that waits in quarantine (in this batch or from
    // before) waits with it, and applies after it once a mapping arrives.
    let quarantined_here: HashSet<Ref> = quarantined.iter().map(|(_, p)| p.key.clone()).collect();
    let missing: HashSet<Ref> = edges
        .iter()
        .flat_map(|(_, from, to)| [from, to])
        .chain(measurements.iter().map(|(_, key, _)| &key.0))
        .filter(|key| kind_of(key).is_none() && !quarantined_here.contains(*key))
        .cloned()
        .collect();
    let quarantined_before = graph::quarantined(&mut *tx, &missing).await?;
    let waiting = |key: &Ref| quarantined_here.contains(key) || quarantined_before.contains(key);
    let mut dependents: Vec<(usize, Ref)> = Vec::new();

    // 6. Edges: both ends exist, the kinds allow the edge, and "exactly one" ends stay so.
    let one_source_targets: HashSet<i64> = edges
        .iter()
        .filter_map(|(_, _, to)| db_assets.get(to).map(|row| row.id))
        .collect();
    let existing_sources = graph::single_sources(&mut *tx, &one_source_targets).await?;
    let mut claimed: HashMap<Ref, Ref> = HashMap::new();
    let mut edge_writes: BTreeMap<(Ref, Ref), Cardinality> = BTreeMap::new();
    let mut serving: BTreeMap<Ref, Ref> = BTreeMap::new();
    for (index, from, to) in &edges {
        let (Some(from_kind), Some(to_kind)) = (kind_of(from), kind_of(to)) else {
            // It waits when every end it lacks is waiting (for the first of them; it waits again
            // for the other, if need be, when that one applies).
            let lacking: Vec<&Ref> = [from, to]
                .into_iter()
                .filter(|end| kind_of(end).is_none())
                .collect();
            if lacking.iter().all(|end| waiting(end)) {
                decisions[*index] = Decision::Quarantined;
                dependents.push((*index, lacking[0].clone()));
                continue;
            }
            let missing = lacking
                .into_iter()
                .find(|end| !waiting(end))
                .unwrap_or(from);
            decisions[*index] = Decision::Rejected(format!(
                "reference rule: the asset {missing} does not exist"
            ));
            continue;
        };
        let rule = match edge_rule(from_kind, to_kind) {
            Ok(rule) => rule,
            Err(message) => {
                decisions[*index] = Decision::Rejected(message);
                continue;
            }
        };
        match rule.cardinality {
            Cardinality::Many => {
                edge_writes.insert((from.clone(), to.clone()), rule.cardinality);
            }
            Cardinality::OneSource => {
                let current = claimed.get(to).cloned().or_else(|| {
                    db_assets
                        .get(to)
                        .and_then(|row| existing_sources.get(&row.id))
                        .cloned()
                });
                match current {
                    Some(current) if &current != from => {
                        decisions[*index] = Decision::Rejected(format!(
                            "cardinality rule: the {} {to} already has its {} {current}; a {} has exactly one",
                            to_kind.label(),
                            from_kind.label(),
                            to_kind.label(),
                        ));
                    }
                    _ => {
                        claimed.insert(to.clone(), from.clone());
                        edge_writes.insert((from.clone(), to.clone()), rule.cardinality);
                    }
                }
            }
            Cardinality::Replaces => {
                // The last edge into a deployment in the batch is the binary it serves now.
                if let Some(previous) = serving.insert(to.clone(), from.clone()) {
                    edge_writes.remove(&(previous, to.clone()));
                }
                edge_writes.insert((from.clone(), to.clone()), rule.cardinality);
            }
        }
    }

    // 7. Measurements belong to an asset that exists.
    let mut measurement_writes: BTreeMap<MeasurementKey, f64> = BTreeMap::new();
    for (index, key, value) in &measurements {
        if kind_of(&key.0).is_none() && waiting(&key.0) {
            decisions[*index] = Decision::Quarantined;
            dependents.push((*index, key.0.clone()));
        } else if kind_of(&key.0).is_none() {
            decisions[*index] = Decision::Rejected(format!(
                "reference rule: the asset {} does not exist",
                key.0
            ));
        } else {
            measurement_writes.insert(key.clone(), *value);
        }
    }

    // 8. Write, set-based: units, parents, assets, edges, measurements, quarantine.
    let unit_rows: Vec<UnitWrite> = merged_units
        .into_values()
        .filter(|write| accepted_units.contains(&write.key))
        .collect();
    let (created_units, mut updated_units) =
        graph::write_units(&mut *tx, &unit_rows, &db_units).await?;
    updated_units.extend(graph::write_parents(&mut *tx, &parent_writes).await?);

    let asset_rows: Vec<AssetWrite> = merged_assets
        .into_values()
        .map(|plan| to_asset_write(plan, &db_assets))
        .collect();
    let (created_assets, updated_assets, mut ids) =
        graph::write_assets(&mut *tx, &asset_rows).await?;
    for (key, row) in &db_assets {
        ids.entry(key.clone()).or_insert(row.id);
    }

    let edge_rows: Vec<EdgeWrite> = edge_writes
        .iter()
        .filter_map(|((from, to), cardinality)| {
            Some(EdgeWrite {
                from_id: *ids.get(from)?,
                from_kind: kind_of(from)?,
                to_id: *ids.get(to)?,
                to_kind: kind_of(to)?,
                replaces: *cardinality == Cardinality::Replaces,
            })
        })
        .collect();
    if edge_rows.len() != edge_writes.len() {
        // An asset the checks counted on vanished underneath us.
        return Err(sqlx::Error::RowNotFound);
    }
    let (created_edges, updated_edges) = graph::write_edges(&mut *tx, &edge_rows).await?;

    let measurement_rows: Vec<MeasurementWrite> = measurement_writes
        .iter()
        .filter_map(|((asset, name, at), value)| {
            Some(MeasurementWrite {
                asset_id: *ids.get(asset)?,
                name: name.clone(),
                at: *at,
                value: *value,
            })
        })
        .collect();
    let (created_measurements, updated_measurements) =
        graph::write_measurements(&mut *tx, &measurement_rows).await?;

    let quarantine_rows: Vec<(Ref, String, serde_json::Value)> = quarantined
        .iter()
        .filter_map(|(index, plan)| {
            let record = items[*index].record.as_ref().ok()?;
            Some((
                plan.key.clone(),
                plan.label.clone().unwrap_or_default(),
                serde_json::to_value(record).ok()?,
            ))
        })
        .collect();
    graph::write_quarantine(&mut *tx, &quarantine_rows).await?;
    let dependent_rows: Vec<(Ref, serde_json::Value)> = dependents
        .iter()
        .filter_map(|(index, waited)| {
            let record = items[*index].record.as_ref().ok()?;
            Some((waited.clone(), serde_json::to_value(record).ok()?))
        })
        .collect();
    graph::write_quarantine_dependents(&mut *tx, &dependent_rows).await?;
    // Assets written now leave the quarantine if they waited there, and what waited for them
    // applies after them (its own answer was `quarantined`; a refusal is kept as any is).
    let written: Vec<Ref> = asset_rows.iter().map(|row| row.key.clone()).collect();
    let released = graph::release_quarantined(&mut *tx, &written).await?;
    if !released.is_empty() {
        let items: Vec<Item> = released
            .into_iter()
            .zip(0..)
            .map(|(record, i)| Item {
                place: Place::Index(i),
                record: serde_json::from_value::<Record>(record)
                    .map_err(|e| format!("the waiting record could not be read: {e}")),
            })
            .collect();
        Box::pin(apply_in(&mut *tx, actor, &items)).await?;
    }

    // 9. The answer per record.
    let outcome = |created: bool, updated: bool| {
        if created {
            Outcome::Created
        } else if updated {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        }
    };
    let results = items
        .iter()
        .zip(decisions)
        .map(|(item, decision)| {
            let (status, error) = match decision {
                Decision::Rejected(message) => (Outcome::Rejected, Some(message)),
                Decision::Quarantined => (Outcome::Quarantined, None),
                Decision::Unit(key) => (
                    outcome(created_units.contains(&key), updated_units.contains(&key)),
                    None,
                ),
                Decision::Asset(key) => (
                    outcome(created_assets.contains(&key), updated_assets.contains(&key)),
                    None,
                ),
                Decision::Edge(from, to) => {
                    let pair = (ids.get(&from).copied(), ids.get(&to).copied());
                    (
                        outcome(created_edges.contains(&pair), updated_edges.contains(&pair)),
                        None,
                    )
                }
                Decision::Measurement(key) => {
                    let id_key = (ids.get(&key.0).copied(), key.1.clone(), key.2);
                    (
                        outcome(
                            created_measurements.contains(&id_key),
                            updated_measurements.contains(&id_key),
                        ),
                        None,
                    )
                }
            };
            let (line, index) = match item.place {
                Place::Single => (None, Some(0)),
                Place::Index(i) => (None, Some(i)),
                Place::Line(l) => (Some(l), None),
            };
            RecordResult {
                line,
                index,
                status,
                error,
            }
        })
        .collect();
    let refused: Vec<(String, String, Option<serde_json::Value>, String)> = items
        .iter()
        .zip(&results)
        .filter(|(_, r): &(&Item, &RecordResult)| r.status == Outcome::Rejected)
        .map(|(item, r)| {
            let (source, id) = match &item.record {
                Ok(Record::Asset(a)) => (a.source.clone(), a.id.clone()),
                Ok(Record::OrgUnit(u)) => (u.source.clone(), u.id.clone()),
                Ok(Record::Edge(e)) => (e.to.source.clone(), format!("{} -> {}", e.from, e.to)),
                Ok(Record::Measurement(m)) => (m.asset.source.clone(), m.asset.id.clone()),
                Err(_) => ("records".to_string(), String::new()),
            };
            let record = item
                .record
                .as_ref()
                .ok()
                .and_then(|r| serde_json::to_value(r).ok());
            (source, id, record, r.error.clone().unwrap_or_default())
        })
        .collect();
    graph::write_rejections(&mut *tx, &refused).await?;
    Ok(results)
}

/// True when hanging `child` below `parent` would make `child` its own ancestor.
fn would_cycle(parent_of: &HashMap<Ref, Ref>, child: &Ref, parent: &Ref) -> bool {
    let mut at = parent;
    for _ in 0..=parent_of.len() {
        if at == child {
            return true;
        }
        match parent_of.get(at) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

fn check_unit(unit: &OrgUnitRecord) -> Result<(UnitWrite, Option<Ref>), String> {
    check_key_part("source", &unit.source)?;
    check_key_part("id", &unit.id)?;
    check_name(&unit.name)?;
    if let Some(description) = &unit.description {
        check_description(description)?;
    }
    let key = Ref {
        source: unit.source.clone(),
        id: unit.id.clone(),
    };
    if let Some(parent) = &unit.parent {
        check_ref("parent", parent)?;
        if parent == &key {
            return Err("org tree rule: an org unit cannot be its own parent".into());
        }
    }
    Ok((
        UnitWrite {
            key,
            name: unit.name.clone(),
            description: unit.description.clone(),
        },
        unit.parent.clone(),
    ))
}

fn check_asset(asset: &AssetRecord) -> Result<AssetPlan, String> {
    check_key_part("source", &asset.source)?;
    check_key_part("id", &asset.id)?;
    check_name(&asset.name)?;
    if let Some(description) = &asset.description {
        check_description(description)?;
    }
    if let Some(label) = &asset.label {
        check_key_part("label", label)?;
    }
    if let Some(status) = &asset.status {
        check_value("status", status)?;
    }
    if asset.kind.is_none() && asset.label.is_none() {
        return Err("an asset needs a kind (one of feature_source, logical_feature, dataset, model_source, workflow_run, model_binary, deployment) or a tool label".into());
    }
    if let Some(owner) = &asset.owner {
        check_ref("owner", owner)?;
    }
    if let Some(owners) = &asset.owners {
        if owners.len() > MAX_OWNERS {
            return Err(format!("owners lists more than {MAX_OWNERS} people"));
        }
        for owner in owners {
            check_key_part("each of owners", owner)?;
        }
    }
    if let Some(tags) = &asset.tags {
        if tags.len() > MAX_TAGS {
            return Err(format!("more than {MAX_TAGS} tags"));
        }
        for (key, value) in tags {
            check_key_part("a tag key", key)?;
            if key.chars().count() > MAX_TAG_KEY_CHARS {
                return Err(format!(
                    "tag key {key:?} is longer than {MAX_TAG_KEY_CHARS} characters"
                ));
            }
            if value.chars().count() > MAX_TAG_VALUE_CHARS {
                return Err(format!(
                    "tag {key:?} has a value longer than {MAX_TAG_VALUE_CHARS} characters"
                ));
            }
            check_tag_value(&format!("tags.{key}"), value)?;
        }
    }
    let started_at = asset
        .started_at
        .as_deref()
        .map(|t| parse_time("started_at", t))
        .transpose()?;
    let ended_at = asset
        .ended_at
        .as_deref()
        .map(|t| parse_time("ended_at", t))
        .transpose()?;
    if let (Some(started), Some(ended)) = (started_at, ended_at)
        && ended < started
    {
        return Err("ended_at is before started_at".into());
    }
    Ok(AssetPlan {
        key: asset.key(),
        kind: asset.kind,
        label: asset.label.clone(),
        name: asset.name.clone(),
        description: asset.description.clone(),
        owner: asset.owner.clone(),
        owners: asset.owners.clone(),
        tags: asset.tags.clone(),
        status: asset.status.clone(),
        started_at,
        ended_at,
    })
}

/// Statuses and times are checked once the kind is known (a label may have given it).
fn check_status(plan: &AssetPlan) -> Result<(), String> {
    let Some(kind) = plan.kind else { return Ok(()) };
    if let Some(status) = &plan.status {
        let allowed = statuses_of(kind);
        if allowed.is_empty() {
            return Err(format!("a {} has no status", kind.label()));
        }
        if !allowed.contains(&status.as_str()) {
            return Err(format!(
                "status {status:?} is not one of a {}'s: {}",
                kind.label(),
                allowed.join(", ")
            ));
        }
    }
    if kind != AssetKind::WorkflowRun && (plan.started_at.is_some() || plan.ended_at.is_some()) {
        return Err(format!(
            "started_at and ended_at belong to workflow runs, not to a {}",
            kind.label()
        ));
    }
    Ok(())
}

fn check_measurement(measurement: &MeasurementRecord) -> Result<(MeasurementKey, f64), String> {
    check_ref("asset", &measurement.asset)?;
    check_key_part("name", &measurement.name)?;
    if !measurement.value.is_finite() {
        return Err("value must be a finite number".into());
    }
    let at = parse_time("at", &measurement.at)?;
    Ok((
        (measurement.asset.clone(), measurement.name.clone(), at),
        measurement.value,
    ))
}

/// An RFC 3339 time, to the microsecond Postgres keeps.
fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|e| format!("{field} {value:?} is not an RFC 3339 time: {e}"))
}

fn to_asset_write(plan: AssetPlan, db_assets: &HashMap<Ref, AssetRow>) -> AssetWrite {
    AssetWrite {
        exists: db_assets.contains_key(&plan.key),
        kind: plan.kind.unwrap_or(AssetKind::ModelSource),
        key: plan.key,
        label: plan.label,
        name: plan.name,
        description: plan.description,
        owner: plan.owner,
        owners: plan.owners,
        tags: plan.tags,
        status: plan.status,
        started_at: plan.started_at,
        ended_at: plan.ended_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str) -> Ref {
        Ref {
            source: "hr".into(),
            id: id.into(),
        }
    }

    #[test]
    fn cycles_are_found_through_the_whole_chain() {
        let parents: HashMap<Ref, Ref> = [(r("b"), r("a")), (r("c"), r("b"))].into_iter().collect();
        assert!(would_cycle(&parents, &r("a"), &r("c")));
        assert!(would_cycle(&parents, &r("b"), &r("b")));
        assert!(!would_cycle(&parents, &r("d"), &r("c")));
        assert!(!would_cycle(&parents, &r("c"), &r("a")));
    }

    #[test]
    fn times_are_rfc3339_and_kept_to_the_microsecond() {
        let t = parse_time("at", "2026-10-02T00:00:00.123456789+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-01T22:00:00.123456+00:00");
        assert!(
            parse_time("at", "yesterday")
                .unwrap_err()
                .starts_with("at \"yesterday\"")
        );
    }
}
