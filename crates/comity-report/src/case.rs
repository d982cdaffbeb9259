//! A case: one decision entry of the ledger, the request it decides (checked against the
//! SHA-256 the entry records), and what was done after it (event entries, and delivery
//! results that carried a disclosure to the requester). A report counts cases.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use comity_model::{
    Act, EventKind, Instant, Jurisdiction, Outcome, RecordField, Request, allowed_fields,
};
use comity_store::{DecisionRow, EntryKind, EntryRow, sha256_hex};
use serde::Deserialize;

/// A decided request, as the ledger records it.
#[derive(Debug, Clone)]
pub struct Case {
    /// The decision entry's ledger index.
    pub index: u64,
    /// The request, as received.
    pub request: Request,
    /// Each act asked, its outcome and the rule that decided it (the first reason).
    pub acts: Vec<ActOutcome>,
    /// The facts the decision's reasons recorded that a report reads (the first value
    /// recorded for each name).
    pub facts: BTreeMap<String, serde_json::Value>,
    /// The record fields a `share-records` disclosure carries: those the request asks that
    /// the decision's `discloses` limits allow (none when records were not shared lawfully).
    pub records_carried: Vec<RecordField>,
    /// What was done after.
    pub activity: Activity,
}

/// One act's outcome and the rule that decided it.
#[derive(Debug, Clone)]
pub struct ActOutcome {
    /// The act.
    pub act: Act,
    /// Its outcome.
    pub outcome: Outcome,
    /// The deciding rule, and its citation.
    pub rule: (String, String),
}

/// What was done on a request after its decision, each with its ledger index.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// Events: index, kind, whether it was flagged as a violation.
    pub events: Vec<(u64, EventKind, bool)>,
    /// Responses sent: index, the act carried, and to whom (`None` for an event
    /// `response-sent`, which is a response to the requester by definition).
    pub responses: Vec<(u64, Act, Option<String>)>,
}

/// A ledger entry that does not say what a report needs it to say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {index}: {what}")]
pub struct BadEntry {
    /// The entry.
    pub index: u64,
    /// What is wrong.
    pub what: String,
}

// Views of a decision entry that borrow what they can and leave what a report does not read
// unparsed: a report reads a million of them.
#[derive(Deserialize)]
struct DecisionEntry<'e> {
    #[serde(borrow)]
    decision: DecisionView<'e>,
    #[serde(borrow)]
    request: Cow<'e, str>,
    #[serde(borrow)]
    request_sha256: Cow<'e, str>,
}

#[derive(Deserialize)]
struct DecisionView<'e> {
    #[serde(borrow)]
    acts: Vec<ActView<'e>>,
}

#[derive(Deserialize)]
struct ActView<'e> {
    act: Act,
    outcome: Outcome,
    #[serde(borrow)]
    reasons: Vec<ReasonView<'e>>,
    #[serde(default, borrow)]
    met: Vec<ReasonView<'e>>,
    #[serde(default)]
    limits: Vec<LimitView>,
}

#[derive(Deserialize)]
struct LimitView {
    #[serde(default)]
    discloses: Vec<RecordField>,
}

#[derive(Deserialize)]
struct ReasonView<'e> {
    #[serde(borrow)]
    rule: Cow<'e, str>,
    #[serde(borrow)]
    citation: Cow<'e, str>,
    #[serde(default, borrow)]
    facts: BTreeMap<Cow<'e, str>, &'e serde_json::value::RawValue>,
}

/// What decides whether a report counts a request: the day it was received (where it was
/// received), its jurisdiction and the agency asked.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'r> {
    /// The day received.
    pub day: jiff::civil::Date,
    /// Where.
    pub jurisdiction: &'r Jurisdiction,
    /// The agency asked (`to.agency`).
    pub agency: &'r str,
}

// The scope of a request as stored, read without the rest of it.
#[derive(Deserialize)]
struct ScopeView<'r> {
    received_at: Instant,
    jurisdiction: Jurisdiction,
    #[serde(borrow)]
    to: AgencyView<'r>,
}

#[derive(Deserialize)]
struct AgencyView<'r> {
    #[serde(borrow)]
    agency: Cow<'r, str>,
}

#[derive(Deserialize)]
struct EventEntry {
    request: String,
    event: EventKind,
    #[serde(default)]
    act: Option<Act>,
    violations: Vec<String>,
}

#[derive(Deserialize)]
struct ResultEntry {
    delivery: String,
    outcome: String,
}

impl Case {
    /// The case of a decision row if its request is in scope, with the activity recorded on
    /// the request, keeping the recorded facts named in `wanted`.
    pub fn of(
        row: &DecisionRow,
        activity: &HashMap<String, Activity>,
        wanted: &BTreeSet<String>,
        in_scope: impl Fn(&Scope) -> bool,
    ) -> Result<Option<Case>, BadEntry> {
        if out_of_scope(&row.entry, &row.request, &in_scope) {
            return Ok(None);
        }
        let case = Case::parse(row, activity, wanted)?;
        Ok(in_scope(&case.scope()).then_some(case))
    }

    /// The case of a decision row, its entry and request parsed and checked.
    fn parse(
        row: &DecisionRow,
        activity: &HashMap<String, Activity>,
        wanted: &BTreeSet<String>,
    ) -> Result<Case, BadEntry> {
        let bad = |what: String| BadEntry {
            index: row.index,
            what,
        };
        let entry: DecisionEntry = serde_json::from_str(&row.entry)
            .map_err(|e| bad(format!("not a decision entry: {e}")))?;
        if sha256_hex(row.request.as_bytes()) != entry.request_sha256 {
            return Err(bad(format!(
                "the request stored for `{}` is not the one the entry records (its SHA-256 differs)",
                entry.request
            )));
        }
        let request: Request = serde_json::from_str(&row.request)
            .map_err(|e| bad(format!("its request does not parse: {e}")))?;
        if request.id != *entry.request {
            return Err(bad(format!(
                "the entry decides `{}`, its request is `{}`",
                entry.request, request.id
            )));
        }
        let mut facts = BTreeMap::new();
        let mut acts = Vec::with_capacity(entry.decision.acts.len());
        let mut records_carried = Vec::new();
        for act in entry.decision.acts {
            if act.act == Act::ShareRecords && act.outcome != Outcome::Forbidden {
                let lists = act.limits.iter().map(|l| l.discloses.as_slice());
                let allowed = allowed_fields(act.act, lists).unwrap_or_default();
                records_carried = request.records_within(&allowed);
            }
            for reason in act.reasons.iter().chain(&act.met) {
                for (name, value) in &reason.facts {
                    if wanted.contains(name.as_ref()) && !facts.contains_key(name.as_ref()) {
                        let value = serde_json::from_str(value.get())
                            .map_err(|e| bad(format!("fact `{name}`: {e}")))?;
                        facts.insert(name.to_string(), value);
                    }
                }
            }
            let first = act
                .reasons
                .into_iter()
                .next()
                .ok_or_else(|| bad(format!("act `{}` has no reason", act.act)))?;
            acts.push(ActOutcome {
                act: act.act,
                outcome: act.outcome,
                rule: (first.rule.into_owned(), first.citation.into_owned()),
            });
        }
        Ok(Case {
            index: row.index,
            acts,
            facts,
            records_carried,
            activity: activity.get(&request.id).cloned().unwrap_or_default(),
            request,
        })
    }

    /// The day the request was received, where it was received.
    pub fn date(&self) -> jiff::civil::Date {
        self.request.received_at.date()
    }

    /// Where and when the request was received, and the agency asked.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            day: self.date(),
            jurisdiction: &self.request.jurisdiction,
            agency: &self.request.to.agency,
        }
    }

    /// The outcome of `act`, if it was asked.
    pub fn outcome(&self, act: Act) -> Option<Outcome> {
        self.acts.iter().find(|a| a.act == act).map(|a| a.outcome)
    }

    /// The responses sent to the requester: each ledger index and the act it carried.
    pub fn responses(&self) -> impl Iterator<Item = (u64, Act)> + '_ {
        let requester = &self.request.recipient().agency;
        self.activity
            .responses
            .iter()
            .filter(move |(_, _, to)| to.as_ref().is_none_or(|to| to == requester))
            .map(|&(index, act, _)| (index, act))
    }
}

/// Whether a row's request is known to be out of scope without parsing its entry: a report
/// reads a million entries of several kilobytes each and counts a few of them. The request is
/// trusted only when it hashes to the SHA-256 its entry records, read from the entry's end:
/// in canonical JSON (keys sorted, no space) `request_sha256` is a decision entry's last
/// member, so a well-formed entry ends `,"request_sha256":"<64 hex digits>"}`. Any other
/// ending, or another hash, takes the full parse, which names what is wrong. `entry_end` is
/// the entry, or its end (at least its last [`comity_store::ENTRY_TAIL`] characters).
pub(crate) fn out_of_scope(
    entry_end: &str,
    request: &str,
    in_scope: impl Fn(&Scope) -> bool,
) -> bool {
    let Some(recorded) = recorded_sha256(entry_end) else {
        return false;
    };
    if sha256_hex(request.as_bytes()) != recorded {
        return false;
    }
    serde_json::from_str::<ScopeView>(request).is_ok_and(|v| {
        !in_scope(&Scope {
            day: v.received_at.date(),
            jurisdiction: &v.jurisdiction,
            agency: &v.to.agency,
        })
    })
}

/// The request's SHA-256 a canonical decision entry ends with (see [`out_of_scope`]).
fn recorded_sha256(entry: &str) -> Option<&str> {
    let body = entry.strip_suffix("\"}")?;
    let (head, sha) = body.split_at_checked(body.len().checked_sub(64)?)?;
    (head.ends_with(",\"request_sha256\":\"") && sha.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(sha)
}

/// The activity on each request (by id), from its event and delivery-result entries.
pub fn activity(entries: &[EntryRow]) -> Result<HashMap<String, Activity>, BadEntry> {
    let mut by_request: HashMap<String, Activity> = HashMap::new();
    for row in entries {
        let bad = |what: String| BadEntry {
            index: row.index,
            what,
        };
        match row.kind {
            EntryKind::Event => {
                let e: EventEntry = serde_json::from_str(&row.entry)
                    .map_err(|e| bad(format!("not an event entry: {e}")))?;
                let activity = by_request.entry(e.request).or_default();
                activity
                    .events
                    .push((row.index, e.event, !e.violations.is_empty()));
                if let (EventKind::ResponseSent, Some(act)) = (e.event, e.act) {
                    activity.responses.push((row.index, act, None));
                }
            }
            EntryKind::DispatchResult => {
                let r: ResultEntry = serde_json::from_str(&row.entry)
                    .map_err(|e| bad(format!("not a delivery result entry: {e}")))?;
                if r.outcome != "delivered" {
                    continue;
                }
                let (request, act, recipient) = delivery_parts(&r.delivery)
                    .ok_or_else(|| bad(format!("delivery id `{}` does not parse", r.delivery)))?;
                by_request.entry(request).or_default().responses.push((
                    row.index,
                    act,
                    Some(recipient),
                ));
            }
            _ => {}
        }
    }
    Ok(by_request)
}

/// The request, act and recipient of a delivery id (`comity_store::delivery_id`'s inverse).
fn delivery_parts(id: &str) -> Option<(String, Act, String)> {
    let unescape = |part: &str| part.replace("%2F", "/").replace("%25", "%");
    let mut parts = id.split('/');
    let (request, act, recipient) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((unescape(request), act.parse().ok()?, unescape(recipient)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_read_back() {
        for (request, recipient) in [("r-1", "DHS-ICE-ERO"), ("a/b%2F", "x/y")] {
            let id = comity_store::delivery_id(request, "notify-release", recipient);
            assert_eq!(
                delivery_parts(&id),
                Some((request.to_owned(), Act::NotifyRelease, recipient.to_owned()))
            );
        }
        assert_eq!(delivery_parts("r/notify-release"), None);
        assert_eq!(delivery_parts("r/fly/x"), None);
    }

    #[test]
    fn a_request_is_passed_over_only_when_it_hashes_to_the_end_of_its_entry() {
        let request = include_str!("../../../examples/nyc-doc-detainer.json");
        let sha = sha256_hex(request.as_bytes());
        let entry = |tail: &str| format!("{{\"decision\":{{}},\"kind\":\"decision\",{tail}}}");
        let canonical = entry(&format!("\"request\":\"r\",\"request_sha256\":\"{sha}\""));
        assert_eq!(recorded_sha256(&canonical), Some(sha.as_str()));
        // Another last member, a digest cut short or escaped, a space: no shortcut.
        for tail in [
            format!("\"request_sha256\":\"{sha}\",\"z\":1"),
            format!("\"request_sha256\":\"{}\"", &sha[1..]),
            format!("\"x\":\"\\\"request_sha256\\\":\\\"{sha}\\\"\""),
            format!("\"request_sha256\": \"{sha}\""),
        ] {
            assert_eq!(recorded_sha256(&entry(&tail)), None, "{tail}");
        }
        let nowhere = |_: &Scope| false;
        assert!(out_of_scope(&canonical, request, nowhere));
        assert!(!out_of_scope(&canonical, request, |_: &Scope| true));
        // The entry's end alone (as PostgreSQL sends it) is judged as the whole entry.
        let end = &canonical[canonical.len() - comity_store::ENTRY_TAIL..];
        assert!(out_of_scope(end, request, nowhere));
        // A request rewritten (here, moved to another agency) no longer hashes to its entry:
        // it is parsed in full, which refuses it.
        let moved = request.replace("NYC-DOC", "NYC-NYPD");
        assert!(!out_of_scope(&canonical, &moved, nowhere));
    }
}
