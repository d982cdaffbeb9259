//! Any bytes as a pack's `pack.toml` (placed where its jurisdiction and date say it
//! belongs), checked against the repository's catalogs: accepted or refused with a
//! message, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use comity_model::Catalogs;
use libfuzzer_sys::fuzz_target;

fn catalogs() -> &'static Catalogs {
    static CATALOGS: OnceLock<Catalogs> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog");
        Catalogs::load(&dir).expect("the repository's catalogs load")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = comity_policy::fuzzing::manifest(text, catalogs());
    }
});
