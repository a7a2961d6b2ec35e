//! What the dashboard's pages show, assembled on the server in one read per page, and the
//! addresses they link to. Charts arrive drawn (SVG from plotters on the server) with their
//! numbers beside them for readers who cannot see them.

use serde::{Deserialize, Serialize};

use super::graph::{AssetSummary, Change};
use super::metrics::{
    ChildRollup, Counts, Level, ModelLevelRow, ModelMetrics, SnapshotMeta, TrendPoint, UnitName,
};
use super::record::Ref;

/// One step of the breadcrumbs: company > org > team > model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crumb {
    pub label: String,
    pub href: String,
}

/// A bucket of the level distribution, as `level=` in addresses: `0`-`3`, `unknown` or `exempt`
/// (an active exemption covers the result: it counts there instead of at its level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bucket {
    Level(Level),
    Unknown,
    Exempt,
}

impl Bucket {
    pub const ALL: [Bucket; 6] = [
        Bucket::Level(Level::AT_RISK),
        Bucket::Level(Level::BASIC),
        Bucket::Level(Level::MANAGED),
        Bucket::Level(Level::OPTIMIZED),
        Bucket::Unknown,
        Bucket::Exempt,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "unknown" => Some(Self::Unknown),
            "exempt" => Some(Self::Exempt),
            _ => value
                .parse::<u8>()
                .ok()
                .and_then(Level::new)
                .map(Self::Level),
        }
    }

    pub fn key(self) -> String {
        match self {
            Self::Level(level) => level.get().to_string(),
            Self::Unknown => "unknown".into(),
            Self::Exempt => "exempt".into(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Level(level) => level.name(),
            Self::Unknown => "unknown",
            Self::Exempt => "exempt",
        }
    }

    /// The CSS class that gives the bucket its colour, the same on every page and chart.
    pub fn class(self) -> String {
        format!("level-{}", self.key())
    }

    pub fn count(self, counts: &Counts) -> i64 {
        match self {
            Self::Level(level) => counts.levels[usize::from(level.get())],
            Self::Unknown => counts.unknown,
            Self::Exempt => counts.exempt,
        }
    }

    pub fn of(level: Option<Level>) -> Self {
        level.map_or(Self::Unknown, Self::Level)
    }
}

/// A scope as pickers and headings name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeName {
    /// `overall`, `domain:<id>` or `metric:<id>`.
    pub scope: String,
    pub label: String,
}

/// One child unit's row: its rollup in the page's scope (the API's shape), where its page is, and
/// its score in every domain (for the heat map), in catalog order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildRow {
    pub rollup: ChildRollup,
    pub href: String,
    pub domain_scores: Vec<Option<f64>>,
}

/// A domain's rollup at the unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRow {
    pub scope: ScopeName,
    pub counts: Counts,
    pub score: Option<f64>,
}

/// Charts drawn on the server as SVG documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCharts {
    pub distribution: String,
    pub domains: String,
    /// `None` without child units.
    pub heat_map: Option<String>,
    pub trend: String,
}

/// The company, org or team page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitPage {
    pub unit: UnitName,
    /// `company`, `org` or `team` (a unit without child units).
    pub kind: String,
    pub crumbs: Vec<Crumb>,
    pub snapshot: SnapshotMeta,
    /// The scope the page is filtered to, and every scope to choose from.
    pub scope: ScopeName,
    pub scopes: Vec<ScopeName>,
    pub bucket: Option<Bucket>,
    /// The unit's counts and score in the page's scope.
    pub counts: Counts,
    pub score: Option<f64>,
    pub overall: Counts,
    pub overall_score: Option<f64>,
    pub domains: Vec<DomainRow>,
    pub children: Vec<ChildRow>,
    /// The models below the unit in the page's scope (and bucket), lowest level first.
    pub models: Vec<ModelLevelRow>,
    pub models_shown_of: i64,
    /// Where the listed models start among them (pages of 50).
    pub models_offset: i64,
    pub trend: Vec<TrendPoint>,
    pub trend_days: i64,
    /// When the trend's window ends (RFC 3339): the as-of time, or when the page was made.
    pub trend_until: String,
    /// The as-of time the page was asked for, as the snapshot it resolved to; links keep it.
    pub as_of: Option<String>,
    /// On the company's page, how many models no unit owns (they have a page of their own).
    pub unowned: Option<i64>,
    /// The campaigns whose selection touches the unit.
    pub campaigns: Vec<super::campaign::Campaign>,
}

/// A binary with its status in production, for the model page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryRow {
    pub binary: AssetSummary,
    /// The run that produced it, with its status.
    pub run: Option<AssetSummary>,
    pub deployments: Vec<AssetSummary>,
}

/// The model page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPage {
    pub crumbs: Vec<Crumb>,
    /// Each domain's id and name, in the catalog's order.
    pub domain_names: Vec<(String, String)>,
    pub description: String,
    pub owners: Vec<String>,
    pub tags: serde_json::Value,
    pub owner_unit: Option<UnitName>,
    pub metrics: ModelMetrics,
    /// Everything upstream of the model's runs, by kind: feature sources, logical features,
    /// datasets.
    pub upstream: Vec<AssetSummary>,
    /// The model's lineage as the page draws it: the walk down from the model source (runs,
    /// binaries, deployments) with what is upstream of its judged binaries (negative steps).
    pub lineage: super::graph::Lineage,
    pub binaries: Vec<BinaryRow>,
    /// The model's workflow runs, newest name first (new binaries are registered from one).
    pub runs: Vec<AssetSummary>,
    /// When each deployment served which of its binaries, newest first.
    pub serving: Vec<super::graph::ServingPeriod>,
    pub history: Vec<Change>,
}

/// Any asset's page: what it is and who owns it, its lineage both ways drawn as steps, its
/// newest reports and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetPage {
    pub crumbs: Vec<Crumb>,
    pub asset: AssetSummary,
    pub description: String,
    pub owner_unit: Option<UnitName>,
    pub owners: Vec<String>,
    pub tags: serde_json::Value,
    /// RFC 3339, for runs.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// The model sources upstream (for a run, binary or deployment: the one it belongs to).
    pub models: Vec<AssetSummary>,
    /// The lineage within five steps each way (the page draws the part its reader chooses).
    pub lineage: super::graph::Lineage,
    /// For a deployment, what it served when; for a binary, where it served; newest first.
    pub serving: Vec<super::graph::ServingPeriod>,
    /// The newest report of each measurement.
    pub reports: Vec<ReportRow>,
    pub history: Vec<Change>,
}

/// One column of a drawn lineage: the assets this many steps away (negative upstream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageStep {
    pub distance: i32,
    pub assets: Vec<AssetSummary>,
}

/// The newest report of one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub name: String,
    pub value: f64,
    /// RFC 3339.
    pub at: String,
}

/// The metric page: the question, its thresholds, and its spread over the org tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPage {
    pub metric: super::metrics::Metric,
    pub domain: ScopeName,
    pub snapshot: SnapshotMeta,
    pub spread: Vec<super::metrics::UnitRollupRow>,
}

/// Percent-encodes one path segment or query value (everything but RFC 3986's unreserved
/// characters), so that metadata can never break out of an address.
pub fn encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
    out
}

/// Undoes [`encode`] (any percent-encoding), once; invalid escapes are kept as they are.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let byte = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(byte).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a raw query string (`a=1&next=%2Fx`), decoded once. (The router's
/// query map decodes twice, which turns an encoded `/` inside an id into a path separator.)
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| decode(v))
}

/// The page of an org unit; the company's is `/`.
/// The models no org unit owns are rolled up as unit 0, which no org unit row holds.
pub const UNOWNED_UNIT_ID: i64 = 0;
/// What the page of the models no unit owns is called.
pub const UNOWNED_NAME: &str = "Models no unit owns";

/// The key that asks a unit page for the models no unit owns (no org unit has an empty key).
pub fn unowned_ref() -> Ref {
    Ref {
        source: String::new(),
        id: String::new(),
    }
}

pub fn unit_href(unit: &UnitName, is_company: bool) -> String {
    if is_company {
        "/".into()
    } else if unit.id == UNOWNED_UNIT_ID {
        super::routes::UNOWNED_PATH.into()
    } else {
        format!(
            "{}/{}/{}",
            super::routes::UNITS_PATH,
            encode(&unit.source),
            encode(&unit.external_id)
        )
    }
}

/// The page of any asset: a model source's own page, or the asset page.
pub fn asset_href(asset: &AssetSummary) -> String {
    if asset.kind == crate::model::record::AssetKind::ModelSource {
        model_href(&asset.key)
    } else {
        format!(
            "{}/{}/{}",
            super::routes::ASSETS_PATH,
            encode(&asset.key.source),
            encode(&asset.key.id)
        )
    }
}

pub fn model_href(model: &Ref) -> String {
    format!(
        "{}/{}/{}",
        super::routes::MODELS_PATH,
        encode(&model.source),
        encode(&model.id)
    )
}

pub fn metric_href(id: &str) -> String {
    format!("{}/{}", super::routes::METRICS_PATH, encode(id))
}

/// `base` with the query pairs whose value is present.
pub fn with_query(base: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_undoes_encoding_once() {
        for value in ["a b/<c>&d", "ünï", "/models/git/a%2Fb?x=1", "100%"] {
            assert_eq!(decode(&encode(value)), value);
        }
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(
            query_value("?x=1&next=%2Fmodels%2Fgit%2Fa%252Fb", "next").as_deref(),
            Some("/models/git/a%2Fb")
        );
        assert_eq!(query_value("x=1", "next"), None);
    }

    #[test]
    fn addresses_encode_metadata() {
        assert_eq!(encode("a b/<c>&d"), "a%20b%2F%3Cc%3E%26d");
        assert_eq!(encode("ünï"), "%C3%BCn%C3%AF");
        assert_eq!(
            with_query(
                "/units/hr/x",
                &[("scope", Some("domain:fairness")), ("level", None)]
            ),
            "/units/hr/x?scope=domain%3Afairness"
        );
        assert_eq!(
            model_href(&Ref {
                source: "git".into(),
                id: "org/repo".into()
            }),
            "/models/git/org%2Frepo"
        );
    }

    #[test]
    fn buckets_parse_their_own_keys_only() {
        for bucket in Bucket::ALL {
            assert_eq!(Bucket::parse(&bucket.key()), Some(bucket));
        }
        assert_eq!(Bucket::parse("4"), None);
        assert_eq!(Bucket::parse(""), None);
        let counts = Counts {
            levels: [1, 2, 3, 4],
            unknown: 5,
            exempt: 6,
        };
        let total: i64 = Bucket::ALL.iter().map(|b| b.count(&counts)).sum();
        assert_eq!(total, counts.total());
    }
}
