//! The write body readers: NDJSON and JSON (one record or an array) must answer every body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgov::server::ingest::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse::ndjson(data, 50_000);
    let _ = parse::json(data, 50_000);
});
