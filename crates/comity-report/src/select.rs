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
            && (self.basis.is_empty() || r.basis.iter().any(|b| self.basis.contains(b)))
            && within(&self.warrant_kind, warrant.map(|w| &w.kind))
            && within(&self.warrant_form, warrant.and_then(|w| w.form.as_ref()))
            && (self.asks.is_empty() || r.acts.iter().any(|a| self.asks.contains(a)))
    }

    /// The conditions on what the decision says: outcomes and recorded facts.
    fn decision_matches(&self, case: &Case) -> bool {
        self.outcome
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
