//! Checking a report against the ledger: its checkpoint is signed by the log's key, every
//! entry it lists is in that checkpoint's tree, and every figure is what its definition
//! gives over those entries.

use std::collections::BTreeSet;

use comity_ledger::{NoteVerifier, leaf_hash, open_checkpoint, verify_inclusion};
use comity_store::{Store, StoreError};

use crate::compute::{ComputeError, FORMAT, Figure, Report, compute};

/// Why a report does not hold, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The report does not hold: what differs, naming the figure.
    #[error("{0}")]
    Finding(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ComputeError> for VerifyError {
    fn from(e: ComputeError) -> Self {
        match e {
            ComputeError::Store(e) => VerifyError::Store(e),
            ComputeError::Entry(e) => VerifyError::Finding(e.to_string()),
        }
    }
}

/// What a verified report covers: the entries whose inclusion was proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Figures re-derived.
    pub figures: usize,
    /// Distinct entries proved included in the checkpoint.
    pub entries: usize,
}

/// Verifies `report` against the ledger in `store` and the log's key: the first thing that
/// does not hold is a [`VerifyError::Finding`] naming it.
pub async fn verify(
    store: &Store,
    report: &Report,
    verifier: &NoteVerifier,
) -> Result<Verified, VerifyError> {
    let finding = |what: String| Err(VerifyError::Finding(what));
    if report.format != FORMAT {
        return finding(format!("format: `{}` is not `{FORMAT}`", report.format));
    }
    if report.definition.sha256() != report.definition_sha256 {
        return finding("definition: it is not the definition its SHA-256 names".into());
    }
    let checkpoint = open_checkpoint(&report.checkpoint.note, verifier)
        .map_err(|e| VerifyError::Finding(format!("checkpoint: {e}")))?;
    if checkpoint.size != report.checkpoint.size {
        return finding(format!(
            "checkpoint: the report says size {}, the signed checkpoint {}",
            report.checkpoint.size, checkpoint.size
        ));
    }
    let derived = compute(
        store,
        &report.definition,
        report.from,
        report.to,
        report.checkpoint.clone(),
    )
    .await?;
    compare(report, &derived)?;
    let listed = listed_entries(report);
    for &index in &listed {
        let entry = store.entry(index).await?.ok_or_else(|| {
            VerifyError::Finding(format!("entry {index}: the ledger does not hold it"))
        })?;
        let proof = store.inclusion_proof(index, Some(checkpoint.size)).await?;
        verify_inclusion(
            &leaf_hash(entry.as_bytes()),
            index,
            checkpoint.size,
            &proof.hashes,
            &checkpoint.root,
        )
        .map_err(|e| {
            VerifyError::Finding(format!(
                "entry {index}: not included in the signed checkpoint: {e}"
            ))
        })?;
    }
    Ok(Verified {
        figures: report.figures.len(),
        entries: listed.len(),
    })
}

/// The first figure (or total) of `report` that the ledger does not give as `derived` does.
fn compare(report: &Report, derived: &Report) -> Result<(), VerifyError> {
    let finding = |what: String| Err(VerifyError::Finding(what));
    if report.figures.len() != derived.figures.len() {
        return finding(format!(
            "figures: the report has {}, its definition {}",
            report.figures.len(),
            derived.figures.len()
        ));
    }
    for (said, found) in report.figures.iter().zip(&derived.figures) {
        if let Some(what) = figure_difference(said, found) {
            return finding(format!("figure {} ({}): {what}", said.id, said.label));
        }
    }
    if report.requests != derived.requests {
        return finding(format!(
            "requests: the report says {}, the ledger gives {}",
            report.requests, derived.requests
        ));
    }
    if report.outcomes != derived.outcomes {
        return finding("outcomes: the counts by act and outcome differ from the ledger's".into());
    }
    if report.reasons != derived.reasons {
        return finding("reasons: the counts by deciding rule differ from the ledger's".into());
    }
    if report.warnings != derived.warnings {
        return finding("warnings: they differ from those the report's period gives".into());
    }
    Ok(())
}

/// How figure `said` differs from `found`, in words; `None` when it does not.
fn figure_difference(said: &Figure, found: &Figure) -> Option<String> {
    let count = |c: Option<u64>| c.map_or("not derived".to_owned(), |c| c.to_string());
    if said.count != found.count || said.not_derived != found.not_derived {
        return Some(format!(
            "the report says {}, the ledger gives {}",
            count(said.count),
            count(found.count)
        ));
    }
    if said.entries != found.entries {
        return Some("the entries it lists are not those it counts".into());
    }
    if said.evidence != found.evidence {
        return Some("the events it lists as evidence are not those that qualify".into());
    }
    if said.months != found.months {
        return Some("its monthly series differs from the ledger's".into());
    }
    if (&said.id, &said.label, &said.citation) != (&found.id, &found.label, &found.citation) {
        return Some("its id, label or citation is not its definition's".into());
    }
    for (a, b) in said.breakdowns.iter().zip(&found.breakdowns) {
        if a != b {
            return Some(format!(
                "its breakdown by {} differs from the ledger's",
                a.by
            ));
        }
    }
    (said.breakdowns.len() != found.breakdowns.len())
        .then(|| "it has a different number of breakdowns".to_owned())
}

/// Every ledger entry the report lists, once.
fn listed_entries(report: &Report) -> BTreeSet<u64> {
    let mut all = BTreeSet::new();
    for figure in &report.figures {
        all.extend(&figure.entries);
        all.extend(&figure.evidence);
        for b in &figure.breakdowns {
            all.extend(&b.unclassified.entries);
            for cell in &b.cells {
                all.extend(&cell.entries);
            }
        }
    }
    all
}
