//! One policy pack: `pack.toml`, its `*.cedar` rules and its `tests/*.yaml` cases, loaded,
//! checked against the schema, and sliced by act.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PolicyId, PolicySet, Schema, ValidationMode,
    Validator,
};
use comity_model::{Act, Catalogs, Confidence, Date, Jurisdiction, RecordField};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::amend::{PackFile, RuleFile, consolidate};
use crate::annotated::{AnnotatedRule, Annotations, located, read_annotated};
use crate::error::PackError;
use crate::facts::FactSpec;
use crate::release::SIGNATURE_FILE;
use crate::schema::{DUTY_SUFFIX, schema_text};
use crate::statute::{STATUTE_SUFFIX, StatuteFile, read_statute};

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

/// A condition a permit or duty attaches to the act it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitSpec {
    /// `@hold_until("fact")`: release by the instant the named hold-deadline fact gives.
    HoldUntil(String),
    /// `@notice("subject counsel")`: give notice to these people.
    Notice(Vec<String>),
    /// `@approval("privacy-officer")`: get this approval first.
    Approval(String),
    /// `@owes_notice("subject")`: give notice to these people whatever the act's outcome
    /// (Cal. Gov. Code § 7283.1(b): a copy of every ICE request to the person, whether or
    /// not the agency complies). A rule that owes a notice permits nothing.
    OwedNotice(Vec<String>),
}

/// A rule of a pack, with its annotations.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `@id`.
    pub id: String,
    /// Permit or forbid.
    pub effect: Effect,
    /// `@citation`.
    pub citation: String,
    /// `@summary`.
    pub summary: String,
    /// `@caution`, if any.
    pub caution: Option<String>,
    /// `@instruction`: what the officer does when this rule decides the act, in one line.
    pub instruction: String,
    /// For a forbid, what each of its `unless` clauses excuses, in clause order
    /// (`@exception`, `@exception_2`, …): the requirement a situation meets when that
    /// clause holds.
    pub exceptions: Vec<String>,
    /// The file it is written in, relative to the version's directory.
    pub file: String,
    /// The version whose directory holds that file (an amendment inherits the rest).
    pub written_in: Date,
    /// The context paths it reads (`warrant_kind`, `facts.nyc_vsc_5y`).
    pub reads: Vec<String>,
    /// The limits it attaches.
    pub limits: Vec<LimitSpec>,
    /// The acts (and duties) it applies to, as action names.
    pub actions: Vec<String>,
    /// Its place in the pack: files in name order, rules in file order. Reasons are listed
    /// in this order, so that a decision does not depend on Cedar's iteration order.
    pub order: usize,
}

impl Rule {
    /// Whether the rule only owes a notice whatever the act's outcome (`@owes_notice`), and
    /// so permits nothing.
    pub fn owes_notice(&self) -> bool {
        self.limits
            .iter()
            .any(|l| matches!(l, LimitSpec::OwedNotice(_)))
    }

    /// `permit` or `forbid`.
    pub fn effect_word(&self) -> &'static str {
        match self.effect {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        }
    }
}

/// A loaded, checked pack.
#[derive(Debug)]
pub struct Pack {
    /// `<jurisdiction>@<effective-from>`.
    pub id: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its time zone.
    pub tz: TimeZone,
    /// The instant it comes into force.
    pub from: Timestamp,
    /// The instant it stops being in force, if known.
    pub until: Option<Timestamp>,
    /// SHA-256 over its files.
    pub sha256: String,
    /// Declared facts, in bit order for the booleans.
    pub facts: Vec<(String, FactSpec)>,
    /// Names of the boolean facts, bit `i` for the `i`-th.
    pub fact_names: Vec<String>,
    /// Its rules, by id.
    pub rules: BTreeMap<String, Rule>,
    /// Its rule files, its own and inherited, in name order.
    pub rule_files: Vec<RuleFile>,
    /// Its test case files, its own and inherited, in name order.
    pub case_files: Vec<PackFile>,
    /// The text of the law beside each rule file that has it, its own and inherited, in
    /// name order.
    pub statutes: Vec<StatuteFile>,
    /// The statute files as read, for the amendments that inherit them.
    pub(crate) statute_texts: Vec<RuleFile>,
    /// The files of its own directory with their SHA-256, in path order (what a signed
    /// release signs).
    pub own_files: Vec<(String, String)>,
    /// Its signed release (`pack.sig`), if it has one.
    pub signature: Option<Arc<str>>,
    /// The rules that can apply to each action, ahead of time: index
    /// `2 × act + (1 if duty)`.
    slices: Vec<PolicySet>,
    /// For each slice, the restrictions it can excuse: for every forbid with `unless`
    /// clauses, one permit per clause that holds when the forbid's situation does and that
    /// clause's exception does (see [`met_policies`]).
    met_slices: Vec<PolicySet>,
    /// For each act, the rules that owe a notice whatever its outcome (`@owes_notice`),
    /// which are in no other slice.
    owed_slices: Vec<PolicySet>,
    /// Every rule, unsliced.
    policies: PolicySet,
    /// Where the pack stands in its [`crate::PackSet`] (set when the set is made): the key
    /// of what an engine remembers about it.
    pub(crate) position: usize,
}

/// The pack-relative path of a jurisdiction: `ocd-division/country:us/state:ny` →
/// `country-us/state-ny`.
pub fn jurisdiction_path(j: &Jurisdiction) -> PathBuf {
    j.segments().map(|s| s.replacen(':', "-", 1)).collect()
}

/// The index of an action in [`Pack`]'s slices.
pub(crate) fn slice_index(act: Act, duty: bool) -> usize {
    let i = Act::ALL
        .iter()
        .position(|a| *a == act)
        .expect("act of its vocabulary");
    2 * i + usize::from(duty)
}

/// Action names in slice order.
fn action_names() -> Vec<String> {
    Act::ALL
        .iter()
        .flat_map(|a| [a.to_string(), format!("{a}{DUTY_SUFFIX}")])
        .collect()
}

/// What the rules of a law pack are annotated with.
const LAW_ANNOTATIONS: Annotations<'static> = Annotations {
    known: KNOWN_ANNOTATIONS,
    required: &["citation", "summary", "instruction"],
};

const KNOWN_ANNOTATIONS: &[&str] = &[
    "id",
    "citation",
    "summary",
    "caution",
    "instruction",
    "exception",
    "exception_2",
    "exception_3",
    "exception_4",
    "hold_until",
    "notice",
    "approval",
    "owes_notice",
];

/// How many `unless` clauses a forbid may name exceptions for.
const MAX_EXCEPTIONS: usize = 4;

/// The annotation naming what the `n`-th `unless` clause (from 0) of a forbid excuses.
fn exception_key(n: usize) -> String {
    match n {
        0 => "exception".to_owned(),
        n => format!("exception_{}", n + 1),
    }
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

/// What a manifest says once checked: its time zone, the instants its law is in force
/// between, and the facts its rules may read.
pub(crate) struct CheckedManifest {
    tz: TimeZone,
    from: Timestamp,
    until: Option<Timestamp>,
    facts: Vec<(String, FactSpec)>,
    /// The boolean facts, in declaration order (bits of the context).
    fact_names: Vec<String>,
}

/// The rules of a pack's files, keyed by `@id`, and as one policy set re-keyed by it.
pub(crate) struct ReadRules {
    rules: BTreeMap<String, Rule>,
    policies: PolicySet,
    /// The file and text each rule was read from, to place validation errors.
    sources: HashMap<String, (PathBuf, String)>,
}

impl Pack {
    /// Loads and checks the pack in `dir`, under the pack root `root`; `base` is the
    /// version it amends, if it amends one.
    pub fn load(
        root: &Path,
        dir: &Path,
        base: Option<&Pack>,
        catalogs: &Catalogs,
    ) -> Result<Pack, PackError> {
        Pack::check(PackFiles::read(root, dir)?, base, catalogs)
    }

    /// Checks a pack's files (with what it inherits from `base`, for an amendment): the
    /// manifest, every rule's annotations and its validity against the schema its facts
    /// make; and slices the rules by act.
    pub fn check(
        files: PackFiles,
        base: Option<&Pack>,
        catalogs: &Catalogs,
    ) -> Result<Pack, PackError> {
        let manifest_path = files.dir.join("pack.toml");
        let err = |message: String| PackError::new(&manifest_path, message);
        let manifest: Manifest = toml::from_str(&files.manifest).map_err(|e| err(e.to_string()))?;
        let (dir, rel) = (files.dir.clone(), files.rel.clone());
        let (own_files, signature) = (files.own_files.clone(), files.signature.clone());
        let law = consolidate(files, manifest, base).map_err(err)?;
        let checked = check_manifest(&law.manifest, &rel, catalogs).map_err(err)?;
        let deadlines: Vec<&str> = checked
            .facts
            .iter()
            .filter(|(_, s)| !s.is_boolean())
            .map(|(n, _)| n.as_str())
            .collect();
        let read = read_rules(&law.rules, &checked.fact_names, &deadlines)?;
        if read.rules.is_empty() {
            return Err(err("the pack has no rules (*.cedar)".into()));
        }
        validate(&read, &checked.fact_names, &manifest_path)?;
        if law.cases.is_empty() {
            return Err(err("the pack has no test cases (tests/*.yaml)".into()));
        }
        let Slices {
            slices,
            met: met_slices,
            owed: owed_slices,
        } = slice_rules(&read).map_err(err)?;
        let statutes = read_statutes(&law.statutes, &read.rules)?;
        Ok(Pack {
            id: format!(
                "{}@{}",
                law.manifest.jurisdiction, law.manifest.effective_from
            ),
            sha256: law.sha256,
            dir,
            manifest: law.manifest,
            tz: checked.tz,
            from: checked.from,
            until: checked.until,
            facts: checked.facts,
            fact_names: checked.fact_names,
            rules: read.rules,
            rule_files: law.rules,
            case_files: law.cases,
            statutes,
            statute_texts: law.statutes,
            own_files,
            signature: signature.map(Arc::from),
            slices,
            met_slices,
            owed_slices,
            policies: read.policies,
            position: 0,
        })
    }

    /// The rules that can apply to `act` (or its duty), sliced ahead of time.
    pub(crate) fn slice(&self, act: Act, duty: bool) -> &PolicySet {
        &self.slices[slice_index(act, duty)]
    }

    /// The excused restrictions of `act`'s slice (or its duty's): a permit `<rule>#<n>` for
    /// the `n`-th `unless` clause of each forbid.
    pub(crate) fn met_slice(&self, act: Act, duty: bool) -> &PolicySet {
        &self.met_slices[slice_index(act, duty)]
    }

    /// The rules that owe a notice on `act` whatever its outcome.
    pub(crate) fn owed_slice(&self, act: Act) -> &PolicySet {
        &self.owed_slices[slice_index(act, false)]
    }

    /// Every rule of the pack as one Cedar policy set, re-keyed by `@id` (what Cedar alone
    /// would scan, without slicing).
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The Cedar text of rule `id`, annotations included.
    pub fn rule_text(&self, id: &str) -> Option<String> {
        self.policies
            .policy(&PolicyId::new(id))
            .map(ToString::to_string)
    }

    /// The rule files that have no statute text beside them (`<file>.statute.toml`).
    pub fn without_statute(&self) -> Vec<&str> {
        self.rule_files
            .iter()
            .map(|r| r.file.name.as_str())
            .filter(|name| !self.statutes.iter().any(|s| s.rule_file() == *name))
            .collect()
    }

    /// Whether the pack is in force at `t`.
    pub fn in_force(&self, t: Timestamp) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }
}

/// Validates the rules against the schema their pack's facts make, strictly: the schema is
/// built and the rules validated only once they parse, for those are the costly steps
/// (milliseconds a pack). An error in a rule is placed in its file; one of the schema in
/// the manifest.
fn validate(read: &ReadRules, fact_names: &[String], manifest: &Path) -> Result<(), PackError> {
    let schema_src = schema_text(fact_names.iter().map(String::as_str));
    let (schema, _) = Schema::from_cedarschema_str(&schema_src)
        .map_err(|e| PackError::new(manifest, format!("schema: {e}")))?;
    let validation = Validator::new(schema).validate(&read.policies, ValidationMode::Strict);
    match validation.validation_errors().next() {
        Some(e) => {
            let (file, text) = &read.sources[&e.policy_id().to_string()];
            Err(PackError::new(file, located(text, e)))
        }
        None => Ok(()),
    }
}

/// A pack's rules sliced by act, in the order of [`action_names`].
pub(crate) struct Slices {
    /// The rules that can apply to each action (but those that owe a notice).
    pub slices: Vec<PolicySet>,
    /// The excused restrictions of each slice (see [`met_policies`]).
    pub met: Vec<PolicySet>,
    /// The rules that owe a notice on each action whatever its outcome.
    pub owed: Vec<PolicySet>,
}

/// Slices a pack's rules by act.
pub(crate) fn slice_rules(read: &ReadRules) -> Result<Slices, String> {
    let slice = |owed: bool| -> Vec<PolicySet> {
        action_names()
            .iter()
            .map(|action| {
                let ps = read
                    .policies
                    .policies()
                    .filter(|p| {
                        let rule = &read.rules[&p.id().to_string()];
                        rule.actions.contains(action) && rule.owes_notice() == owed
                    })
                    .cloned();
                PolicySet::from_policies(ps).expect("ids are unique")
            })
            .collect()
    };
    let slices = slice(false);
    let met = slices.iter().map(met_policies).collect::<Result<_, _>>()?;
    Ok(Slices {
        slices,
        met,
        owed: slice(true),
    })
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
        for list in spec.lists() {
            if catalogs.list(list).is_none() {
                return Err(format!("facts.{name}: list `{list}` is in no catalog"));
            }
        }
    }
    Ok(())
}

/// Parses every rule file of a pack (in name order; within a file, rules in the order
/// written) into rules keyed by `@id`, refusing a rule whose annotations are wrong or an
/// `@id` used twice.
pub(crate) fn read_rules(
    files: &[RuleFile],
    fact_names: &[String],
    deadlines: &[&str],
) -> Result<ReadRules, PackError> {
    let mut out = ReadRules {
        rules: BTreeMap::new(),
        policies: PolicySet::new(),
        sources: HashMap::new(),
    };
    for (file_index, RuleFile { file, text }) in files.iter().enumerate() {
        let read = read_annotated(text, LAW_ANNOTATIONS)
            .map_err(|e| PackError::new(&file.path, e.to_string()))?;
        for written in read {
            let at = |m: String| PackError::new(&file.path, format!("line {}: {m}", written.line));
            let mut rule = rule_of(&written, file, fact_names, deadlines).map_err(at)?;
            rule.order = file_index * 10_000_000 + written.offset;
            if out.rules.contains_key(&written.id) {
                return Err(at(format!(
                    "@id(\"{}\") is used twice in this pack",
                    written.id
                )));
            }
            out.policies
                .add(written.policy)
                .map_err(|e| at(e.to_string()))?;
            out.sources
                .insert(written.id.clone(), (file.path.clone(), text.clone()));
            out.rules.insert(written.id, rule);
        }
    }
    Ok(out)
}

/// Reads and checks each statute file against the rules of the rule file beside it.
fn read_statutes(
    files: &[RuleFile],
    rules: &BTreeMap<String, Rule>,
) -> Result<Vec<StatuteFile>, PackError> {
    files
        .iter()
        .map(|RuleFile { file, text }| {
            let stem = file.name.strip_suffix(STATUTE_SUFFIX).unwrap_or(&file.name);
            let rule_file = format!("{stem}.cedar");
            let ids: Vec<&str> = rules
                .values()
                .filter(|r| r.file == rule_file)
                .map(|r| r.id.as_str())
                .collect();
            let beside = (!ids.is_empty()).then_some(ids.as_slice());
            let statute =
                read_statute(file, text, beside).map_err(|e| PackError::new(&file.path, e))?;
            Ok(StatuteFile {
                file: file.clone(),
                statute,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<String, PackError> {
    std::fs::read_to_string(path).map_err(|e| PackError::new(path, e.to_string()))
}

fn list_files(dir: &Path) -> Result<Vec<PathBuf>, PackError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| PackError::new(dir, e.to_string()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| PackError::new(dir, e.to_string()))?
            .path();
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

/// The rule a policy of a pack is, from its annotations and scope.
fn rule_of(
    written: &AnnotatedRule,
    file: &PackFile,
    fact_names: &[String],
    deadlines: &[&str],
) -> Result<Rule, String> {
    let policy = &written.policy;
    let limits = limits_of(policy, deadlines)?;
    let actions = match policy.action_constraint() {
        ActionConstraint::Any => action_names(),
        ActionConstraint::Eq(uid) => vec![action_name(&uid)],
        ActionConstraint::In(uids) => uids.iter().map(action_name).collect(),
    };
    let json = policy.to_json().map_err(|e| e.to_string())?;
    let exceptions = exceptions_of(policy, &json)?;
    let reads = reads_of(&json, fact_names)?;
    Ok(Rule {
        id: written.id.clone(),
        effect: policy.effect(),
        citation: written.required("citation").to_owned(),
        summary: written.required("summary").to_owned(),
        caution: policy.annotation("caution").map(str::to_owned),
        instruction: written.required("instruction").to_owned(),
        exceptions,
        file: file.name.clone(),
        written_in: file.written_in,
        reads,
        limits,
        actions,
        order: 0,
    })
}

/// The limits a policy's annotations set (`@hold_until` naming a hold-deadline fact of
/// `deadlines`, `@notice`, `@approval`, or alone `@owes_notice`): only a permit sets any.
fn limits_of(policy: &Policy, deadlines: &[&str]) -> Result<Vec<LimitSpec>, String> {
    let mut limits = Vec::new();
    if let Some(fact) = policy.annotation("hold_until") {
        if !deadlines.contains(&fact) {
            return Err(format!(
                "@hold_until(\"{fact}\"): no hold-deadline fact of that name in pack.toml"
            ));
        }
        limits.push(LimitSpec::HoldUntil(fact.to_owned()));
    }
    if let Some(who) = policy.annotation("notice") {
        limits.push(LimitSpec::Notice(
            who.split_whitespace().map(str::to_owned).collect(),
        ));
    }
    if let Some(who) = policy.annotation("approval") {
        limits.push(LimitSpec::Approval(who.to_owned()));
    }
    if !limits.is_empty() && policy.effect() == Effect::Forbid {
        return Err("limits (@hold_until, @notice, @approval) belong on permits".into());
    }
    if let Some(who) = policy.annotation("owes_notice") {
        if policy.effect() == Effect::Forbid || !limits.is_empty() {
            return Err(
                "@owes_notice belongs on a permit of its own: a rule that owes a notice whatever the outcome permits nothing and attaches nothing else"
                    .into(),
            );
        }
        limits.push(LimitSpec::OwedNotice(
            who.split_whitespace().map(str::to_owned).collect(),
        ));
    }
    Ok(limits)
}

/// The context paths a policy (in Cedar's JSON form) reads, longest only, in order; every
/// fact among them must be one of `fact_names`.
fn reads_of(json: &serde_json::Value, fact_names: &[String]) -> Result<Vec<String>, String> {
    let mut reads = Vec::new();
    context_paths(json, &mut reads);
    reads.sort();
    reads.dedup();
    // `context.facts.x` also reads `context.facts`: keep only the longest paths.
    let longer: Vec<String> = reads.clone();
    reads.retain(|r| {
        !longer.iter().any(|l| {
            l.len() > r.len() && l.starts_with(r.as_str()) && l.as_bytes()[r.len()] == b'.'
        })
    });
    for r in &reads {
        if let Some(f) = r.strip_prefix("facts.")
            && !fact_names.iter().any(|n| n == f)
        {
            return Err(format!(
                "reads fact `{f}`, which pack.toml does not declare"
            ));
        }
    }
    Ok(reads)
}

/// The `@exception…` annotations of a policy, one for each of its `unless` clauses, in
/// clause order: none on a permit, one for every clause on a forbid.
fn exceptions_of(policy: &Policy, json: &serde_json::Value) -> Result<Vec<String>, String> {
    let clauses = unless_clauses(json).len();
    let given: Vec<Option<&str>> = (0..MAX_EXCEPTIONS)
        .map(|n| policy.annotation(exception_key(n)))
        .collect();
    let count = given.iter().filter(|g| g.is_some()).count();
    if policy.effect() == Effect::Permit {
        if count > 0 {
            return Err("@exception belongs on a forbid, naming what its `unless` excuses".into());
        }
        return Ok(Vec::new());
    }
    if clauses > MAX_EXCEPTIONS || count != clauses || given[..clauses].iter().any(Option::is_none)
    {
        let keys: Vec<String> = (0..clauses).map(exception_key).collect();
        return Err(format!(
            "the rule has {clauses} `unless` clause(s): annotate them @{} in order",
            keys.join(", @")
        ));
    }
    Ok(given[..clauses]
        .iter()
        .map(|g| g.expect("checked").to_owned())
        .collect())
}

/// Separates a met-policy id `<rule>#<n>` into the rule's id and the clause's number.
pub(crate) fn met_id(id: &str) -> Option<(&str, usize)> {
    let (rule, n) = id.rsplit_once('#')?;
    Some((rule, n.parse().ok()?))
}

/// The restrictions a slice can excuse, as permits Cedar evaluates: for a forbid
/// `when {S} unless {E1} unless {E2}`, the permits `when {S} when {E1}` (id `<rule>#0`) and
/// `when {S} when {E2}` (`<rule>#1`). A permit holds exactly when the restriction applies to
/// the situation and that exception excuses it: the requirement the situation met.
fn met_policies(slice: &PolicySet) -> Result<PolicySet, String> {
    let mut out = PolicySet::new();
    for forbid in slice.policies().filter(|p| p.effect() == Effect::Forbid) {
        let json = forbid.to_json().map_err(|e| e.to_string())?;
        let whens: Vec<serde_json::Value> = json["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["kind"] == "when")
            .cloned()
            .collect();
        for (n, body) in unless_clauses(&json).into_iter().enumerate() {
            let mut derived = json.clone();
            derived["effect"] = "permit".into();
            derived["annotations"] = serde_json::json!({});
            let mut conditions = whens.clone();
            conditions.push(serde_json::json!({ "kind": "when", "body": body }));
            derived["conditions"] = conditions.into();
            let id = PolicyId::new(format!("{}#{n}", forbid.id()));
            let policy = Policy::from_json(Some(id), derived).map_err(|e| e.to_string())?;
            out.add(policy).map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

/// The bodies of a policy's `unless` clauses (in Cedar's JSON form), in order.
fn unless_clauses(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    json["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["kind"] == "unless")
        .map(|c| &c["body"])
        .collect()
}

fn action_name(uid: &EntityUid) -> String {
    uid.id().unescaped().to_owned()
}

/// Collects the `context.…` paths an expression (in Cedar's JSON form) reads.
fn context_paths(expr: &serde_json::Value, out: &mut Vec<String>) {
    fn path(e: &serde_json::Value) -> Option<String> {
        if e.get("Var").and_then(|v| v.as_str()) == Some("context") {
            return Some(String::new());
        }
        let node = e.get(".").or_else(|| e.get("has"))?;
        let base = path(node.get("left")?)?;
        let attr = node.get("attr")?.as_str()?;
        Some(if base.is_empty() {
            attr.to_owned()
        } else {
            format!("{base}.{attr}")
        })
    }
    match expr {
        serde_json::Value::Object(map) => {
            if let Some(p) = path(expr).filter(|p| !p.is_empty()) {
                out.push(p);
            }
            map.values().for_each(|v| context_paths(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| context_paths(v, out)),
        _ => {}
    }
}
