//! The facts of both laws under one name each in the solver. A fact is a boolean computed in
//! Rust (a look-back over a catalog's lists) and enters the solver free: any value. Two packs
//! declaring the same name with the same definition share one variable; the same name with
//! another definition (New York City's `nyc_vsc_5y` of 2014 and of 2017 read different lists)
//! is a second variable, and the rules of the pack that declares it are rewritten to read it.

use std::collections::HashMap;

use cedar_policy::Policy;
use comity_policy::{FactSpec, Pack};

use crate::DiffError;

/// The solver's name for each (pack, fact) of the packs compared.
#[derive(Debug, Default)]
pub(crate) struct FactNames {
    /// Each distinct definition: its name in the packs, the definition, its solver name.
    distinct: Vec<(String, FactSpec, String)>,
    /// By pack id: fact name → solver name, where they differ.
    renamed: HashMap<String, HashMap<String, String>>,
}

impl FactNames {
    /// Names every boolean fact of `packs`.
    pub(crate) fn of<'p>(packs: impl IntoIterator<Item = &'p Pack>) -> FactNames {
        let mut names = FactNames::default();
        for pack in packs {
            for (name, spec) in pack.facts.iter().filter(|(_, s)| s.is_boolean()) {
                let solver = names.solver_name(name, spec);
                if &solver != name {
                    names
                        .renamed
                        .entry(pack.id.clone())
                        .or_default()
                        .insert(name.clone(), solver);
                }
            }
        }
        names
    }

    /// The solver name of `name` defined as `spec`: the name itself for its first
    /// definition, `name__2`, `name__3`… for the others.
    fn solver_name(&mut self, name: &str, spec: &FactSpec) -> String {
        if let Some((_, _, solver)) = self
            .distinct
            .iter()
            .find(|(n, s, _)| n == name && s == spec)
        {
            return solver.clone();
        }
        let same_name = self.distinct.iter().filter(|(n, _, _)| n == name).count();
        let solver = match same_name {
            0 => name.to_owned(),
            n => format!("{name}__{}", n + 1),
        };
        self.distinct
            .push((name.to_owned(), spec.clone(), solver.clone()));
        solver
    }

    /// Every solver name, in the order first seen.
    pub(crate) fn solver_names(&self) -> impl Iterator<Item = &str> {
        self.distinct.iter().map(|(_, _, s)| s.as_str())
    }

    /// The solver names of the facts defined as "issued before a date" (which only a request
    /// with a form can meet).
    pub(crate) fn form_dates(&self) -> impl Iterator<Item = &str> {
        self.distinct
            .iter()
            .filter(|(_, spec, _)| matches!(spec, FactSpec::FormIssuedBefore { .. }))
            .map(|(_, _, s)| s.as_str())
    }

    /// The fact a solver name stands for, in words: `name` (or `name, as <pack> defines it`
    /// for a second definition).
    pub(crate) fn describe(&self, solver: &str) -> String {
        for (pack, renamed) in &self.renamed {
            if let Some((name, _)) = renamed.iter().find(|(_, s)| *s == solver) {
                return format!("{name}, as {pack} defines it");
            }
        }
        solver.to_owned()
    }

    /// `policy` of `pack`, reading each of its facts by its solver name, under `id`.
    pub(crate) fn rewrite(
        &self,
        pack: &Pack,
        policy: &Policy,
        id: String,
    ) -> Result<Policy, DiffError> {
        let id = cedar_policy::PolicyId::new(id);
        let Some(renamed) = self.renamed.get(&pack.id) else {
            return Ok(policy.new_id(id));
        };
        let mut text = policy.to_string();
        for (name, solver) in renamed {
            text = replace_fact(&text, name, solver);
        }
        Policy::parse(Some(id), &text)
            .map_err(|e| DiffError::Cedar(format!("{}: rewriting a fact: {e}", pack.id)))
    }
}

/// `text` with every `context.facts.<name>` (the whole name, not a longer one) read as
/// `context.facts.<solver>`.
fn replace_fact(text: &str, name: &str, solver: &str) -> String {
    let needle = format!("context.facts.{name}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let whole = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..at]);
        if whole {
            out.push_str("context.facts.");
            out.push_str(solver);
        } else {
            out.push_str(&needle);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_fact_names_are_rewritten() {
        let text = "when { context.facts.vsc && !context.facts.vsc_ever || context.facts.vsc }";
        assert_eq!(
            replace_fact(text, "vsc", "vsc__2"),
            "when { context.facts.vsc__2 && !context.facts.vsc_ever || context.facts.vsc__2 }"
        );
    }
}
