//! Rendered dashboard pages, kept per generation of the data they show.
//!
//! Every page is a function of its address, the newest metric snapshot and the graph (whose
//! writes all land in `changes`). So a page rendered once is served again until either moves on:
//! the generation (newest snapshot id, newest change id) is read at most once a second per
//! process, which bounds how stale a page can be to a second after a recompute or write.
//! Several servers behind a load balancer each keep their own pages and stay consistent, as the
//! generation comes from Postgres. Only successful GETs of page routes by readers who are not
//! signed in are kept (a signed-in person's page carries their own buttons and CSRF secret); the
//! API, server functions and static files pass through, and a response that sets a cookie is
//! never kept. A kept page is served with a fresh script nonce each time, in its body and its
//! content security policy alike.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use sqlx::PgPool;

use super::repo::reads;
use crate::model::routes;

/// How long a generation read is trusted.
const GENERATION_TTL: Duration = Duration::from_secs(1);
/// The most page and key bytes kept; past it the least recently used pages go.
const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Pages larger than this are not kept.
const MAX_PAGE: usize = 2 * 1024 * 1024;

type Generation = (i64, i64);

#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    /// The body, cut where the script nonce it was rendered with stood (one piece when it has
    /// none), so that each response gets a fresh nonce without searching the page again.
    pieces: Vec<Bytes>,
    /// That nonce, replaced by a fresh one each time the page is served.
    nonce: Option<String>,
}

/// The nonce a content security policy allows scripts with.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let length = policy[start..].find('\'')?;
    Some(policy[start..start + length].to_string()).filter(|n| n.len() >= 16)
}

impl Page {
    fn new(headers: HeaderMap, body: &Bytes) -> Self {
        // Rendered pages are UTF-8; one that is not is served as it was rendered.
        let text = std::str::from_utf8(body).ok();
        let nonce = nonce_of(&headers).filter(|_| text.is_some());
        let mut pieces = Vec::new();
        let mut rest = 0;
        if let (Some(nonce), Some(text)) = (nonce.as_deref(), text) {
            for (at, _) in text.match_indices(nonce) {
                pieces.push(body.slice(rest..at));
                rest = at + nonce.len();
            }
        }
        pieces.push(body.slice(rest..));
        Self {
            headers,
            pieces,
            nonce,
        }
    }

    fn len(&self) -> usize {
        self.pieces.iter().map(Bytes::len).sum()
    }

    /// The page as a response, its nonce (if any) replaced by a fresh one.
    fn response(self) -> Response {
        let size = self.len();
        let mut headers = self.headers;
        // Without randomness the page keeps the nonce it was rendered with.
        let nonce = self
            .nonce
            .as_deref()
            .map(|old| (old, fresh_nonce().unwrap_or_else(|| old.to_string())));
        if let Some((old, new)) = &nonce
            && let Some(policy) = headers
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .map(|p| p.replace(old, new))
                .and_then(|p| http::HeaderValue::from_str(&p).ok())
        {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        let body = match (self.pieces.as_slice(), &nonce) {
            ([one], _) => one.clone(),
            (pieces, Some((_, new))) => {
                let mut body = Vec::with_capacity(size + pieces.len() * new.len());
                for (i, piece) in pieces.iter().enumerate() {
                    if i > 0 {
                        body.extend_from_slice(new.as_bytes());
                    }
                    body.extend_from_slice(piece);
                }
                Bytes::from(body)
            }
            (pieces, None) => Bytes::from(pieces.concat()),
        };
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = headers;
        response
    }
}

fn fresh_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

/// The pages of one generation, with the order they were last used in.
#[derive(Default)]
struct Kept {
    generation: Option<Generation>,
    /// Bytes of every page and key kept.
    bytes: usize,
    /// Each page with the tick it was last served at.
    by_address: HashMap<Key, (Page, u64)>,
    /// The same pages by that tick, oldest first: what goes when the cache is full.
    by_use: BTreeMap<u64, Key>,
    tick: u64,
}

impl Kept {
    fn touch(&mut self, key: &Key) -> Option<Page> {
        self.tick += 1;
        let tick = self.tick;
        let (page, used) = self.by_address.get_mut(key)?;
        self.by_use.remove(used);
        *used = tick;
        self.by_use.insert(tick, key.clone());
        Some(page.clone())
    }

    fn insert(&mut self, key: Key, page: Page) {
        let size = page.len() + key.0.len();
        if let Some((old, used)) = self.by_address.remove(&key) {
            self.by_use.remove(&used);
            self.bytes -= old.len() + key.0.len();
        }
        // The least recently used pages make room.
        while self.bytes + size > MAX_BYTES {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((gone, _)) = self.by_address.remove(&oldest) {
                self.bytes -= gone.len() + oldest.0.len();
            }
        }
        self.tick += 1;
        self.bytes += size;
        self.by_use.insert(self.tick, key.clone());
        self.by_address.insert(key, (page, self.tick));
    }
}

/// A page's address (path and its known parameters, normalized) and the hour it was rendered in.
type Key = (String, i64);

#[derive(Default)]
pub struct RenderedPages {
    generation: Mutex<Option<(Instant, Generation)>>,
    pages: Mutex<Kept>,
}

/// The query parameters a page route reads; the others change nothing and are left out of the
/// key (so that junk parameters cannot fill the cache with copies).
fn parameters_of(path: &str) -> &'static [&'static str] {
    match path {
        routes::UNITS_PATH => &["q"],
        routes::SEARCH_PATH => &["q", "kind", "tag", "offset"],
        // The drawn lineage's direction and depth.
        _ if routes::below(path, routes::ASSETS_PATH) => &["direction", "depth"],
        _ if routes::below(path, routes::MODELS_PATH) => &["as_of", "direction", "depth"],
        _ if routes::below(path, routes::METRICS_PATH) => &["as_of"],
        // Unit pages: also the child table's order and the model list's name filter, which
        // the server applies for readers without JavaScript.
        _ => &["scope", "level", "as_of", "days", "offset", "sort", "q"],
    }
}

/// The key of a page address: its path and known parameters in a fixed order, `as_of` replaced
/// by the snapshot it resolves to (`snapshot_of`), since pages show a snapshot's time. `None`
/// when a known parameter is repeated: which one a page reads is the router's business, so such
/// an address is rendered and not kept.
async fn normalized<F, Fut>(uri: &http::Uri, snapshot_of: F) -> Option<String>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Option<i64>>,
{
    let path = uri.path();
    let known = parameters_of(path);
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(name, _)| known.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    if let Some(at) = pairs.iter().position(|(name, _)| name == "as_of") {
        let raw = pairs[at].1.clone();
        if let Some(snapshot) = snapshot_of(raw).await {
            pairs[at].1 = format!("snapshot:{snapshot}");
        }
    }
    let mut key = path.to_string();
    for (i, (name, value)) in pairs.iter().enumerate() {
        key.push(if i == 0 { '?' } else { '&' });
        key.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        key.push('=');
        key.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }
    Some(key)
}

/// The routes whose pages depend only on their address and the data's generation. (Not
/// `/about`: it reads nothing, and the load benchmark uses it to measure rendering itself.)
fn cacheable(path: &str) -> bool {
    matches!(
        path,
        routes::COMPANY_PATH
            | routes::UNITS_PATH
            | routes::SEARCH_PATH
            | routes::UNOWNED_PATH
            | routes::CAMPAIGNS_PATH
    ) || [
        routes::UNITS_PATH,
        routes::MODELS_PATH,
        routes::ASSETS_PATH,
        routes::METRICS_PATH,
        routes::CAMPAIGNS_PATH,
    ]
    .iter()
    .any(|root| routes::below(path, root))
}

impl RenderedPages {
    async fn generation(&self, pool: &PgPool) -> Option<Generation> {
        if let Ok(guard) = self.generation.lock()
            && let Some((read_at, generation)) = *guard
            && read_at.elapsed() < GENERATION_TTL
        {
            return Some(generation);
        }
        let generation = reads::data_generation(pool).await.ok()?;
        if let Ok(mut guard) = self.generation.lock() {
            *guard = Some((Instant::now(), generation));
        }
        Some(generation)
    }

    fn get(&self, generation: Generation, key: &Key) -> Option<Page> {
        let mut pages = self.pages.lock().ok()?;
        if pages.generation == Some(generation) {
            pages.touch(key)
        } else {
            None
        }
    }

    fn put(&self, generation: Generation, key: Key, page: Page) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        if pages.generation != Some(generation) {
            *pages = Kept {
                generation: Some(generation),
                ..Kept::default()
            };
        }
        pages.insert(key, page);
    }
}

/// The snapshot a page's `as_of` resolves to (as `reads::snapshot` picks it), if it reads.
async fn snapshot_at(pool: &PgPool, raw: &str) -> Option<i64> {
    let at = chrono::DateTime::parse_from_rfc3339(raw).ok()?;
    reads::snapshot_id_at(pool, at.with_timezone(&chrono::Utc))
        .await
        .ok()
        .flatten()
}

/// Middleware: answers a GET of a page route from the cache, or renders it and keeps it.
///
/// It takes only the parts of the router's state it reads, the pool and the kept pages.
pub async fn serve_cached(
    State(pool): State<PgPool>,
    State(cache): State<std::sync::Arc<RenderedPages>>,
    request: Request,
    next: Next,
) -> Response {
    let signed_in = request
        .extensions()
        .get::<super::session::Session>()
        .is_some();
    if request.method() != Method::GET || !cacheable(request.uri().path()) || signed_in {
        return next.run(request).await;
    }
    let Some(generation) = cache.generation(&pool).await else {
        // The database is away: render, which answers 503.
        return next.run(request).await;
    };
    // Trends show the last days up to now: pages also move on with the hour.
    let hour = chrono::Utc::now().timestamp() / 3600;
    let Some(address) = normalized(request.uri(), |raw| async move {
        snapshot_at(&pool, &raw).await
    })
    .await
    else {
        return next.run(request).await;
    };
    let key = (address, hour);
    if let Some(page) = cache.get(generation, &key) {
        return page.response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Pages come from our own renderer and are bounded by it; reading one whole is safe.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, page = %key.0, "a page failed while rendering");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if body.len() <= MAX_PAGE {
        let mut headers = parts.headers.clone();
        headers.remove(header::CONTENT_LENGTH);
        cache.put(generation, key, Page::new(headers, &body));
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_page_is_served_with_a_fresh_nonce() {
        let old = "AbCdEfGhIjKlMnOpQrStUv==";
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            format!("script-src 'self' 'nonce-{old}'").parse().unwrap(),
        );
        let page = Page::new(
            headers,
            &Bytes::from(format!(
                "<script nonce=\"{old}\">a</script><p>é</p><script nonce=\"{old}\">b</script>"
            )),
        );
        assert_eq!(page.nonce.as_deref(), Some(old));
        assert_eq!(page.pieces.len(), 3);
        let first = page.clone().response();
        let second = page.response();
        let policy = |r: &Response| {
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert!(!policy(&first).contains(old));
        assert_ne!(
            policy(&first),
            policy(&second),
            "each response has its own nonce"
        );
        let nonce = policy(&first)
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .trim_end_matches('\'')
            .to_string();
        let body = futures::executor::block_on(axum::body::to_bytes(first.into_body(), usize::MAX))
            .unwrap();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            format!(
                "<script nonce=\"{nonce}\">a</script><p>é</p><script nonce=\"{nonce}\">b</script>"
            ),
            "every script of the page carries the new nonce, the rest is untouched"
        );
    }

    fn page(bytes: usize) -> Page {
        Page::new(HeaderMap::new(), &Bytes::from(vec![b'x'; bytes]))
    }

    #[test]
    fn the_least_recently_used_pages_make_room() {
        let mut kept = Kept::default();
        let key = |n: u8| (format!("/units/hr/{n}"), 0);
        let third = MAX_BYTES / 3;
        kept.insert(key(1), page(third));
        kept.insert(key(2), page(third));
        assert!(kept.touch(&key(1)).is_some());
        kept.insert(key(3), page(third));
        assert!(kept.by_address.contains_key(&key(1)), "recently used stays");
        assert!(!kept.by_address.contains_key(&key(2)), "the oldest went");
        assert!(kept.bytes <= MAX_BYTES);
        assert_eq!(
            kept.bytes,
            2 * third + key(1).0.len() + key(3).0.len(),
            "keys count too"
        );
        kept.insert(key(3), page(10));
        assert_eq!(kept.bytes, third + 10 + key(1).0.len() + key(3).0.len());
        assert_eq!(kept.by_use.len(), kept.by_address.len());
    }

    #[test]
    fn keys_keep_only_the_parameters_a_page_reads() {
        let key = |uri: &str| {
            futures::executor::block_on(normalized(&uri.parse().unwrap(), |raw| async move {
                (raw == "2026-11-01T00:00:00Z").then_some(7)
            }))
            .unwrap_or_default()
        };
        assert_eq!(
            key("/?level=1&junk=2&scope=overall"),
            key("/?scope=overall&level=1&x=y")
        );
        assert_eq!(key("/?junk=1"), "/");
        assert_eq!(key("/?as_of=2026-11-01T00:00:00Z"), "/?as_of=snapshot%3A7");
        assert_eq!(key("/?as_of=yesterday"), "/?as_of=yesterday");
        assert_eq!(key("/search?q=a+b&offset=3&x=1"), "/search?offset=3&q=a+b");
        assert_eq!(key("/units?q=x&scope=1"), "/units?q=x");
        assert_eq!(
            key("/units/hr/a?sort=name&q=fraud"),
            "/units/hr/a?q=fraud&sort=name"
        );
        assert_eq!(
            key("/?as_of=a&as_of=b"),
            "",
            "a repeated parameter is not kept"
        );
        assert_eq!(key("/search?q=a&q=b"), "");
    }

    #[test]
    fn only_page_routes_are_kept() {
        for path in [
            "/",
            "/units",
            "/units/hr/a",
            "/models/git/m",
            "/metrics/x",
            "/search",
        ] {
            assert!(cacheable(path), "{path}");
        }
        for path in [
            "/api/v1/scorecard",
            "/api/fn/get_unit_page",
            "/pkg/modelgov.js",
            "/readyz",
        ] {
            assert!(!cacheable(path), "{path}");
        }
    }
}
