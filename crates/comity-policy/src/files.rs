//! A pack version's files: read from its directory (with each one's SHA-256), and the rule,
//! case and statute files of the law in force, each with the version that wrote it.

use std::path::{Path, PathBuf};

use comity_model::Date;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::PackError;

/// The name of a version's signed release file (see [`crate::release`]); it is no part of
/// the version's digest.
pub const SIGNATURE_FILE: &str = "pack.sig";

/// What ends the name of a statute file; its stem is its rule file's (see
/// [`crate::statute`]).
pub const STATUTE_SUFFIX: &str = ".statute.toml";

/// A rule or case file of the law in force, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Its path in a version's directory: `doc-9-131.cedar`, `tests/holds.yaml`.
    pub name: String,
    /// Where it is on disk.
    pub path: PathBuf,
    /// The `effective_from` of the version whose directory holds it.
    pub written_in: Date,
}

/// A rule file of the law in force, with its text.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// The file.
    pub file: PackFile,
    /// Its text.
    pub text: String,
}

/// A pack's files as read from disk, before any is checked: what [`Pack::check`] needs,
/// so that a pack can also be checked from memory (as the fuzzer does).
#[derive(Debug, Clone)]
pub struct PackFiles {
    /// The pack's directory.
    pub dir: PathBuf,
    /// Its path under the pack root (`country-us/state-ny/2017-09-15`).
    pub rel: PathBuf,
    /// The text of its `pack.toml`.
    pub manifest: String,
    /// Its `*.cedar` files, in name order: each path and text.
    pub rules: Vec<(PathBuf, String)>,
    /// Its test case files (`tests/*.yaml`), in name order.
    pub case_files: Vec<PathBuf>,
    /// Its statute files (`*.statute.toml`), in name order: each path and text.
    pub statutes: Vec<(PathBuf, String)>,
    /// SHA-256 over every file (see [`digest`]).
    pub sha256: String,
    /// Each file's path in the directory and SHA-256, in path order.
    pub own_files: Vec<(String, String)>,
    /// The text of its signed release (`pack.sig`), if it has one.
    pub signature: Option<String>,
}

impl PackFiles {
    /// Reads the pack in `dir`, under the pack root `root`.
    pub fn read(root: &Path, dir: &Path) -> Result<PackFiles, PackError> {
        let mut files = list_files(dir)?;
        files.retain(|f| f != &dir.join(SIGNATURE_FILE));
        files.sort();
        let signature = dir.join(SIGNATURE_FILE);
        let signature = signature.is_file().then(|| read(&signature)).transpose()?;
        let own_files = file_digests(dir, &files)?;
        let texts = |keep: &dyn Fn(&Path) -> bool| {
            files
                .iter()
                .filter(|f| keep(f))
                .map(|f| Ok((f.clone(), read(f)?)))
                .collect::<Result<Vec<_>, PackError>>()
        };
        let rules = texts(&|f| f.extension().is_some_and(|e| e == "cedar"))?;
        let statutes =
            texts(&|f| f.parent() == Some(dir) && f.to_string_lossy().ends_with(STATUTE_SUFFIX))?;
        let case_files = files
            .iter()
            .filter(|f| {
                f.strip_prefix(dir).is_ok_and(|r| r.starts_with("tests"))
                    && f.extension().is_some_and(|e| e == "yaml" || e == "yml")
            })
            .cloned()
            .collect();
        Ok(PackFiles {
            dir: dir.to_owned(),
            rel: dir.strip_prefix(root).unwrap_or(dir).to_owned(),
            manifest: read(&dir.join("pack.toml"))?,
            rules,
            case_files,
            statutes,
            sha256: digest(&own_files),
            own_files,
            signature,
        })
    }

    /// The date its manifest says it amends, read before the pack is checked so that the
    /// version it amends can be handed to [`Pack::check`] (a manifest that does not parse
    /// is reported by the check itself).
    pub fn amends(&self) -> Option<Date> {
        #[derive(Deserialize)]
        struct Amends {
            amends: Option<Date>,
        }
        toml::from_str::<Amends>(&self.manifest).ok()?.amends
    }
}

fn read(path: &Path) -> Result<String, PackError> {
    std::fs::read_to_string(path).map_err(|e| PackError::new(path, e.to_string()))
}

/// The paths of a directory's entries; an error names the directory.
pub(crate) fn entries(dir: &Path) -> Result<Vec<PathBuf>, PackError> {
    let err = |e: std::io::Error| PackError::new(dir, e.to_string());
    std::fs::read_dir(dir)
        .map_err(err)?
        .map(|entry| entry.map(|e| e.path()).map_err(err))
        .collect()
}

fn list_files(dir: &Path) -> Result<Vec<PathBuf>, PackError> {
    let mut out = Vec::new();
    for path in entries(dir)? {
        if path.is_dir() {
            out.extend(list_files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// Each file of the pack, in path order: its pack-relative path and its SHA-256.
fn file_digests(dir: &Path, files: &[PathBuf]) -> Result<Vec<(String, String)>, PackError> {
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| PackError::new(f, e.to_string()))?;
            let rel = f
                .strip_prefix(dir)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            Ok((rel, const_hex::encode(Sha256::digest(&bytes))))
        })
        .collect()
}

/// SHA-256 over every file of the pack, in path order: for each, its pack-relative path, a
/// NUL, its SHA-256 in hex, a NUL.
fn digest(files: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (rel, sha256) in files {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(sha256.as_bytes());
        h.update([0]);
    }
    const_hex::encode(h.finalize())
}
