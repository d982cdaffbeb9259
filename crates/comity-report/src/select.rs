//! Whether a case meets a selection, and which entries show it.

use crate::case::Case;
use crate::definition::Selection;

impl Selection {
    /// The entries that show `case` meets the selection (the events and responses its
    /// conditions found, beside the decision entry itself), or `None` when it does not.
    pub fn matches(&self, case: &Case) -> Option<Vec<u64>> {
        if !self.request_matches(case) || !self.decision_matches(case) {
            return None;
        }
        let mut evidence = self.activity_evidence(case)?;
        if !self.any_of.is_empty() {
            evidence.extend(self.any_of.iter().find_map(|s| s.matches(case))?);
        }
        evidence.sort_unstable();
        evidence.dedup();
        Some(evidence)
    }

    /// Every fact name the selection reads, its `any_of` too.
    pub(crate) fn fact_names(&self, out: &mut std::collections::BTreeSet<String>) {
        out.extend(self.facts.keys().cloned());
        for s in &self.any_of {
            s.fact_names(out);
        }
    }

    /// The conditions on what the request says.
    fn request_matches(&self, case: &Case) -> bool {
        let r = &case.request;
        let warrant = r.warrant.as_ref();
        within(&self.from_kind, Some(&r.from.kind))
            && within(&self.form, r.form.as_ref())
            && within(&self.purpose, r.purpose.as_ref())
            && (self.basis.is_empty() || r.basis.iter().any(|b| self.basis.contains(b)))
            && within(&self.warrant_kind, warrant.map(|w| &w.kind))
            && within(&self.warrant_form, warrant.and_then(|w| w.form.as_ref()))
            && (self.asks.is_empty() || r.acts.iter().any(|a| self.asks.contains(a)))
    }

    /// The conditions on what the decision says: outcomes, the records it lets be shared,
    /// and recorded facts.
    fn decision_matches(&self, case: &Case) -> bool {
        (self.records.is_empty()
            || case
                .records_carried
                .iter()
                .any(|f| self.records.contains(f)))
            && self
                .outcome
                .iter()
                .all(|(act, outcomes)| case.outcome(*act).is_some_and(|o| outcomes.contains(&o)))
            && self
                .facts
                .iter()
                .all(|(name, value)| case.facts.get(name) == Some(value))
    }

    /// The conditions on what was done after, with the entries that meet them; `None` when
    /// one fails.
    fn activity_evidence(&self, case: &Case) -> Option<Vec<u64>> {
        let events = &case.activity.events;
        let mut evidence = Vec::new();
        for kind in &self.events {
            evidence.push(events.iter().find(|(_, k, _)| k == kind)?.0);
        }
        if events.iter().any(|(_, k, _)| self.no_events.contains(k)) {
            return None;
        }
        if !self.responses.is_empty() {
            let sent: Vec<u64> = case
                .responses()
                .filter(|(_, act)| self.responses.contains(act))
                .map(|(index, _)| index)
                .collect();
            if sent.is_empty() {
                return None;
            }
            evidence.extend(sent);
        }
        if case
            .responses()
            .any(|(_, act)| self.no_responses.contains(&act))
        {
            return None;
        }
        if let Some(wanted) = self.violation {
            let flagged: Vec<u64> = events
                .iter()
                .filter(|(_, _, v)| *v)
                .map(|(i, _, _)| *i)
                .collect();
            if flagged.is_empty() == wanted {
                return None;
            }
            evidence.extend(flagged);
        }
        Some(evidence)
    }
}

/// An empty list allows anything; otherwise the value must be given and in the list.
fn within<T: PartialEq>(list: &[T], value: Option<&T>) -> bool {
    list.is_empty() || value.is_some_and(|v| list.contains(v))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use comity_model::{Act, EventKind, Outcome, RecordField, Request};

    use super::*;
    use crate::case::{ActOutcome, Activity};

    /// The repository's example detainer, decided as forbidden, with `events` (index, kind,
    /// flagged) and the fact `facts.nyc_vsc_5y` recorded as `vsc` when given.
    fn case(events: &[(u64, EventKind, bool)], vsc: Option<bool>) -> Case {
        let text = include_str!("../../../examples/nyc-doc-detainer.json");
        let request = Request::from_json(text).unwrap();
        let mut facts = BTreeMap::new();
        if let Some(v) = vsc {
            facts.insert("facts.nyc_vsc_5y".to_owned(), v.into());
        }
        Case {
            index: 7,
            request,
            acts: vec![ActOutcome {
                act: Act::Hold,
                outcome: Outcome::Forbidden,
                rule: ("r".into(), "c".into()),
            }],
            facts,
            records_carried: Vec::new(),
            activity: Activity {
                events: events.to_vec(),
                responses: Vec::new(),
            },
        }
    }

    fn select(toml_text: &str) -> Selection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn selections_meet_fail_and_show_their_evidence() {
        let mut held = case(
            &[
                (9, EventKind::Held, true),
                (10, EventKind::HoldExpired, false),
            ],
            Some(true),
        );
        held.records_carried = vec![RecordField::CustodyStatus, RecordField::Identity];
        let quiet = case(&[], None);
        let cases = [
            // (selection, on `held`, on `quiet`)
            ("asks = [\"hold\"]", Some(vec![]), Some(vec![])),
            ("asks = [\"transfer\"]", None, None),
            (
                "outcome = { hold = [\"forbidden\"] }",
                Some(vec![]),
                Some(vec![]),
            ),
            ("outcome = { transfer = [\"forbidden\"] }", None, None),
            (
                "events = [\"held\", \"hold-expired\"]",
                Some(vec![9, 10]),
                None,
            ),
            ("no_events = [\"held\"]", None, Some(vec![])),
            ("violation = true", Some(vec![9]), None),
            ("violation = false", None, Some(vec![])),
            // A fact the decision did not record meets neither value.
            (
                "facts = { \"facts.nyc_vsc_5y\" = true }",
                Some(vec![]),
                None,
            ),
            ("facts = { \"facts.nyc_vsc_5y\" = false }", None, None),
            (
                "any_of = [{ events = [\"transferred\"] }, { events = [\"hold-expired\"] }]",
                Some(vec![10]),
                None,
            ),
            ("form = [\"I-247D\"]", None, None),
            // Records shared with `held` carry custody status and identity; `quiet` shares none.
            ("records = [\"custody-status\"]", Some(vec![]), None),
            ("records = [\"address\", \"identity\"]", Some(vec![]), None),
            ("records = [\"court-date\"]", None, None),
            (
                "basis = [\"final-order-of-removal\"]",
                Some(vec![]),
                Some(vec![]),
            ),
        ];
        for (text, on_held, on_quiet) in cases {
            let s = select(text);
            assert_eq!(s.matches(&held), on_held, "{text} on held");
            assert_eq!(s.matches(&quiet), on_quiet, "{text} on quiet");
        }
    }
}
