//! Any bytes as a pack's rules (and its manifest's facts and a test file), beside a good
//! manifest: the pack loads or is refused naming the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "jurisdiction = \"ocd-division/country:us\"\ntitle = \"Fuzz\"\neffective_from = \"2017-04-02\"\ntimezone = \"America/New_York\"\nconfidence = \"VERIFIED\"\n[[sources]]\ncitation = \"x\"\n";
const DIVISIONS: &str = "source = \"fuzz\"\nas_of = \"2026-03-19\"\ndivisions = [ { id = \"ocd-division/country:us\", name = \"United States\" } ]\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The input splits into rules, extra manifest lines and cases at two `\u{1}` marks.
    let mut parts = text.splitn(3, '\u{1}');
    let rules = parts.next().unwrap_or_default();
    let manifest = parts.next().unwrap_or_default();
    let cases = parts.next().unwrap_or("base: {}\ncases: []\n");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pack = dir.path().join("packs/country-us/2017-04-02");
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    std::fs::create_dir_all(dir.path().join("catalog")).unwrap();
    std::fs::write(dir.path().join("catalog/divisions.toml"), DIVISIONS).unwrap();
    std::fs::write(pack.join("pack.toml"), format!("{MANIFEST}{manifest}")).unwrap();
    std::fs::write(pack.join("rules.cedar"), rules).unwrap();
    std::fs::write(pack.join("tests/cases.yaml"), cases).unwrap();
    if let Ok(engine) =
        comity_policy::Engine::load(&dir.path().join("packs"), &dir.path().join("catalog"))
    {
        for pack in engine.packs().packs() {
            let _ = comity_policy::run_cases(&engine, pack);
        }
    }
});
