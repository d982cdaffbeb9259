//! A solver's counterexample written as a request in the documented format, made as plain
//! as it can be while the two laws still decide it differently, and decided by each law's
//! engine to confirm it.

use std::collections::BTreeMap;

use cedar_policy::EvalResult;
use cedar_policy_symcc::Env;
use comity_model::{Act, Date, Jurisdiction, Outcome, Request};
use comity_policy::Engine;
use serde_json::{Value, json};

use crate::law::skeleton;

/// The subject's flags: each a boolean of the context by the same name.
const FLAGS: [&str; 9] = [
    "watchlist_match",
    "reentry_after_removal",
    "status_proof_shown",
    "citizenship_proof_shown",
    "sex_or_arson_registrant",
    "federal_aggravated_felony",
    "federal_felony_warrant",
    "outstanding_criminal_warrant",
    "gang_database_match",
];

/// A context value as JSON: a word for an entity of a vocabulary, a list for a set.
fn word(v: &EvalResult) -> Value {
    match v {
        EvalResult::EntityUid(u) => Value::from(u.id().unescaped()),
        EvalResult::Set(s) => Value::Array(s.iter().map(word).collect()),
        EvalResult::Bool(b) => Value::Bool(*b),
        other => Value::from(other.to_string()),
    }
}

/// The counterexample's context as a request at `place` on `day` asking `act`, and the
/// facts (by solver name) it assumes true.
pub(crate) fn request(
    cex: &Env,
    place: &Jurisdiction,
    day: Date,
    act: Act,
) -> (Value, Vec<String>) {
    let Some(ctx) = cex.request.context() else {
        return (skeleton(place, day, act), Vec::new());
    };
    let get = |k: &str| ctx.get(k).map(|v| word(&v));
    let flag = |k: &str| get(k).and_then(|v| v.as_bool()).unwrap_or(false);
    let mut r = skeleton(place, day, act);
    let at = |time: &str| format!("{day}T{time}Z");
    r["from"]["kind"] = get("from_kind").unwrap_or(r["from"]["kind"].clone());
    r["to"]["kind"] = get("to_kind").unwrap_or(r["to"]["kind"].clone());
    if let Some(s) = get("to_state_agency") {
        r["to"]["state_agency"] = s;
    }
    for name in FLAGS {
        if flag(name) {
            r["subject"][name] = true.into();
        }
    }
    if get("recipient_kind") != get("from_kind") {
        r["recipient"] = json!({ "agency": "SYNTHETIC-RECIPIENT", "kind": get("recipient_kind") });
    }
    for field in ["form", "purpose"] {
        if let Some(v) = get(field) {
            r[field] = v;
        }
    }
    for field in ["basis", "records", "public_records"] {
        if let Some(v) = get(field).filter(|v| v.as_array().is_some_and(|a| !a.is_empty())) {
            r[field] = v;
        }
    }
    circumstances(&mut r, &get, &flag, &at);
    let assumed = match ctx.get("facts") {
        Some(EvalResult::Record(facts)) => facts
            .iter()
            .filter(|(_, v)| matches!(v, EvalResult::Bool(true)))
            .map(|(k, _)| k.to_string())
            .collect(),
        _ => Vec::new(),
    };
    (r, assumed)
}

/// The warrant, custody, court event and arrest the context describes, written into `r`.
fn circumstances(
    r: &mut Value,
    get: &dyn Fn(&str) -> Option<Value>,
    flag: &dyn Fn(&str) -> bool,
    at: &dyn Fn(&str) -> String,
) {
    let kind = get("warrant_kind").unwrap_or_else(|| "none".into());
    if kind != "none" || get("warrant_form").is_some() || get("warrant_for").is_some() {
        let mut w = json!({ "kind": kind });
        for (k, field) in [("warrant_form", "form"), ("warrant_for", "for")] {
            if let Some(v) = get(k) {
                w[field] = v;
            }
        }
        r["warrant"] = w;
    }
    if let Some(status) = get("custody_status") {
        let mut c = json!({ "status": status });
        if flag("arrested_known") {
            c["arrested_at"] = at("08:00:00").into();
        }
        if flag("release_known") {
            c["release_at"] = at("23:00:00").into();
        }
        r["custody"] = c;
    }
    if let Some(system) = get("court_system") {
        r["court_event"] =
            json!({ "at": at("15:00:00"), "court": "SYNTHETIC-COURT", "system": system });
    }
    if let Some(t) = get("arrest_type") {
        r["arrest"] =
            json!({ "type": t, "location": get("arrest_location"), "role": get("arrest_role") });
    }
}

/// What one law's engine makes of a request's one act: its outcome and deciding rules, or
/// why it refused the request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decided {
    /// The outcome, when decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The deciding rules with their citations, or the refusal.
    pub rules: Vec<String>,
}

impl Decided {
    /// Whether the act is allowed (permitted or required).
    pub fn allows(&self) -> bool {
        matches!(self.outcome, Some(Outcome::Permitted | Outcome::Required))
    }
}

/// `request`'s act as `engine` decides it.
pub(crate) fn decide(engine: &Engine, request: &Value) -> Decided {
    let decided = Request::from_value(request.clone())
        .map_err(|e| e.to_string())
        .and_then(|r| engine.decide(&r).map_err(|e| e.to_string()));
    match decided {
        Ok(d) => {
            let act = &d.acts[0];
            Decided {
                outcome: Some(act.outcome),
                rules: act
                    .reasons
                    .iter()
                    .map(|r| format!("{} ({})", r.rule, r.citation))
                    .collect(),
            }
        }
        Err(e) => Decided {
            outcome: None,
            rules: vec![format!("refused: {e}")],
        },
    }
}

/// The simplifications tried, one at a time: a field left out, or a flag false.
fn simpler(request: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let object = request.as_object().expect("requests are objects");
    for field in [
        "recipient",
        "form",
        "purpose",
        "basis",
        "records",
        "public_records",
        "warrant",
        "custody",
        "court_event",
        "arrest",
    ] {
        if object.contains_key(field) {
            let mut r = request.clone();
            r.as_object_mut().expect("an object").remove(field);
            out.push(r);
        }
    }
    for flag in FLAGS {
        if request["subject"].get(flag).is_some() {
            let mut r = request.clone();
            r["subject"]
                .as_object_mut()
                .expect("an object")
                .remove(flag);
            out.push(r);
        }
    }
    if request["to"].get("state_agency").is_some() {
        let mut r = request.clone();
        r["to"]
            .as_object_mut()
            .expect("an object")
            .remove("state_agency");
        out.push(r);
    }
    out
}

/// `request` made as plain as it can be while `a` and `b` still decide it as `want` says
/// (`want(a, b)`), simplifying one field at a time; `request` itself when it does not hold.
pub(crate) fn minimize(
    request: Value,
    a: &Engine,
    b: &Engine,
    want: impl Fn(&Decided, &Decided) -> bool,
) -> Value {
    let holds = |r: &Value| want(&decide(a, r), &decide(b, r));
    if !holds(&request) {
        return request;
    }
    let mut best = request;
    'simplify: loop {
        for candidate in simpler(&best) {
            if holds(&candidate) {
                best = candidate;
                continue 'simplify;
            }
        }
        return best;
    }
}

/// Facts a witness assumes, in words.
pub(crate) fn assumed_in_words(
    assumed: &[String],
    describe: impl Fn(&str) -> String,
) -> Vec<String> {
    let words: BTreeMap<String, ()> = assumed.iter().map(|a| (describe(a), ())).collect();
    words.into_keys().collect()
}
