//! Typed configuration from the environment, with defaults for a local setup. Compiled only with `ssr`.

use std::net::SocketAddr;
use std::str::FromStr;

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MODELGOV_BIND`: the address to listen on.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: the Postgres database. Required; never logged.
    pub database_url: String,
    /// `MODELGOV_DB_POOL_SIZE`: most connections the pool opens.
    pub db_pool_size: u32,
    /// `MODELGOV_DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a connection before 503.
    pub db_acquire_timeout_ms: u64,
    /// `MODELGOV_DB_STATEMENT_TIMEOUT_MS`: Postgres cancels any statement running longer.
    pub db_statement_timeout_ms: u64,
    /// `MODELGOV_DB_STARTUP_WAIT_SECS`: how long start-up waits for the database to come up.
    pub db_startup_wait_secs: u64,
    /// `MODELGOV_REQUEST_TIMEOUT_SECS`: a request running longer is answered 408.
    pub request_timeout_secs: u64,
    /// `MODELGOV_SITE_ROOT`: the folder with `pkg/` (the browser bundle and styles) and public files.
    pub site_root: String,
    /// `MODELGOV_CATALOG`: a metric catalog file to use instead of the built-in one.
    pub catalog_path: Option<String>,
    /// `MODELGOV_RECOMPUTE_DEBOUNCE_MS`: how long writes must pause before the model sources they
    /// could affect are judged again (at most ten times this under steady writes).
    pub recompute_debounce_ms: u64,
    /// `MODELGOV_FULL_RECOMPUTE_MINUTES`: how often every model source is judged again, for the
    /// ages that grow while nothing is written.
    pub full_recompute_minutes: u64,
    /// `MODELGOV_ANONYMOUS_READ`: whether the dashboard and the read API answer without signing
    /// in or a token (on for a local setup; turn it off where the metadata is not for everyone).
    pub anonymous_read: bool,
    /// `MODELGOV_HTTPS`: people reach modelgov over https (e.g. behind a TLS proxy): session
    /// cookies are marked Secure and browsers are told to stay on https.
    pub https: bool,
    /// `MODELGOV_SESSION_HOURS`: how long a dashboard sign-in lasts.
    pub session_hours: u64,
    /// `MODELGOV_FORWARDED_FOR`: a proxy in front appends the client's address to
    /// `X-Forwarded-For`; sign-in attempts are then counted per that address, not the proxy's.
    pub forwarded_for: bool,
    /// `MODELGOV_INGEST_BUDGET_MB`: megabytes of request bodies every write surface together holds
    /// at once; past it, writes are answered 503 with `Retry-After`.
    pub ingest_budget_mb: usize,
    /// `MODELGOV_COMPANY`: the org unit that is the company, as `source/id`; unset, the company
    /// is the first top-level unit written.
    pub company: Option<crate::model::record::Ref>,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`; an error names the variable and what is wrong.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let database_url = lookup("DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .ok_or("DATABASE_URL is not set: point it at a Postgres database, e.g. postgres://user:password@127.0.0.1:5432/modelgov (scripts/run sets one up for you)")?;
        Ok(Self {
            bind: parse(&lookup, "MODELGOV_BIND", "127.0.0.1:3000")?,
            database_url,
            db_pool_size: parse(&lookup, "MODELGOV_DB_POOL_SIZE", "16")?,
            db_acquire_timeout_ms: parse(&lookup, "MODELGOV_DB_ACQUIRE_TIMEOUT_MS", "1000")?,
            db_statement_timeout_ms: parse(&lookup, "MODELGOV_DB_STATEMENT_TIMEOUT_MS", "10000")?,
            db_startup_wait_secs: parse(&lookup, "MODELGOV_DB_STARTUP_WAIT_SECS", "30")?,
            request_timeout_secs: parse(&lookup, "MODELGOV_REQUEST_TIMEOUT_SECS", "30")?,
            site_root: lookup("MODELGOV_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            catalog_path: lookup("MODELGOV_CATALOG").filter(|p| !p.trim().is_empty()),
            recompute_debounce_ms: parse(&lookup, "MODELGOV_RECOMPUTE_DEBOUNCE_MS", "200")?,
            full_recompute_minutes: parse(&lookup, "MODELGOV_FULL_RECOMPUTE_MINUTES", "60")?,
            anonymous_read: parse(&lookup, "MODELGOV_ANONYMOUS_READ", "true")?,
            https: parse(&lookup, "MODELGOV_HTTPS", "false")?,
            session_hours: parse(&lookup, "MODELGOV_SESSION_HOURS", "12")?,
            forwarded_for: parse(&lookup, "MODELGOV_FORWARDED_FOR", "false")?,
            ingest_budget_mb: budget(parse(&lookup, "MODELGOV_INGEST_BUDGET_MB", "64")?)?,
            company: company(lookup("MODELGOV_COMPANY"))?,
        })
    }
}

/// `MODELGOV_INGEST_BUDGET_MB` must hold the largest body (10 MB of NDJSON), or such a body
/// would be told to retry forever.
fn budget(megabytes: usize) -> Result<usize, String> {
    if megabytes >= 16 {
        Ok(megabytes)
    } else {
        Err(format!(
            "MODELGOV_INGEST_BUDGET_MB={megabytes} is not valid: it must be at least 16, to hold the largest body (10 MB)"
        ))
    }
}

/// `MODELGOV_COMPANY`: `source/id` of an org unit (the id may hold further slashes).
fn company(raw: Option<String>) -> Result<Option<crate::model::record::Ref>, String> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    match raw.trim().split_once('/') {
        Some((source, id)) if !source.is_empty() && !id.is_empty() => {
            Ok(Some(crate::model::record::Ref {
                source: source.into(),
                id: id.into(),
            }))
        }
        _ => Err(format!(
            "MODELGOV_COMPANY={raw:?} is not valid: write the company's org unit as source/id"
        )),
    }
}

fn parse<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let raw = lookup(name).unwrap_or_else(|| default.to_string());
    raw.trim()
        .parse()
        .map_err(|e| format!("{name}={raw:?} is not valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_for_local_use() {
        let config = config(&[("DATABASE_URL", "postgres://localhost/x")]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.db_acquire_timeout_ms, 1000);
        assert_eq!(config.site_root, "target/site");
        assert!(
            config.anonymous_read,
            "reading without signing in is on locally"
        );
        assert!(!config.https);
        assert_eq!(config.ingest_budget_mb, 64);
        assert_eq!(config.company, None);
    }

    #[test]
    fn the_company_is_source_slash_id() {
        let url = ("DATABASE_URL", "postgres://localhost/x");
        let set = config(&[url, ("MODELGOV_COMPANY", "hr/acme/eu")]).unwrap();
        let company = set.company.unwrap();
        assert_eq!(
            (company.source.as_str(), company.id.as_str()),
            ("hr", "acme/eu")
        );
        let error = config(&[url, ("MODELGOV_COMPANY", "acme")]).unwrap_err();
        assert!(error.starts_with("MODELGOV_COMPANY=\"acme\""), "{error}");
    }

    #[test]
    fn missing_database_url_is_named() {
        let error = config(&[]).unwrap_err();
        assert!(error.starts_with("DATABASE_URL is not set"), "{error}");
    }

    #[test]
    fn bad_value_names_the_variable() {
        let error = config(&[
            ("DATABASE_URL", "postgres://localhost/x"),
            ("MODELGOV_DB_POOL_SIZE", "many"),
        ])
        .unwrap_err();
        assert!(
            error.starts_with("MODELGOV_DB_POOL_SIZE=\"many\""),
            "{error}"
        );
    }
}
