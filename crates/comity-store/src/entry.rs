//! Ledger entries: the canonical bytes that are hashed into the tree.
//!
//! An entry is an RFC 8785 (JCS) canonical JSON object. A decision entry holds the decision
//! (stored nowhere else) with the fields of the rows that point at it (the request's id and
//! SHA-256, the time it was recorded), so `audit verify` finds any row that no longer matches
//! its entry.

use comity_model::Decision;
use sha2::{Digest, Sha256};

comity_model::words! {
    /// What an entry records: the word stored and hashed.
    pub enum EntryKind: "entry kind" {
        /// A decision on a request.
        Decision = "decision",
        /// An attempt to deliver a permitted disclosure.
        DispatchAttempt = "dispatch-attempt",
        /// The result of a delivery.
        DispatchResult = "dispatch-result",
        /// A pack brought into use.
        PackLoaded = "pack-loaded",
        /// An approval (or refusal) of a permitted act whose permit names one.
        Approval = "approval",
        /// What an agency did on a request after it was decided.
        Event = "event",
    }
}

impl EntryKind {
    /// Whether an entry of this kind is about one outbox row (its `delivery`).
    pub fn is_about_a_delivery(self) -> bool {
        matches!(
            self,
            EntryKind::DispatchAttempt | EntryKind::DispatchResult | EntryKind::Approval
        )
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    comity_ledger::to_hex(&Sha256::digest(bytes).into())
}

/// A decision in RFC 8785 canonical JSON: the form embedded in its entry.
pub fn canonical_decision(decision: &Decision) -> String {
    serde_json_canonicalizer::to_string(decision).expect("decisions serialize")
}

/// What a decision entry holds before its decision.
pub(crate) const DECISION_OPENING: &str = "{\"decision\":";

/// What a decision entry holds after its decision: the fields its `decisions` and `requests`
/// rows also hold.
fn decision_closing(recorded_at: &str, request: &str, request_sha256: &str) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    format!(
        ",\"kind\":\"decision\",\"recorded_at\":{},\"request\":{},\"request_sha256\":{}}}",
        s(recorded_at),
        s(request),
        s(request_sha256)
    )
}

/// The entry of a decision: `{"decision":…,"kind":"decision","recorded_at":…,
/// "request":…,"request_sha256":…}` with keys in JCS order. `decision` must already be
/// canonical; the result then is too.
///
/// The entry is the only place the decision is stored: its `decisions` row holds the
/// request id, the time and the ledger index, which [`decision_in_entry`] checks against it.
pub fn decision_entry(
    decision: &str,
    recorded_at: &str,
    request: &str,
    request_sha256: &str,
) -> String {
    let closing = decision_closing(recorded_at, request, request_sha256);
    format!("{DECISION_OPENING}{decision}{closing}")
}

/// The length of [`decision_entry`]'s result, without building it (the decision is the bulk
/// of an entry, and need not be copied to be measured).
pub(crate) fn decision_entry_len(
    decision: &str,
    recorded_at: &str,
    request: &str,
    request_sha256: &str,
) -> usize {
    DECISION_OPENING.len()
        + decision.len()
        + decision_closing(recorded_at, request, request_sha256).len()
}

/// The decision a decision entry records, if `entry` is exactly the entry of a decision on
/// `request` (whose body has SHA-256 `request_sha256`) recorded at `recorded_at`: what the
/// rows that point at the entry say must be what the entry says.
pub fn decision_in_entry<'e>(
    entry: &'e str,
    recorded_at: &str,
    request: &str,
    request_sha256: &str,
) -> Option<&'e str> {
    entry
        .strip_prefix(DECISION_OPENING)?
        .strip_suffix(decision_closing(recorded_at, request, request_sha256).as_str())
}

/// A decision entry read back: the decision, and the members its rows also hold (which
/// `audit verify` checks against them). A report, which reads a million entries, reads only
/// what it counts, borrowed; every other reader reads this.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionEntry {
    /// The decision.
    pub decision: Decision,
    /// `decision`.
    pub kind: EntryKind,
    /// When it was recorded.
    pub recorded_at: String,
    /// The request's id.
    pub request: String,
    /// The SHA-256 of the request's body as received.
    pub request_sha256: String,
}

impl DecisionEntry {
    /// Reads a decision entry; an entry of another kind, or with a member missing or
    /// unknown, is refused.
    pub fn read(text: &str) -> Result<DecisionEntry, serde_json::Error> {
        let entry: DecisionEntry = serde_json::from_str(text)?;
        if entry.kind != EntryKind::Decision {
            return Err(serde::de::Error::custom(format!(
                "a `{}` entry, not a decision",
                entry.kind
            )));
        }
        Ok(entry)
    }
}

/// The entry recording that a pack version was first used: `{"kind":"pack-loaded",
/// "pack":…,"recorded_at":…,"sha256":…,"signature":…}`, keys in JCS order; `signature`, its
/// signed release, only when it has one (`signature` is empty when not).
pub fn pack_entry(pack: &str, sha256: &str, recorded_at: &str, signature: &str) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    let signed = if signature.is_empty() {
        String::new()
    } else {
        format!(",\"signature\":{}", s(signature))
    };
    format!(
        "{{\"kind\":\"pack-loaded\",\"pack\":{},\"recorded_at\":{},\"sha256\":{}{signed}}}",
        s(pack),
        s(recorded_at),
        s(sha256)
    )
}

/// The entry recording an attempt to deliver: `{"at":…,"attempt":…,"delivery":…,
/// "dispatcher":…,"kind":"dispatch-attempt","permit":…}`, keys in JCS order. `permit` is the
/// ledger index of the decision that permits the delivery, as the dispatcher checked it.
pub fn attempt_entry(
    delivery: &str,
    attempt: u64,
    permit: u64,
    dispatcher: &str,
    at: &str,
) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    format!(
        "{{\"at\":{},\"attempt\":{attempt},\"delivery\":{},\"dispatcher\":{},\"kind\":\"dispatch-attempt\",\"permit\":{permit}}}",
        s(at),
        s(delivery),
        s(dispatcher)
    )
}

/// The entry recording how a delivery ended, or that an attempt failed:
/// `{"at":…,"attempt":…,"delivery":…,"dispatcher":…,"error":…,"kind":"dispatch-result",
/// "outcome":…}`, keys in JCS order. `attempt` is the number of attempts made so far (0 for a
/// delivery refused or dead-lettered before any attempt); `outcome` is `delivered`, `failed`
/// (to be tried again), `dead` or `refused`.
pub fn result_entry(
    delivery: &str,
    attempt: u64,
    outcome: &str,
    error: &str,
    dispatcher: &str,
    at: &str,
) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    format!(
        "{{\"at\":{},\"attempt\":{attempt},\"delivery\":{},\"dispatcher\":{},\"error\":{},\"kind\":\"dispatch-result\",\"outcome\":{}}}",
        s(at),
        s(delivery),
        s(dispatcher),
        s(error),
        s(outcome)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_entry_reads_back_and_nothing_else_does() {
        let decision =
            r#"{"acts":[],"at":"2018-03-02T14:05:00-05:00","packs":[],"request":"r\"1"}"#;
        let entry = decision_entry(decision, "2026-11-29T04:00:00Z", "r\"1", "ab");
        let read = DecisionEntry::read(&entry).unwrap();
        assert_eq!(
            (read.request.as_str(), read.request_sha256.as_str()),
            ("r\"1", "ab")
        );
        assert_eq!(canonical_decision(&read.decision), decision);
        let pack = pack_entry("p", "ab", "2026-11-29T04:00:00Z", "");
        assert!(DecisionEntry::read(&pack).is_err(), "another kind");
        let disguised = entry.replace("\"kind\":\"decision\"", "\"kind\":\"event\"");
        let e = DecisionEntry::read(&disguised).unwrap_err();
        assert!(e.to_string().contains("not a decision"), "{e}");
        let extra = entry.replacen('{', "{\"address\":\"x\",", 1);
        assert!(DecisionEntry::read(&extra).is_err(), "a member unknown");
    }

    #[test]
    fn decision_entries_are_canonical() {
        let decision =
            r#"{"acts":[],"at":"2018-03-02T14:05:00-05:00","packs":[],"request":"r\"1"}"#;
        let entry = decision_entry(decision, "2026-11-29T04:00:00Z", "r\"1", "ab");
        let value: serde_json::Value = serde_json::from_str(&entry).unwrap();
        assert_eq!(serde_json_canonicalizer::to_string(&value).unwrap(), entry);
        for signature in ["", "comity pack release\n…\n\n\u{2014} counsel AbC=\n"] {
            let pack = pack_entry(
                "ocd-division/country:us@2017-04-02",
                "ab",
                "2026-11-29T04:00:00Z",
                signature,
            );
            let value: serde_json::Value = serde_json::from_str(&pack).unwrap();
            assert_eq!(serde_json_canonicalizer::to_string(&value).unwrap(), pack);
            assert_eq!(value.get("signature").is_some(), !signature.is_empty());
        }
        for entry in [
            attempt_entry(
                "r\"1/notify-release/DHS",
                3,
                17,
                "d\u{e9}",
                "2026-11-29T04:00:00Z",
            ),
            result_entry(
                "r/act/x",
                0,
                "refused",
                "no \"permit\"\n",
                "d",
                "2026-11-29T04:00:00Z",
            ),
        ] {
            let value: serde_json::Value = serde_json::from_str(&entry).unwrap();
            assert_eq!(serde_json_canonicalizer::to_string(&value).unwrap(), entry);
        }
    }
}
