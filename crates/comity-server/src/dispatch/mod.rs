//! The dispatcher: delivers what the outbox holds, and only what the ledger permits.
//!
//! One pass claims a batch of due deliveries, then for each:
//!
//! 1. checks in the ledger itself that a decision on exactly that request permits or requires
//!    exactly that act, with every approval it names, that it is the decision the outbox row
//!    names, and that the row is exactly what that decision and the request as recorded
//!    determine (recipient, kind, subject, payload: derived again by [`crate::plan`], not
//!    read from the row) ([`Store::permitted_delivery`]); if not, the delivery is refused,
//!    never sent, and the refusal is recorded;
//! 2. finds the recipient's channel in `comity.toml`; a recipient without one is
//!    dead-lettered at once, with that reason;
//! 3. records the attempt (a `dispatch-attempt` ledger entry, naming the permitting entry);
//! 4. sends it: a webhook POST signed with HMAC-SHA256 (`Comity-Signature`) carrying the
//!    delivery id as `Idempotency-Key`, an email, or a file;
//! 5. records the result (a `dispatch-result` ledger entry): delivered; failed, to be tried
//!    again after an exponential backoff with jitter; or dead after `max_attempts`.
//!
//! Each step's ledger entries and outbox changes commit together, a batch at a time. Several
//! dispatchers may share one database: a claim is exclusive while its lease lasts, and a
//! dispatcher that lost its claim (its lease ran out) records and sends nothing more for that
//! delivery. A dispatcher that dies between an attempt and its result leaves the delivery to
//! be claimed again when the lease runs out, so delivery is at least once; receivers drop
//! repeats by the idempotency key (webhooks), the Message-ID (email) or the file name.
//!
//! Notices are deliveries of their own: those a permitted act owes (to the person, to
//! counsel) are planned with the decision; a notice to each counsel assigned to the subject
//! is added when a disclosure is delivered (see [`Store::complete_deliveries`]). A notice to
//! counsel carries a [`Receipt`] counsel can take to court: of the disclosure it tells of
//! (or, for a notice a decision owes counsel, of the notice itself), made when the notice is
//! first ready to send, and kept, so that every attempt sends the same bytes. Its checkpoint
//! is the latest signed one if that covers the permitting entry. A dispatcher that holds the
//! ledger's key (the one `comity serve` runs) signs one if not; a dispatcher without the key
//! (`comity dispatch`) never signs, and puts the notice off, without an attempt, until
//! the server's publisher has signed a checkpoint that covers it.

mod channels;

use std::sync::Arc;
use std::time::Duration;

pub use channels::{file_name, signature};
use comity_ledger::NoteSigner;
use comity_store::{
    Completion, Delivery, DeliveryKind, DeliveryPermit, SignedCheckpoint, Store, StoreError,
};
use tokio::task::JoinSet;
/// The signal that stops a dispatcher (re-exported, so callers need not name `tokio-util`).
pub use tokio_util::sync::CancellationToken;

use crate::config::{Channel, Config, DispatchConfig};
use crate::receipt::{MakeError, Receipt};
use channels::{SendError, Sender};

/// Deliveries claimed at once.
const BATCH: usize = 64;

/// How long a claim lasts by default: longer than a batch's sends take (each at most
/// [`channels::SEND_TIMEOUT`], all of a batch at once).
pub const LEASE: Duration = Duration::from_secs(60);

/// How long an idle dispatcher waits before looking again.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The longest wait after a failure of the database before trying again.
const MAX_ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Why a dispatcher cannot start, or a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The dispatcher's name is not usable.
    #[error("dispatcher name `{0}`: 1–100 characters, no control characters")]
    Name(String),
    /// The HTTP client could not be built.
    #[error("starting the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What became of one delivery in a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The delivery id.
    pub delivery: String,
    /// The attempt's number, if one was made (none for a refusal, a missing channel, or a
    /// delivery put off).
    pub attempt: Option<u64>,
    /// What became of it.
    pub became: Became,
}

/// What became of a delivery: an end or an attempt's result, recorded in the ledger; or put
/// off, nothing sent and nothing recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Became {
    /// Recorded: delivered, failed (to be tried again), dead or refused.
    Recorded(Completion),
    /// Put off until a later pass: its receipt waits for a signed checkpoint, or what is
    /// stored about it could not be read.
    PutOff {
        /// Why.
        why: String,
    },
}

impl Became {
    /// `delivered`, `failed`, `dead`, `refused`, or `put-off`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Became::Recorded(c) => c.outcome(),
            Became::PutOff { .. } => "put-off",
        }
    }

    /// The error, reason or cause (empty for a delivery).
    pub fn error(&self) -> &str {
        match self {
            Became::Recorded(c) => c.error(),
            Became::PutOff { why } => why,
        }
    }
}

/// How long a notice whose receipt waits for a signed checkpoint is put off (a random half
/// of it taken off): the server's publisher signs one a minute by default.
const CHECKPOINT_WAIT_MS: u64 = 5_000;

/// A dispatcher: its name (recorded in every entry it writes), the store, the channels and
/// the retry policy.
pub struct Dispatcher {
    store: Store,
    signer: Option<NoteSigner>,
    config: Arc<Config>,
    name: String,
    sender: Arc<Sender>,
    batch: usize,
    idle_poll: Duration,
    lease: Duration,
}

impl Dispatcher {
    /// A dispatcher named `name` over `store`, delivering by `config`'s channels. It holds no
    /// key: the receipts notices to counsel carry wait for a signed checkpoint that covers
    /// them (see [`Dispatcher::signing`]).
    pub fn new(store: Store, config: Config, name: String) -> Result<Dispatcher, DispatchError> {
        let chars = name.chars().count();
        if !(1..=100).contains(&chars) || name.chars().any(char::is_control) {
            return Err(DispatchError::Name(name));
        }
        Ok(Dispatcher {
            store,
            signer: None,
            config: Arc::new(config),
            name,
            sender: Arc::new(Sender::new()?),
            batch: BATCH,
            idle_poll: IDLE_POLL,
            lease: LEASE,
        })
    }

    /// Signs with `signer`, the ledger's key, a checkpoint for a receipt when the latest
    /// does not cover its entry, so that no notice waits for one. Only where the key is kept
    /// (the server): a key of its own would sign checkpoints no auditor pinned.
    pub fn signing(mut self, signer: NoteSigner) -> Dispatcher {
        self.signer = Some(signer);
        self
    }

    /// Claims at most `n` deliveries per pass (default 64).
    pub fn batch(mut self, n: usize) -> Dispatcher {
        self.batch = n.max(1);
        self
    }

    /// Holds what it claims for `lease` (default [`LEASE`]): a dispatcher that dies leaves its
    /// claims to others when their lease runs out. A lease shorter than a batch's sends take
    /// lets another dispatcher send the same delivery again.
    pub fn lease(mut self, lease: Duration) -> Dispatcher {
        self.lease = lease;
        self
    }

    /// Waits `wait` when nothing is due before looking again (default 250 ms).
    pub fn idle_poll(mut self, wait: Duration) -> Dispatcher {
        self.idle_poll = wait;
        self
    }

    /// One pass: claims a batch of due deliveries and takes each as far as it goes now.
    /// Returns what became of each; empty when nothing was due.
    pub async fn dispatch_due(&self) -> Result<Vec<Done>, DispatchError> {
        let claimed = self
            .store
            .claim_deliveries(&self.name, self.batch, self.lease.as_millis() as i64)
            .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        // 1–2: the ledger's permit and the channel, before anything is sent.
        let Prepared {
            settled,
            deferred,
            ready,
        } = self.prepare(&claimed).await?;
        let mut done = self.complete(settled, None).await?;
        done.extend(self.defer(deferred).await?);
        // 3: the attempts, in the ledger before anything leaves.
        let attempts: Vec<(&Delivery, u64)> =
            ready.iter().map(|r| (r.delivery, r.permit)).collect();
        let numbers = self.store.record_attempts(&self.name, &attempts).await?;
        // Another dispatcher holds those whose attempt was not recorded.
        let ready: Vec<(Ready, u64)> = ready
            .into_iter()
            .zip(numbers)
            .filter_map(|(r, number)| Some((r, number?)))
            .collect();
        // 4: every send of the batch at once; 5: the results.
        let now = now_ms();
        let (finished, numbers): (Vec<(&Delivery, Completion)>, Vec<u64>) = self
            .send_all(ready)
            .await
            .into_iter()
            .map(|(d, number, result)| ((d, self.completion(result, number, now)), number))
            .unzip();
        done.extend(self.complete(finished, Some(&numbers)).await?);
        Ok(done)
    }

    /// Takes each claimed delivery as far as it goes before sending: settled now (refused:
    /// the ledger does not permit it; dead: no channel, or a payload that cannot be sent),
    /// put off (its receipt cannot be made yet, or what is stored about it cannot be read:
    /// that one alone, never the others), or ready to send. A failure of the database itself
    /// fails the pass: the claims run out and are taken again once it is back.
    async fn prepare<'d>(&self, claimed: &'d [Delivery]) -> Result<Prepared<'d>, DispatchError> {
        let mut out = Prepared::default();
        for d in claimed {
            match self.prepare_one(d).await? {
                Prepare::Settled(completion) => out.settled.push((d, completion)),
                Prepare::Ready(ready) => out.ready.push(ready),
                Prepare::Wait { why, wait_ms } => out.deferred.push((d, why, wait_ms)),
            }
        }
        Ok(out)
    }

    /// What becomes of `d` before sending.
    async fn prepare_one<'d>(&self, d: &'d Delivery) -> Result<Prepare<'d>, StoreError> {
        let kinds = |agency: &str| self.config.agencies.get(agency).copied();
        let unreadable = |e: StoreError, what: &str| match e {
            // About this delivery alone: it waits the longest retry delay.
            StoreError::Corrupt(_) | StoreError::NotFound(_) => Ok(Prepare::Wait {
                why: format!("{what}: {e}"),
                wait_ms: self.config.dispatch.max_delay_ms,
            }),
            e => Err(e),
        };
        let permit = match self
            .store
            .permitted_delivery(d, crate::plan::deliveries, &kinds)
            .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(reason)) => return Ok(Prepare::Settled(Completion::Refused { reason })),
            Err(e) => return unreadable(e, "checking its permit"),
        };
        let Some(channel) = self.config.channel(&d.recipient) else {
            let error = format!("no channel is configured for recipient `{}`", d.recipient);
            return Ok(Prepare::Settled(Completion::Dead { error }));
        };
        let receipt = match self.receipt(d, &permit).await {
            Ok(receipt) => receipt,
            Err(MakeError::Inconsistent(error)) => {
                return Ok(Prepare::Settled(Completion::Dead { error }));
            }
            Err(e @ MakeError::NotYet { .. }) => {
                return Ok(Prepare::Wait {
                    why: format!("its receipt: {e}"),
                    wait_ms: CHECKPOINT_WAIT_MS,
                });
            }
            Err(MakeError::Store(e)) => return unreadable(e, "making its receipt"),
        };
        Ok(
            match channels::envelope(d, permit.index, receipt.as_deref()) {
                Ok(body) => Prepare::Ready(Ready {
                    delivery: d,
                    permit: permit.index,
                    channel: channel.clone(),
                    body,
                }),
                Err(error) => Prepare::Settled(Completion::Dead { error }),
            },
        )
    }

    /// Puts off each delivery that must wait, with why, for its wait (a random half of it
    /// taken off, so that waiting notices do not come back at once): no attempt is made or
    /// counted, nothing is recorded in the ledger.
    async fn defer(
        &self,
        deferred: Vec<(&Delivery, String, u64)>,
    ) -> Result<Vec<Done>, DispatchError> {
        if deferred.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let put_off: Vec<(&Delivery, i64, &str)> = deferred
            .iter()
            .map(|(d, why, wait)| (*d, now + equal_jitter(*wait, jitter()) as i64, why.as_str()))
            .collect();
        self.store.defer_deliveries(&put_off).await?;
        Ok(deferred
            .into_iter()
            .map(|(d, why, _)| Done {
                delivery: d.id.clone(),
                attempt: None,
                became: Became::PutOff { why },
            })
            .collect())
    }

    /// The receipt `d` carries, as JSON text: a notice to counsel carries the receipt of the
    /// disclosure it tells of, or, owed by a decision, its own; made once and kept. The
    /// receipt proves `permit`, as the ledger was just found to grant it.
    async fn receipt(
        &self,
        d: &Delivery,
        permit: &DeliveryPermit,
    ) -> Result<Option<String>, MakeError> {
        let Some(of) = receipt_of(d, permit) else {
            return Ok(None);
        };
        if let Some(kept) = self.store.kept_receipt(&d.id).await? {
            return Ok(Some(kept));
        }
        let about = self.store.delivery_about(of).await?.ok_or_else(|| {
            MakeError::Inconsistent(format!("the delivery `{of}` it tells of is not planned"))
        })?;
        if about.decision_index != permit.index {
            return Err(MakeError::Inconsistent(format!(
                "the delivery `{of}` it tells of names ledger entry {}, not the permitting entry {}",
                about.decision_index, permit.index
            )));
        }
        let checkpoint = self.checkpoint(permit.index).await?;
        let receipt = Receipt::make(&self.store, about, checkpoint).await?;
        let text = serde_json::to_string(&receipt).expect("receipts serialize");
        Ok(Some(self.store.keep_receipt(&d.id, &text).await?))
    }

    /// A signed checkpoint that covers entry `index`: the latest, if it does; else, with
    /// the ledger's key, one signed now.
    async fn checkpoint(&self, index: u64) -> Result<SignedCheckpoint, MakeError> {
        let latest = self.store.latest_checkpoint().await?;
        match (latest, &self.signer) {
            (Some(latest), _) if latest.size > index => Ok(latest),
            (_, Some(signer)) => Ok(self.store.sign_checkpoint(signer).await?),
            (latest, None) => Err(MakeError::NotYet {
                index,
                size: latest.map_or(0, |l| l.size),
            }),
        }
    }

    /// Sends every ready delivery (with its attempt's number) at once; answers each with
    /// its number and its send's result, in order.
    async fn send_all<'d>(
        &self,
        ready: Vec<(Ready<'d>, u64)>,
    ) -> Vec<(&'d Delivery, u64, Result<(), SendError>)> {
        let mut sends = JoinSet::new();
        let mut sent = Vec::with_capacity(ready.len());
        for (slot, (r, number)) in ready.into_iter().enumerate() {
            let sender = Arc::clone(&self.sender);
            let d = r.delivery;
            let (id, title) = (d.id.clone(), format!("comity {}: {}", d.kind, d.id));
            sent.push((d, number));
            sends.spawn(async move { (slot, sender.send(&r.channel, &id, &title, r.body).await) });
        }
        let mut results: Vec<Option<Result<(), SendError>>> = vec![None; sent.len()];
        while let Some(joined) = sends.join_next().await {
            let (slot, result) =
                joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            results[slot] = Some(result);
        }
        sent.into_iter()
            .zip(results)
            .map(|((d, number), r)| (d, number, r.expect("every send joined")))
            .collect()
    }

    /// How attempt `number` ended, by its send's result: delivered, dead (a permanent
    /// failure, or the last attempt allowed), or tried again later (`now` plus the back-off).
    fn completion(&self, result: Result<(), SendError>, number: u64, now: i64) -> Completion {
        let policy = &self.config.dispatch;
        match result {
            Ok(()) => Completion::Delivered,
            Err(SendError::Permanent(error)) => Completion::Dead { error },
            Err(SendError::Transient(error)) if number >= u64::from(policy.max_attempts) => {
                Completion::Dead {
                    error: format!("gave up after {number} attempts: {error}"),
                }
            }
            Err(SendError::Transient(error)) => Completion::Failed {
                error,
                retry_at: now + retry_delay(policy, number, jitter()) as i64,
            },
        }
    }

    /// Records how each delivery ended (with its attempt's number, when one was made) and
    /// answers those recorded: a delivery whose claim was lost is not.
    async fn complete(
        &self,
        ended: Vec<(&Delivery, Completion)>,
        numbers: Option<&[u64]>,
    ) -> Result<Vec<Done>, DispatchError> {
        let recorded = self.store.complete_deliveries(&self.name, &ended).await?;
        Ok(ended
            .into_iter()
            .zip(recorded)
            .enumerate()
            .filter(|(_, (_, recorded))| *recorded)
            .map(|(k, ((d, completion), _))| Done {
                delivery: d.id.clone(),
                attempt: numbers.map(|n| n[k]),
                became: Became::Recorded(completion),
            })
            .collect())
    }

    /// Dispatches until `stop` is cancelled (finishing the pass under way), calling `each`
    /// with what became of every delivery. A failure of the database is reported to standard
    /// error and tried again after a pause, growing up to 5 s: the dispatcher outlives an
    /// outage.
    pub async fn run(&self, stop: CancellationToken, mut each: impl FnMut(&Done)) {
        let mut pause = self.idle_poll;
        while !stop.is_cancelled() {
            let wait = match self.dispatch_due().await {
                Ok(done) if done.is_empty() => self.idle_poll,
                Ok(done) => {
                    done.iter().for_each(&mut each);
                    pause = self.idle_poll;
                    Duration::ZERO
                }
                Err(e) => {
                    eprintln!("dispatcher {}: {e}; trying again in {pause:?}", self.name);
                    pause = (pause * 2).min(MAX_ERROR_PAUSE);
                    pause
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// Runs `dispatcher` until `stop` is cancelled, as `comity serve` does; writes each delivery
/// that did not go through (failed, dead, refused) to standard error.
pub async fn run_dispatcher(dispatcher: Dispatcher, stop: CancellationToken) {
    dispatcher
        .run(stop, |done| {
            if done.became != Became::Recorded(Completion::Delivered) {
                eprintln!(
                    "dispatcher {}: {}: {}: {}",
                    dispatcher.name,
                    done.delivery,
                    done.became.outcome(),
                    done.became.error()
                );
            }
        })
        .await;
}

/// The delivery whose receipt `d` carries, if it carries one: a notice to an assigned counsel
/// tells of the disclosure the ledger found it reports; a notice owed to `counsel` is its
/// own.
fn receipt_of<'a>(d: &'a Delivery, permit: &'a DeliveryPermit) -> Option<&'a str> {
    if d.kind != DeliveryKind::Notice.as_str() {
        None
    } else if d.recipient == "counsel" {
        Some(&d.id)
    } else {
        permit.reports.as_deref()
    }
}

/// What a claimed delivery comes to before sending.
enum Prepare<'d> {
    /// Settled now, never sent.
    Settled(Completion),
    /// Ready to send.
    Ready(Ready<'d>),
    /// Put off, why, for how long (milliseconds).
    Wait { why: String, wait_ms: u64 },
}

/// A batch of claimed deliveries, prepared: settled, put off (with why and for how long), or
/// ready to send.
#[derive(Default)]
struct Prepared<'d> {
    settled: Vec<(&'d Delivery, Completion)>,
    deferred: Vec<(&'d Delivery, String, u64)>,
    ready: Vec<Ready<'d>>,
}

/// A claimed delivery the ledger permits, ready to send: by the decision at `permit`,
/// through `channel`, as `body`.
struct Ready<'d> {
    delivery: &'d Delivery,
    permit: u64,
    channel: Channel,
    body: Vec<u8>,
}

/// Now, in unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A random number for jitter.
fn jitter() -> u64 {
    getrandom::u64().unwrap_or_default()
}

/// How long to wait, in milliseconds, after attempt number `attempt` failed: the base delay
/// doubled for each attempt before it, at most the maximum, of which a random half (from
/// `random`) is taken off ("equal jitter": at least half the delay, so retries back off, and
/// spread so that the dispatchers' retries do not come at once).
pub fn retry_delay(policy: &DispatchConfig, attempt: u64, random: u64) -> u64 {
    let doublings = attempt.saturating_sub(1).min(62) as u32;
    let delay = policy
        .base_delay_ms
        .saturating_mul(1u64 << doublings)
        .min(policy.max_delay_ms);
    equal_jitter(delay, random)
}

/// `delay` with a random half of it (from `random`) taken off: at least half the delay, and
/// spread so that waits begun together do not end together.
fn equal_jitter(delay: u64, random: u64) -> u64 {
    let half = delay / 2;
    delay - half + random % (half + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_the_maximum() {
        let policy = DispatchConfig {
            max_attempts: 8,
            base_delay_ms: 500,
            max_delay_ms: 60_000,
        };
        for random in [0, 1, 7, 250, 12_345, u64::MAX] {
            let delays: Vec<u64> = (1..=12).map(|a| retry_delay(&policy, a, random)).collect();
            for (a, d) in (1u32..).zip(&delays) {
                let full = (500u64 << (a - 1)).min(60_000);
                assert!(
                    (full / 2..=full).contains(d),
                    "attempt {a}: {d} not in {}..={full}",
                    full / 2
                );
            }
        }
        assert_eq!(retry_delay(&policy, 1, 0), 250);
        assert_eq!(retry_delay(&policy, 3, 0), 1000);
        assert_eq!(retry_delay(&policy, 30, 30_000), 60_000);
        assert_ne!(retry_delay(&policy, 4, 1), retry_delay(&policy, 4, 2));
    }
}
