//! What the ledger permits a dispatcher to send: a delivery goes out only if the ledger holds
//! the decision that permits exactly its act, every approval that permit names, and the
//! delivery is exactly what that decision and the request as recorded determine (its
//! recipient, kind, subject and payload derived again, not read from the outbox row).

use std::collections::HashMap;

use comity_model::{ActDecision, AgencyKind, Decision, Outcome, Request};
use sqlx::Row;

use crate::Finding;
use crate::entry::{EntryKind, decision_in_entry, sha256_hex};
use crate::outbox::{Delivery, delivery};
use crate::record::NewDelivery;
use crate::{DeliveryKind, Store, StoreError};

/// Plans the deliveries a decision permits for a request (the service's planner): what an
/// outbox row is checked against.
pub type Planner = fn(&Request, &Decision) -> Vec<NewDelivery>;

/// The kind of agency a recipient is, as the configuration vouches for it (`None`: it does
/// not say).
pub type RecipientKinds<'a> = &'a (dyn Fn(&str) -> Option<AgencyKind> + Sync);

/// What the ledger says about a delivery's request and act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permit {
    /// The ledger entry, at this index, of a decision on exactly that request that permits or
    /// requires exactly that act.
    Granted(u64),
    /// There is no such entry; why.
    Refused(String),
}

/// A claimed delivery the ledger permits ([`Store::permitted_delivery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPermit {
    /// The ledger index of the decision that permits it.
    pub index: u64,
    /// For a notice to an assigned counsel, the id of the delivered disclosure it reports.
    pub reports: Option<String>,
}

/// A decision the ledger holds that permits or requires an act, with the request as
/// recorded (its SHA-256 checked against the entry).
#[derive(Debug, Clone)]
pub(crate) struct Permitted {
    /// The decision's ledger index.
    pub index: u64,
    /// The decision.
    pub decision: Decision,
    /// The request exactly as received.
    pub request: String,
    /// The approvals the act's permit names.
    pub approvals: Vec<String>,
}

/// A request's decision row, with the request, and the ledger entry and leaf it points at.
struct StoredDecision {
    index: u64,
    recorded_at: String,
    request_sha256: String,
    request: String,
    kind: String,
    body: String,
    leaf: String,
}

impl Store {
    /// Checks in the ledger itself that a decision permits `act` on `request_id`: the
    /// decision row's ledger entry must be a decision entry, hash to its stored leaf, agree
    /// with the decision and request rows (that request, whose body hashes to the SHA-256
    /// the entry records, and the time recorded), and decide that act exactly once, as
    /// permitted or required; and every approval that permit names must be in the ledger as
    /// given ([`Store::approval_granted`]).
    ///
    /// Notices ride on the act they belong to: a notice the act owes (to the person, to
    /// counsel), and a notice to a counsel assigned to the subject, are permitted exactly
    /// when the decision permits or requires that act; a notice owed whatever the outcome
    /// (`@owes_notice`) also when it forbids it.
    pub async fn permitting_entry(
        &self,
        request_id: &str,
        act: &str,
    ) -> Result<Permit, StoreError> {
        Ok(match self.permitted(request_id, act).await? {
            Ok(p) => match owed_only(&p, act, None) {
                Ok(()) => Permit::Granted(p.index),
                Err(why) => Permit::Refused(why),
            },
            Err(why) => Permit::Refused(why),
        })
    }

    /// Checks a claimed delivery against the ledger before it is sent: as
    /// [`Store::permitting_entry`] for its request and act, and, in addition, the row must be
    /// what the decision and the request as recorded determine, by `plan` (its id,
    /// recipient, kind, subject and payload, exactly), or a notice to a counsel assigned to
    /// the subject of a delivered disclosure so determined, carrying exactly that
    /// disclosure. A row edited after it was planned is refused, naming what differs. A
    /// disclosure goes only to an agency whose kind `kinds` (the configuration) vouches for,
    /// and only if that is the kind of recipient the decision was made for.
    ///
    /// Answers the permit, or why there is none.
    pub async fn permitted_delivery(
        &self,
        d: &Delivery,
        plan: Planner,
        kinds: RecipientKinds<'_>,
    ) -> Result<Result<DeliveryPermit, String>, StoreError> {
        let permitted = match self.permitted(&d.request_id, &d.act).await? {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        if let Err(why) = owed_only(&permitted, &d.act, Some(d)) {
            return Ok(Err(why));
        }
        if permitted.index != d.decision_index {
            return Ok(Err(format!(
                "the outbox row names ledger entry {} as its permit, but the decision on request {} is entry {}",
                d.decision_index, d.request_id, permitted.index
            )));
        }
        let (request, planned) = match planned(&permitted, plan) {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        let reports = match planned.iter().find(|p| p.id(&d.request_id) == d.id) {
            Some(p) => same(d, p)
                .and_then(|()| vouched(d, &request, kinds))
                .map(|()| None),
            None => self.counsel_notice(d, &planned).await?.map(Some),
        };
        Ok(reports.map(|reports| DeliveryPermit {
            index: permitted.index,
            reports,
        }))
    }

    /// The decision that permits `act` on `request_id`, with its request, every approval it
    /// names given; or why there is none.
    pub(crate) async fn permitted(
        &self,
        request_id: &str,
        act: &str,
    ) -> Result<Result<Permitted, String>, StoreError> {
        let permitted = match self.permitted_decision(request_id, act).await? {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        for approval in &permitted.approvals {
            if let Err(why) = self.approval_granted(request_id, act, approval).await? {
                return Ok(Err(why));
            }
        }
        Ok(Ok(permitted))
    }

    /// The decision that permits `act` on `request_id`, with its request, whether or not its
    /// approvals are given yet; or why there is none.
    pub(crate) async fn permitted_decision(
        &self,
        request_id: &str,
        act: &str,
    ) -> Result<Result<Permitted, String>, StoreError> {
        Ok(match self.stored_decision(request_id).await? {
            Some(stored) => stored.decides(request_id, act),
            None => Err(format!(
                "no decision on request {request_id} is in the ledger"
            )),
        })
    }

    /// The decision the ledger holds on `request_id`, checked as a permit's is (the entry a
    /// decision entry that says what its rows say and hashes to its leaf): `None` when no
    /// decision on it is recorded, else the decision or why it cannot be trusted.
    pub(crate) async fn recorded_decision(
        &self,
        request_id: &str,
    ) -> Result<Option<Result<Decision, String>>, StoreError> {
        Ok(self
            .stored_decision(request_id)
            .await?
            .map(|stored| stored.authentic_decision(request_id)))
    }

    /// A request's decision row, its request and the entry and leaf the row points at.
    async fn stored_decision(
        &self,
        request_id: &str,
    ) -> Result<Option<StoredDecision>, StoreError> {
        Ok(self
            .stored_decisions(&[request_id])
            .await?
            .remove(request_id))
    }

    /// [`Store::stored_decision`] of each of `request_ids` that has one, by request, in one
    /// query.
    async fn stored_decisions(
        &self,
        request_ids: &[&str],
    ) -> Result<HashMap<String, StoredDecision>, StoreError> {
        let rows = self
            .backend
            .query_in(
                "SELECT d.request_id, d.ledger_index, d.recorded_at, r.sha256, r.body, \
                    COALESCE(e.kind, ''), COALESCE(e.body, ''), COALESCE(n.hash, '') \
                 FROM decisions d JOIN requests r ON r.id = d.request_id \
                 LEFT JOIN ledger_entries e ON e.idx = d.ledger_index \
                 LEFT JOIN ledger_nodes n ON n.id = d.ledger_index \
                 WHERE d.request_id IN (…)",
                request_ids.iter().copied(),
            )
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| {
                let stored = StoredDecision {
                    index: row.get::<i64, _>(1) as u64,
                    recorded_at: row.get(2),
                    request_sha256: row.get(3),
                    request: row.get(4),
                    kind: row.get(5),
                    body: row.get(6),
                    leaf: row.get(7),
                };
                (row.get(0), stored)
            })
            .collect())
    }

    /// Whether `d`, not a planned delivery, is the notice an assigned counsel is owed for a
    /// planned disclosure that was delivered, carrying exactly that disclosure: answers that
    /// disclosure's id.
    async fn counsel_notice(
        &self,
        d: &Delivery,
        planned: &[NewDelivery],
    ) -> Result<Result<String, String>, StoreError> {
        let (counsel, source, disclosure) = match reported_disclosure(d, planned) {
            Ok(reported) => reported,
            Err(why) => return Ok(Err(why)),
        };
        if !self.is_assigned(counsel, &source.subject_id).await? {
            return Ok(Err(format!(
                "{counsel} is not assigned to the disclosure's subject"
            )));
        }
        let delivered = sqlx::query("SELECT status FROM outbox WHERE id = $1")
            .bind(&disclosure)
            .fetch_optional(&self.pool)
            .await?
            .is_some_and(|r| r.get::<String, _>(0) == "delivered");
        Ok(if delivered {
            Ok(disclosure)
        } else {
            Err(format!(
                "the disclosure {disclosure} it reports was not delivered"
            ))
        })
    }
}

/// Every member of a counsel notice's payload (`outbox::counsel_notice` writes them).
const COUNSEL_NOTICE_KEYS: [&str; 8] = [
    "act",
    "disclosed",
    "disclosed_at",
    "disclosed_to",
    "disclosure",
    "notice_to",
    "request",
    "subject",
];

/// The counsel notice `d` is to, the planned disclosure it reports and that disclosure's
/// id, when `d` carries exactly what the ledger determines of that disclosure; else why not.
fn reported_disclosure<'d, 'p>(
    d: &'d Delivery,
    planned: &'p [NewDelivery],
) -> Result<(&'d str, &'p NewDelivery, String), String> {
    let not_planned = || {
        format!(
            "it is not a delivery the decision on request {} determines",
            d.request_id
        )
    };
    let counsel = d
        .recipient
        .strip_prefix("counsel:")
        .ok_or_else(not_planned)?;
    let payload = serde_json::from_str::<serde_json::Value>(&d.payload)
        .map_err(|_| "its payload is not JSON".to_owned())?;
    // What a notice carries is law too: nothing beyond what it reports.
    if let Some(extra) = payload
        .as_object()
        .ok_or_else(|| "its payload is not a JSON object".to_owned())?
        .keys()
        .find(|k| !COUNSEL_NOTICE_KEYS.contains(&k.as_str()))
    {
        return Err(format!(
            "it carries `{extra}`, which a counsel notice does not"
        ));
    }
    let disclosure = payload["disclosure"].as_str().unwrap_or_default();
    let source = planned
        .iter()
        .find(|p| p.kind == DeliveryKind::Disclosure && p.id(&d.request_id) == disclosure)
        .ok_or_else(not_planned)?;
    let expected = [
        ("request", serde_json::Value::from(d.request_id.as_str())),
        ("act", source.act.as_str().into()),
        ("notice_to", d.recipient.as_str().into()),
        ("subject", source.subject_id.as_str().into()),
        ("disclosed_to", source.recipient.as_str().into()),
        ("disclosed", source.payload.clone()),
    ];
    if let Some((key, _)) = expected.iter().find(|(key, value)| payload[*key] != *value) {
        return Err(format!(
            "its `{key}` differs from what the ledger determines"
        ));
    }
    if d.kind != DeliveryKind::Notice.as_str()
        || d.id != crate::outbox::delivery_id(&d.request_id, source.act.as_str(), &d.recipient)
        || d.act != source.act.as_str()
        || d.subject_id != source.subject_id
    {
        return Err(
            "its id, kind, act or subject differs from the disclosure it reports".to_owned(),
        );
    }
    Ok((counsel, source, disclosure.to_owned()))
}

impl Store {
    /// Checks every approval against the ledger ([`Store::verify_approvals`]), then every
    /// outbox row, as the dispatcher checks a row before sending it: each must be what its request's permitting decision and the request as
    /// recorded determine (by `plan`), or an assigned counsel's notice of such a disclosure
    /// delivered; a row delivered must have had every approval its permit names. Rows the
    /// dispatcher refused are skipped: their refusal, and why, is in the ledger. Returns the
    /// rows checked, or the first that disagrees.
    pub async fn verify_outbox(&self, plan: Planner) -> Result<Result<u64, Finding>, StoreError> {
        if let Err(finding) = self.verify_approvals().await? {
            return Ok(Err(finding));
        }
        let mut checked = 0;
        // A page at a time, by key (memory stays that of a page, however long the outbox).
        let mut after = (String::new(), String::new());
        loop {
            let rows = sqlx::query(
                "SELECT id, request_id, act, kind, recipient, subject_id, decision_index, payload, \
                    attempts, status FROM outbox WHERE status <> 'refused' \
                    AND (request_id > $1 OR (request_id = $1 AND id > $2)) \
                 ORDER BY request_id, id LIMIT $3",
            )
            .bind(after.0.as_str())
            .bind(after.1.as_str())
            .bind(OUTBOX_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(Ok(checked));
            };
            after = (last.get(1), last.get(0));
            match self.verify_outbox_rows(&rows, plan).await? {
                Ok(n) => checked += n,
                Err(finding) => return Ok(Err(finding)),
            }
        }
    }

    /// Checks a page of outbox rows as [`Store::verify_outbox`] says; answers how many. The
    /// page's decisions are read in one query, and each request's decision is checked, read
    /// and planned once for all its rows.
    async fn verify_outbox_rows(
        &self,
        rows: &[sqlx::any::AnyRow],
        plan: Planner,
    ) -> Result<Result<u64, Finding>, StoreError> {
        let deliveries: Vec<(Delivery, String)> =
            rows.iter().map(|r| (delivery(r, ""), r.get(9))).collect();
        let mut ids: Vec<&str> = deliveries
            .iter()
            .map(|(d, _)| d.request_id.as_str())
            .collect();
        ids.dedup();
        let mut stored = self.stored_decisions(&ids).await?;
        let mut permits: HashMap<&str, Result<Permitted, String>> = HashMap::new();
        let mut plans: HashMap<&str, Result<Vec<NewDelivery>, String>> = HashMap::new();
        let mut checked = 0;
        for (d, status) in &deliveries {
            let fault = |what: String| {
                Ok(Err(Finding {
                    index: Some(d.decision_index),
                    what: format!("outbox row {}: {what}", d.id),
                }))
            };
            let rid = d.request_id.as_str();
            let permitted = permits
                .entry(rid)
                .or_insert_with(|| match stored.remove(rid) {
                    Some(s) => s.permit(rid),
                    None => Err(format!("no decision on request {rid} is in the ledger")),
                });
            let permitted = match permitted {
                Ok(p) => &*p,
                Err(why) => return fault(why.clone()),
            };
            let approvals = match approvals_for(&permitted.decision, rid, &d.act, permitted.index) {
                Ok(a) => a,
                Err(why) => return fault(why),
            };
            if let Err(why) = owed_only(permitted, &d.act, Some(d)) {
                return fault(why);
            }
            if permitted.index != d.decision_index {
                return fault(format!(
                    "it names ledger entry {} as its permit, but the decision on request {} is entry {}",
                    d.decision_index, d.request_id, permitted.index
                ));
            }
            if status == "delivered" {
                for approval in &approvals {
                    if let Err(why) = self.approval_granted(rid, &d.act, approval).await? {
                        return fault(format!("delivered, but {why}"));
                    }
                }
            }
            let planned = plans
                .entry(rid)
                .or_insert_with(|| planned(permitted, plan).map(|(_, p)| p));
            let planned = match planned {
                Ok(p) => &*p,
                Err(why) => return fault(why.clone()),
            };
            let bound = match planned.iter().find(|p| p.id(rid) == d.id) {
                Some(p) => same(d, p),
                None => self.counsel_notice(d, planned).await?.map(drop),
            };
            if let Err(why) = bound {
                return fault(why);
            }
            checked += 1;
        }
        Ok(Ok(checked))
    }
}

/// Outbox rows `verify` reads at once.
const OUTBOX_PAGE: i64 = 2000;

/// The request as recorded, and the deliveries the permitting decision determines for it.
pub(crate) fn planned(
    permitted: &Permitted,
    plan: Planner,
) -> Result<(Request, Vec<NewDelivery>), String> {
    let request = Request::from_json(&permitted.request).map_err(|e| {
        format!(
            "the request recorded for ledger entry {} no longer reads as a request: {e}",
            permitted.index
        )
    })?;
    let planned = plan(&request, &permitted.decision);
    Ok((request, planned))
}

/// Whether a disclosure goes to an agency of the kind its decision was made for: the kind
/// the configuration vouches for (`kinds`) must be the recipient's kind the request stated.
fn vouched(d: &Delivery, request: &Request, kinds: RecipientKinds) -> Result<(), String> {
    if d.kind != DeliveryKind::Disclosure.as_str() {
        return Ok(());
    }
    let stated = request.recipient().kind;
    match kinds(&d.recipient) {
        None => Err(format!(
            "the configuration does not say what kind of agency `{}` is: a disclosure goes only to an agency whose kind it vouches for",
            d.recipient
        )),
        Some(kind) if kind != stated => Err(format!(
            "`{}` is a {kind} agency by the configuration, but the decision was made for a {stated} recipient",
            d.recipient
        )),
        Some(_) => Ok(()),
    }
}

/// Whether an outbox row is exactly the planned delivery `p`.
pub(crate) fn same(d: &Delivery, p: &NewDelivery) -> Result<(), String> {
    let payload: Option<serde_json::Value> = serde_json::from_str(&d.payload).ok();
    let differs = [
        ("act", d.act != p.act.as_str()),
        ("kind", d.kind != p.kind.as_str()),
        ("recipient", d.recipient != p.recipient),
        ("subject", d.subject_id != p.subject_id),
        ("payload", payload.as_ref() != Some(&p.payload)),
    ];
    match differs.iter().find(|(_, differs)| *differs) {
        Some((field, _)) => Err(format!(
            "its {field} differs from what the ledger determines"
        )),
        None => Ok(()),
    }
}

impl StoredDecision {
    /// What the entry says of `act` on `request_id`, if the entry is the decision its rows
    /// say it is and the request hashes to what it records: the decision when it permits or
    /// requires the act; else why not.
    fn decides(self, request_id: &str, act: &str) -> Result<Permitted, String> {
        let mut permitted = self.permit(request_id)?;
        permitted.approvals = approvals_for(&permitted.decision, request_id, act, permitted.index)?;
        Ok(permitted)
    }

    /// The authentic decision, with its request, naming no approvals yet (those are of an
    /// act: [`approvals_for`]).
    fn permit(self, request_id: &str) -> Result<Permitted, String> {
        let decision = self.authentic_decision(request_id)?;
        Ok(Permitted {
            index: self.index,
            decision,
            request: self.request,
            approvals: Vec::new(),
        })
    }

    /// The decision the entry holds, if the entry is a decision entry, says what its rows
    /// say, hashes to its leaf, and records the SHA-256 of the request stored.
    fn authentic_decision(&self, request_id: &str) -> Result<Decision, String> {
        let index = self.index;
        if self.kind != EntryKind::Decision.as_str() {
            return Err(format!(
                "the decision on request {request_id} points at ledger entry {index}, which is not a decision entry"
            ));
        }
        let sha = &self.request_sha256;
        let Some(decision) = decision_in_entry(&self.body, &self.recorded_at, request_id, sha)
        else {
            return Err(format!(
                "the decision row of request {request_id} differs from its ledger entry {index}"
            ));
        };
        if self.leaf != comity_ledger::to_hex(&comity_ledger::leaf_hash(self.body.as_bytes())) {
            return Err(format!(
                "ledger entry {index} no longer hashes to its leaf in the tree"
            ));
        }
        if sha256_hex(self.request.as_bytes()) != *sha {
            return Err(format!(
                "request {request_id} no longer matches the SHA-256 its entry {index} records"
            ));
        }
        serde_json::from_str(decision)
            .map_err(|e| format!("ledger entry {index} does not hold a decision: {e}"))
    }
}

/// A decision that forbids `act` permits only the notices the act owes whatever its outcome:
/// `delivery` must be one of them (a notice to one of those recipients); asked of the act
/// itself (`None`), a forbidden act is refused.
fn owed_only(permitted: &Permitted, act: &str, delivery: Option<&Delivery>) -> Result<(), String> {
    let Some(a) = permitted
        .decision
        .acts
        .iter()
        .find(|a| a.act.as_str() == act)
    else {
        return Ok(());
    };
    if a.outcome != Outcome::Forbidden {
        return Ok(());
    }
    let owed = delivery.is_some_and(|d| {
        d.kind == DeliveryKind::Notice.as_str()
            && a.limits.iter().any(|l| l.notice.contains(&d.recipient))
    });
    if owed {
        Ok(())
    } else {
        Err(format!(
            "the decision on request {} (ledger entry {}) finds `{act}` forbidden; it permits only the notices that act owes",
            permitted.decision.request, permitted.index
        ))
    }
}

/// The approvals `decision` on `request_id` (recorded at ledger `index`) needs before `act`
/// is carried out, when it decides `act` once and does not forbid it; else why not.
fn approvals_for(
    decision: &Decision,
    request_id: &str,
    act: &str,
    index: u64,
) -> Result<Vec<String>, String> {
    let decided: Vec<&ActDecision> = decision
        .acts
        .iter()
        .filter(|a| a.act.as_str() == act)
        .collect();
    match decided[..] {
        [] => Err(format!(
            "the decision on request {request_id} (ledger entry {index}) does not decide `{act}`"
        )),
        // A forbidden act permits only the notices it owes whatever its outcome: the plan
        // determines nothing else for it, and only what the plan determines is sent.
        [a] if a.outcome == Outcome::Forbidden && a.limits.iter().all(|l| l.notice.is_empty()) => {
            Err(format!(
                "the decision on request {request_id} (ledger entry {index}) finds `{act}` forbidden"
            ))
        }
        [a] if a.outcome == Outcome::Forbidden => Ok(Vec::new()),
        [a] => {
            let mut approvals: Vec<String> =
                a.limits.iter().filter_map(|l| l.approval.clone()).collect();
            approvals.sort();
            approvals.dedup();
            Ok(approvals)
        }
        _ => Err(format!(
            "the decision on request {request_id} (ledger entry {index}) decides `{act}` more than once"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::DeliveryKind;

    fn disclosure() -> NewDelivery {
        NewDelivery {
            act: comity_model::Act::NotifyRelease,
            kind: DeliveryKind::Disclosure,
            recipient: "DHS-ICE-ERO".into(),
            subject_id: "p-1".into(),
            payload: serde_json::json!({ "release_at": "2019-03-04T10:00:00-05:00" }),
            awaiting_approval: false,
        }
    }

    fn notice(payload: serde_json::Value) -> Delivery {
        Delivery {
            id: "r-1/notify-release/counsel:aid".into(),
            request_id: "r-1".into(),
            act: "notify-release".into(),
            kind: "notice".into(),
            recipient: "counsel:aid".into(),
            subject_id: "p-1".into(),
            decision_index: 0,
            payload: payload.to_string(),
            attempts: 0,
            claim: String::new(),
        }
    }

    fn payload() -> serde_json::Value {
        serde_json::json!({
            "request": "r-1",
            "act": "notify-release",
            "notice_to": "counsel:aid",
            "subject": "p-1",
            "disclosure": "r-1/notify-release/DHS-ICE-ERO",
            "disclosed_to": "DHS-ICE-ERO",
            "disclosed_at": "2026-12-05T10:00:00Z",
            "disclosed": { "release_at": "2019-03-04T10:00:00-05:00" },
        })
    }

    #[test]
    fn a_counsel_notice_carries_exactly_what_it_reports() {
        let planned = [disclosure()];
        let good = notice(payload());
        let (counsel, _, reported) = reported_disclosure(&good, &planned).unwrap();
        assert_eq!(
            (counsel, reported.as_str()),
            ("aid", "r-1/notify-release/DHS-ICE-ERO")
        );

        let mut extra = payload();
        extra["address"] = "1 Synthetic Way".into();
        let why = reported_disclosure(&notice(extra), &planned).unwrap_err();
        assert!(why.contains("`address`"), "{why}");

        let mut changed = payload();
        changed["disclosed"]["release_at"] = "2019-03-05T10:00:00-05:00".into();
        let why = reported_disclosure(&notice(changed), &planned).unwrap_err();
        assert!(why.contains("`disclosed` differs"), "{why}");

        let why = reported_disclosure(&notice(serde_json::json!([1])), &planned).unwrap_err();
        assert!(why.contains("not a JSON object"), "{why}");
    }
}
