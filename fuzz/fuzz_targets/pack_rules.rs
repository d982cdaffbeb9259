//! Any bytes as one of a pack's `*.cedar` files: its rules' annotations checked, sliced by
//! act and their `unless` clauses turned into excused restrictions, or the file refused
//! naming the line; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = comity_policy::fuzzing::rules(text);
    }
});
