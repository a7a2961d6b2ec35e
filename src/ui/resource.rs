//! The pages' data as resources. Leptos's default resource codec reads the hydration data with
//! `serde_json::from_str`, while server functions read their answers with `from_slice`: every
//! page type's deserializer would be compiled into the browser bundle twice. `PageData` reads
//! with `from_slice` too, so it is compiled once (about 5% of the bundle).

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, read the way server functions read it.
pub struct PageData;

impl<T: Serialize> Encoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A page's data: fetched by `fetcher` from what `source` tracks, rendered on the server and
/// carried to the browser in the page for hydration.
#[track_caller]
pub fn page_resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, PageData>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
