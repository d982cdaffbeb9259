//! The stages of loading a pack, each on its own, for the fuzz targets (feature `fuzzing`).
//!
//! A whole pack costs milliseconds to check (Cedar's schema build and strict validation
//! dominate), too slow to run the parsers of what a pack's author writes ten million times;
//! each stage here runs the same code [`Pack::check`](crate::Pack::check) and
//! [`run_cases`](crate::run_cases) do, on one file's text.

use std::path::Path;

use comity_model::Catalogs;

use crate::cases::run_text;
use crate::engine::Engine;
use crate::error::PackError;
use crate::files::{PackFile, RuleFile};
use crate::manifest::{Manifest, check_manifest, jurisdiction_path};
use crate::pack::{Pack, read_rules, slice_rules};

/// Parses and checks a `pack.toml` as if it lay where it belongs under the pack root.
pub fn manifest(text: &str, catalogs: &Catalogs) -> Result<(), String> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
    let rel = jurisdiction_path(&manifest.jurisdiction).join(manifest.effective_from.to_string());
    check_manifest(&manifest, &rel, catalogs).map(drop)
}

/// Reads one rule file (its pack declaring the boolean facts `flag_a` and `flag_b` and the
/// deadline `deadline_a`), slices its rules by act and derives their excused restrictions;
/// answers how many of those there are.
pub fn rules(text: &str) -> Result<usize, PackError> {
    let dir = Path::new("fuzz");
    let file = dir.join("rules.cedar");
    let facts = ["flag_a".to_owned(), "flag_b".to_owned()];
    let rule_file = RuleFile {
        file: PackFile {
            name: "rules.cedar".to_owned(),
            path: file.clone(),
            written_in: "2017-04-02".parse().expect("a date"),
        },
        text: text.to_owned(),
    };
    let read = read_rules(&[rule_file], &facts, &["deadline_a"])?;
    let slices = slice_rules(&read).map_err(|e| PackError::new(&file, e))?;
    Ok(slices.met.iter().map(|m| m.policies().count()).sum())
}

/// Runs the cases of one case file's text against `pack` (which `engine` holds); answers
/// how many failed.
pub fn cases(engine: &Engine, pack: &Pack, text: &str) -> usize {
    run_text(engine, pack, text).failures.len()
}

/// Draws rules and contexts from `data` (a byte a draw, zero once it runs out), compiles the
/// rules and checks the compiled answers against Cedar's evaluator on each context; panics
/// where they differ (the fuzz target `compiled`).
pub fn compiled_agrees(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let mut draw = |n: u32| u32::from(bytes.next().unwrap_or(0)) % n.max(1);
    let rules = crate::compiled::reference::drawn_rules(&mut draw);
    crate::compiled::reference::check_drawn(&rules, &mut draw, 8);
}
