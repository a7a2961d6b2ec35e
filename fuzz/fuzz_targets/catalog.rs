//! The metric catalog (`metrics/catalog.toml`): parsing and checking any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgov::server::metrics::catalog;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = catalog::parse("fuzz", text);
    }
});
