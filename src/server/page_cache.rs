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

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use sqlx::PgPool;

use super::state::AppState;

/// How long a generation read is trusted.
const GENERATION_TTL: Duration = Duration::from_secs(1);
/// The most page bytes kept; past it the cache starts over.
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
    Some(super::hex(&bytes))
}

#[derive(Default)]
struct Kept {
    generation: Option<Generation>,
    bytes: usize,
    by_address: HashMap<(String, i64), Page>,
}

#[derive(Default)]
pub struct RenderedPages {
    generation: Mutex<Option<(Instant, Generation)>>,
    pages: Mutex<Kept>,
}

/// The routes whose pages depend only on their address and the data's generation. (Not
/// `/about`: it reads nothing, and the load benchmark uses it to measure rendering itself.)
fn cacheable(path: &str) -> bool {
    matches!(path, "/" | "/units" | "/search")
        || ["/units/", "/models/", "/metrics/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

impl RenderedPages {
    async fn generation(&self, pool: &PgPool) -> Option<Generation> {
        if let Ok(guard) = self.generation.lock()
            && let Some((read_at, generation)) = *guard
            && read_at.elapsed() < GENERATION_TTL
        {
            return Some(generation);
        }
        let row = sqlx::query!(
            r#"
            SELECT (SELECT id FROM metric_snapshots ORDER BY computed_at DESC, id DESC LIMIT 1) AS snapshot,
                   (SELECT max(id) FROM changes) AS change
            "#
        )
        .fetch_one(pool)
        .await
        .ok()?;
        let generation = (row.snapshot.unwrap_or(0), row.change.unwrap_or(0));
        if let Ok(mut guard) = self.generation.lock() {
            *guard = Some((Instant::now(), generation));
        }
        Some(generation)
    }

    fn get(&self, generation: Generation, key: &(String, i64)) -> Option<Page> {
        let pages = self.pages.lock().ok()?;
        if pages.generation == Some(generation) {
            pages.by_address.get(key).cloned()
        } else {
            None
        }
    }

    fn put(&self, generation: Generation, key: (String, i64), page: Page) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        if pages.generation != Some(generation) || pages.bytes + page.len() > MAX_BYTES {
            *pages = Kept {
                generation: Some(generation),
                ..Kept::default()
            };
        }
        pages.bytes += page.len();
        pages.by_address.insert(key, page);
    }
}

/// Middleware: answers a GET of a page route from the cache, or renders it and keeps it.
pub async fn serve_cached(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let signed_in = request
        .extensions()
        .get::<super::session::Session>()
        .is_some();
    if request.method() != Method::GET || !cacheable(request.uri().path()) || signed_in {
        return next.run(request).await;
    }
    let cache = state.rendered.clone();
    let Some(generation) = cache.generation(&state.pool).await else {
        // The database is away: render, which answers 503.
        return next.run(request).await;
    };
    // Trends show the last days up to now: pages also move on with the hour.
    let hour = chrono::Utc::now().timestamp() / 3600;
    let key = (request.uri().to_string(), hour);
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
