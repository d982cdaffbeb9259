//! The whole store checked against its ledger: what `comity audit verify` and the console's
//! Audit page run. Every entry re-hashed, every stored node, decision row and checkpoint
//! checked ([`Store::verify`]), then every outbox row derived again from its permitting
//! decision, and every event against its entry.

use comity_ledger::{NoteVerifier, to_hex};
use comity_store::{Finding, Store, StoreError, VerifyReport};

/// What a check that held counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreChecked {
    /// The ledger: entries, nodes, decisions, checkpoints and the root.
    pub ledger: VerifyReport,
    /// Outbox rows checked.
    pub outbox: u64,
    /// Events checked.
    pub events: u64,
}

impl std::fmt::Display for StoreChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.ledger;
        write!(
            f,
            "{} entries, {} tree nodes, {} decisions, {} checkpoints, {} outbox rows, {} events verified; root {}",
            r.entries,
            r.nodes,
            r.decisions,
            r.checkpoints,
            self.outbox,
            self.events,
            to_hex(&r.root)
        )
    }
}

/// Checks the whole store, checkpoints against `verifier`; `progress(done, total)` as entries
/// are read. `Ok(Err(finding))` is the first fault found; `Err`, a failure to read.
pub async fn check_store(
    store: &Store,
    verifier: &NoteVerifier,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Result<StoreChecked, Finding>, StoreError> {
    let ledger = match store.verify(verifier, progress).await? {
        Ok(report) => report,
        Err(finding) => return Ok(Err(finding)),
    };
    let outbox = match store.verify_outbox(crate::plan::deliveries).await? {
        Ok(rows) => rows,
        Err(finding) => return Ok(Err(finding)),
    };
    let events = match store.verify_events().await? {
        Ok(events) => events,
        Err(finding) => return Ok(Err(finding)),
    };
    Ok(Ok(StoreChecked {
        ledger,
        outbox,
        events,
    }))
}
