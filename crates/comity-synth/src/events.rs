//! What the agency does after a synthetic request is decided: mostly what the decision
//! allows (a permitted hold kept within its deadline, then a transfer or the release; a
//! forbidden hold not kept), and, at the rate asked, an action it does not allow (a hold it
//! forbids, or custody kept past the hold's binding deadline), so that violations show.

use comity_model::{Act, Decision, Outcome, Request};
use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde_json::{Value, json};

/// A request as validated, and its decision.
pub(crate) struct Decided {
    pub request: Request,
    pub decision: Decision,
}

/// Of permitted holds, the share that end in a transfer (the rest: the hold expires).
const TRANSFERRED: f64 = 0.7;

/// The events after `decided`, with an action the decision does not allow at the rate
/// `violations`.
pub(crate) fn follow(rng: &mut Pcg64Mcg, decided: &Decided, violations: f64) -> Vec<Value> {
    let Some(release) = decided
        .request
        .custody
        .as_ref()
        .and_then(|c| c.release_at)
        .map(|r| r.timestamp())
    else {
        return Vec::new();
    };
    let outcome = |act| {
        decided
            .decision
            .acts
            .iter()
            .find(|a| a.act == act)
            .map(|a| a.outcome)
    };
    let allowed = |o: Option<Outcome>| matches!(o, Some(Outcome::Permitted | Outcome::Required));
    let violate = rng.random_bool(violations);
    let id = decided.request.id.as_str();
    let event = |kind: &str, at: Timestamp| json!({ "request": id, "kind": kind, "at": utc(at) });
    let hold = outcome(Act::Hold);
    if hold.is_none() {
        return vec![event("released", release)];
    }
    if !allowed(hold) {
        return if violate {
            // Held although the decision forbade it, and released a day later.
            vec![
                event("held", release),
                event("released", release + SignedDuration::from_hours(24)),
            ]
        } else {
            vec![event("released", release)]
        };
    }
    let deadline = decided
        .decision
        .acts
        .iter()
        .find(|a| a.act == Act::Hold)
        .and_then(|a| a.binding_hold())
        .map_or(release, |(_, at)| at.timestamp());
    let within = |rng: &mut Pcg64Mcg| {
        let room = (deadline - release).as_secs().max(60);
        release + SignedDuration::from_secs(rng.random_range(0..room))
    };
    let (last, end) = if violate {
        let late = deadline + SignedDuration::from_hours(rng.random_range(1..12));
        ("hold-expired", late)
    } else if allowed(outcome(Act::Transfer)) && rng.random_bool(TRANSFERRED) {
        // Handed over only where the decision allows the transfer: a hold alone is not one.
        ("transferred", within(rng))
    } else if rng.random_bool(0.5) {
        ("hold-expired", deadline)
    } else {
        ("custody-disavowed", within(rng))
    };
    vec![event("held", release), event(last, end)]
}

/// An instant as events write it (UTC, RFC 3339).
fn utc(at: Timestamp) -> String {
    at.to_string()
}
