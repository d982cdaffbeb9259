//! Rules and contexts drawn from the bytes: the compiled rules answer as Cedar's evaluator
//! does on every context (decision, rules that determined it, errors), and the compiler
//! takes every rule drawn; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    comity_policy::fuzzing::compiled_agrees(data);
});
