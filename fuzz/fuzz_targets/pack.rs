//! Any bytes as a pack's rules (and its manifest's facts and a test file), beside a good
//! manifest: the pack is checked from memory and loads or is refused naming the file, never
//! a panic; a pack that loads runs its cases (written to disk only then).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use comity_model::Catalogs;
use comity_policy::{Engine, Pack, PackFiles, PackSet, run_cases};
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "jurisdiction = \"ocd-division/country:us\"\ntitle = \"Fuzz\"\neffective_from = \"2017-04-02\"\ntimezone = \"America/New_York\"\nconfidence = \"VERIFIED\"\n[[sources]]\ncitation = \"x\"\n";
const DIVISIONS: &str = "source = \"fuzz\"\nas_of = \"2026-03-19\"\ndivisions = [ { id = \"ocd-division/country:us\", name = \"United States\" } ]\n";

/// The catalogs (the registry alone), and a directory for the cases of packs that load.
fn fixture() -> &'static (Catalogs, tempfile::TempDir) {
    static FIXTURE: OnceLock<(Catalogs, tempfile::TempDir)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(dir.path().join("catalog")).unwrap();
        std::fs::write(dir.path().join("catalog/divisions.toml"), DIVISIONS).unwrap();
        let catalogs = Catalogs::load(&dir.path().join("catalog")).expect("the registry loads");
        (catalogs, dir)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The input splits into rules, extra manifest lines and cases at two `\u{1}` marks.
    let mut parts = text.splitn(3, '\u{1}');
    let rules = parts.next().unwrap_or_default();
    let manifest = parts.next().unwrap_or_default();
    let cases = parts.next().unwrap_or("base: {}\ncases: []\n");
    let (catalogs, dir) = fixture();
    let pack_dir = dir.path().join("packs/country-us/2017-04-02");
    let case_file = pack_dir.join("tests/cases.yaml");
    let files = PackFiles {
        dir: pack_dir.clone(),
        rel: PathBuf::from("country-us/2017-04-02"),
        manifest: format!("{MANIFEST}{manifest}"),
        rules: vec![(pack_dir.join("rules.cedar"), rules.to_owned())],
        case_files: vec![case_file.clone()],
        statutes: Vec::new(),
        sha256: String::new(),
        own_files: Vec::new(),
        signature: None,
    };
    let Ok(pack) = Pack::check(files, None, catalogs) else {
        return;
    };
    std::fs::create_dir_all(case_file.parent().unwrap_or(Path::new("."))).unwrap();
    std::fs::write(&case_file, cases).unwrap();
    if let Ok(set) = PackSet::new(vec![pack]) {
        let engine = Engine::new(set, catalogs.clone());
        for pack in engine.packs().packs() {
            let _ = run_cases(&engine, pack);
        }
    }
});
