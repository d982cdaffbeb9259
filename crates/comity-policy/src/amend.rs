//! Amendments. A version that `amends` another states only what its law changed: the rule
//! and case files it adds or replaces (a file of the same name), the files it `repeals`, and
//! the facts and disclosures it adds or replaces (by name). Everything else is the version it
//! amends, inherited. A version that `supersedes` another is whole in itself.
//!
//! This is how a legislature amends a code (a section "is amended to read as follows", a
//! section "is added", a section "is repealed"), and it is what a lawyer reviewing an
//! amendment reads: the directory holds exactly what changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use comity_model::Date;

use crate::files::{PackFile, PackFiles, RuleFile, STATUTE_SUFFIX};
use crate::manifest::Manifest;

/// What an amendment inherits of the version it amends: that version's law in full.
pub(crate) struct Base<'a> {
    /// Its manifest in effect.
    pub manifest: &'a Manifest,
    /// Its rule files.
    pub rules: &'a [RuleFile],
    /// Its case files.
    pub cases: &'a [PackFile],
    /// Its statute files.
    pub statutes: &'a [RuleFile],
    /// Its digest.
    pub sha256: &'a str,
}

/// A version's law in full: its own files, and for an amendment what it inherits.
pub(crate) struct Consolidated {
    /// The manifest in effect: an amendment's own, with the facts, disclosures and sources
    /// of the version it amends that it does not replace.
    pub manifest: Manifest,
    /// The rule files, in name order.
    pub rules: Vec<RuleFile>,
    /// The case files, in name order.
    pub cases: Vec<PackFile>,
    /// The statute files (`*.statute.toml`) and their texts, in name order.
    pub statutes: Vec<RuleFile>,
    /// SHA-256 of the version: its own files' digest, chained for an amendment to the digest
    /// of the version it amends (so that a change to an inherited file changes it).
    pub sha256: String,
}

/// The law of the version whose files are `own` and manifest `manifest`: the files alone, or
/// for an amendment the version `base` it amends with what it changes.
pub(crate) fn consolidate(
    own: PackFiles,
    manifest: Manifest,
    base: Option<Base>,
) -> Result<Consolidated, String> {
    let (own_rules, own_statutes, own_cases) = own_files(&own, manifest.effective_from);
    let Some(amends) = manifest.amends else {
        return Ok(Consolidated {
            manifest,
            rules: own_rules,
            cases: own_cases,
            statutes: own_statutes,
            sha256: own.sha256,
        });
    };
    let base = base
        .filter(|b| b.manifest.effective_from == amends)
        .ok_or_else(|| format!("amends {amends}, but there is no such version beside it"))?;
    check_amendment(&manifest, &base)?;
    let mut inherited = Inherited {
        rules: by_name(base.rules.iter().cloned(), |r| &r.file.name),
        cases: by_name(base.cases.iter().cloned(), |c| &c.name),
        statutes: by_name(base.statutes.iter().cloned(), |r| &r.file.name),
    };
    inherited.repeal(&manifest.repeals, amends)?;
    for name in own_rules
        .iter()
        .map(|r| &r.file.name)
        .chain(own_statutes.iter().map(|r| &r.file.name))
        .chain(own_cases.iter().map(|c| &c.name))
    {
        if manifest.repeals.contains(name) {
            return Err(format!("`{name}` is both repealed and written here"));
        }
    }
    inherited
        .rules
        .extend(own_rules.into_iter().map(|r| (r.file.name.clone(), r)));
    inherited
        .statutes
        .extend(own_statutes.into_iter().map(|r| (r.file.name.clone(), r)));
    inherited
        .cases
        .extend(own_cases.into_iter().map(|c| (c.name.clone(), c)));
    Ok(Consolidated {
        sha256: chained(&own.sha256, base.sha256),
        manifest: inherit(manifest, base.manifest)?,
        rules: inherited.rules.into_values().collect(),
        cases: inherited.cases.into_values().collect(),
        statutes: inherited.statutes.into_values().collect(),
    })
}

/// A version's own rule files, statute files and case files, as written in it on `date`.
fn own_files(own: &PackFiles, date: Date) -> (Vec<RuleFile>, Vec<RuleFile>, Vec<PackFile>) {
    let texts = |files: &[(PathBuf, String)]| -> Vec<RuleFile> {
        files
            .iter()
            .map(|(path, text)| RuleFile {
                file: pack_file(&own.dir, path.clone(), date),
                text: text.clone(),
            })
            .collect()
    };
    let cases = own
        .case_files
        .iter()
        .map(|path| pack_file(&own.dir, path.clone(), date))
        .collect();
    (texts(&own.rules), texts(&own.statutes), cases)
}

/// The files an amendment inherits, by name.
struct Inherited {
    rules: BTreeMap<String, RuleFile>,
    cases: BTreeMap<String, PackFile>,
    statutes: BTreeMap<String, RuleFile>,
}

impl Inherited {
    /// Removes each repealed file (a rule file with the statute text beside it); each must
    /// be a file of the version of `amends`.
    fn repeal(&mut self, repeals: &[String], amends: Date) -> Result<(), String> {
        for name in repeals.iter().filter(|n| !n.starts_with(FACT_PREFIX)) {
            if let Some(stem) = name.strip_suffix(".cedar") {
                self.statutes.remove(&format!("{stem}{STATUTE_SUFFIX}"));
            }
            let found = self.rules.remove(name).is_some()
                | self.cases.remove(name).is_some()
                | self.statutes.remove(name).is_some();
            if !found {
                return Err(format!(
                    "repeals `{name}`, which the version of {amends} does not have"
                ));
            }
        }
        Ok(())
    }
}

/// An amendment is of the same jurisdiction and time zone as what it amends, and repeals
/// only by naming files.
fn check_amendment(manifest: &Manifest, base: &Base) -> Result<(), String> {
    if manifest.timezone != base.manifest.timezone {
        return Err(format!(
            "timezone: an amendment keeps the time zone of what it amends ({})",
            base.manifest.timezone
        ));
    }
    Ok(())
}

/// `manifest` with what it does not replace of `base`'s facts, disclosures, pre-emptions (a
/// list declared again replaces the whole) and sources.
fn inherit(mut manifest: Manifest, base: &Manifest) -> Result<Manifest, String> {
    let repealed: Vec<&str> = manifest
        .repeals
        .iter()
        .filter_map(|r| r.strip_prefix(FACT_PREFIX))
        .collect();
    if let Some(unknown) = repealed.iter().find(|f| !base.facts.contains_key(**f)) {
        return Err(format!(
            "repeals `{FACT_PREFIX}{unknown}`, which the version it amends does not declare"
        ));
    }
    for (name, spec) in &base.facts {
        if !repealed.contains(&name.as_str()) {
            manifest
                .facts
                .entry(name.clone())
                .or_insert_with(|| spec.clone());
        }
    }
    for (act, disclosure) in &base.discloses {
        manifest
            .discloses
            .entry(*act)
            .or_insert_with(|| disclosure.clone());
    }
    if manifest.preempts.is_empty() {
        manifest.preempts = base.preempts.clone();
    }
    let own = std::mem::take(&mut manifest.sources);
    manifest.sources = base.sources.clone();
    for source in own {
        if !manifest
            .sources
            .iter()
            .any(|s| s.citation == source.citation)
        {
            manifest.sources.push(source);
        }
    }
    Ok(manifest)
}

/// What names a fact in `repeals` (`facts.nyc_covered_felony_ever`): a fact the amended
/// version declared that this one no longer reads.
const FACT_PREFIX: &str = "facts.";

fn pack_file(dir: &std::path::Path, path: PathBuf, written_in: Date) -> PackFile {
    PackFile {
        name: path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/"),
        path,
        written_in,
    }
}

fn by_name<T>(items: impl Iterator<Item = T>, name: impl Fn(&T) -> &String) -> BTreeMap<String, T> {
    items.map(|i| (name(&i).clone(), i)).collect()
}

/// SHA-256 over an amendment's own digest and the digest of the version it amends.
fn chained(own: &str, base: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(own.as_bytes());
    h.update(b"\0amends\0");
    h.update(base.as_bytes());
    const_hex::encode(h.finalize())
}
