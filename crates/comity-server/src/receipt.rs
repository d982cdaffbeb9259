//! A receipt counsel can take to court: for one disclosure or notice about a person, the
//! ledger entry of the decision that permitted it, that entry's inclusion proof, and the
//! signed checkpoint the proof leads to, in one JSON file (`docs/formats.md`, "Receipt").
//!
//! Anyone holding the ledger's public key checks it offline ([`Receipt::check`], `comity
//! audit check-receipt`, or the console's page, in the browser): the checkpoint is signed by
//! the key, the entry is in the checkpoint's tree, and the entry records a decision on the
//! receipt's request that permits (or requires) the receipt's act. Where the delivery stands
//! (`status`) is as the server stated it when the receipt was made; it is not proven.

use comity_ledger::{NoteVerifier, from_hex, leaf_hash, open_checkpoint, to_hex, verify_inclusion};
use comity_model::{Act, Outcome};
use comity_store::{DecisionEntry, DeliveryAbout, SignedCheckpoint, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::http::audit::Proof;

/// The receipt format this module writes and reads.
pub const RECEIPT_FORMAT: &str = "comity-receipt/1";

/// A receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// [`RECEIPT_FORMAT`].
    pub format: String,
    /// The disclosure or notice.
    pub delivery: ReceiptDelivery,
    /// The ledger entry of the decision that permits it.
    pub entry: ReceiptEntry,
    /// The entry's inclusion proof in the tree of the checkpoint's size.
    pub proof: Proof,
    /// The signed checkpoint (C2SP tlog-checkpoint in a signed note).
    pub checkpoint: String,
}

/// The delivery a receipt is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptDelivery {
    /// Its id: `<request>/<act>/<recipient>`.
    pub id: String,
    /// The request it answers.
    pub request: String,
    /// The act it carries out.
    pub act: Act,
    /// `disclosure` or `notice`.
    pub kind: String,
    /// Who receives it.
    pub recipient: String,
    /// Where it stood when the receipt was made, as the server stated it.
    pub status: String,
    /// When it was planned.
    pub planned_at: String,
}

/// A ledger entry, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    /// Its leaf index.
    pub index: u64,
    /// Its bytes, as UTF-8 text.
    pub text: String,
}

/// What a receipt that holds proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The checkpoint's origin (the log's name).
    pub origin: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The entry's index.
    pub index: u64,
    /// The request.
    pub request: String,
    /// The act, and its outcome in the decision.
    pub act: Act,
    /// Its outcome in the decision: permitted or required, or forbidden for a notice the act
    /// owes whatever its outcome.
    pub outcome: Outcome,
}

/// Why a receipt does not hold.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReceiptError {
    /// Not a receipt of this format.
    #[error("not a comity receipt: {0}")]
    Format(String),
    /// The checkpoint is not signed by the key, or does not parse.
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
    /// The proof is not for the checkpoint's tree, or does not lead to its root.
    #[error("the inclusion proof: {0}")]
    Proof(String),
    /// The entry does not record a decision permitting the delivery.
    #[error("the entry: {0}")]
    Entry(String),
}

/// Why a receipt could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What the store holds does not make a receipt (an entry missing, a row that names no act).
    #[error("{0}")]
    Inconsistent(String),
    /// No signed checkpoint covers the entry yet.
    #[error(
        "no signed checkpoint covers ledger entry {index} yet (the latest covers {size} entries)"
    )]
    NotYet {
        /// The entry.
        index: u64,
        /// The size of the latest signed checkpoint (0: none).
        size: u64,
    },
}

impl Receipt {
    /// The receipt of `delivery`: the entry of the decision that permits it, proven in the
    /// tree of `checkpoint`, which must cover it.
    pub async fn make(
        store: &Store,
        delivery: DeliveryAbout,
        checkpoint: SignedCheckpoint,
    ) -> Result<Receipt, MakeError> {
        let index = delivery.decision_index;
        if checkpoint.size <= index {
            return Err(MakeError::NotYet {
                index,
                size: checkpoint.size,
            });
        }
        let text = store
            .entry(index)
            .await?
            .ok_or_else(|| MakeError::Inconsistent(format!("ledger entry {index} is missing")))?;
        let p = store.inclusion_proof(index, Some(checkpoint.size)).await?;
        let d = delivery.status;
        let act = d.act.parse().map_err(|e| {
            MakeError::Inconsistent(format!("delivery `{}` names no act: {e}", d.id))
        })?;
        Ok(Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            delivery: ReceiptDelivery {
                id: d.id,
                request: delivery.request,
                act,
                kind: d.kind,
                recipient: d.recipient,
                status: d.status,
                planned_at: delivery.created_at,
            },
            entry: ReceiptEntry { index, text },
            proof: Proof {
                leaf_index: p.leaf_index,
                tree_size: p.tree_size,
                leaf_hash: to_hex(&p.leaf_hash),
                hashes: p.hashes.iter().map(to_hex).collect(),
                root: to_hex(&p.root),
            },
            checkpoint: checkpoint.note,
        })
    }

    /// Reads a receipt from its JSON text.
    pub fn from_json(text: &str) -> Result<Receipt, ReceiptError> {
        let receipt: Receipt =
            serde_json::from_str(text).map_err(|e| ReceiptError::Format(e.to_string()))?;
        if receipt.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format(format!(
                "format `{}`, not `{RECEIPT_FORMAT}`",
                receipt.format
            )));
        }
        Ok(receipt)
    }

    /// Reads a receipt from a receipt file, or from a notice to counsel as it arrived (the
    /// envelope the dispatcher sends, whose `receipt` member is the receipt of what the
    /// notice tells of: of the same request and act).
    pub fn read(text: &str) -> Result<Receipt, ReceiptError> {
        #[derive(Deserialize)]
        struct Notice {
            delivery: String,
            request: String,
            act: Act,
            receipt: Option<Box<serde_json::value::RawValue>>,
        }
        let Ok(Notice {
            delivery,
            request,
            act,
            receipt: Some(receipt),
        }) = serde_json::from_str::<Notice>(text)
        else {
            return Receipt::from_json(text);
        };
        let receipt = Receipt::from_json(receipt.get())?;
        if receipt.delivery.request != request || receipt.delivery.act != act {
            return Err(ReceiptError::Format(format!(
                "the notice `{delivery}` carries the receipt of `{}`, another request or act",
                receipt.delivery.id
            )));
        }
        Ok(receipt)
    }

    /// Checks the receipt against the ledger's public key, offline.
    pub fn check(&self, verifier: &NoteVerifier) -> Result<Checked, ReceiptError> {
        let checkpoint = open_checkpoint(&self.checkpoint, verifier)
            .map_err(|e| ReceiptError::Checkpoint(e.to_string()))?;
        // comity's key is named for its log: a checkpoint of another log signed with a key
        // used for both is not this log's.
        if checkpoint.origin != verifier.name() {
            return Err(ReceiptError::Checkpoint(format!(
                "it is of the log `{}`, not `{}`",
                checkpoint.origin,
                verifier.name()
            )));
        }
        let (proof, entry) = (&self.proof, &self.entry);
        if proof.tree_size != checkpoint.size {
            return Err(ReceiptError::Proof(format!(
                "it is for a tree of {} entries, the checkpoint's has {}",
                proof.tree_size, checkpoint.size
            )));
        }
        if proof.leaf_index != entry.index {
            return Err(ReceiptError::Proof(format!(
                "it is for entry {}, the receipt's entry is {}",
                proof.leaf_index, entry.index
            )));
        }
        let leaf = leaf_hash(entry.text.as_bytes());
        let hashes = proof
            .hashes
            .iter()
            .map(|h| from_hex(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ReceiptError::Proof(e.to_string()))?;
        verify_inclusion(
            &leaf,
            entry.index,
            checkpoint.size,
            &hashes,
            &checkpoint.root,
        )
        .map_err(|e| {
            ReceiptError::Proof(format!(
                "entry {} (leaf hash {}) is not in the checkpoint's tree: {e}",
                entry.index,
                to_hex(&leaf)
            ))
        })?;
        // What the receipt states, it must state truly: the hashes it carries and its id.
        if proof.leaf_hash != to_hex(&leaf) || proof.root != to_hex(&checkpoint.root) {
            return Err(ReceiptError::Proof(
                "its stated leaf hash or root is not the entry's or the checkpoint's".into(),
            ));
        }
        let d = &self.delivery;
        if d.id != comity_store::delivery_id(&d.request, d.act.as_str(), &d.recipient) {
            return Err(ReceiptError::Format(format!(
                "the delivery's id `{}` is not that of its request, act and recipient",
                d.id
            )));
        }
        let outcome = self.permits()?;
        Ok(Checked {
            origin: checkpoint.origin,
            size: checkpoint.size,
            index: entry.index,
            request: self.delivery.request.clone(),
            act: self.delivery.act,
            outcome,
        })
    }

    /// The outcome of the delivery's act in the entry's decision, when it permits or
    /// requires it.
    fn permits(&self) -> Result<Outcome, ReceiptError> {
        let d = &self.delivery;
        let entry = DecisionEntry::read(&self.entry.text)
            .map_err(|e| ReceiptError::Entry(format!("not a decision entry: {e}")))?;
        if entry.request != d.request {
            return Err(ReceiptError::Entry(format!(
                "it records the decision on request `{}`, not on `{}`",
                entry.request, d.request
            )));
        }
        match entry.decision.acts.iter().find(|a| a.act == d.act) {
            Some(a) if a.outcome != Outcome::Forbidden => Ok(a.outcome),
            // A notice the act owes whatever its outcome (to the person, to counsel).
            Some(a)
                if d.kind == "notice"
                    && a.limits.iter().any(|l| l.notice.contains(&d.recipient)) =>
            {
                Ok(a.outcome)
            }
            Some(_) => Err(ReceiptError::Entry(format!(
                "the decision forbids `{}`, and owes no notice of it to `{}`",
                d.act, d.recipient
            ))),
            None => Err(ReceiptError::Entry(format!(
                "the decision does not decide `{}`",
                d.act
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receipt whose entry is a decision forbidding `notify-release` that owes notice of
    /// it to the person (its proof and checkpoint are not read by `permits`).
    fn receipt(kind: &str, recipient: &str) -> Receipt {
        let decision = serde_json::json!({
            "request": "r-1",
            "at": "2019-03-02T14:05:00-05:00",
            "packs": [],
            "acts": [{
                "act": "notify-release",
                "outcome": "forbidden",
                "reasons": [],
                "limits": [{ "notice": ["subject"], "rule": "r", "pack": "p", "citation": "c" }],
            }],
        });
        let entry = serde_json::json!({
            "decision": decision, "kind": "decision", "recorded_at": "2019-03-02T19:05:00Z",
            "request": "r-1", "request_sha256": "00",
        });
        Receipt {
            format: RECEIPT_FORMAT.into(),
            delivery: ReceiptDelivery {
                id: comity_store::delivery_id("r-1", "notify-release", recipient),
                request: "r-1".into(),
                act: Act::NotifyRelease,
                kind: kind.into(),
                recipient: recipient.into(),
                status: "pending".into(),
                planned_at: String::new(),
            },
            entry: ReceiptEntry {
                index: 0,
                text: entry.to_string(),
            },
            proof: Proof {
                leaf_index: 0,
                tree_size: 1,
                leaf_hash: String::new(),
                hashes: Vec::new(),
                root: String::new(),
            },
            checkpoint: String::new(),
        }
    }

    #[test]
    fn a_notice_owed_on_a_forbidden_act_has_a_receipt_and_a_disclosure_has_none() {
        assert_eq!(
            receipt("notice", "subject").permits().unwrap(),
            Outcome::Forbidden
        );
        let why = receipt("disclosure", "DHS-ICE-ERO").permits().unwrap_err();
        assert!(
            why.to_string().contains("forbids `notify-release`"),
            "{why}"
        );
        assert!(receipt("notice", "counsel").permits().is_err());
    }
}
