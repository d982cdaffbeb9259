//! Any bytes as a request document (one object, an array, JSON lines): read or refused with
//! an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = comity_model::read_requests(text);
        let _ = comity_model::Request::from_json(text);
    }
});
