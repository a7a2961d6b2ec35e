//! The MLflow calls modelgov serves, each read once into a typed request from its arguments (the
//! query string of a GET, the JSON body otherwise), with MLflow's own words for an argument that
//! is missing or wrong. The handlers take these and never look at the arguments again.

use http::{Method, StatusCode};
use serde_json::Value;

use super::filter::{Search, filter_of, order_by, page};
use super::limits::checked;
use super::{MlflowError, STAGES};
use crate::server::repo::mlflow::{Clause, Page};

/// One call and its arguments.
#[derive(Debug, Clone)]
pub(super) enum Call {
    CreateModel(NewModel),
    GetModel(ModelName),
    UpdateModel(ModelUpdate),
    RenameModel(Rename),
    DeleteModel(ModelName),
    SearchModels(Found),
    LatestVersions(Latest),
    SetModelTag(ModelTag),
    DeleteModelTag(ModelTag),
    SetAlias(AliasPoint),
    GetAlias(AliasName),
    DeleteAlias(AliasName),
    CreateVersion(NewVersion),
    GetVersion(VersionKey),
    DownloadUri(VersionKey),
    UpdateVersion(VersionUpdate),
    DeleteVersion(VersionKey),
    SearchVersions(Found),
    Transition(Transition),
    SetVersionTag(VersionTag),
    DeleteVersionTag(VersionTag),
}

#[derive(Debug, Clone)]
pub(super) struct ModelName {
    pub name: String,
}

#[derive(Debug, Clone)]
pub(super) struct NewModel {
    pub name: String,
    pub description: String,
    /// The tags as an object of strings.
    pub tags: Value,
}

#[derive(Debug, Clone)]
pub(super) struct ModelUpdate {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Rename {
    pub name: String,
    pub new_name: String,
}

/// A registered model's tag to set (`value`) or delete (`None`).
#[derive(Debug, Clone)]
pub(super) struct ModelTag {
    pub name: String,
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct AliasName {
    pub name: String,
    pub alias: String,
}

#[derive(Debug, Clone)]
pub(super) struct AliasPoint {
    pub name: String,
    pub alias: String,
    pub version: i32,
}

/// The newest version in each of `stages` (all stages when `None`).
#[derive(Debug, Clone)]
pub(super) struct Latest {
    pub name: String,
    pub stages: Option<Vec<&'static str>>,
}

#[derive(Debug, Clone)]
pub(super) struct VersionKey {
    pub name: String,
    pub version: i32,
}

#[derive(Debug, Clone)]
pub(super) struct NewVersion {
    pub name: String,
    pub source: String,
    pub run_id: Option<String>,
    pub run_link: String,
    pub description: Option<String>,
    pub tags: Value,
}

#[derive(Debug, Clone)]
pub(super) struct VersionUpdate {
    pub key: VersionKey,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Transition {
    pub key: VersionKey,
    /// One of MLflow's four stages, spelled as MLflow spells it.
    pub stage: &'static str,
    pub archive_existing_versions: bool,
}

/// A version's tag to set (`value`) or delete (`None`).
#[derive(Debug, Clone)]
pub(super) struct VersionTag {
    pub key: VersionKey,
    pub tag: String,
    pub value: Option<String>,
}

/// A search: its filter's clauses and the page asked for.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub clauses: Vec<Clause>,
    pub page: Page,
}

impl Call {
    /// Whether the call changes the registry (and so needs an editor's token before its body is
    /// read). `get-latest-versions` is a read sent by POST.
    pub fn writes(method: &Method, path: &str) -> bool {
        *method != Method::GET && path != "registered-models/get-latest-versions"
    }

    /// Reads the call `method path` and its arguments.
    pub fn parse(method: &Method, path: &str, args: &Value) -> Result<Self, MlflowError> {
        let a = Args(args);
        Ok(match (method.as_str(), path) {
            ("POST", "registered-models/create") => Self::CreateModel(NewModel {
                name: a.text("name")?,
                description: a.optional("description")?.unwrap_or_default(),
                tags: a.tags()?,
            }),
            ("GET", "registered-models/get") => Self::GetModel(a.model()?),
            ("PATCH", "registered-models/update") => Self::UpdateModel(ModelUpdate {
                name: a.text("name")?,
                description: a.optional("description")?,
            }),
            ("POST", "registered-models/rename") => Self::RenameModel(Rename {
                name: a.text("name")?,
                new_name: a.text("new_name")?,
            }),
            ("DELETE", "registered-models/delete") => Self::DeleteModel(a.model()?),
            ("GET", "registered-models/search") => {
                Self::SearchModels(a.search(Search::Models, 100, 1_000)?)
            }
            ("POST" | "GET", "registered-models/get-latest-versions") => {
                Self::LatestVersions(Latest {
                    name: a.text("name")?,
                    stages: a.stages()?,
                })
            }
            ("POST", "registered-models/set-tag") => Self::SetModelTag(ModelTag {
                name: a.text("name")?,
                key: a.text("key")?,
                value: Some(a.optional("value")?.unwrap_or_default()),
            }),
            ("DELETE", "registered-models/delete-tag") => Self::DeleteModelTag(ModelTag {
                name: a.text("name")?,
                key: a.text("key")?,
                value: None,
            }),
            ("POST", "registered-models/alias") => Self::SetAlias(a.alias_point()?),
            ("GET", "registered-models/alias") => Self::GetAlias(a.alias_name()?),
            ("DELETE", "registered-models/alias") => Self::DeleteAlias(a.alias_name()?),
            ("POST", "model-versions/create") => Self::CreateVersion(NewVersion {
                name: a.text("name")?,
                source: a.optional("source")?.unwrap_or_default(),
                run_id: a.optional("run_id")?,
                run_link: a.optional("run_link")?.unwrap_or_default(),
                description: a.optional("description")?,
                tags: a.tags()?,
            }),
            ("GET", "model-versions/get") => Self::GetVersion(a.version_key()?),
            ("GET", "model-versions/get-download-uri") => Self::DownloadUri(a.version_key()?),
            ("PATCH", "model-versions/update") => Self::UpdateVersion(VersionUpdate {
                key: a.version_key()?,
                description: a.optional("description")?,
            }),
            ("DELETE", "model-versions/delete") => Self::DeleteVersion(a.version_key()?),
            // MLflow's documented limits: 10,000 by default, at most 200,000.
            ("GET", "model-versions/search") => {
                Self::SearchVersions(a.search(Search::Versions, 10_000, 200_000)?)
            }
            ("POST", "model-versions/transition-stage") => Self::Transition(Transition {
                key: a.version_key()?,
                stage: canonical_stage(&a.text("stage")?)?,
                archive_existing_versions: a.flag("archive_existing_versions"),
            }),
            ("POST", "model-versions/set-tag") => Self::SetVersionTag(VersionTag {
                key: a.version_key()?,
                tag: a.text("key")?,
                value: Some(a.optional("value")?.unwrap_or_default()),
            }),
            ("DELETE", "model-versions/delete-tag") => Self::DeleteVersionTag(VersionTag {
                key: a.version_key()?,
                tag: a.text("key")?,
                value: None,
            }),
            _ => {
                return Err(MlflowError {
                    status: StatusCode::NOT_FOUND,
                    code: "ENDPOINT_NOT_FOUND",
                    message: format!("modelgov does not serve {method} /api/2.0/mlflow/{path}"),
                });
            }
        })
    }
}

/// A query string as MLflow's client sends it: repeated keys become arrays.
pub(super) fn query_args(query: &str) -> Value {
    let mut args = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let (key, value) = (key.into_owned(), Value::String(value.into_owned()));
        match args.get_mut(&key) {
            Some(Value::Array(values)) => values.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                args.insert(key, value);
            }
        }
    }
    Value::Object(args)
}

/// A call's arguments, read one by one.
#[derive(Clone, Copy)]
pub(super) struct Args<'a>(pub &'a Value);

impl Args<'_> {
    /// A required argument: text (or a number, as the client sometimes sends versions).
    pub fn text(self, key: &str) -> Result<String, MlflowError> {
        match self.0.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                checked(key, s)?;
                Ok(s.clone())
            }
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(MlflowError::invalid(format!(
                "Missing value for required parameter '{key}'. See the API docs for more information about request parameters."
            ))),
        }
    }

    pub fn optional(self, key: &str) -> Result<Option<String>, MlflowError> {
        match self.0.get(key) {
            Some(Value::String(s)) => {
                checked(key, s)?;
                Ok(Some(s.clone()))
            }
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            _ => Ok(None),
        }
    }

    /// True when the argument is `true` (JSON) or `"true"` (a query string).
    fn flag(self, key: &str) -> bool {
        self.0
            .get(key)
            .is_some_and(|v| v.as_bool().unwrap_or(v.as_str() == Some("true")))
    }

    fn model(self) -> Result<ModelName, MlflowError> {
        Ok(ModelName {
            name: self.text("name")?,
        })
    }

    fn version(self) -> Result<i32, MlflowError> {
        let raw = self.text("version")?;
        raw.trim()
            .parse::<i32>()
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                MlflowError::invalid(format!(
                    "Parameter 'version' must be an integer, got '{raw}'."
                ))
            })
    }

    fn version_key(self) -> Result<VersionKey, MlflowError> {
        Ok(VersionKey {
            name: self.text("name")?,
            version: self.version()?,
        })
    }

    fn alias_name(self) -> Result<AliasName, MlflowError> {
        Ok(AliasName {
            name: self.text("name")?,
            alias: self.text("alias")?,
        })
    }

    /// An alias to point at a version; `latest` and `v<number>` are MLflow's own.
    fn alias_point(self) -> Result<AliasPoint, MlflowError> {
        let AliasName { name, alias } = self.alias_name()?;
        let version = self.version()?;
        if alias.eq_ignore_ascii_case("latest")
            || (alias.starts_with('v') && alias[1..].parse::<u64>().is_ok())
        {
            return Err(MlflowError::invalid(format!("alias {alias:?} is reserved")));
        }
        Ok(AliasPoint {
            name,
            alias,
            version,
        })
    }

    /// Tags as sent (`[{key, value}]`) into an object.
    fn tags(self) -> Result<Value, MlflowError> {
        let mut tags = serde_json::Map::new();
        if let Some(list) = self.0.get("tags").and_then(Value::as_array) {
            for tag in list {
                let tag = Args(tag);
                let key = tag.text("key")?;
                let value = tag.optional("value")?.unwrap_or_default();
                tags.insert(key, Value::String(value));
            }
        }
        Ok(Value::Object(tags))
    }

    /// The stages asked for (one, or a list); none listed means all.
    fn stages(self) -> Result<Option<Vec<&'static str>>, MlflowError> {
        let stages = match self.0.get("stages") {
            None => None,
            Some(Value::String(s)) => Some(vec![canonical_stage(s)?]),
            Some(Value::Array(list)) => Some(
                list.iter()
                    .map(|s| canonical_stage(s.as_str().unwrap_or_default()))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(MlflowError::invalid("stages must be a list of stage names")),
        };
        Ok(stages.filter(|s| !s.is_empty()))
    }

    /// A search's filter, then its page and order (in the order MLflow checks them).
    fn search(self, search: Search, default: i64, most: i64) -> Result<Found, MlflowError> {
        let clauses = filter_of(&self.optional("filter")?.unwrap_or_default(), search)?;
        let (limit, offset) = page(
            self.optional("max_results")?,
            self.optional("page_token")?,
            default,
            most,
        )?;
        let order = order_by(self.0.get("order_by"), search)?;
        Ok(Found {
            clauses,
            page: Page {
                order,
                limit,
                offset,
            },
        })
    }
}

pub(super) fn canonical_stage(stage: &str) -> Result<&'static str, MlflowError> {
    STAGES
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(stage.trim()))
        .ok_or_else(|| {
            MlflowError::invalid(format!(
                "Invalid Model Version stage: {stage}. Value must be one of None, Staging, Production, Archived."
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_strings_keep_repeated_keys() {
        let args = query_args("name=a%20b&order_by=name+ASC&order_by=x&page_token=eyJ%3D");
        assert_eq!(args["name"], "a b");
        assert_eq!(args["order_by"], json!(["name ASC", "x"]));
        assert_eq!(args["page_token"], "eyJ=");
    }

    #[test]
    fn each_call_reads_its_arguments_into_its_request() {
        let post = Method::POST;
        let call = Call::parse(
            &post,
            "model-versions/transition-stage",
            &json!({"name": "m", "version": 3, "stage": "production", "archive_existing_versions": "true"}),
        )
        .unwrap();
        let Call::Transition(t) = call else {
            panic!("not a transition: {call:?}")
        };
        assert_eq!((t.key.name.as_str(), t.key.version), ("m", 3));
        assert_eq!(t.stage, "Production");
        assert!(t.archive_existing_versions);

        let missing =
            Call::parse(&post, "registered-models/rename", &json!({"name": "m"})).unwrap_err();
        assert!(
            missing.message.contains("'new_name'"),
            "{}",
            missing.message
        );
        let reserved = Call::parse(
            &post,
            "registered-models/alias",
            &json!({"name": "m", "alias": "v2", "version": "1"}),
        )
        .unwrap_err();
        assert!(reserved.message.contains("reserved"));
        let version = Call::parse(
            &Method::GET,
            "model-versions/get",
            &json!({"name": "m", "version": "0"}),
        )
        .unwrap_err();
        assert!(version.message.contains("must be an integer"));
        let unknown = Call::parse(&Method::GET, "experiments/list", &json!({})).unwrap_err();
        assert_eq!(unknown.code, "ENDPOINT_NOT_FOUND");
        assert!(Call::writes(&post, "registered-models/create"));
        assert!(!Call::writes(
            &post,
            "registered-models/get-latest-versions"
        ));
    }
}
