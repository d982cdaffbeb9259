//! A pack's test cases (`tests/*.yaml`): requests taken from the statute's text, and the
//! outcome each act must get.
//!
//! ```yaml
//! base: { …a request… }            # shared by the file's cases
//! cases:
//!   - name: administrative warrant only
//!     rule: nyc-doc-detainer-needs-judicial-warrant
//!     kind: fails                  # meets | fails | boundary
//!     with: { warrant: { kind: administrative, form: I-200 } }   # JSON merge patch on base
//!     expect: { hold: forbidden, notify-release: forbidden }
//!     warnings: [requires it]      # optional: words some warning must contain
//! ```
//!
//! A case *meets* its rule when the situation satisfies what the rule requires (a forbid
//! does not fire, a permit does) and *fails* it otherwise; the runner checks that the rule
//! is (or is not) among the reasons accordingly. Every rule needs at least one case of each
//! kind.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cedar_policy::Effect;
use comity_model::{Act, Decision, Instant, Outcome, Request};
use serde::Deserialize;

use crate::engine::Engine;
use crate::pack::{Pack, Rule};
use crate::shift::move_into;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    base: serde_json::Value,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rule: String,
    kind: CaseKind,
    #[serde(default)]
    with: Option<serde_json::Value>,
    expect: BTreeMap<String, Expect>,
    /// Words each of which some warning of the decision must contain.
    #[serde(default)]
    warnings: Vec<String>,
}

comity_model::words! {
    /// What a case shows of its rule.
    enum CaseKind: "case kind" {
        /// The situation satisfies what the rule requires.
        Meets = "meets",
        /// It does not.
        Fails = "fails",
        /// It lies at the edge of what the rule requires.
        Boundary = "boundary",
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Expect {
    Outcome(Outcome),
    Detailed(Detailed),
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Detailed {
    outcome: Outcome,
    #[serde(default)]
    hold_until: Option<Instant>,
    #[serde(default)]
    notice: Option<Vec<String>>,
    #[serde(default)]
    approval: Option<String>,
}

/// A case that did not come out as its file says.
#[derive(Debug, Clone)]
pub struct CaseFailure {
    /// The case file.
    pub file: PathBuf,
    /// The case's name (empty for a failure of the file or of coverage).
    pub case: String,
    /// What differed.
    pub message: String,
}

/// The result of running one pack's cases.
#[derive(Debug, Clone)]
pub struct PackReport {
    /// The pack.
    pub pack: String,
    /// Cases run.
    pub cases: usize,
    /// Cases that failed, and rules without a case of each kind.
    pub failures: Vec<CaseFailure>,
}

/// A case of a pack as a reader sees it beside its rule.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    /// Its name.
    pub name: String,
    /// The rule it shows.
    pub rule: String,
    /// `meets`, `fails` or `boundary`.
    pub kind: &'static str,
    /// Each act it asks with the outcome it expects.
    pub expect: Vec<(String, Outcome)>,
    /// The case file, by its name in a version's directory.
    pub file: String,
    /// The version whose directory holds the case file.
    pub written_in: comity_model::Date,
}

/// Every case of `pack`, its own files' and inherited ones', in file order; a file that
/// cannot be read is left out (`run_cases` reports it).
pub fn case_summaries(pack: &Pack) -> Vec<CaseSummary> {
    let mut out = Vec::new();
    for file in &pack.case_files {
        let Ok(text) = std::fs::read_to_string(&file.path) else {
            continue;
        };
        let Ok(cases) = serde_yaml_ng::from_str::<CaseFile>(&text) else {
            continue;
        };
        out.extend(cases.cases.into_iter().map(|c| {
            CaseSummary {
                expect: c
                    .expect
                    .iter()
                    .map(|(act, e)| (act.clone(), e.detailed().outcome))
                    .collect(),
                name: c.name,
                rule: c.rule,
                kind: c.kind.as_str(),
                file: file.name.clone(),
                written_in: file.written_in,
            }
        }));
    }
    out
}

/// Runs every case of `pack` through `engine` (which must hold the pack), and checks that
/// every rule of the pack has a case that meets it, one that fails it and one at its
/// boundary.
pub fn run_cases(engine: &Engine, pack: &Pack) -> PackReport {
    let mut report = PackReport {
        pack: pack.id.clone(),
        cases: 0,
        failures: Vec::new(),
    };
    let mut coverage: Coverage = pack
        .rules
        .keys()
        .map(|k| (k.as_str(), Vec::new()))
        .collect();
    for file in &pack.case_files {
        let text = std::fs::read_to_string(&file.path).map_err(|e| e.to_string());
        let inherited = file.written_in != pack.manifest.effective_from;
        run_file(
            engine,
            pack,
            (&file.path, inherited),
            text,
            &mut report,
            &mut coverage,
        );
    }
    for (rule, kinds) in coverage {
        for needed in [CaseKind::Meets, CaseKind::Fails, CaseKind::Boundary] {
            if !kinds.contains(&needed) {
                report.failures.push(CaseFailure {
                    file: pack.dir.join("tests"),
                    case: String::new(),
                    message: format!("rule {rule} has no `{}` case", needed.as_str()),
                });
            }
        }
    }
    report
}

/// The kinds of case each rule of a pack has, by rule id.
type Coverage<'a> = BTreeMap<&'a str, Vec<CaseKind>>;

/// Runs the cases of one file (its text, or why it could not be read) into `report`,
/// counting each case toward its rule's coverage. A file `inherited` from the version an
/// amendment amends is first moved into the amendment's period (see [`crate::shift`]).
fn run_file(
    engine: &Engine,
    pack: &Pack,
    (file, inherited): (&Path, bool),
    text: Result<String, String>,
    report: &mut PackReport,
    coverage: &mut Coverage,
) {
    let mut moved = None;
    let cases = text.and_then(|t| {
        let mut doc: serde_json::Value = serde_yaml_ng::from_str(&t).map_err(|e| e.to_string())?;
        if inherited {
            moved = Some(move_into(&mut doc, pack)?);
        }
        serde_path_to_error::deserialize::<_, CaseFile>(doc).map_err(|e| e.to_string())
    });
    let fail = |case: &str, message: String| CaseFailure {
        file: file.to_owned(),
        case: case.to_owned(),
        message: match moved {
            Some(days) => format!("(inherited, moved {days} days later) {message}"),
            None => message,
        },
    };
    let cases = match cases {
        Ok(c) => c,
        Err(e) => {
            report.failures.push(fail("", e));
            return;
        }
    };
    for case in &cases.cases {
        report.cases += 1;
        if let Some(kinds) = coverage.get_mut(case.rule.as_str()) {
            kinds.push(case.kind);
        }
        if let Err(message) = run_case(engine, pack, &cases.base, case) {
            report.failures.push(fail(&case.name, message));
        }
    }
}

/// Runs the cases of one case file's text against `pack`, without checking coverage (for
/// the fuzz target of case files).
#[cfg(feature = "fuzzing")]
pub(crate) fn run_text(engine: &Engine, pack: &Pack, text: &str) -> PackReport {
    let mut report = PackReport {
        pack: pack.id.clone(),
        cases: 0,
        failures: Vec::new(),
    };
    let file = pack.dir.join("tests/fuzz.yaml");
    run_file(
        engine,
        pack,
        (&file, false),
        Ok(text.to_owned()),
        &mut report,
        &mut Coverage::new(),
    );
    report
}

fn run_case(
    engine: &Engine,
    pack: &Pack,
    base: &serde_json::Value,
    case: &Case,
) -> Result<(), String> {
    let rule = pack
        .rules
        .get(&case.rule)
        .ok_or_else(|| format!("rule `{}` is not a rule of this pack", case.rule))?;
    let request = case_request(pack, base, case)?;
    let decision = engine
        .decide(&request)
        .map_err(|e| format!("not decided: {e}"))?;
    if case.expect.is_empty() {
        return Err("expect names no act".into());
    }
    for (act, expect) in &case.expect {
        let act: Act = act.parse().map_err(|e| format!("expect: {e}"))?;
        check_act(&decision, act, &expect.detailed())?;
    }
    for needle in &case.warnings {
        if !decision
            .warnings
            .iter()
            .any(|w| w.contains(needle.as_str()))
        {
            return Err(format!(
                "no warning mentions `{needle}` (warnings: {:?})",
                decision.warnings
            ));
        }
    }
    check_reasons(&decision, pack, rule, case.kind)
}

/// The request of a case: its file's base with the case's `with` merged in, received
/// while the pack is in force.
fn case_request(pack: &Pack, base: &serde_json::Value, case: &Case) -> Result<Request, String> {
    let mut doc = base.clone();
    if let Some(patch) = &case.with {
        json_patch::merge(&mut doc, patch);
    }
    let request =
        Request::from_value(doc).map_err(|e| format!("the case's request is bad: {e}"))?;
    if !pack.in_force(request.received_at.timestamp()) {
        return Err(format!(
            "received_at {} is outside the pack's period",
            request.received_at
        ));
    }
    Ok(request)
}

impl Expect {
    /// What is expected, in full.
    fn detailed(&self) -> Cow<'_, Detailed> {
        match self {
            Expect::Outcome(o) => Cow::Owned(Detailed {
                outcome: *o,
                hold_until: None,
                notice: None,
                approval: None,
            }),
            Expect::Detailed(d) => Cow::Borrowed(d),
        }
    }
}

/// `act` is decided as `expected` says: its outcome, and the hold deadline, notices and
/// approval where the case names them.
fn check_act(decision: &Decision, act: Act, expected: &Detailed) -> Result<(), String> {
    let got = decision
        .acts
        .iter()
        .find(|a| a.act == act)
        .ok_or_else(|| format!("expect: `{act}` is not asked by the request"))?;
    if got.outcome != expected.outcome {
        return Err(format!(
            "{act}: expected {}, got {}{}",
            expected.outcome,
            got.outcome,
            because(decision, act)
        ));
    }
    if let Some(until) = expected.hold_until {
        let earliest = got.limits.iter().filter_map(|l| l.hold_until).min();
        if earliest != Some(until) {
            return Err(format!(
                "{act}: expected hold_until {until}, got {earliest:?}"
            ));
        }
    }
    if let Some(notice) = &expected.notice {
        let expected: BTreeSet<&String> = notice.iter().collect();
        let got_notice: BTreeSet<&String> = got.limits.iter().flat_map(|l| &l.notice).collect();
        if expected != got_notice {
            return Err(format!(
                "{act}: expected notice to {expected:?}, got {got_notice:?}"
            ));
        }
    }
    if let Some(approval) = &expected.approval
        && !got
            .limits
            .iter()
            .any(|l| l.approval.as_ref() == Some(approval))
    {
        return Err(format!("{act}: expected approval by {approval}"));
    }
    Ok(())
}

/// The case's rule is among the decision's reasons when the case meets a permit or fails a
/// forbid, and not among them when it fails a permit or meets a forbid; a boundary case may
/// go either way.
fn check_reasons(
    decision: &Decision,
    pack: &Pack,
    rule: &Rule,
    kind: CaseKind,
) -> Result<(), String> {
    // A rule that owes a notice whatever the outcome shows in the limits, not the reasons.
    let fires = decision.acts.iter().any(|a| {
        a.reasons
            .iter()
            .any(|r| r.rule == rule.id && r.pack == pack.id)
            || a.limits
                .iter()
                .any(|l| l.rule == rule.id && l.pack == pack.id)
    });
    let should_fire = match (kind, rule.effect) {
        (CaseKind::Boundary, _) => return Ok(()),
        (CaseKind::Meets, Effect::Permit) | (CaseKind::Fails, Effect::Forbid) => true,
        (CaseKind::Meets, Effect::Forbid) | (CaseKind::Fails, Effect::Permit) => false,
    };
    match (should_fire, fires) {
        (true, false) => Err(format!(
            "rule {} should be among the reasons, and is not",
            rule.id
        )),
        (false, true) => Err(format!(
            "rule {} should not be among the reasons, and is",
            rule.id
        )),
        _ => Ok(()),
    }
}

fn because(decision: &Decision, act: Act) -> String {
    let rules: Vec<&str> = decision
        .acts
        .iter()
        .filter(|a| a.act == act)
        .flat_map(|a| a.reasons.iter().map(|r| r.rule.as_str()))
        .collect();
    format!(" (reasons: {})", rules.join(", "))
}
