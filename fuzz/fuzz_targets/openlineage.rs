//! OpenLineage RunEvents: any JSON value goes through the reading, the checks and the NUL search.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgov::model::text::find_nul;
use modelgov::server::ingest::openlineage::{RunEvent, check};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = find_nul(&value);
    if let Ok(event) = serde_json::from_value::<RunEvent>(value) {
        let _ = check(event);
    }
});
