//! The outbox, from the dispatcher's side: claiming the deliveries that are due, checking in
//! the ledger that a decision permits each one, and recording every attempt and every result
//! as a ledger entry in the same transaction that moves its outbox row on. And counsel's
//! assignments: a delivered disclosure about a subject adds a notice to each counsel
//! assigned to that subject, in the transaction that records the delivery.

use std::collections::HashMap;

use sqlx::{Any, AnyConnection, AssertSqlSafe, Row, Transaction};

use crate::entry::{EntryKind, attempt_entry, result_entry};
use crate::ledger::Appender;
use crate::rows::{Cell, Table};
use crate::{Backend, Store, StoreError};

/// A delivery a dispatcher has claimed: an outbox row that no other dispatcher takes until the
/// claim's lease runs out or the claim is released.
///
/// Its fields are the row as stored, words and all (`act`, `kind` are text, not [`Act`] and
/// [`DeliveryKind`]): the row is untrusted input, and one edited to hold a word that is no
/// act must still be claimed, compared and refused on the record, not fail the claim of a
/// whole batch. The dispatcher trusts none of its fields to permit anything: it compares
/// each with the delivery the ledger's decision determines, typed
/// ([`Store::permitted_delivery`]), and refuses a row that differs.
///
/// [`Act`]: comity_model::Act
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `<request>/<act>/<recipient>`: also the receiver's idempotency key.
    pub id: String,
    /// The request whose decision permits it.
    pub request_id: String,
    /// The act it carries out.
    pub act: String,
    /// `disclosure` or `notice`.
    pub kind: String,
    /// Who receives it: an agency, `subject`, `counsel`, or `counsel:<name>`.
    pub recipient: String,
    /// The person it is about.
    pub subject_id: String,
    /// The ledger index of the decision the row says permits it.
    pub decision_index: u64,
    /// What it carries (JSON): only the fields the permit names.
    pub payload: String,
    /// Attempts made before this claim.
    pub attempts: u64,
    /// The claim that holds it (`<dispatcher>#<nonce>`); recording an attempt or a result
    /// needs the claim to be held still.
    pub claim: String,
}

/// How a claimed delivery ended, or how its attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The recipient has it.
    Delivered,
    /// The attempt failed; it is tried again, not before `retry_at` (unix milliseconds).
    Failed {
        /// What went wrong.
        error: String,
        /// When it may be tried again.
        retry_at: i64,
    },
    /// Dead-lettered: it will not be tried again.
    Dead {
        /// Why.
        error: String,
    },
    /// The ledger does not permit it: it was never sent and never will be.
    Refused {
        /// Why (what the ledger lacks).
        reason: String,
    },
}

impl Completion {
    /// The outcome recorded: `delivered`, `failed`, `dead` or `refused`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Completion::Delivered => "delivered",
            Completion::Failed { .. } => "failed",
            Completion::Dead { .. } => "dead",
            Completion::Refused { .. } => "refused",
        }
    }

    /// The error or reason recorded (empty for a delivery).
    pub fn error(&self) -> &str {
        match self {
            Completion::Delivered => "",
            Completion::Failed { error, .. } | Completion::Dead { error } => error,
            Completion::Refused { reason } => reason,
        }
    }
}

/// A delivery as the outbox holds it, for showing where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// Its id (also the receiver's idempotency key).
    pub id: String,
    /// The act it carries out.
    pub act: String,
    /// `disclosure` or `notice`.
    pub kind: String,
    /// Who receives it.
    pub recipient: String,
    /// `awaiting-approval`, `pending`, `delivered`, `dead` or `refused`.
    pub status: String,
    /// Attempts made.
    pub attempts: u64,
    /// The last error, or why it was refused.
    pub last_error: String,
}

/// The columns [`about`] reads.
const ABOUT: &str = "id, request_id, act, kind, recipient, status, attempts, last_error, \
     created_at, decision_index, subject_id";

/// An outbox row read as a [`DeliveryAbout`].
fn about(r: &sqlx::any::AnyRow) -> DeliveryAbout {
    DeliveryAbout {
        request: r.get(1),
        created_at: r.get(8),
        decision_index: r.get::<i64, _>(9) as u64,
        subject_id: r.get(10),
        status: DeliveryStatus {
            id: r.get(0),
            act: r.get(2),
            kind: r.get(3),
            recipient: r.get(4),
            status: r.get(5),
            attempts: r.get::<i64, _>(6) as u64,
            last_error: r.get(7),
        },
    }
}

/// A disclosure or notice about a person, as counsel's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAbout {
    /// Where it stands.
    pub status: DeliveryStatus,
    /// The request it answers.
    pub request: String,
    /// When it was planned (with the decision that permits it).
    pub created_at: String,
    /// The ledger index of the decision that permits it.
    pub decision_index: u64,
    /// The person it is about.
    pub subject_id: String,
}

/// How many outbox rows are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting to be delivered (due now or later, or being tried).
    pub pending: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dead-lettered.
    pub dead: u64,
    /// Refused: the ledger did not permit them, or their approval was refused.
    pub refused: u64,
    /// Waiting for an approval their permit names.
    pub awaiting_approval: u64,
}

comity_model::words! {
    /// What a delivery is: the word stored.
    pub enum DeliveryKind: "delivery kind" {
        /// Information disclosed to the agency that asked (or the recipient the request names).
        Disclosure = "disclosure",
        /// A notice a permitted act owes to the person or their counsel.
        Notice = "notice",
    }
}

/// A delivery's id: `<request>/<act>/<recipient>`, with `%` and `/` in the request id and
/// the recipient written `%25` and `%2F`, so that two different deliveries never share an
/// id (request ids and agency names may hold `/`), and an id without them reads as before.
pub fn delivery_id(request: &str, act: &str, recipient: &str) -> String {
    fn escaped(part: &str) -> std::borrow::Cow<'_, str> {
        if part.contains(['%', '/']) {
            part.replace('%', "%25").replace('/', "%2F").into()
        } else {
            part.into()
        }
    }
    format!("{}/{act}/{}", escaped(request), escaped(recipient))
}

/// The outbox status of a delivery whose act waits for an approval.
pub(crate) const AWAITING_APPROVAL: &str = "awaiting-approval";

/// An outbox row as first written: a delivery planned and not yet tried.
pub(crate) struct OutboxRow {
    pub(crate) id: String,
    pub(crate) request_id: String,
    pub(crate) act: String,
    pub(crate) kind: DeliveryKind,
    pub(crate) recipient: String,
    pub(crate) subject_id: String,
    /// The ledger index of the decision that permits it.
    pub(crate) decision_index: u64,
    pub(crate) payload: String,
    /// Whether it waits for an approval before it is due.
    pub(crate) awaiting_approval: bool,
    pub(crate) created_at: String,
}

impl OutboxRow {
    const COLUMNS: &[&str] = &[
        "id",
        "request_id",
        "act",
        "kind",
        "recipient",
        "subject_id",
        "decision_index",
        "payload",
        "status",
        "attempts",
        "next_at",
        "claimed_until",
        "last_error",
        "created_at",
    ];

    /// `rows` as a table to insert.
    pub(crate) fn table(rows: Vec<OutboxRow>) -> Table {
        Table::new(
            "outbox",
            Self::COLUMNS,
            rows.into_iter().map(OutboxRow::cells).collect(),
        )
    }

    fn cells(self) -> Vec<Cell> {
        let status = if self.awaiting_approval {
            AWAITING_APPROVAL
        } else {
            "pending"
        };
        vec![
            Cell::Text(self.id),
            Cell::Text(self.request_id),
            Cell::Text(self.act),
            Cell::Text(self.kind.as_str().into()),
            Cell::Text(self.recipient),
            Cell::Text(self.subject_id),
            Cell::Int(self.decision_index as i64),
            Cell::Text(self.payload),
            Cell::Text(status.into()),
            Cell::Int(0),
            Cell::Int(0),
            Cell::Int(0),
            Cell::Text(String::new()),
            Cell::Text(self.created_at),
        ]
    }
}

/// The `ledger_entries` rows of entries about one outbox row each (dispatch attempts and
/// results, approvals): each entry's index, kind and bytes, and the row it is about.
pub(crate) fn delivery_entries(rows: Vec<Vec<Cell>>) -> Table {
    Table::new("ledger_entries", &["idx", "kind", "body", "delivery"], rows)
}

/// One row of [`delivery_entries`].
pub(crate) fn delivery_entry(
    index: u64,
    kind: EntryKind,
    entry: String,
    delivery: &str,
) -> Vec<Cell> {
    vec![
        Cell::Int(index as i64),
        Cell::Text(kind.as_str().into()),
        Cell::Text(entry),
        Cell::Text(delivery.to_owned()),
    ]
}

/// The longest error text recorded, in characters.
const MAX_ERROR: usize = 1000;

/// Now, in unix milliseconds.
fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `text` with every control character made a space (a value read back in an aggregated read
/// must not hold its separators), and at most `MAX_ERROR` characters long.
fn plain(text: &str) -> String {
    text.chars()
        .take(MAX_ERROR)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Reads a claimed row.
pub(crate) fn delivery(row: &sqlx::any::AnyRow, claim: &str) -> Delivery {
    Delivery {
        id: row.get(0),
        request_id: row.get(1),
        act: row.get(2),
        kind: row.get(3),
        recipient: row.get(4),
        subject_id: row.get(5),
        decision_index: row.get::<i64, _>(6) as u64,
        payload: row.get(7),
        attempts: row.get::<i64, _>(8) as u64,
        claim: claim.to_owned(),
    }
}

/// The attempts made so far on each of `deliveries` whose row is pending and still held by
/// the claim the dispatcher holds it by; in PostgreSQL the rows are locked until the
/// transaction ends.
async fn held(
    conn: &mut AnyConnection,
    backend: Backend,
    deliveries: &[&Delivery],
) -> Result<HashMap<String, u64>, StoreError> {
    let sql = format!(
        "SELECT id, claimed_by, status, attempts FROM outbox WHERE id IN (…){}",
        backend.lock_rows()
    );
    let query = backend.query_in(&sql, deliveries.iter().map(|d| d.id.as_str()));
    let claims: HashMap<&str, &str> = deliveries
        .iter()
        .map(|d| (d.id.as_str(), d.claim.as_str()))
        .collect();
    let mut out = HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        let id: String = row.get(0);
        let holder: String = row.get(1);
        let status: String = row.get(2);
        if status == "pending" && claims.get(id.as_str()) == Some(&holder.as_str()) {
            out.insert(id, row.get::<i64, _>(3) as u64);
        }
    }
    Ok(out)
}

impl Store {
    /// Claims up to `limit` deliveries that are due (pending, not before now, held by no
    /// live claim), the longest-waiting first, for `dispatcher`, for `lease_ms` milliseconds,
    /// and returns them by id.
    ///
    /// A claim is atomic: in PostgreSQL one statement selects the due rows `FOR UPDATE SKIP
    /// LOCKED` and marks them claimed, so dispatchers claiming at the same moment never claim
    /// one row twice; in SQLite one `UPDATE … RETURNING` under the database's write lock.
    /// A claim whose lease has run out (its dispatcher died) may be claimed again: delivery
    /// is at least once, and receivers tell repeats apart by the delivery id.
    pub async fn claim_deliveries(
        &self,
        dispatcher: &str,
        limit: usize,
        lease_ms: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = now_ms();
        let nonce = getrandom::u64()
            .unwrap_or_else(|_| (now as u64).rotate_left(20) ^ u64::from(std::process::id()));
        let claim = format!("{}#{nonce:016x}", plain(dispatcher));
        let bind = |sql: &'static str| {
            sqlx::query(sql)
                .bind(now.saturating_add(lease_ms))
                .bind(claim.clone())
                .bind(now)
                .bind(limit as i64)
        };
        let rows = match self.backend.claim_deliveries() {
            (sql, true) => {
                let mut tx = self.pool.begin_with(self.backend.begin_append()).await?;
                let rows = bind(sql).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                rows
            }
            (sql, false) => bind(sql).fetch_all(&self.pool).await?,
        };
        let mut out: Vec<Delivery> = rows.iter().map(|r| delivery(r, &claim)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Records an attempt on each delivery, about to be sent, with the ledger index of the
    /// decision that permits it: a `dispatch-attempt` entry each, and the outbox row's
    /// attempt count, in one transaction. Returns each attempt's number, or `None` for a
    /// delivery whose claim is no longer held (its lease ran out and another dispatcher
    /// claimed it): that one must not be sent.
    pub async fn record_attempts(
        &self,
        dispatcher: &str,
        attempts: &[(&Delivery, u64)],
    ) -> Result<Vec<Option<u64>>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries: Vec<&Delivery> = attempts.iter().map(|(d, _)| *d).collect();
        let mut log = self.begin_dispatch_log(dispatcher, &deliveries).await?;
        let mut out = Vec::new();
        for (d, permit) in attempts {
            let Some(made) = log.attempts(d) else {
                out.push(None);
                continue;
            };
            let attempt = made + 1;
            let entry = attempt_entry(&d.id, attempt, *permit, &log.dispatcher, &log.at);
            log.append(d, EntryKind::DispatchAttempt, entry)?;
            sqlx::query("UPDATE outbox SET attempts = $1 WHERE id = $2")
                .bind(attempt as i64)
                .bind(d.id.as_str())
                .execute(&mut *log.tx)
                .await?;
            out.push(Some(attempt));
        }
        log.commit(self, Vec::new()).await?;
        Ok(out)
    }

    /// Records how each delivery went: a `dispatch-result` entry each, and the outbox row
    /// moved on (delivered, dead, refused, or pending again from `retry_at`; its claim
    /// released), in one transaction. A disclosure delivered adds, in the same transaction, a
    /// notice (`recipient = "counsel:<name>"`, kind `notice`, same request and act) to each
    /// counsel assigned to its subject; such a notice is permitted exactly when the act is
    /// (see [`Store::permitting_entry`]). Returns, for each, whether it was recorded: `false`
    /// for a delivery whose claim is no longer held.
    pub async fn complete_deliveries(
        &self,
        dispatcher: &str,
        done: &[(&Delivery, Completion)],
    ) -> Result<Vec<bool>, StoreError> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries: Vec<&Delivery> = done.iter().map(|(d, _)| *d).collect();
        let mut log = self.begin_dispatch_log(dispatcher, &deliveries).await?;
        let subjects: Vec<&str> = done
            .iter()
            .filter(|(d, c)| {
                *c == Completion::Delivered && d.kind == DeliveryKind::Disclosure.as_str()
            })
            .map(|(d, _)| d.subject_id.as_str())
            .collect();
        let counsel = assigned_counsel(&mut log.tx, &subjects).await?;
        let now = now_ms();
        let (mut notices, mut out) = (Vec::new(), Vec::new());
        for (d, completion) in done {
            let Some(made) = log.attempts(d) else {
                out.push(false);
                continue;
            };
            let error = plain(completion.error());
            let outcome = completion.outcome();
            let entry = result_entry(&d.id, made, outcome, &error, &log.dispatcher, &log.at);
            log.append(d, EntryKind::DispatchResult, entry)?;
            let (status, next_at) = match completion {
                Completion::Failed { retry_at, .. } => ("pending", *retry_at),
                other => (other.outcome(), now),
            };
            sqlx::query(
                "UPDATE outbox SET status = $1, next_at = $2, claimed_until = 0, last_error = $3 WHERE id = $4",
            )
            .bind(status)
            .bind(next_at)
            .bind(error.as_str())
            .bind(d.id.as_str())
            .execute(&mut *log.tx)
            .await?;
            if *completion == Completion::Delivered && d.kind == DeliveryKind::Disclosure.as_str() {
                for name in counsel.get(&d.subject_id).into_iter().flatten() {
                    let notice = counsel_notice(d, name, &log.at);
                    // One notice per request, act and counsel, however many recipients.
                    if !notices.iter().any(|n: &OutboxRow| n.id == notice.id) {
                        notices.push(notice);
                    }
                }
            }
            out.push(true);
        }
        let notices = OutboxRow::table(notices).skipping_existing();
        log.commit(self, vec![notices]).await?;
        Ok(out)
    }

    /// Puts off deliveries this dispatcher claimed but cannot send yet (a notice whose
    /// receipt waits for a signed checkpoint): each, if its claim is still held, is pending
    /// again, due at its `retry_at` (unix milliseconds), with why in its last error. No
    /// attempt was made and nothing was sent, so the ledger records nothing. A delivery
    /// whose claim another dispatcher now holds is left to it.
    pub async fn defer_deliveries(
        &self,
        deferred: &[(&Delivery, i64, &str)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (d, retry_at, why) in deferred {
            sqlx::query(
                "UPDATE outbox SET next_at = $1, claimed_until = 0, last_error = $2 \
                 WHERE id = $3 AND claimed_by = $4 AND status = 'pending'",
            )
            .bind(*retry_at)
            .bind(plain(why))
            .bind(d.id.as_str())
            .bind(d.claim.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Begins recording dispatch entries about `deliveries`, under the ledger's lock.
    async fn begin_dispatch_log(
        &self,
        dispatcher: &str,
        deliveries: &[&Delivery],
    ) -> Result<DispatchLog, StoreError> {
        let mut tx = self.begin_append().await?;
        let held = held(&mut tx, self.backend, deliveries).await?;
        let appender = Appender::start(&mut tx, self.backend, &self.nodes).await?;
        Ok(DispatchLog {
            tx,
            held,
            appender,
            entries: Vec::new(),
            dispatcher: plain(dispatcher),
            at: jiff::Timestamp::now().to_string(),
        })
    }

    /// Every delivery planned for a request, in id order.
    pub async fn deliveries_of(&self, request_id: &str) -> Result<Vec<DeliveryStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, act, kind, recipient, status, attempts, last_error FROM outbox \
             WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DeliveryStatus {
                id: r.get(0),
                act: r.get(1),
                kind: r.get(2),
                recipient: r.get(3),
                status: r.get(4),
                attempts: r.get::<i64, _>(5) as u64,
                last_error: r.get(6),
            })
            .collect())
    }

    /// Every disclosure and notice about the person `subject_id`, newest first: where each
    /// stands, when it was planned, and the decision that permits it.
    pub async fn deliveries_about(
        &self,
        subject_id: &str,
    ) -> Result<Vec<DeliveryAbout>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ABOUT} FROM outbox WHERE subject_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(about).collect())
    }

    /// The disclosure or notice `id`, as [`Store::deliveries_about`] lists it.
    pub async fn delivery_about(&self, id: &str) -> Result<Option<DeliveryAbout>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ABOUT} FROM outbox WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(about))
    }

    /// How many outbox rows are in each state.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = OutboxCounts::default();
        for row in rows {
            let n = row.get::<i64, _>(1) as u64;
            match row.get::<String, _>(0).as_str() {
                "pending" => counts.pending = n,
                "delivered" => counts.delivered = n,
                "dead" => counts.dead = n,
                "refused" => counts.refused = n,
                AWAITING_APPROVAL => counts.awaiting_approval = n,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "an outbox row has the unknown status `{other}`"
                    )));
                }
            }
        }
        Ok(counts)
    }
}

/// A transaction recording dispatch entries (attempts or results), one for each delivery
/// whose claim the dispatcher still holds.
struct DispatchLog {
    tx: Transaction<'static, Any>,
    /// The attempts made so far on each delivery still held, by id.
    held: HashMap<String, u64>,
    appender: Appender,
    entries: Vec<Vec<Cell>>,
    /// Who dispatches (control characters made spaces).
    dispatcher: String,
    /// When, as recorded in the entries.
    at: String,
}

impl DispatchLog {
    /// The attempts made so far on `d`, or `None` when its claim is no longer held: then
    /// nothing may be recorded or sent for it.
    fn attempts(&self, d: &Delivery) -> Option<u64> {
        self.held.get(&d.id).copied()
    }

    /// Appends the dispatch entry `entry` about `d` to the ledger.
    fn append(&mut self, d: &Delivery, kind: EntryKind, entry: String) -> Result<(), StoreError> {
        let index = self.appender.append(entry.as_bytes())?;
        self.entries.push(delivery_entry(index, kind, entry, &d.id));
        Ok(())
    }

    /// Writes the entries and `tables` (written after them) and commits.
    async fn commit(self, store: &Store, tables: Vec<Table>) -> Result<(), StoreError> {
        let mut all = vec![delivery_entries(self.entries)];
        all.extend(tables);
        store.commit_append(self.tx, self.appender, all).await?;
        Ok(())
    }
}

/// The counsel assigned to each of `subjects` now, by name.
async fn assigned_counsel(
    conn: &mut AnyConnection,
    subjects: &[&str],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if subjects.is_empty() {
        return Ok(out);
    }
    let query = Backend::of(conn).query_in(
        "SELECT subject_id, counsel FROM assignments WHERE ended_at = '' AND subject_id IN (…) ORDER BY counsel",
        subjects.iter().copied(),
    );
    for row in query.fetch_all(&mut *conn).await? {
        out.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(out)
}

/// The notice to `counsel` that disclosure `d` was delivered (written unless it is there
/// already): who received what about their client, under which request and act.
fn counsel_notice(d: &Delivery, counsel: &str, at: &str) -> OutboxRow {
    let recipient = format!("counsel:{counsel}");
    let disclosed: serde_json::Value =
        serde_json::from_str(&d.payload).unwrap_or_else(|_| d.payload.clone().into());
    let payload = serde_json::json!({
        "request": d.request_id,
        "act": d.act,
        "notice_to": recipient,
        "subject": d.subject_id,
        "disclosure": d.id,
        "disclosed_to": d.recipient,
        "disclosed_at": at,
        "disclosed": disclosed,
    });
    OutboxRow {
        id: delivery_id(&d.request_id, &d.act, &recipient),
        request_id: d.request_id.clone(),
        act: d.act.clone(),
        kind: DeliveryKind::Notice,
        recipient,
        subject_id: d.subject_id.clone(),
        decision_index: d.decision_index,
        payload: payload.to_string(),
        awaiting_approval: false,
        created_at: at.to_owned(),
    }
}
