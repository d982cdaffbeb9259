//! What the CLI's tests share: the repository and its example requests, and running
//! `comity` in a directory of the test's own with none of the operator's environment.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An example request of the repository's `examples/`, as JSON.
pub fn example(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("examples").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs `comity args…` in `dir`, with the repository's packs and no other `COMITY_*` setting.
pub fn comity(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_comity"))
        .args(args)
        .current_dir(dir)
        .env("COMITY_PACKS", repo().join("packs"))
        .env_remove("COMITY_CATALOG")
        .env_remove("COMITY_DB")
        .env_remove("COMITY_DATA_DIR")
        .env_remove("COMITY_CONFIG")
        .env_remove("COMITY_DISPATCHER")
        .output()
        .expect("comity runs")
}

/// The standard output of a run that must succeed.
pub fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A copy of the repository's law (`packs/` and `catalog/`) in `dir`, to alter.
pub fn copy_law(dir: &Path) {
    for part in ["packs", "catalog"] {
        let status = Command::new("cp")
            .arg("-r")
            .arg(repo().join(part))
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// `dir/baseline/packs`: the law as it was before L.L. 2017/228, the repository's packs with
/// New York City's later versions (2017-12-01, 2026-01-29) taken out; the repository's law
/// copied to `dir` beside it.
pub fn nyc_before_2017(dir: &Path) {
    copy_law(dir);
    let baseline = dir.join("baseline");
    std::fs::create_dir(&baseline).unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(dir.join("packs"))
        .arg(&baseline)
        .status()
        .unwrap();
    assert!(status.success());
    for later in ["2017-12-01", "2026-01-29"] {
        let version = baseline
            .join("packs/country-us/state-ny/place-new_york")
            .join(later);
        std::fs::remove_dir_all(version).unwrap();
    }
}
