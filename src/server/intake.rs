//! Reading a write's body, once its caller is known: the size limit (applied to the body as
//! decompressed), `Content-Encoding: gzip`, and one budget of bytes in flight across all write
//! surfaces, so that many large bodies at once are refused with 503 and `Retry-After` instead of
//! growing the server's memory. Compiled only with `ssr`.

use std::io::Read;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use futures::StreamExt;
use http::{HeaderMap, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// Bytes of request bodies held at once by every write surface together (as read, and again as
/// decompressed); the `MODELGOV_INGEST_BUDGET_MB` setting.
#[derive(Clone)]
pub struct Budget(Arc<Semaphore>);

impl Budget {
    pub fn new(bytes: usize) -> Self {
        Self(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }

    /// Takes `bytes` from the budget, or refuses with 503 when it is spent.
    fn take(&self, bytes: usize) -> Result<OwnedSemaphorePermit, AppError> {
        let bytes = u32::try_from(bytes).map_err(|_| AppError::Busy)?;
        self.0
            .clone()
            .try_acquire_many_owned(bytes)
            .map_err(|_| AppError::Busy)
    }
}

/// A body read whole; its bytes count against the budget until it is dropped.
pub struct Intake {
    pub bytes: Bytes,
    _held: Held,
}

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

fn encoding(headers: &HeaderMap) -> Result<Encoding, AppError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let text = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
    match text.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        _ => Err(AppError::UnsupportedMediaType(format!(
            "Content-Encoding {value:?} is not read; send the body as it is or with gzip"
        ))),
    }
}

/// Reads `body` whole: at most `limit` bytes once decompressed (`what` names the body in the
/// 413), counted against `budget` while it is held. Call it only after the caller is known.
pub async fn read(
    budget: &Budget,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<Intake, AppError> {
    let encoding = encoding(headers)?;
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "{what} is over {}, the most this endpoint takes; split it",
            megabytes(limit)
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Every allocation is charged as it grows, so the budget holds what the body really costs.
    let mut held = Held::default();
    let expected = usize::try_from(declared.unwrap_or(0))
        .unwrap_or(limit)
        .min(limit);
    let mut read: Vec<u8> = Vec::new();
    held.grow(budget, &mut read, expected, limit)?;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::BadRequest(format!("the body could not be read to its end: {e}"))
        })?;
        if read.len() + chunk.len() > limit {
            return Err(too_large());
        }
        held.grow(budget, &mut read, chunk.len(), limit)?;
        read.extend_from_slice(&chunk);
    }
    let bytes = match encoding {
        Encoding::Identity => Bytes::from(read),
        Encoding::Gzip => {
            // Inflating is CPU work: off the async workers, charged to the budget as the output
            // grows, and stopped as soon as it passes the limit (a small bomb must not become
            // gigabytes).
            let budget = budget.clone();
            let (inflated, inflated_held) =
                tokio::task::spawn_blocking(move || gunzip(&read, limit, &budget))
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "decompressing a body panicked");
                        AppError::Internal
                    })?
                    .map_err(|problem| match problem {
                        Inflate::TooLarge => too_large(),
                        Inflate::Busy => AppError::Busy,
                        Inflate::Invalid(e) => {
                            AppError::BadRequest(format!("the body is not valid gzip: {e}"))
                        }
                    })?;
            // The compressed bytes are gone; the budget holds the inflated ones instead.
            held = inflated_held;
            Bytes::from(inflated)
        }
    };
    Ok(Intake { bytes, _held: held })
}

/// Budget taken for one body, as its buffer grew.
#[derive(Default)]
struct Held(Option<OwnedSemaphorePermit>);

impl Held {
    /// Makes room in `buffer` for `more` bytes (it never needs more than `cap`), charging the
    /// budget for what it allocates, before it is allocated.
    fn grow(
        &mut self,
        budget: &Budget,
        buffer: &mut Vec<u8>,
        more: usize,
        cap: usize,
    ) -> Result<(), AppError> {
        let before = buffer.capacity();
        let needed = buffer.len() + more;
        if needed > before {
            // Doubling, as `Vec` grows, up to what the body may hold.
            let want = needed.max(before.saturating_mul(2).max(8 * 1024).min(cap));
            let permit = budget.take(want - before)?;
            buffer.reserve_exact(want - buffer.len());
            match &mut self.0 {
                Some(all) => all.merge(permit),
                None => self.0 = Some(permit),
            }
        }
        Ok(())
    }
}

enum Inflate {
    TooLarge,
    Busy,
    Invalid(std::io::Error),
}

/// Decompresses gzip (every member), refusing output over `limit` bytes, charging `budget` for
/// the output as it grows.
fn gunzip(compressed: &[u8], limit: usize, budget: &Budget) -> Result<(Vec<u8>, Held), Inflate> {
    let mut decoder = flate2::read::MultiGzDecoder::new(compressed);
    let mut out = Vec::new();
    let mut held = Held::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = decoder.read(&mut chunk).map_err(Inflate::Invalid)?;
        if n == 0 {
            return Ok((out, held));
        }
        if out.len() + n > limit {
            return Err(Inflate::TooLarge);
        }
        held.grow(budget, &mut out, n, limit)
            .map_err(|_| Inflate::Busy)?;
        out.extend_from_slice(&chunk[..n]);
    }
}

fn megabytes(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Most bytes of a small JSON body (an operation, a token, a mapping): an operation's
/// description may be 100,000 characters.
pub const MAX_SMALL_JSON: usize = 1024 * 1024;

/// A small JSON body of type `T`, read as [`read`] reads every body (so after the caller
/// extractors that run before it): JSON (`application/json` or `application/<x>+json`), maybe
/// gzip, at most [`MAX_SMALL_JSON`].
/// A body that is not a `T` is a 400 naming what is wrong with it and the shape to send.
pub struct JsonBody<T>(pub T);

/// The shape of a JSON body, as a 400 shows it to a caller who sent something else.
pub trait Shaped {
    const SHAPE: &'static str;
}

/// The media type a request's body says it is (lower case, without parameters); JSON when it
/// says nothing.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    Budget: axum::extract::FromRef<S>,
    T: serde::de::DeserializeOwned + Shaped,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let (parts, body) = request.into_parts();
        let media = media_type(&parts.headers);
        if media != "application/json" && !media.ends_with("+json") {
            return Err(AppError::UnsupportedMediaType(format!(
                "send Content-Type: application/json, not {media:?}"
            )));
        }
        let read = read(
            &<Budget as axum::extract::FromRef<S>>::from_ref(state),
            &parts.headers,
            body,
            MAX_SMALL_JSON,
            "the body",
        )
        .await?;
        serde_json::from_slice(&read.bytes)
            .map(Self)
            .map_err(|e| AppError::BadRequest(format!("send {}: {e}", T::SHAPE)))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), http::HeaderValue::from_static(v)))
            .collect()
    }

    #[tokio::test]
    async fn gzip_is_read_and_a_bomb_stops_at_the_limit() {
        let budget = Budget::new(8 << 20);
        let gz = headers(&[(header::CONTENT_ENCODING, "gzip")]);
        let small = read(&budget, &gz, Body::from(gzip(b"hello")), 100, "a body")
            .await
            .unwrap();
        assert_eq!(&small.bytes[..], b"hello");
        let bomb = gzip(&vec![b'a'; 10 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        let refused = read(&budget, &gz, Body::from(bomb), 1024 * 1024, "a body")
            .await
            .err()
            .unwrap();
        assert_eq!(refused.status(), 413);
        let broken = read(&budget, &gz, Body::from("not gzip"), 100, "a body")
            .await
            .err()
            .unwrap();
        assert_eq!(broken.status(), 400);
        let br = headers(&[(header::CONTENT_ENCODING, "br")]);
        let unknown = read(&budget, &br, Body::from("x"), 100, "a body")
            .await
            .err()
            .unwrap();
        assert_eq!(unknown.status(), 415);
    }

    #[tokio::test]
    async fn the_budget_is_shared_and_given_back() {
        let budget = Budget::new(100 * 1024);
        let none = HeaderMap::new();
        let body = || Body::from("x".repeat(60 * 1024));
        let first = read(&budget, &none, body(), 1 << 20, "a body")
            .await
            .unwrap();
        let refused = read(&budget, &none, body(), 1 << 20, "a body")
            .await
            .err()
            .unwrap();
        assert_eq!(refused.status(), 503);
        drop(first);
        assert!(
            read(&budget, &none, body(), 1 << 20, "a body")
                .await
                .is_ok()
        );
        let over = read(&budget, &none, Body::from("x".repeat(101)), 100, "a body")
            .await
            .err()
            .unwrap();
        assert_eq!(over.status(), 413);
    }
}
