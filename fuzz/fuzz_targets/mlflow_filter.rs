//! MLflow search filters (`name LIKE 'a%' AND tags.team = 'x'`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgov::server::rest::mlflow::parse_filter;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_filter(text);
    }
});
