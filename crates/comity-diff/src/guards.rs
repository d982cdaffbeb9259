//! What no valid request can say, forbidden on both sides so that it is never a difference:
//! the rules of the request format the Cedar schema does not carry (`docs/formats.md`), and,
//! when asked, every fact false (a counterexample that assumes no fact can be written as a
//! request without convictions, and confirmed by the engine).

use std::str::FromStr;

use cedar_policy::PolicySet;

use crate::DiffError;
use crate::facts::FactNames;

/// The format's rules between fields, as forbids.
const FORMAT_RULES: &str = r#"
@id("guard/state-agency") forbid (principal, action, resource)
when { context has to_state_agency && context.to_kind != LocalKind::"state-agency" };
@id("guard/warrant-form") forbid (principal, action, resource)
when { context has warrant_form && context.warrant_kind != WarrantKind::"administrative" };
@id("guard/citizenship") forbid (principal, action, resource)
when { context.citizenship_proof_shown && !context.status_proof_shown };
@id("guard/custody") forbid (principal, action, resource)
when { (context.arrested_known || context.release_known) && !(context has custody_status) };
@id("guard/arrest") forbid (principal, action, resource)
unless { (context has arrest_type && context has arrest_location && context has arrest_role) ||
         (!(context has arrest_type) && !(context has arrest_location) && !(context has arrest_role)) };
@id("guard/courthouse-arrest") forbid (principal, action == Action::"courthouse-arrest", resource)
unless { context has arrest_type && context has court_system };
"#;

/// The guards: the format's rules, a fact of a form's date only with a form, and (with
/// `no_facts`) every fact false.
pub(crate) fn guards(facts: &FactNames, no_facts: bool) -> Result<PolicySet, DiffError> {
    let mut text = FORMAT_RULES.to_owned();
    for name in facts.form_dates() {
        text.push_str(&format!(
            "@id(\"guard/form-date/{name}\") forbid (principal, action, resource) \
             when {{ context.facts.{name} && !(context has form) }};\n"
        ));
    }
    if no_facts {
        for name in facts.solver_names() {
            text.push_str(&format!(
                "@id(\"guard/no-fact/{name}\") forbid (principal, action, resource) \
                 when {{ context.facts.{name} }};\n"
            ));
        }
    }
    PolicySet::from_str(&text).map_err(|e| DiffError::Cedar(format!("the guards: {e}")))
}

/// `rules` with `guards` added.
pub(crate) fn guarded(rules: &PolicySet, guards: &PolicySet) -> Result<PolicySet, DiffError> {
    let mut out = rules.clone();
    for policy in guards.policies() {
        out.add(policy.clone())
            .map_err(|e| DiffError::Cedar(e.to_string()))?;
    }
    Ok(out)
}
