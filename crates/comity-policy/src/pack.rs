//! One policy pack: `pack.toml`, its `*.cedar` rules and its `tests/*.yaml` cases, loaded,
//! checked against the schema, and sliced by act.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PolicyId, PolicySet, Schema, ValidationMode,
    Validator,
};
use comity_model::{Act, Catalogs, Date};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::amend::{Base, consolidate};
use crate::annotated::{AnnotatedRule, Annotations, located, read_annotated};
use crate::compiled::{CompiledSet, Unsupported};
use crate::error::PackError;
use crate::facts::FactSpec;
use crate::files::{PackFile, PackFiles, RuleFile};
use crate::manifest::{Manifest, check_manifest};
use crate::schema::{DUTY_SUFFIX, schema_text};
use crate::statute::{StatuteFile, read_statute, rule_file_of};

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
    /// Every slice compiled (see [`crate::compiled`]), or why the compiler left it to
    /// Cedar, in the order of `slices`, `met_slices` and `owed_slices`.
    compiled: CompiledSlices,
    /// Every rule, unsliced.
    policies: PolicySet,
    /// Where the pack stands in its [`crate::PackSet`] (set when the set is made): the key
    /// of what an engine remembers about it.
    pub(crate) position: usize,
}

/// A pack's slices compiled: for each of its slices, met slices and owed slices (in that
/// order, each in slice order), the compiled set or why the compiler left it to Cedar.
#[derive(Debug, Clone)]
struct CompiledSlices([Vec<Result<CompiledSet, Unsupported>>; 3]);

/// Which of a pack's slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SliceKind {
    /// The rules that can apply ([`Pack::slice`]).
    Rules = 0,
    /// The restrictions they can excuse ([`Pack::met_slice`]).
    Met = 1,
    /// The rules that owe a notice whatever the outcome ([`Pack::owed_slice`]).
    Owed = 2,
}

impl CompiledSlices {
    /// Compiles every slice of `sets` (rules, met, owed) for its action, ranking rules by
    /// `rules`' order as the engine reports them.
    fn compile(
        sets: [&Vec<PolicySet>; 3],
        fact_names: &[String],
        rules: &BTreeMap<String, Rule>,
    ) -> CompiledSlices {
        let order = |id: &str| rule_rank(rules, id);
        let actions = action_names();
        CompiledSlices(sets.map(|slices| {
            slices
                .iter()
                .zip(&actions)
                .map(|(set, action)| CompiledSet::compile(set, action, fact_names, order))
                .collect()
        }))
    }
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
        let law = consolidate(files, manifest, base.map(Pack::as_base)).map_err(err)?;
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
        let compiled = CompiledSlices::compile(
            [&slices, &met_slices, &owed_slices],
            &checked.fact_names,
            &read.rules,
        );
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
            compiled,
            policies: read.policies,
            position: 0,
        })
    }

    /// What an amendment of this version inherits.
    fn as_base(&self) -> Base<'_> {
        Base {
            manifest: &self.manifest,
            rules: &self.rule_files,
            cases: &self.case_files,
            statutes: &self.statute_texts,
            sha256: &self.sha256,
        }
    }

    /// The rules that can apply to `act` (or its duty), sliced ahead of time: what the
    /// engine evaluates for the act under this pack (the symbolic comparison of two laws
    /// reads the same slices).
    pub fn slice(&self, act: Act, duty: bool) -> &PolicySet {
        &self.slices[slice_index(act, duty)]
    }

    /// The compiled form of one of the pack's slices for `act` (or its duty), or why the
    /// compiler left it to Cedar.
    pub(crate) fn compiled(
        &self,
        kind: SliceKind,
        act: Act,
        duty: bool,
    ) -> Result<&CompiledSet, &Unsupported> {
        self.compiled.0[kind as usize][slice_index(act, duty)].as_ref()
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

    /// One of the pack's slices for `act` (or its duty; the notices owed are the act's).
    pub(crate) fn slice_of(&self, kind: SliceKind, act: Act, duty: bool) -> &PolicySet {
        match kind {
            SliceKind::Rules => self.slice(act, duty),
            SliceKind::Met => self.met_slice(act, duty),
            SliceKind::Owed => self.owed_slice(act),
        }
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

    /// The rules written in one of its rule files, in the order written.
    pub fn rules_in(&self, file: &str) -> Vec<&Rule> {
        let mut rules: Vec<&Rule> = self.rules.values().filter(|r| r.file == file).collect();
        rules.sort_by_key(|r| r.order);
        rules
    }

    /// The rule files that have no statute text beside them (`<file>.statute.toml`).
    pub fn without_statute(&self) -> Vec<&str> {
        self.rule_files
            .iter()
            .map(|r| r.file.name.as_str())
            .filter(|name| !self.statutes.iter().any(|s| s.rule_file() == *name))
            .collect()
    }

    /// The first day, local to the pack, it is no longer in force, if known.
    pub fn until_day(&self) -> Option<Date> {
        self.until
            .map(|u| Date(u.to_zoned_datetime(self.tz.clone()).date()))
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
            let rule_file = rule_file_of(&file.name);
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
    if limits.iter().any(|l| matches!(l, LimitSpec::OwedNotice(_)))
        && actions.iter().any(|a| a.ends_with(DUTY_SUFFIX))
    {
        return Err("@owes_notice belongs on a permit of acts, not of duties".into());
    }
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

/// Where the policy `id` (a rule, or a met-policy `<rule>#<n>`) ranks among `rules` as the
/// engine reports them: its rule's place in the pack's files (ties broken by id).
pub(crate) fn rule_rank(rules: &BTreeMap<String, Rule>, id: &str) -> usize {
    let rule = met_id(id).map_or(id, |(rule, _)| rule);
    rules.get(rule).map_or(usize::MAX, |r| r.order)
}

/// The permits of `set`, its forbids left out (what the engine asks when a law above sets
/// the forbids aside).
pub(crate) fn permits_of(set: &PolicySet) -> PolicySet {
    let permits = set
        .policies()
        .filter(|p| p.effect() == Effect::Permit)
        .cloned();
    PolicySet::from_policies(permits).expect("ids are unique")
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

/// The rule files `pack` writes again although the version before it has them word for
/// word: a copy, which a fix to one version would silently miss in the other.
pub fn copies<'a>(pack: &'a Pack, before: &Pack) -> Vec<&'a str> {
    let date = pack.manifest.effective_from;
    pack.rule_files
        .iter()
        .filter(|r| r.file.written_in == date)
        .filter(|r| {
            before
                .rule_files
                .iter()
                .any(|b| b.file.name == r.file.name && b.text == r.text)
        })
        .map(|r| r.file.name.as_str())
        .collect()
}
