//! The integrator: one task per process that records decisions for many concurrent callers,
//! gathering whatever has arrived into one transaction (group commit). Across processes the
//! store's own lock sequences the integrators.

use comity_ledger::Hash;
use tokio::sync::{mpsc, oneshot};

use crate::{NewDecision, Recorded, Store, StoreError};

type Job = (NewDecision, oneshot::Sender<Result<Receipt, StoreError>>);

/// What became of one decision, with the head of the tree its batch ended, which includes
/// it when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// What became of the decision.
    pub recorded: Recorded,
    /// The size of the tree after the batch.
    pub tree_size: u64,
    /// Its root.
    pub root: Hash,
    /// The entry's leaf hash, when this batch appended it.
    pub leaf: Option<Hash>,
}

/// A handle to the integrator task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Integrator {
    jobs: mpsc::Sender<Job>,
}

impl Integrator {
    /// Starts the integrator over `store`, committing at most `max_batch` decisions per
    /// transaction.
    pub fn start(store: Store, max_batch: usize) -> Integrator {
        let (jobs, mut queue) = mpsc::channel::<Job>(max_batch * 4);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max_batch);
            while let Some(first) = queue.recv().await {
                batch.push(first);
                while batch.len() < max_batch {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (decisions, waiters): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                match store.commit_decisions(&decisions).await {
                    Ok(c) => {
                        for (waiter, recorded) in waiters.into_iter().zip(c.recorded) {
                            let leaf = match recorded {
                                Recorded::New(i) => c.leaves.get(&i).copied(),
                                _ => None,
                            };
                            let receipt = Receipt {
                                recorded,
                                tree_size: c.tree_size,
                                root: c.root,
                                leaf,
                            };
                            let _ = waiter.send(Ok(receipt));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for waiter in waiters {
                            let _ = waiter.send(Err(StoreError::Batch(message.clone())));
                        }
                    }
                }
            }
        });
        Integrator { jobs }
    }

    /// Records one decision with whatever else is waiting, and returns once it is committed.
    pub async fn record(&self, decision: NewDecision) -> Result<Receipt, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send((decision, done))
            .await
            .map_err(|_| StoreError::Batch("the integrator has stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Batch("the integrator has stopped".into()))?
    }
}
