//! The integrator: the tasks of a process that record decisions for many concurrent callers,
//! gathering whatever has arrived into one transaction (group commit). The store's own lock
//! sequences the transactions, of this process and of others.

use comity_ledger::Hash;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::record::Prepared;
use crate::{NewDecision, Recorded, Store, StoreError};

type Waiter = oneshot::Sender<Result<Receipt, StoreError>>;
type Job = (Prepared, Waiter);

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

/// Commits a batch and tells each waiter what became of its decision. A batch that fails
/// is committed again one decision at a time, so that a decision that cannot be recorded
/// fails alone and the others that shared its batch are recorded.
async fn commit(store: &Store, (decisions, waiters): (Vec<Prepared>, Vec<Waiter>)) {
    match store.commit_prepared(&decisions).await {
        Ok(c) => {
            for (waiter, recorded) in waiters.into_iter().zip(c.recorded) {
                let leaf = match recorded {
                    Recorded::New(i) => c.head.leaves.get(&i).copied(),
                    _ => None,
                };
                let receipt = Receipt {
                    recorded,
                    tree_size: c.head.size,
                    root: c.head.root,
                    leaf,
                };
                let _ = waiter.send(Ok(receipt));
            }
        }
        Err(_) if decisions.len() > 1 => {
            for (decision, waiter) in decisions.into_iter().zip(waiters) {
                Box::pin(commit(store, (vec![decision], vec![waiter]))).await;
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

/// A handle to the integrator's tasks; cheap to clone.
#[derive(Debug, Clone)]
pub struct Integrator {
    jobs: mpsc::Sender<Job>,
}

impl Integrator {
    /// Starts the integrator over `store`, committing at most `max_batch` decisions per
    /// transaction.
    ///
    /// On PostgreSQL two batches are in flight: while one holds the ledger's lock, the next
    /// has begun its transaction and waits for the lock, so that the round trips around a
    /// commit overlap the next batch's. SQLite, in the process, commits one at a time.
    pub fn start(store: Store, max_batch: usize) -> Integrator {
        let (jobs, queue) = mpsc::channel::<Job>(max_batch * 4);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..store.backend().commit_lanes() {
            let (store, queue) = (store.clone(), queue.clone());
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(max_batch);
                loop {
                    {
                        let mut queue = queue.lock().await;
                        let Some(first) = queue.recv().await else {
                            return;
                        };
                        batch.push(first);
                        while batch.len() < max_batch {
                            match queue.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                    }
                    commit(&store, batch.drain(..).unzip()).await;
                }
            });
        }
        Integrator { jobs }
    }

    /// Records one decision with whatever else is waiting, and returns once it is committed.
    /// The decision is made ready to record (canonical form, request digest) here, in the
    /// caller's task, and refused here if its entry would be too long.
    pub async fn record(&self, decision: NewDecision) -> Result<Receipt, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send((Prepared::new(decision)?, done))
            .await
            .map_err(|_| StoreError::Batch("the integrator has stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Batch("the integrator has stopped".into()))?
    }
}
