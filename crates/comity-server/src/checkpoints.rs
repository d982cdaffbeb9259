//! Published checkpoints: while serving, a checkpoint of the ledger is signed every interval
//! in which it grew, and written outside the database, to a file an auditor or a witness
//! copies. A ledger later cut short, or rewritten, no longer extends what was published:
//! `comity audit verify --checkpoint FILE` names what is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use comity_ledger::NoteSigner;
use comity_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

/// Why a checkpoint could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file could not be written.
    #[error("writing the published checkpoint {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Signs a checkpoint of the ledger as it stands (unless the latest covers it) and writes
/// it to `path` whole (a temporary file renamed over it, so a reader never sees half of one).
/// Returns the size it covers.
pub async fn publish_checkpoint(
    store: &Store,
    signer: &NoteSigner,
    path: &Path,
) -> Result<u64, PublishError> {
    let checkpoint = store.sign_checkpoint(signer).await?;
    let write = |source| PublishError::Write {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    tokio::fs::write(&temporary, checkpoint.note.as_bytes())
        .await
        .map_err(write)?;
    tokio::fs::rename(&temporary, path).await.map_err(write)?;
    Ok(checkpoint.size)
}

/// Publishes a checkpoint at once, then every `every` in which the ledger grew, and once more
/// when `stop` is cancelled.
pub async fn publish_checkpoints(
    store: Store,
    signer: NoteSigner,
    path: PathBuf,
    every: Duration,
    stop: CancellationToken,
) -> Result<(), PublishError> {
    let mut published = publish_checkpoint(&store, &signer, &path).await?;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => {
                publish_checkpoint(&store, &signer, &path).await?;
                return Ok(());
            }
        }
        if store.size().await? != published {
            published = publish_checkpoint(&store, &signer, &path).await?;
        }
    }
}
