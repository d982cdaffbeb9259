//! The integrator: one task per process that records decisions for many concurrent callers,
//! gathering whatever has arrived into one transaction (group commit). Across processes the
//! store's own lock sequences the integrators.

use tokio::sync::{mpsc, oneshot};

use crate::{NewDecision, Recorded, Store, StoreError};

type Job = (NewDecision, oneshot::Sender<Result<Recorded, StoreError>>);

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
                match store.record_decisions(&decisions).await {
                    Ok(recorded) => {
                        for (waiter, r) in waiters.into_iter().zip(recorded) {
                            let _ = waiter.send(Ok(r));
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
    pub async fn record(&self, decision: NewDecision) -> Result<Recorded, StoreError> {
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
