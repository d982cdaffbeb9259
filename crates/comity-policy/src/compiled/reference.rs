//! The compiled form held to Cedar's: on one context, a compiled set answers exactly what
//! Cedar's evaluator answers on the set it was compiled from (the decision and the rules
//! that determined it, in order), and declines exactly where Cedar's evaluation errs. The
//! differential tests and the fuzz target `compiled` check it.

use cedar_policy::{Authorizer, Decision, Entities, EntityUid, PolicySet, Request};

use super::CompiledSet;
use crate::context::ContextKey;

/// What Cedar's evaluator answers for `action` on `set` in `key`'s context (facts named
/// `fact_names`): the decision and the ids that determined it ranked by `order`, or the
/// first error.
fn cedar(
    set: &PolicySet,
    action: &str,
    key: &ContextKey,
    fact_names: &[String],
    order: &dyn Fn(&str) -> usize,
) -> Result<(Decision, Vec<String>), String> {
    let uid = |s: String| s.parse::<EntityUid>().expect("a uid");
    let request = Request::new(
        uid("Requester::\"request\"".into()),
        uid(format!("Action::{action:?}")),
        uid("Subject::\"subject\"".into()),
        key.to_cedar(fact_names),
        None,
    )
    .expect("no schema given, nothing to fail");
    let response = Authorizer::new().is_authorized(&request, set, &Entities::empty());
    if let Some(e) = response.diagnostics().errors().next() {
        return Err(e.to_string());
    }
    let mut fired: Vec<(usize, String)> = response
        .diagnostics()
        .reason()
        .map(|id| (order(id.as_ref()), id.to_string()))
        .collect();
    fired.sort();
    Ok((
        response.decision(),
        fired.into_iter().map(|(_, id)| id).collect(),
    ))
}

/// Whether `compiled` (compiled from `set` for `action`) answers on `key` as Cedar does, on
/// the whole set and on its permits alone (as the engine asks when a forbid is set aside);
/// if not, what differs.
pub(crate) fn agrees(
    compiled: &CompiledSet,
    set: &PolicySet,
    action: &str,
    key: &ContextKey,
    fact_names: &[String],
    order: &dyn Fn(&str) -> usize,
) -> Result<(), String> {
    let permits = crate::pack::permits_of(set);
    for (permits_only, set) in [(false, set), (true, &permits)] {
        let fast = compiled
            .decide(&key.frame(), permits_only)
            .map(|(d, fired)| (d, fired.into_iter().map(str::to_owned).collect::<Vec<_>>()));
        match (fast, cedar(set, action, key, fact_names, order)) {
            (Some(fast), Ok(cedar)) if fast == cedar => {}
            (None, Err(_)) => {}
            (fast, cedar) => {
                return Err(format!(
                    "on {key:?} for `{action}` (permits alone: {permits_only}): compiled {fast:?}, Cedar {cedar:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Rules as a pack writes them, drawn by `draw(n)` (a number below `n`), for the action
/// `hold` in a pack whose facts are `f0` and `f1`: one to four permits and forbids, each
/// with one or two `when` or `unless` clauses over the schema's kinds of attribute (words of
/// several vocabularies, words of another type or none, sets, optional attributes read with
/// and without `has`, the action, facts), nested up to three deep. What the compiler must
/// take, and answer on as Cedar does, errors included.
pub(crate) fn drawn_rules(draw: &mut dyn FnMut(u32) -> u32) -> String {
    (0..=draw(4))
        .map(|_| {
            let effect = if draw(2) == 0 { "permit" } else { "forbid" };
            let clauses: String = (0..=draw(2))
                .map(|_| {
                    let clause = if draw(2) == 0 { "when" } else { "unless" };
                    format!(" {clause} {{ {} }}", condition(draw, 3))
                })
                .collect();
            format!("{effect} (principal, action == Action::\"hold\", resource){clauses};\n")
        })
        .collect()
}

/// A condition, at most `depth` operators deep.
fn condition(draw: &mut dyn FnMut(u32) -> u32, depth: u32) -> String {
    if depth == 0 || draw(2) == 0 {
        return leaf(draw);
    }
    let mut inner = || condition(draw, depth - 1);
    let (a, b) = (inner(), inner());
    match draw(4) {
        0 => format!("({a}) && ({b})"),
        1 => format!("({a}) || ({b})"),
        2 => format!("!({a})"),
        _ => format!("if ({a}) then ({b}) else ({})", condition(draw, depth - 1)),
    }
}

/// A word of the vocabulary `ty`, now and then one it lacks or one of another vocabulary.
fn word(draw: &mut dyn FnMut(u32) -> u32, ty: &str) -> String {
    let types = crate::schema::enum_types();
    let ty = match draw(8) {
        0 => types[draw(types.len() as u32) as usize].name,
        _ => ty,
    };
    let words = types
        .iter()
        .find(|t| t.name == ty)
        .map(|t| t.words.as_slice())
        .unwrap_or_default();
    match words.get(draw(words.len() as u32 + 1) as usize) {
        Some(w) => format!("{ty}::{w:?}"),
        None => format!("{ty}::\"no-such-word\""),
    }
}

/// A test of one attribute, the action, a fact or a literal.
fn leaf(draw: &mut dyn FnMut(u32) -> u32) -> String {
    match draw(18) {
        0 => format!("context.from_kind == {}", word(draw, "AgencyKind")),
        1 => format!("context has form && context.form == {}", word(draw, "Form")),
        2 => format!("context.form != {}", word(draw, "Form")),
        3 => format!("context.basis.contains({})", word(draw, "Basis")),
        4 => format!(
            "context.records.containsAll([{}, {}])",
            word(draw, "RecordField"),
            word(draw, "RecordField")
        ),
        5 => format!(
            "context.public_records.containsAny([{}, {}])",
            word(draw, "RecordField"),
            word(draw, "RecordField")
        ),
        6 => format!(
            "context.custody_status in [{}, {}]",
            word(draw, "CustodyStatus"),
            word(draw, "CustodyStatus")
        ),
        7 => format!(
            "[{}, {}].contains(context.arrest_location)",
            word(draw, "ArrestLocation"),
            word(draw, "ArrestLocation")
        ),
        8 => format!(
            "[{}, {}].containsAll(context.records)",
            word(draw, "RecordField"),
            word(draw, "RecordField")
        ),
        9 => format!(
            "[{}].containsAny(context.public_records)",
            word(draw, "RecordField")
        ),
        10 => format!("context.warrant_kind == {}", word(draw, "WarrantKind")),
        11 => format!("{} == context.purpose", word(draw, "Purpose")),
        12 => format!("context.to_kind in {}", word(draw, "LocalKind")),
        13 => format!(
            "[{}, true].contains(context.court_system)",
            word(draw, "CourtSystem")
        ),
        _ => [
            "action == Action::\"hold\"",
            "action in [Action::\"transfer\", Action::\"hold\"]",
            "action == Action::\"transfer\"",
            "context.public_records.containsAny(context.records)",
            "context.public_records.containsAll(context.records)",
            "context.watchlist_match",
            "context.release_known == false",
            "context has warrant_form",
            "context.facts.f0",
            "context.facts.f1 == true",
            "context.basis.isEmpty()",
            "context has from_kind",
            "context.facts has f1",
            "context.gang_database_match != true",
            "true",
        ][draw(15) as usize]
            .to_owned(),
    }
}

/// Compiles `rules` (drawn by [`drawn_rules`]) and checks the compiled answers against
/// Cedar's on `contexts` contexts drawn by `draw`; panics naming the rules and the context
/// on which they differ, or a rule the compiler did not take.
pub(crate) fn check_drawn(rules: &str, draw: &mut dyn FnMut(u32) -> u32, contexts: usize) {
    let set: PolicySet = rules.parse().expect("drawn rules parse");
    let fact_names = ["f0".to_owned(), "f1".to_owned()];
    let order = |id: &str| {
        id.trim_start_matches("policy")
            .parse()
            .unwrap_or(usize::MAX)
    };
    let compiled = CompiledSet::compile(&set, "hold", &fact_names, order)
        .unwrap_or_else(|e| panic!("{rules}\n{e}"));
    for _ in 0..contexts {
        let key = ContextKey::drawn(draw, fact_names.len());
        if let Err(e) = agrees(&compiled, &set, "hold", &key, &fact_names, &order) {
            panic!("{rules}\n{e}");
        }
    }
}
