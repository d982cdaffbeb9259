//! Pre-emption: a law that reserves the restriction of an act to itself (Tex. Gov't Code
//! § 752.053: no local policy may limit cooperation) sets aside the forbids of the law of the
//! divisions within it, and what they attach but it lets them (`lower_may`). Without it,
//! any forbid of any law in force wins.

use std::sync::Arc;

use comity_model::{Act, Reason};

use crate::manifest::{LowerMay, Preemption};
use crate::pack::{LimitSpec, Pack};

/// The pre-emptions in force for one act, over the packs in force (indexed as the engine's
/// situation is).
pub(crate) struct Preemptions<'s> {
    /// Each pre-empting pack's index and what it says of the act.
    by: Vec<(usize, &'s Preemption)>,
    /// How deep each pack's jurisdiction lies (its number of segments).
    depth: Vec<usize>,
}

/// For each of `packs` (the packs in force), whether a less local law pre-empts `act` over
/// it, setting its forbids of the act aside: as the engine decides, for readers of the law
/// such as the symbolic comparison of two laws.
pub fn forbids_set_aside(act: Act, packs: &[&Pack]) -> Vec<bool> {
    let pre = Preemptions::of(act, packs);
    (0..packs.len()).map(|i| pre.over(i).is_some()).collect()
}

/// A hit set aside: its pack's index, the hit, and the pre-empting pack's index and word.
pub(crate) type SetAside<'s, T> = (usize, T, usize, &'s Preemption);

impl<'s> Preemptions<'s> {
    /// What the packs in force pre-empt of `act`.
    pub(crate) fn of(act: Act, packs: &[&'s Pack]) -> Self {
        let by = packs
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                p.manifest
                    .preempts
                    .iter()
                    .filter(move |pre| pre.acts.contains(&act))
                    .map(move |pre| (i, pre))
            })
            .collect();
        let depth = packs
            .iter()
            .map(|p| p.manifest.jurisdiction.segments().count())
            .collect();
        Preemptions { by, depth }
    }

    /// The pre-emption over pack `i`, if any: the least local pack above it that pre-empts
    /// the act.
    pub(crate) fn over(&self, i: usize) -> Option<(usize, &'s Preemption)> {
        self.by
            .iter()
            .filter(|(j, _)| self.depth[*j] < self.depth[i])
            .min_by_key(|(j, _)| self.depth[*j])
            .copied()
    }

    /// Splits `hits` (each with its pack's index) into those that stand and those set aside.
    pub(crate) fn split<T>(
        &self,
        hits: Vec<(usize, T)>,
    ) -> (Vec<(usize, T)>, Vec<SetAside<'s, T>>) {
        let mut stand = Vec::new();
        let mut aside = Vec::new();
        for (i, hit) in hits {
            match self.over(i) {
                Some((j, pre)) => aside.push((i, hit, j, pre)),
                None => stand.push((i, hit)),
            }
        }
        (stand, aside)
    }

    /// Whether a limit pack `i` attaches stands.
    pub(crate) fn allows(&self, i: usize, spec: &LimitSpec) -> bool {
        match self.over(i) {
            None => true,
            Some((_, pre)) => {
                pre.lower_may == LowerMay::AddNotices
                    && matches!(spec, LimitSpec::Notice(_) | LimitSpec::OwedNotice(_))
            }
        }
    }
}

/// The reason a restriction of the law below was set aside: the pre-empting statute, naming
/// the rule it sets aside.
pub(crate) fn set_aside_reason(
    act: Act,
    rule: &Reason,
    by: &Pack,
    pre: &Preemption,
    warnings: &mut Vec<String>,
) -> Arc<Reason> {
    warnings.push(format!(
        "{act}: {} of {} is set aside: {} pre-empts it",
        rule.rule, rule.pack, pre.citation
    ));
    Arc::new(Reason {
        rule: "pre-empted".to_owned(),
        pack: by.id.clone(),
        citation: pre.citation.clone(),
        summary: format!(
            "{} This sets aside {} ({}) of {}.",
            pre.summary, rule.rule, rule.citation, rule.pack
        ),
        facts: rule.facts.clone(),
        caution: None,
    })
}
