//! What a decision lets comity deliver: a disclosure to the recipient for each permitted (or
//! required) act that discloses something, carrying only the fields that act discloses, and
//! a notice for each notice a permitted act owes. Acts that disclose nothing (a hold, a
//! transfer, access, office space, an arrest, an agreement) are carried out by people, not
//! sent.

use comity_model::{Act, Decision, Outcome, RecordField, Request};
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

/// Every delivery the decision's permitted acts call for, in the order of its acts.
fn planned(request: &Request, decision: &Decision) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    for act in &decision.acts {
        if act.outcome == Outcome::Forbidden {
            continue;
        }
        // An act whose permit names an approval is carried out only after it: its
        // disclosure and the notices it owes wait for it together.
        let awaiting_approval = act.limits.iter().any(|l| l.approval.is_some());
        if let Some(fields) = disclosed(act.act, request) {
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

/// The fields an act discloses, or `None` if it discloses nothing.
fn disclosed(act: Act, r: &Request) -> Option<Map<String, Value>> {
    let release = || {
        r.custody
            .as_ref()
            .and_then(|c| c.release_at)
            .map(|t| t.to_string())
    };
    let court = || {
        r.court_event
            .as_ref()
            .map(|c| json!({ "at": c.at.to_string(), "court": c.court }))
    };
    let mut fields = Map::new();
    match act {
        Act::NotifyRelease => {
            fields.insert("subject".into(), r.subject.id.clone().into());
            fields.insert("release_at".into(), release().into());
        }
        Act::NotifyCourtDate => {
            fields.insert("subject".into(), r.subject.id.clone().into());
            fields.insert("court_event".into(), court().into());
        }
        Act::ShareStatus => {
            fields.insert("subject".into(), r.subject.id.clone().into());
            fields.insert(
                "status_proof_shown".into(),
                r.subject.status_proof_shown.into(),
            );
        }
        Act::ShareRecords | Act::WarrantCheck => {
            for field in &r.records {
                let value = match field {
                    RecordField::Identity => r.subject.id.clone().into(),
                    RecordField::ReleaseDate => release().into(),
                    RecordField::CourtDate => court().into(),
                    RecordField::CustodyStatus => {
                        r.custody.as_ref().map(|c| c.status.as_str()).into()
                    }
                    // Held in the agency's own records, not in the request: the agency
                    // attaches them; comity only names what was permitted.
                    RecordField::Address | RecordField::CriminalHistory | RecordField::Other => {
                        "permitted; attached by the agency from its records".into()
                    }
                };
                fields.insert(field.as_str().into(), value);
            }
        }
        Act::Hold
        | Act::Transfer
        | Act::FacilityAccess
        | Act::OfficeSpace
        | Act::CourthouseArrest
        | Act::Agreement287g => return None,
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use comity_model::{ActDecision, Limit, PackRef, Reason};

    use super::*;

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

    fn act(act: Act, outcome: Outcome, notice: &[&str]) -> ActDecision {
        let reason = Arc::new(Reason {
            rule: "r".into(),
            pack: "p".into(),
            citation: "c".into(),
            summary: "s".into(),
            facts: Default::default(),
            caution: None,
        });
        let limits = if notice.is_empty() {
            vec![]
        } else {
            vec![Limit {
                hold_until: None,
                binding: false,
                notice: notice.iter().map(|s| s.to_string()).collect(),
                approval: None,
                rule: "ca-release-notice-to-person-and-counsel".into(),
                pack: "p".into(),
                citation: "Cal. Gov. Code § 7283.1(b)".into(),
            }]
        };
        ActDecision {
            act,
            outcome,
            reasons: vec![reason],
            met: vec![],
            limits,
            instruction: None,
        }
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
        let summary: Vec<(Act, DeliveryKind, &str)> = d
            .iter()
            .map(|d| (d.act, d.kind, d.recipient.as_str()))
            .collect();
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
}
