//! `comity audit`: proving and verifying what the ledger holds.

use std::fs;
use std::path::PathBuf;

use clap::Subcommand;
use comity_ledger::{Hash, NoteVerifier, to_hex};
use comity_server::check::check_store;
use comity_server::receipt::{Receipt, ReceiptError};
use comity_store::Store;
use serde_json::json;

use crate::store::{DbArgs, on_existing, runtime, signer, store_error};
use crate::{Failure, outln, write_out};

/// What `comity audit` can do.
#[derive(Subcommand)]
pub enum Audit {
    /// Sign a checkpoint of the ledger as it stands (if the latest does not cover it) and print
    /// the latest signed checkpoint.
    Checkpoint,
    /// Print the raw bytes of one entry.
    Entry {
        /// The leaf index.
        #[arg(long)]
        index: u64,
    },
    /// Print the inclusion proof of one entry as JSON.
    Prove {
        /// The leaf index.
        #[arg(long)]
        index: u64,
        /// The tree size the proof is for [default: the whole ledger].
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print the consistency proof between two tree sizes as JSON.
    Consistency {
        /// The older, smaller size.
        #[arg(long)]
        from: u64,
        /// The newer size [default: the whole ledger].
        #[arg(long)]
        to: Option<u64>,
    },
    /// Recompute every leaf and the root from storage, and check every stored checkpoint,
    /// decision and request against the ledger; exit 1 naming the first fault.
    Verify {
        /// Check checkpoints against this public key (vkey) instead of the data directory's.
        #[arg(long)]
        public_key: Option<String>,
        /// A checkpoint published earlier (`comity serve` writes one outside the database):
        /// the ledger must still extend it, or what is missing is named.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the ledger's public key (vkey format), for auditors.
    Key,
    /// Check a counsel receipt offline (the console's download): its checkpoint is signed by
    /// the ledger's key, its entry is in the checkpoint's tree, and the entry records a
    /// decision that permits the receipt's disclosure or notice; exit 1 naming what fails.
    CheckReceipt {
        /// The ledger's public key (vkey), as pinned [default: the data directory's].
        #[arg(long)]
        public_key: Option<String>,
        /// The receipt file.
        file: PathBuf,
    },
}

/// `comity audit …`.
pub fn audit(db: &DbArgs, what: &Audit) -> Result<(), Failure> {
    match what {
        Audit::Key => {
            outln!("{}", signer(db)?.verifier_key());
            return Ok(());
        }
        Audit::CheckReceipt { public_key, file } => {
            return check_receipt(db, public_key.as_deref(), file);
        }
        _ => {}
    }
    runtime()?
        .block_on(async { on_existing(db, async |store| audit_with(store, db, what).await).await? })
}

async fn audit_with(store: &Store, db: &DbArgs, what: &Audit) -> Result<(), Failure> {
    match what {
        Audit::Key | Audit::CheckReceipt { .. } => unreachable!("handled without the store"),
        Audit::Checkpoint => {
            let note = store
                .sign_checkpoint(&signer(db)?)
                .await
                .map_err(store_error)?
                .note;
            write_out(format_args!("{note}"));
            Ok(())
        }
        Audit::Entry { index } => match store.entry(*index).await.map_err(store_error)? {
            Some(body) => {
                write_out(format_args!("{body}"));
                Ok(())
            }
            None => Err(Failure::Input(format!(
                "--index: no entry {index} in the ledger"
            ))),
        },
        Audit::Prove { index, size } => prove(store, *index, *size).await,
        Audit::Consistency { from, to } => consistency(store, *from, *to).await,
        Audit::Verify {
            public_key,
            checkpoint,
        } => verify(store, db, public_key.as_deref(), checkpoint.as_ref()).await,
    }
}

/// `comity audit check-receipt`: a receipt (or a notice to counsel, with the receipt it
/// carries) checked offline against the key.
fn check_receipt(db: &DbArgs, public_key: Option<&str>, file: &PathBuf) -> Result<(), Failure> {
    let verifier = match public_key {
        Some(k) => NoteVerifier::from_verifier_key(k)
            .map_err(|e| Failure::Input(format!("--public-key: {e}")))?,
        None => signer(db)?.verifier(),
    };
    let text =
        fs::read_to_string(file).map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let refused = |e: ReceiptError| Failure::Finding(format!("REFUSED: {}: {e}", file.display()));
    let receipt = Receipt::read(&text).map_err(refused)?;
    let checked = receipt.check(&verifier).map_err(refused)?;
    outln!(
        "ok: entry {} of the ledger `{}` (checkpoint of {} entries, signed by {}) records the decision on request `{}`: {} {}",
        checked.index,
        checked.origin,
        checked.size,
        verifier.name(),
        checked.request,
        checked.act,
        checked.outcome
    );
    outln!(
        "   the receipt's delivery: {} to {} ({}), {} when the receipt was made",
        receipt.delivery.kind,
        receipt.delivery.recipient,
        receipt.delivery.id,
        receipt.delivery.status
    );
    Ok(())
}

/// `comity audit prove`: an entry's inclusion proof as JSON.
async fn prove(store: &Store, index: u64, size: Option<u64>) -> Result<(), Failure> {
    let p = store
        .inclusion_proof(index, size)
        .await
        .map_err(store_error)?;
    let proof = json!({
        "leaf_index": p.leaf_index,
        "tree_size": p.tree_size,
        "leaf_hash": to_hex(&p.leaf_hash),
        "hashes": hex_all(&p.hashes),
        "root": to_hex(&p.root),
    });
    outln!("{proof:#}");
    Ok(())
}

/// `comity audit consistency`: the consistency proof between two sizes as JSON.
async fn consistency(store: &Store, from: u64, to: Option<u64>) -> Result<(), Failure> {
    let p = store
        .consistency_proof(from, to)
        .await
        .map_err(store_error)?;
    let proof = json!({
        "from_size": p.from_size,
        "to_size": p.to_size,
        "from_root": to_hex(&p.from_root),
        "to_root": to_hex(&p.to_root),
        "hashes": hex_all(&p.hashes),
    });
    outln!("{proof:#}");
    Ok(())
}

/// `comity audit verify`: the whole ledger, the outbox, and (given) a checkpoint published
/// earlier, which the ledger must still extend.
async fn verify(
    store: &Store,
    db: &DbArgs,
    public_key: Option<&str>,
    checkpoint: Option<&PathBuf>,
) -> Result<(), Failure> {
    let verifier = match public_key {
        Some(k) => NoteVerifier::from_verifier_key(k)
            .map_err(|e| Failure::Input(format!("--public-key: {e}")))?,
        None => signer(db)?.verifier(),
    };
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "verifying {bar:40} {pos}/{len} entries ({per_sec})",
        )
        .expect("static template"),
    );
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let checked = check_store(store, &verifier, &progress)
        .await
        .map_err(store_error)?;
    bar.finish_and_clear();
    let checked = checked.map_err(tampered)?;
    if let Some(file) = checkpoint {
        still_extends(store, &verifier, file).await?;
    }
    outln!("ok: {checked}");
    Ok(())
}

/// The ledger still extends the checkpoint published in `file`.
async fn still_extends(
    store: &Store,
    verifier: &NoteVerifier,
    file: &PathBuf,
) -> Result<(), Failure> {
    let note = fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("--checkpoint {}: {e}", file.display())))?;
    let published = comity_ledger::open_checkpoint(&note, verifier).map_err(|e| {
        Failure::Finding(format!(
            "TAMPERED: --checkpoint {}: not a checkpoint this log's key signed: {e}",
            file.display()
        ))
    })?;
    store
        .extends(&published)
        .await
        .map_err(store_error)?
        .map_err(tampered)
}

fn tampered(finding: comity_store::Finding) -> Failure {
    Failure::Finding(format!("TAMPERED: {finding}"))
}

fn hex_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(to_hex).collect()
}
