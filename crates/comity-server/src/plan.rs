//! What a decision lets comity deliver: a disclosure to the recipient for each permitted (or
//! required) act that tells something, carrying only the fields the law in force lets it
//! carry (the decision's `discloses` limits, from the packs), and a notice for each notice an
//! act owes (a permitted act's, or one owed whatever the outcome, as on a forbidden act). Acts that tell nothing (a hold, a transfer, access, office space, an
//! arrest, an agreement) are carried out by people, not sent.

use comity_model::{ActDecision, Decision, Outcome, RecordField, Request};
use comity_store::{DeliveryKind, NewDelivery};
use serde_json::{Map, Value, json};

/// The deliveries `decision` permits for `request`, each once (two permits owing the same
/// notice owe it once).
pub fn deliveries(request: &Request, decision: &Decision) -> Vec<NewDelivery> {
    let mut out = planned(request, decision);
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert(d.id(&request.id)));
    out
}

/// Every delivery the decision's acts call for, in the order of its acts: of a forbidden
/// act, only the notices it owes whatever its outcome.
fn planned(request: &Request, decision: &Decision) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    for act in &decision.acts {
        // An act whose permit names an approval is carried out only after it: its
        // disclosure and the notices it owes wait for it together.
        let awaiting_approval = act.limits.iter().any(|l| l.approval.is_some());
        let fields = (act.outcome != Outcome::Forbidden)
            .then(|| disclosed(act, request))
            .flatten();
        if let Some(fields) = fields {
            let mut payload = Map::new();
            payload.insert("request".into(), request.id.clone().into());
            payload.insert("act".into(), act.act.as_str().into());
            payload.insert("outcome".into(), act.outcome.as_str().into());
            payload.insert("decided_at".into(), decision.at.to_string().into());
            payload.extend(fields);
            out.push(NewDelivery {
                act: act.act,
                kind: DeliveryKind::Disclosure,
                recipient: request.recipient().agency.clone(),
                subject_id: request.subject.id.clone(),
                payload: Value::Object(payload),
                awaiting_approval,
            });
        }
        for limit in &act.limits {
            for who in &limit.notice {
                out.push(NewDelivery {
                    act: act.act,
                    kind: DeliveryKind::Notice,
                    recipient: who.clone(),
                    subject_id: request.subject.id.clone(),
                    payload: json!({
                        "request": request.id,
                        "act": act.act.as_str(),
                        "outcome": act.outcome.as_str(),
                        "notice_to": who,
                        "because": limit.citation,
                        "rule": limit.rule,
                        "agency": request.to.agency,
                    }),
                    awaiting_approval,
                });
            }
        }
    }
    out
}

/// The fields `act` discloses of `r`: what the law allows it, and for an act that shares the
/// records asked, only those of them asked. `None` if it carries nothing.
fn disclosed(act: &ActDecision, r: &Request) -> Option<Map<String, Value>> {
    let allowed = act.allowed_fields()?;
    let asked = act.act.carries_asked_records();
    let fields: Vec<RecordField> = if asked {
        r.records_within(&allowed)
    } else {
        allowed
    };
    if fields.is_empty() {
        return None;
    }
    Some(
        fields
            .into_iter()
            .map(|f| (key(f, asked).to_owned(), value(f, r)))
            .collect(),
    )
}

/// The payload key of a field: its word when records are shared as asked; in a notice, the
/// names of format version 1 (`subject`, `release_at`, `court_event`, `status_proof_shown`).
fn key(field: RecordField, asked: bool) -> &'static str {
    match (asked, field) {
        (false, RecordField::Identity) => "subject",
        (false, RecordField::ReleaseDate) => "release_at",
        (false, RecordField::CourtDate) => "court_event",
        (false, RecordField::ImmigrationStatus) => "status_proof_shown",
        _ => field.as_str(),
    }
}

/// A field's value, from the request as the agency stated it.
fn value(field: RecordField, r: &Request) -> Value {
    match field {
        RecordField::Identity => r.subject.id.clone().into(),
        RecordField::ReleaseDate => r
            .custody
            .as_ref()
            .and_then(|c| c.release_at)
            .map(|t| t.to_string())
            .into(),
        RecordField::CourtDate => r
            .court_event
            .as_ref()
            .map(|c| json!({ "at": c.at.to_string(), "court": c.court }))
            .into(),
        RecordField::CustodyStatus => r.custody.as_ref().map(|c| c.status.as_str()).into(),
        RecordField::ImmigrationStatus => r.subject.status_proof_shown.into(),
        // Held in the agency's own records, not in the request: the agency attaches them;
        // comity only names what was permitted.
        RecordField::Address | RecordField::CriminalHistory | RecordField::Other => {
            "permitted; attached by the agency from its records".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use comity_model::{Act, Limit, PackRef, Reason};

    use super::*;

    /// What a pack's `[discloses]` makes of `act`: a limit allowing `fields`.
    fn allowing(act: Act, fields: &[RecordField]) -> Limit {
        Limit {
            discloses: fields.to_vec(),
            ..Limit::by(format!("discloses-{act}"), "p".into(), "c".into())
        }
    }

    fn request() -> Request {
        let mut v: Value =
            serde_json::from_str(include_str!("../../../examples/nyc-doc-detainer.json")).unwrap();
        v["acts"] = json!([
            "hold",
            "notify-release",
            "share-records",
            "notify-court-date"
        ]);
        v["records"] = json!(["identity", "address"]);
        Request::from_value(v).unwrap()
    }

    /// What the federal packs let each act carry (their `[discloses]`).
    fn federal(act: Act) -> &'static [RecordField] {
        use RecordField::*;
        match act {
            Act::NotifyRelease => &[Identity, ReleaseDate],
            Act::NotifyCourtDate => &[Identity, CourtDate],
            Act::ShareStatus => &[Identity, ImmigrationStatus],
            _ => RecordField::ALL,
        }
    }

    fn act(act: Act, outcome: Outcome, notice: &[&str]) -> ActDecision {
        let reason = Arc::new(Reason {
            rule: "r".into(),
            pack: "p".into(),
            citation: "c".into(),
            summary: "s".into(),
            facts: Default::default(),
            caution: None,
        });
        let mut limits = if notice.is_empty() {
            vec![]
        } else {
            vec![Limit {
                notice: notice.iter().map(|s| s.to_string()).collect(),
                ..Limit::by(
                    "ca-release-notice-to-person-and-counsel".into(),
                    "p".into(),
                    "Cal. Gov. Code § 7283.1(b)".into(),
                )
            }]
        };
        if act.tells() {
            limits.push(allowing(act, federal(act)));
        }
        ActDecision {
            act,
            outcome,
            reasons: vec![reason],
            met: vec![],
            limits,
            instruction: None,
        }
    }

    /// Each delivery's act, kind and recipient.
    fn summary(d: &[NewDelivery]) -> Vec<(Act, DeliveryKind, &str)> {
        d.iter()
            .map(|d| (d.act, d.kind, d.recipient.as_str()))
            .collect()
    }

    #[test]
    fn only_permitted_disclosures_with_only_their_fields() {
        let r = request();
        let decision = Decision {
            request: r.id.clone(),
            at: r.received_at,
            packs: vec![PackRef {
                id: "p".into(),
                sha256: "00".repeat(32),
                signature: None,
            }],
            acts: vec![
                act(Act::Hold, Outcome::Permitted, &[]),
                act(
                    Act::NotifyRelease,
                    Outcome::Permitted,
                    &["subject", "counsel"],
                ),
                act(Act::ShareRecords, Outcome::Permitted, &[]),
                act(Act::NotifyCourtDate, Outcome::Forbidden, &[]),
            ],
            warnings: vec![],
        };
        let d = deliveries(&r, &decision);
        let summary = summary(&d);
        assert_eq!(
            summary,
            [
                (Act::NotifyRelease, DeliveryKind::Disclosure, "DHS-ICE-ERO"),
                (Act::NotifyRelease, DeliveryKind::Notice, "subject"),
                (Act::NotifyRelease, DeliveryKind::Notice, "counsel"),
                (Act::ShareRecords, DeliveryKind::Disclosure, "DHS-ICE-ERO"),
            ],
            "no delivery for the hold, none for the forbidden court date"
        );
        let release = &d[0].payload;
        assert_eq!(release["release_at"], "2018-03-04T10:00:00-05:00");
        assert!(release.get("court_event").is_none() && release.get("convictions").is_none());
        let records = d[3].payload.as_object().unwrap();
        assert_eq!(records["identity"], "local-person-881");
        assert!(records.contains_key("address") && !records.contains_key("release-date"));
        assert_eq!(d[1].id(&r.id), "nyc-doc-2018-000123/notify-release/subject");
    }

    #[test]
    fn a_forbidden_act_sends_only_the_notices_it_owes_whatever_its_outcome() {
        let r = request();
        // Even were a disclosure limit on it, a forbidden act discloses nothing.
        let refused = act(Act::NotifyRelease, Outcome::Forbidden, &["subject"]);
        assert!(refused.limits.iter().any(|l| !l.discloses.is_empty()));
        let silent = act(Act::NotifyCourtDate, Outcome::Forbidden, &[]);
        let decision = Decision {
            request: r.id.clone(),
            at: r.received_at,
            packs: vec![],
            acts: vec![refused, silent],
            warnings: vec![],
        };
        let d = deliveries(&r, &decision);
        let summary = summary(&d);
        assert_eq!(
            summary,
            [(Act::NotifyRelease, DeliveryKind::Notice, "subject")]
        );
        assert_eq!(d[0].payload["outcome"], "forbidden");
    }

    #[test]
    fn a_law_in_force_narrows_what_an_act_carries_and_without_one_nothing_is_sent() {
        let r = request();
        let mut release = act(Act::NotifyRelease, Outcome::Permitted, &[]);
        let mut records = act(Act::ShareRecords, Outcome::Permitted, &[]);
        // A second law in force lets the release notice carry the date alone, and records
        // be shared without the address.
        release
            .limits
            .push(allowing(Act::NotifyRelease, &[RecordField::ReleaseDate]));
        records.limits.push(allowing(
            Act::ShareRecords,
            &[RecordField::Identity, RecordField::CriminalHistory],
        ));
        let mut silent = act(Act::NotifyCourtDate, Outcome::Permitted, &[]);
        silent.limits.clear();
        let decision = Decision {
            request: r.id.clone(),
            at: r.received_at,
            packs: vec![],
            acts: vec![release, records, silent],
            warnings: vec![],
        };
        let d = deliveries(&r, &decision);
        assert_eq!(
            d.len(),
            2,
            "nothing for the act no law says what it carries"
        );
        let release = d[0].payload.as_object().unwrap();
        assert_eq!(release["release_at"], "2018-03-04T10:00:00-05:00");
        assert!(!release.contains_key("subject"), "{release:?}");
        let records = d[1].payload.as_object().unwrap();
        assert_eq!(records["identity"], "local-person-881");
        assert!(!records.contains_key("address"), "asked, but not allowed");
        assert!(
            !records.contains_key("criminal-history"),
            "allowed, but not asked"
        );
    }
}
