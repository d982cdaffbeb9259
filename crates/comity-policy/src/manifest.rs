//! `pack.toml`: what a pack version is, when it is in force, where its law comes from, the
//! facts it needs, what its acts may carry and what it pre-empts; and its checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use comity_model::{Act, Catalogs, Confidence, Date, Jurisdiction, RecordField};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::facts::FactSpec;

/// `pack.toml`: what a pack is, when it is in force, where its law comes from, and the facts
/// it needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The Open Civic Data division the pack's law governs.
    pub jurisdiction: Jurisdiction,
    /// What the pack encodes, for a person.
    pub title: String,
    /// The first day the law is in force, local time.
    pub effective_from: Date,
    /// The first day it is no longer in force, when it lapses rather than being superseded.
    #[serde(default)]
    pub effective_until: Option<Date>,
    /// The IANA time zone effective dates are local to.
    pub timezone: String,
    /// The `effective_from` of the version this one replaces whole.
    #[serde(default)]
    pub supersedes: Option<Date>,
    /// The `effective_from` of the version this one amends: it states only what changed
    /// (see [`crate::amend`]).
    #[serde(default)]
    pub amends: Option<Date>,
    /// With `amends`: the files of the amended version (`x.cedar`, `tests/x.yaml`) that are
    /// no longer law.
    #[serde(default)]
    pub repeals: Vec<String>,
    /// How well the pack's law is verified.
    pub confidence: Confidence,
    /// What a reviewer must know: unconfirmed points, litigation.
    #[serde(default)]
    pub note: Option<String>,
    /// The statutes the pack encodes.
    pub sources: Vec<Source>,
    /// The facts the pack's rules read, by name.
    #[serde(default)]
    pub facts: BTreeMap<String, FactSpec>,
    /// On a jurisdiction's first version: what is known of its law before that day.
    #[serde(default)]
    pub earlier_law: EarlierLaw,
    /// With `earlier_law = "none"`: the acts some earlier law of the jurisdiction did speak
    /// to, though it is not encoded; they are refused before the first version.
    #[serde(default)]
    pub earlier_law_except: Vec<Act>,
    /// What an act that tells its recipient something may carry, by this law: a permitted
    /// act carries only what every pack in force that says so allows.
    #[serde(default)]
    pub discloses: BTreeMap<Act, Disclosure>,
    /// Acts whose restriction this law reserves to itself: the law of the divisions within
    /// this one may not forbid them (pre-emption).
    #[serde(default)]
    pub preempts: Vec<Preemption>,
}

/// A law's pre-emption of the law below it, for some acts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preemption {
    /// The acts (and their duties) the law below may not restrict.
    pub acts: Vec<Act>,
    /// What the law below may still attach to them.
    pub lower_may: LowerMay,
    /// The statute that pre-empts.
    pub citation: String,
    /// What it says, for the explanation.
    pub summary: String,
}

/// What the law of divisions within a pre-empting one may still attach to a pre-empted act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LowerMay {
    /// Nothing: its forbids are set aside and its limits dropped.
    Nothing,
    /// Notices only: its forbids are set aside; of its limits, only the notices stand.
    AddNotices,
}

impl Manifest {
    /// The version before this one, which it supersedes or amends.
    pub fn predecessor(&self) -> Option<Date> {
        self.supersedes.or(self.amends)
    }
}

/// What one law lets an act carry to its recipient.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// The fields it may carry.
    pub fields: Vec<RecordField>,
    /// The statute that says so.
    pub citation: String,
}

/// What is known of a jurisdiction's law before its first version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EarlierLaw {
    /// Earlier law exists but is not encoded: before the first version every act is refused
    /// until a person decides (the default: fail closed).
    #[default]
    NotEncoded,
    /// No law of the jurisdiction spoke to these acts before (say why in `note`): before the
    /// first version the law of the divisions containing it decides.
    None,
}

/// A statute or other source a pack encodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Its citation.
    pub citation: String,
    /// Where its text can be read.
    #[serde(default)]
    pub url: Option<String>,
}

/// The pack-relative path of a jurisdiction: `ocd-division/country:us/state:ny` →
/// `country-us/state-ny`.
pub fn jurisdiction_path(j: &Jurisdiction) -> PathBuf {
    j.segments().map(|s| s.replacen(':', "-", 1)).collect()
}

/// What a manifest says once checked: its time zone, the instants its law is in force
/// between, and the facts its rules may read.
pub(crate) struct CheckedManifest {
    /// Its time zone.
    pub tz: TimeZone,
    /// The instant it comes into force.
    pub from: Timestamp,
    /// The instant it lapses, if it says.
    pub until: Option<Timestamp>,
    /// Its facts, in declaration order.
    pub facts: Vec<(String, FactSpec)>,
    /// The boolean facts, in declaration order (bits of the context).
    pub fact_names: Vec<String>,
}

/// Checks a manifest found at `rel` under the pack root: where it is, its dates and time
/// zone, how it speaks of earlier law, what its acts may carry, and its facts.
pub(crate) fn check_manifest(
    manifest: &Manifest,
    rel: &Path,
    catalogs: &Catalogs,
) -> Result<CheckedManifest, String> {
    let expected =
        jurisdiction_path(&manifest.jurisdiction).join(manifest.effective_from.to_string());
    if rel != expected {
        return Err(format!(
            "a pack for {} from {} belongs in {}, not {}",
            manifest.jurisdiction,
            manifest.effective_from,
            expected.display(),
            rel.display()
        ));
    }
    let tz = TimeZone::get(&manifest.timezone)
        .map_err(|_| format!("timezone: `{}` is not an IANA time zone", manifest.timezone))?;
    check_lineage(manifest)?;
    check_discloses(manifest)?;
    check_preempts(manifest)?;
    let local_midnight = |d: Date| -> Result<Timestamp, String> {
        d.0.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("date {d}: {e}"))
    };
    let from = local_midnight(manifest.effective_from)?;
    let until = manifest.effective_until.map(local_midnight).transpose()?;
    if until.is_some_and(|u| u <= from) {
        return Err("effective_until must be after effective_from".into());
    }
    let facts: Vec<(String, FactSpec)> = manifest.facts.clone().into_iter().collect();
    check_facts(&facts, catalogs)?;
    let fact_names: Vec<String> = facts
        .iter()
        .filter(|(_, s)| s.is_boolean())
        .map(|(n, _)| n.clone())
        .collect();
    if fact_names.len() > 64 {
        return Err("a pack may declare at most 64 boolean facts".into());
    }
    Ok(CheckedManifest {
        tz,
        from,
        until,
        facts,
        fact_names,
    })
}

/// How a version stands to the one before it: it supersedes it or amends it (not both), and
/// repeals only what it amends; `earlier_law` belongs on a first version, and
/// `earlier_law_except` only beside `none`.
fn check_lineage(manifest: &Manifest) -> Result<(), String> {
    if manifest.supersedes.is_some() && manifest.amends.is_some() {
        return Err(
            "a version either supersedes the one before it (whole) or amends it (what changed), not both"
                .into(),
        );
    }
    if manifest.amends.is_none() && !manifest.repeals.is_empty() {
        return Err("repeals belongs on a version that amends another".into());
    }
    if manifest.predecessor().is_some()
        && (manifest.earlier_law != EarlierLaw::NotEncoded
            || !manifest.earlier_law_except.is_empty())
    {
        return Err(
            "earlier_law belongs on a jurisdiction's first version, not on one that supersedes or amends another"
                .into(),
        );
    }
    if manifest.earlier_law == EarlierLaw::NotEncoded && !manifest.earlier_law_except.is_empty() {
        return Err("earlier_law_except names acts excepted from earlier_law = \"none\"".into());
    }
    Ok(())
}

/// Only an act that tells someone something carries fields, and each carries some, with the
/// citation that says so.
fn check_discloses(manifest: &Manifest) -> Result<(), String> {
    for (act, disclosure) in &manifest.discloses {
        if !act.tells() {
            return Err(format!(
                "discloses.{act}: {act} tells no one anything; only notices and disclosures carry fields"
            ));
        }
        if disclosure.fields.is_empty() || disclosure.citation.trim().is_empty() {
            return Err(format!(
                "discloses.{act}: give the fields it may carry and the citation that says so"
            ));
        }
    }
    Ok(())
}

/// A pre-emption names its acts, the statute that pre-empts and what it says.
fn check_preempts(manifest: &Manifest) -> Result<(), String> {
    for (n, p) in manifest.preempts.iter().enumerate() {
        if p.acts.is_empty() || p.citation.trim().is_empty() || p.summary.trim().is_empty() {
            return Err(format!(
                "preempts[{n}]: give the acts, the citation of the statute that pre-empts and its summary"
            ));
        }
    }
    Ok(())
}

/// Fact names are lower_snake_case, and the lists they read are in a catalog.
fn check_facts(facts: &[(String, FactSpec)], catalogs: &Catalogs) -> Result<(), String> {
    for (name, spec) in facts {
        let ident = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ident {
            return Err(format!("facts.{name}: fact names are lower_snake_case"));
        }
        spec.check().map_err(|e| format!("facts.{name}: {e}"))?;
        for list in spec.lists() {
            if catalogs.list(list).is_none() {
                return Err(format!("facts.{name}: list `{list}` is in no catalog"));
            }
        }
    }
    Ok(())
}
