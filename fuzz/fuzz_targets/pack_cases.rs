//! Any bytes as a test case file of the Texas 2017-09-01 pack, run against the
//! repository's packs: each case passes or fails with a message, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use comity_policy::Engine;
use libfuzzer_sys::fuzz_target;

const PACK: &str = "ocd-division/country:us/state:tx@2017-09-01";

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Engine::load(&repo.join("packs"), &repo.join("catalog")).expect("the packs load")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = engine();
    let pack = engine
        .packs()
        .packs()
        .iter()
        .find(|p| p.id == PACK)
        .expect("the Texas 2017-09-01 pack");
    let _ = comity_policy::fuzzing::cases(engine, pack, text);
});
