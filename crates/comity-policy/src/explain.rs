//! A decision written for a person: each act, its outcome, the rules with their citations,
//! the facts that mattered, the limits, and the packs whose law decided.

use std::fmt::Write;

use comity_model::{ActDecision, Confidence, Decision, Limit, Outcome, Reason};

use crate::packset::PackSet;

/// The decision as text for a desk officer, counsel or an auditor.
pub fn explain(decision: &Decision, packs: &PackSet) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "Request {}", decision.request);
    let _ = writeln!(w, "Decided by the law in force at {}", decision.at);
    law_in_force(w, decision, packs);
    for act in &decision.acts {
        act_decision(w, act);
    }
    if !decision.warnings.is_empty() {
        let _ = writeln!(w, "\nWarnings:");
        for warning in &decision.warnings {
            let _ = writeln!(w, "  - {warning}");
        }
    }
    out
}

/// The packs whose law decided: title, id, digest, and confidence short of verified.
fn law_in_force(w: &mut String, decision: &Decision, packs: &PackSet) {
    let _ = writeln!(w, "\nLaw in force:");
    for p in &decision.packs {
        let pack = packs.packs().iter().find(|k| k.id == p.id);
        let title = pack.map_or("", |k| k.manifest.title.as_str());
        let _ = writeln!(
            w,
            "  {title}\n    {} (sha256 {})",
            p.id,
            &p.sha256[..12.min(p.sha256.len())]
        );
        if let Some(c) = pack
            .map(|k| k.manifest.confidence)
            .filter(|c| *c != Confidence::Verified)
        {
            let _ = writeln!(w, "    confidence: {c} (see the pack's note)");
        }
    }
}

/// One act: its outcome in words, the reasons, the requirements met, the limits and what
/// to do.
fn act_decision(w: &mut String, act: &ActDecision) {
    let verdict = match act.outcome {
        Outcome::Required => "REQUIRED: the agency must do this",
        Outcome::Permitted => "PERMITTED: the agency may do this",
        Outcome::Forbidden => "FORBIDDEN: the agency must not do this",
    };
    let _ = writeln!(w, "\n{}: {verdict}", act.act);
    for r in &act.reasons {
        reason(w, r);
    }
    if !act.met.is_empty() {
        let _ = writeln!(w, "  requirements met:");
        for r in &act.met {
            let _ = writeln!(w, "  + {}", r.summary);
            let _ = writeln!(
                w,
                "    an exception to {}, rule {} ({})",
                r.citation, r.rule, r.pack
            );
        }
    }
    let holds = act.limits.iter().filter(|l| l.hold_until.is_some()).count();
    for l in &act.limits {
        let _ = writeln!(w, "  limit: {} ({})", limit(l, holds), l.citation);
    }
    if let Some(todo) = &act.instruction {
        let _ = writeln!(w, "  What to do: {todo}");
    }
}

/// A limit in words; `holds` is how many hold limits the act has (the earliest binds).
fn limit(l: &Limit, holds: usize) -> String {
    match (&l.hold_until, l.notice.is_empty(), &l.approval) {
        (Some(t), _, _) if l.binding && holds > 1 => format!(
            "release by {t} unless taken into custody: BINDING, the earliest of {holds} hold limits"
        ),
        (Some(t), _, _) if l.binding => {
            format!("release by {t} unless taken into custody: BINDING")
        }
        (Some(t), _, _) => format!("{t}, this law's own hold limit (later: not binding)"),
        (None, false, _) => format!("give notice to {}", l.notice.join(" and ")),
        (None, true, Some(a)) => format!("get the approval of the {a} first"),
        (None, true, None) if !l.discloses.is_empty() => format!(
            "it may carry {} only",
            l.discloses
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (None, true, None) => "condition".to_owned(),
    }
}

/// One reason: citation, summary, rule, the facts it read, its caution.
fn reason(w: &mut String, r: &Reason) {
    let _ = writeln!(w, "  - {}\n    {}", r.citation, r.summary);
    let _ = writeln!(w, "    rule {} ({})", r.rule, r.pack);
    if !r.facts.is_empty() {
        let facts: Vec<String> = r.facts.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(w, "    facts: {}", facts.join(", "));
    }
    if let Some(c) = &r.caution {
        let _ = writeln!(w, "    caution: {c}");
    }
}
