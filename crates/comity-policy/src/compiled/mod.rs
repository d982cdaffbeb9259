//! Packs compiled ahead of time: each slice of a pack's rules (the rules that can apply to
//! one act, or to the duty to do it) as a list of conditions over the normalized context,
//! evaluated without Cedar's evaluator.
//!
//! A pack's verdict depends only on a small, closed context (words of closed vocabularies,
//! booleans, the pack's fact bits: a [`crate::ContextKey`]). The compiler turns each rule's
//! conditions, as Cedar's JSON form writes them, into an [`expr::Expr`] over that context's
//! slots; deciding a slice is then Cedar's own combination (a forbid that holds denies, with
//! every forbid that holds as the reasons; else a permit that holds allows, with every
//! permit that holds; else nothing is said), a few dozen bit tests in all.
//!
//! Cedar stays the reference: a slice holding anything the compiler does not take stays
//! with Cedar's evaluator, and so does any request on which a compiled rule would err (an
//! absent attribute read), so that the error is Cedar's own. The differential tests
//! (`compiled/tests.rs`, and `tests/engine.rs` on whole decisions) and the fuzz target
//! `compiled` hold the two to the same answers.
//!
//! The compile is linear in the size of the rules: each rule once per slice it is in, each
//! node of its conditions once. No table over the context is built, so a pack that reads
//! many attributes costs what its rules' text costs, not the product of the attributes'
//! domains.

mod build;
mod expr;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod reference;
#[cfg(test)]
mod tests;

use cedar_policy::{Decision, PolicySet};
use serde_json::Value;

pub(crate) use build::Unsupported;
use build::{Compiler, unsupported};
use expr::Expr;

use crate::context::Frame;

/// A rule of a slice, compiled.
#[derive(Debug, Clone)]
struct CompiledRule {
    id: String,
    forbid: bool,
    condition: Expr,
}

/// A policy set compiled for one action, its rules in the order the engine reports them.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledSet {
    rules: Vec<CompiledRule>,
}

impl CompiledSet {
    /// Compiles `set` as Cedar evaluates it for the action `action` (of type `Action`) in a
    /// pack whose facts are `fact_names`; `order` ranks a rule's id as the engine reports
    /// it (ties by id).
    pub(crate) fn compile(
        set: &PolicySet,
        action: &str,
        fact_names: &[String],
        order: impl Fn(&str) -> usize,
    ) -> Result<CompiledSet, Unsupported> {
        let compiler = Compiler { action, fact_names };
        let mut rules = Vec::new();
        for policy in set.policies() {
            let json = policy
                .to_json()
                .map_err(|e| Unsupported(format!("rule {}: {e}", policy.id())))?;
            if !applies(&json, action)? {
                continue;
            }
            rules.push(CompiledRule {
                id: policy.id().to_string(),
                forbid: policy.effect() == cedar_policy::Effect::Forbid,
                condition: compiler.conditions(&json)?,
            });
        }
        rules.sort_by_cached_key(|r| (order(&r.id), r.id.clone()));
        Ok(CompiledSet { rules })
    }

    /// Cedar's decision on `frame`, and the ids of the rules that determined it, in order;
    /// with `permits_only`, as if the set held its permits alone. `None` when a rule's
    /// condition errs on `frame` (Cedar then answers, with its own error).
    pub(crate) fn decide(
        &self,
        frame: &Frame,
        permits_only: bool,
    ) -> Option<(Decision, Vec<&str>)> {
        let (mut forbids, mut permits) = (Vec::new(), Vec::new());
        for rule in &self.rules {
            if rule.forbid && permits_only {
                continue;
            }
            if rule.condition.eval(frame).ok()? {
                if rule.forbid {
                    forbids.push(rule.id.as_str());
                } else {
                    permits.push(rule.id.as_str());
                }
            }
        }
        Some(if !forbids.is_empty() {
            (Decision::Deny, forbids)
        } else if !permits.is_empty() {
            (Decision::Allow, permits)
        } else {
            (Decision::Deny, Vec::new())
        })
    }
}

/// Whether a policy's scope admits the action `action` (with no entity hierarchy, `in` is
/// equality); its principal and resource must be unconstrained.
fn applies(policy: &Value, action: &str) -> Result<bool, Unsupported> {
    for part in ["principal", "resource"] {
        if policy[part]["op"] != "All" {
            return unsupported(format!("a {part} scope"));
        }
    }
    let scope = &policy["action"];
    let is = |e: &Value| e["type"] == "Action" && e["id"] == action;
    match (
        scope["op"].as_str(),
        scope.get("entity"),
        scope.get("entities"),
    ) {
        (Some("All"), _, _) => Ok(true),
        (Some("==" | "in"), Some(entity), _) => Ok(is(entity)),
        (Some("in"), None, Some(Value::Array(entities))) => Ok(entities.iter().any(is)),
        _ => unsupported(format!("the action scope {scope}")),
    }
}
