//! Approvals: a permitted act whose permit names an approval (the privacy officer's, NYC
//! Admin. Code § 23-1202(c)) is carried out only after it. Its deliveries wait in the outbox
//! (`awaiting-approval`); an approval or a refusal is recorded as a ledger entry (kind
//! `approval`) with a row pointing at it, in the transaction that releases the act's
//! deliveries to the dispatcher (or refuses them). The dispatcher checks the entry itself
//! before sending ([`Store::permitting_entry`]), as it checks the permit.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::Finding;
use crate::entry::EntryKind;
use crate::ledger::Appender;
use crate::outbox::{AWAITING_APPROVAL, delivery_entries, delivery_entry};
use crate::{Store, StoreError};

comity_model::words! {
    /// What an approver decided: the word stored and hashed.
    pub enum Verdict: "verdict" {
        /// The act may be carried out.
        Approved = "approved",
        /// It may not: its deliveries are refused.
        Refused = "refused",
    }
}

/// An approval or refusal to record.
#[derive(Debug, Clone, Copy)]
pub struct NewApproval<'a> {
    /// The delivery it was asked on; it decides that delivery's act on its request.
    pub delivery: &'a str,
    /// Whose approval it is (e.g. `privacy-officer`); may be left out when the act needs
    /// exactly one.
    pub approval: Option<&'a str>,
    /// Approved or refused.
    pub verdict: Verdict,
    /// Who decided, as the authority knows them (a token's name and role).
    pub by: &'a str,
}

/// An approval as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// The request.
    pub request_id: String,
    /// The act approved or refused.
    pub act: String,
    /// Whose approval.
    pub approval: String,
    /// Approved or refused.
    pub verdict: Verdict,
    /// Who decided.
    pub by: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// Its ledger entry.
    pub ledger_index: u64,
    /// The act's deliveries it released to the dispatcher (approved, every approval the act
    /// needs given) or refused.
    pub deliveries: u64,
}

/// Why an approval was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No delivery has that id.
    #[error("no delivery `{0}`")]
    UnknownDelivery(String),
    /// The ledger holds no decision permitting the delivery's act.
    #[error("{0}")]
    NotPermitted(String),
    /// The act's permit names no approval.
    #[error("`{act}` on request {request} needs no approval")]
    NotNeeded {
        /// The request.
        request: String,
        /// The act.
        act: String,
    },
    /// The approval named is not one the act needs, or none was named and it needs several.
    #[error("the act needs the approval of {}; `{given}` is not one of them", needed.join(", "))]
    NotAsked {
        /// What was named (empty: nothing).
        given: String,
        /// What the act needs.
        needed: Vec<String>,
    },
    /// That approval was already given or refused; it is not decided twice.
    #[error("the {approval} already {} `{act}` on request {request} ({by})", verdict.as_str())]
    AlreadyDecided {
        /// The request.
        request: String,
        /// The act.
        act: String,
        /// Whose approval.
        approval: String,
        /// What was decided.
        verdict: Verdict,
        /// By whom.
        by: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The entry recording an approval or refusal: `{"act":…,"approval":…,"at":…,"by":…,
/// "decision":…,"delivery":…,"kind":"approval","request":…}`, keys in JCS order.
pub fn approval_entry(
    request: &str,
    act: &str,
    approval: &str,
    verdict: &str,
    by: &str,
    delivery: &str,
    at: &str,
) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    format!(
        "{{\"act\":{},\"approval\":{},\"at\":{},\"by\":{},\"decision\":{},\"delivery\":{},\"kind\":\"approval\",\"request\":{}}}",
        s(act),
        s(approval),
        s(at),
        s(by),
        s(verdict),
        s(delivery),
        s(request)
    )
}

impl Store {
    /// Records an approval or a refusal of the act a delivery carries out, as a ledger entry,
    /// and in the same transaction releases the act's waiting deliveries (once every approval
    /// its permit names is given) or refuses them. Each approval is decided once.
    pub async fn decide_approval(
        &self,
        new: NewApproval<'_>,
    ) -> Result<ApprovalRecord, ApprovalError> {
        let (request, act, needed) = self.approvals_needed(new.delivery).await?;
        let approval = chosen(&request, &act, new.approval, &needed)?;
        let mut tx = self.begin_append().await?;
        if let Some((verdict, by)) = decided(&mut tx, &request, &act, &approval).await? {
            return Err(ApprovalError::AlreadyDecided {
                request,
                act,
                approval,
                verdict,
                by,
            });
        }
        let mut appender = Appender::start(&mut tx, self.backend, &self.nodes).await?;
        let at = jiff::Timestamp::now().to_string();
        let verdict = new.verdict.as_str();
        let entry = approval_entry(
            &request,
            &act,
            &approval,
            verdict,
            new.by,
            new.delivery,
            &at,
        );
        let index = appender.append(entry.as_bytes())?;
        // Before the release, which counts the approvals given.
        insert_approval(&mut tx, &new, &request, &act, &approval, &at, index).await?;
        let deliveries = release(&mut tx, &request, &act, &needed, new.verdict, new.by).await?;
        let entries = delivery_entries(vec![delivery_entry(
            index,
            EntryKind::Approval,
            entry,
            new.delivery,
        )]);
        self.commit_append(tx, appender, vec![entries]).await?;
        Ok(ApprovalRecord {
            request_id: request,
            act,
            approval,
            verdict: new.verdict,
            by: new.by.to_owned(),
            recorded_at: at,
            ledger_index: index,
            deliveries,
        })
    }

    /// The request and act of `delivery`, and the approvals its permit names (an act the
    /// ledger does not permit is refused).
    async fn approvals_needed(
        &self,
        delivery: &str,
    ) -> Result<(String, String, Vec<String>), ApprovalError> {
        let row = sqlx::query("SELECT request_id, act FROM outbox WHERE id = $1")
            .bind(delivery)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| ApprovalError::UnknownDelivery(delivery.to_owned()))?;
        let (request, act): (String, String) = (row.get(0), row.get(1));
        let needed = self
            .permitted_decision(&request, &act)
            .await?
            .map_err(ApprovalError::NotPermitted)?
            .approvals;
        Ok((request, act, needed))
    }

    /// Whether the ledger holds `approval` of `act` on `request_id` as given: its row's entry
    /// must be an approval entry that hashes to its leaf and says, of exactly that request,
    /// act and approval, `approved`. Else why not.
    pub(crate) async fn approval_granted(
        &self,
        request_id: &str,
        act: &str,
        approval: &str,
    ) -> Result<Result<(), String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let entries = entries_of(&mut conn, request_id, act, approval).await?;
        drop(conn);
        let entry = match decided_once(&entries, request_id, act, approval) {
            Ok(index) => index,
            Err(why) => return Ok(Err(why)),
        };
        let row = sqlx::query(
            "SELECT a.delivery, a.decision, a.decided_by, a.recorded_at, a.ledger_index, \
                COALESCE(e.kind, ''), COALESCE(e.body, ''), COALESCE(n.hash, '') \
             FROM approvals a \
             LEFT JOIN ledger_entries e ON e.idx = a.ledger_index \
             LEFT JOIN ledger_nodes n ON n.id = a.ledger_index \
             WHERE a.request_id = $1 AND a.act = $2 AND a.approval = $3",
        )
        .bind(request_id)
        .bind(act)
        .bind(approval)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Err(format!(
                "`{act}` on request {request_id} needs the approval of the {approval}, which the ledger does not hold"
            )));
        };
        let (delivery, verdict, by, at): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let index = row.get::<i64, _>(4);
        let (kind, body, leaf): (String, String, String) = (row.get(5), row.get(6), row.get(7));
        let expected = approval_entry(request_id, act, approval, &verdict, &by, &delivery, &at);
        Ok(
            if kind != EntryKind::Approval.as_str() || body != expected || entry != index as u64 {
                Err(format!(
                    "the approval row of `{act}` on request {request_id} differs from its ledger entry {index}"
                ))
            } else if leaf != comity_ledger::to_hex(&comity_ledger::leaf_hash(body.as_bytes())) {
                Err(format!(
                    "ledger entry {index} no longer hashes to its leaf in the tree"
                ))
            } else if verdict != Verdict::Approved.as_str() {
                Err(format!(
                    "the {approval} refused `{act}` on request {request_id} ({by}, ledger entry {index})"
                ))
            } else {
                Ok(())
            },
        )
    }
}

/// The index of the one entry (of `entries`: index, verdict, by) in which `approval` of
/// `act` on `request_id` was decided, when it was decided once and approved; else why not.
fn decided_once(
    entries: &[(u64, String, String)],
    request_id: &str,
    act: &str,
    approval: &str,
) -> Result<u64, String> {
    match entries {
        [] => Err(format!(
            "`{act}` on request {request_id} needs the approval of the {approval}, which the ledger does not hold"
        )),
        [(_, verdict, by)] if verdict != Verdict::Approved.as_str() => Err(format!(
            "the {approval} refused `{act}` on request {request_id} ({by})"
        )),
        [(index, ..)] => Ok(*index),
        more => {
            let indices: Vec<String> = more.iter().map(|(i, ..)| i.to_string()).collect();
            Err(format!(
                "the ledger holds {} decisions of the {approval} on `{act}` of request {request_id} (entries {}); an approval is decided once",
                more.len(),
                indices.join(", ")
            ))
        }
    }
}

impl Store {
    /// Checks every approval against the ledger: each approval entry has exactly one
    /// approvals row, pointing at it and saying what it says, and no approval is decided
    /// twice. Returns the approvals checked, or the first that does not hold.
    pub async fn verify_approvals(&self) -> Result<Result<u64, Finding>, StoreError> {
        let entries = sqlx::query(
            "SELECT idx, body FROM ledger_entries WHERE kind = 'approval' ORDER BY idx",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_index = self.approval_rows_as_entries().await?;
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            let index = e.get::<i64, _>(0) as u64;
            let body: String = e.get(1);
            let fault = |what: String| {
                Ok(Err(Finding {
                    index: Some(index),
                    what,
                }))
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) else {
                return fault("an approval entry that is not JSON".into());
            };
            let key = (
                json["request"].to_string(),
                json["act"].to_string(),
                json["approval"].to_string(),
            );
            if !seen.insert(key) {
                return fault(format!(
                    "a second decision of the {} on `{}` of request {}: an approval is decided once",
                    json["approval"], json["act"], json["request"]
                ));
            }
            match by_index.remove(&index) {
                Some(rebuilt) if rebuilt == body => {}
                Some(_) => return fault("its approvals row differs from the entry".into()),
                None => return fault("the approval entry has no approvals row".into()),
            }
        }
        if let Some(index) = by_index.keys().min() {
            return Ok(Err(Finding {
                index: Some(*index),
                what: "an approvals row points at a ledger entry that is not its approval".into(),
            }));
        }
        Ok(Ok(entries.len() as u64))
    }
}

impl Store {
    /// Every approvals row rebuilt into the entry it says records it, by that entry's index.
    async fn approval_rows_as_entries(&self) -> Result<HashMap<u64, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT request_id, act, approval, delivery, decision, decided_by, recorded_at, ledger_index FROM approvals",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let text = |i: usize| r.get::<String, _>(i);
                let rebuilt = approval_entry(
                    &text(0),
                    &text(1),
                    &text(2),
                    &text(4),
                    &text(5),
                    &text(3),
                    &text(6),
                );
                (r.get::<i64, _>(7) as u64, rebuilt)
            })
            .collect())
    }
}

/// The approval an approver decides: the one named, if the act needs it, or the act's only
/// one.
fn chosen(
    request: &str,
    act: &str,
    named: Option<&str>,
    needed: &[String],
) -> Result<String, ApprovalError> {
    if needed.is_empty() {
        return Err(ApprovalError::NotNeeded {
            request: request.to_owned(),
            act: act.to_owned(),
        });
    }
    match named {
        Some(a) if needed.iter().any(|n| n == a) => Ok(a.to_owned()),
        None if needed.len() == 1 => Ok(needed[0].clone()),
        other => Err(ApprovalError::NotAsked {
            given: other.unwrap_or_default().to_owned(),
            needed: needed.to_vec(),
        }),
    }
}

/// The approval entries the ledger holds for `approval` of `act` on `request`: each entry's
/// index and what it says (`approved` or `refused`) and who decided, in ledger order. The
/// ledger, not the approvals table, is what an approval is judged by: a row deleted or
/// edited does not undo an entry.
async fn entries_of(
    conn: &mut AnyConnection,
    request: &str,
    act: &str,
    approval: &str,
) -> Result<Vec<(u64, String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT idx, body FROM ledger_entries WHERE kind = 'approval' AND delivery IN \
            (SELECT id FROM outbox WHERE request_id = $1 AND act = $2) ORDER BY idx",
    )
    .bind(request)
    .bind(act)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let body: serde_json::Value = serde_json::from_str(&row.get::<String, _>(1))
            .map_err(|e| StoreError::Corrupt(format!("an approval entry is not JSON: {e}")))?;
        if body["approval"] == approval && body["request"] == request && body["act"] == act {
            let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
            out.push((row.get::<i64, _>(0) as u64, text("decision"), text("by")));
        }
    }
    Ok(out)
}

/// What was decided of an approval already, if anything: by the ledger's entries.
async fn decided(
    conn: &mut AnyConnection,
    request: &str,
    act: &str,
    approval: &str,
) -> Result<Option<(Verdict, String)>, StoreError> {
    let entries = entries_of(conn, request, act, approval).await?;
    let refused = entries
        .iter()
        .find(|(_, v, _)| v == Verdict::Refused.as_str());
    Ok(refused.or(entries.first()).map(|(_, verdict, by)| {
        let verdict = if verdict == Verdict::Approved.as_str() {
            Verdict::Approved
        } else {
            Verdict::Refused
        };
        (verdict, by.clone())
    }))
}

/// The approval row of `new`, recorded by the entry at `index`.
async fn insert_approval(
    conn: &mut AnyConnection,
    new: &NewApproval<'_>,
    request: &str,
    act: &str,
    approval: &str,
    at: &str,
    index: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO approvals (request_id, act, approval, delivery, decision, decided_by, \
            recorded_at, ledger_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(request)
    .bind(act)
    .bind(approval)
    .bind(new.delivery)
    .bind(new.verdict.as_str())
    .bind(new.by)
    .bind(at)
    .bind(index as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the act's waiting deliveries on: to the dispatcher when every approval in `needed`
/// is now given, to `refused` when one was refused. Returns how many moved.
async fn release(
    conn: &mut AnyConnection,
    request: &str,
    act: &str,
    needed: &[String],
    verdict: Verdict,
    by: &str,
) -> Result<u64, StoreError> {
    let moved = match verdict {
        Verdict::Refused => sqlx::query(
            "UPDATE outbox SET status = 'refused', last_error = $1 \
             WHERE request_id = $2 AND act = $3 AND status = $4",
        )
        .bind(format!("approval refused by {by}"))
        .bind(request)
        .bind(act)
        .bind(AWAITING_APPROVAL)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        Verdict::Approved => {
            let given: Vec<String> = sqlx::query(
                "SELECT approval FROM approvals WHERE request_id = $1 AND act = $2 AND decision = 'approved'",
            )
            .bind(request)
            .bind(act)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
            if !needed.iter().all(|n| given.contains(n)) {
                return Ok(0);
            }
            sqlx::query(
                "UPDATE outbox SET status = 'pending', next_at = 0 \
                 WHERE request_id = $1 AND act = $2 AND status = $3",
            )
            .bind(request)
            .bind(act)
            .bind(AWAITING_APPROVAL)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        }
    };
    Ok(moved)
}
