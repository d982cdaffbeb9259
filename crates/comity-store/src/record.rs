//! Recording decisions: a request, its decision, its ledger entry and the tree nodes the
//! entry completes, in one transaction per batch.

use std::collections::{HashMap, HashSet};

use comity_model::{Decision, PackRef};
use sqlx::{AnyConnection, Row};

use crate::entry::{
    EntryKind, canonical_decision, decision_entry, decision_entry_len, decision_in_entry,
    pack_entry, sha256_hex,
};
use crate::ledger::{Appender, TreeHead};
use crate::outbox::{DeliveryKind, OutboxRow, delivery_id};
use crate::rows::{Cell, Table};
use crate::{Backend, Store, StoreError};

/// A decided request to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// The request exactly as received (its SHA-256 is what idempotency compares).
    pub request_body: String,
    /// The decision.
    pub decision: Decision,
    /// The deliveries the decision permits, written to the outbox in the same transaction.
    pub deliveries: Vec<NewDelivery>,
}

/// A disclosure or notice to deliver, because a recorded decision permits it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The permitted act it carries out.
    pub act: comity_model::Act,
    /// `disclosure` (to the requesting agency) or `notice` (to the person or counsel).
    pub kind: DeliveryKind,
    /// Who receives it: an agency, `subject`, or `counsel:<name>`.
    pub recipient: String,
    /// The person it is about.
    pub subject_id: String,
    /// What it carries: only the fields the permit names.
    pub payload: serde_json::Value,
    /// Whether the act it carries out needs an approval first (the permit's `approval`
    /// limit): it then waits, `awaiting-approval`, until [`Store::decide_approval`] records
    /// one.
    pub awaiting_approval: bool,
}

impl NewDelivery {
    /// The delivery's id, unique and stable: see [`delivery_id`]. Receivers use it as the
    /// idempotency key.
    pub fn id(&self, request: &str) -> String {
        delivery_id(request, self.act.as_str(), &self.recipient)
    }
}

/// What recording did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now, at this ledger index.
    New(u64),
    /// The same request (same id, same body) was recorded before, at this index: nothing
    /// was written.
    Existing(u64),
    /// Another request was recorded under the same id: nothing was written.
    Conflict {
        /// The request id.
        id: String,
    },
}

impl Recorded {
    /// The ledger index of the request's decision, if it has one.
    pub fn index(&self) -> Option<u64> {
        match self {
            Recorded::New(i) | Recorded::Existing(i) => Some(*i),
            Recorded::Conflict { .. } => None,
        }
    }
}

/// A decision made ready to record: its canonical form and the SHA-256 of its request
/// computed before the ledger's lock is taken (by each caller's task, in parallel), so
/// that the locked part of a commit only appends.
pub(crate) struct Prepared {
    item: NewDecision,
    decision: String,
    sha: String,
}

/// The longest time an entry records (`jiff` prints nanoseconds at most).
const LONGEST_TIME: &str = "2000-01-01T00:00:00.000000000Z";

impl Prepared {
    /// Prepares a decision to record, or refuses one whose entry would be longer than an
    /// entry bundle carries.
    pub(crate) fn new(item: NewDecision) -> Result<Prepared, StoreError> {
        let decision = canonical_decision(&item.decision);
        let sha = sha256_hex(item.request_body.as_bytes());
        let bytes = decision_entry_len(&decision, LONGEST_TIME, &item.decision.request, &sha);
        if bytes > comity_ledger::MAX_ENTRY_BYTES {
            return Err(StoreError::EntryTooLong {
                request: item.decision.request.clone(),
                bytes,
            });
        }
        Ok(Prepared {
            decision,
            sha,
            item,
        })
    }
}

/// The rows a batch of decisions writes, table by table.
#[derive(Default)]
struct BatchRows {
    requests: Vec<Vec<Cell>>,
    decisions: Vec<Vec<Cell>>,
    entries: Vec<Vec<Cell>>,
    packs: Vec<Vec<Cell>>,
    outbox: Vec<OutboxRow>,
}

impl BatchRows {
    /// A pack version recorded for the first time, by `entry` at `index`.
    fn pack(&mut self, pack: &PackRef, index: u64, entry: String, at: &str) {
        self.entries.push(vec![
            Cell::Int(index as i64),
            Cell::Text(EntryKind::PackLoaded.as_str().into()),
            Cell::Text(entry),
        ]);
        self.packs.push(vec![
            Cell::Text(pack.id.clone()),
            Cell::Text(pack.sha256.clone()),
            Cell::Text(at.to_owned()),
            Cell::Int(index as i64),
            Cell::Text(pack.signature.as_deref().unwrap_or_default().to_owned()),
        ]);
    }

    /// A request, its decision (recorded by `entry` at `index`) and the deliveries it
    /// permits.
    fn decision(&mut self, prepared: &Prepared, index: u64, entry: String, at: &str) {
        let item = &prepared.item;
        let id = &item.decision.request;
        self.requests.push(vec![
            Cell::Text(id.clone()),
            Cell::Text(prepared.sha.clone()),
            Cell::Text(item.request_body.clone()),
            Cell::Text(item.decision.at.to_string()),
        ]);
        self.decisions.push(vec![
            Cell::Text(id.clone()),
            Cell::Text(at.to_owned()),
            Cell::Int(index as i64),
        ]);
        self.entries.push(vec![
            Cell::Int(index as i64),
            Cell::Text(EntryKind::Decision.as_str().into()),
            Cell::Text(entry),
        ]);
        self.outbox
            .extend(item.deliveries.iter().map(|d| OutboxRow {
                id: d.id(id),
                request_id: id.clone(),
                act: d.act.to_string(),
                kind: d.kind,
                recipient: d.recipient.clone(),
                subject_id: d.subject_id.clone(),
                decision_index: index,
                payload: d.payload.to_string(),
                awaiting_approval: d.awaiting_approval,
                created_at: at.to_owned(),
            }));
    }

    /// The tables, in the order their rows refer to each other.
    fn tables(self) -> Vec<Table> {
        vec![
            Table::new(
                "requests",
                &["id", "sha256", "body", "received_at"],
                self.requests,
            ),
            Table::new(
                "decisions",
                &["request_id", "recorded_at", "ledger_index"],
                self.decisions,
            ),
            Table::new("ledger_entries", &["idx", "kind", "body"], self.entries),
            Table::new(
                "packs",
                &["id", "sha256", "recorded_at", "ledger_index", "signature"],
                self.packs,
            ),
            OutboxRow::table(self.outbox),
        ]
    }
}

/// Most keys looked up in one statement.
pub(crate) const LOOKUP_CHUNK: usize = 250;

/// A batch as committed: what became of each decision, and the head of the tree the batch
/// ended, which includes every entry it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// What became of each decision, in order.
    pub recorded: Vec<Recorded>,
    /// The head of the tree after the batch, with the leaves it appended.
    pub head: TreeHead,
}

impl Store {
    /// Records a batch of decided requests in one transaction, idempotent by request id.
    pub async fn record_decisions(
        &self,
        batch: &[NewDecision],
    ) -> Result<Vec<Recorded>, StoreError> {
        Ok(self.commit_decisions(batch).await?.recorded)
    }

    /// [`Store::record_decisions`], with the tree head the batch ended: computed from the
    /// nodes the append already holds, without reading anything more.
    pub async fn commit_decisions(&self, batch: &[NewDecision]) -> Result<Committed, StoreError> {
        let batch = batch
            .iter()
            .cloned()
            .map(Prepared::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.commit_prepared(&batch).await
    }

    /// Records prepared decisions in one transaction: the work under the ledger's lock.
    /// Pack versions cited for the first time are recorded before the decisions citing
    /// them; a request recorded already is answered with its entry (or a conflict).
    pub(crate) async fn commit_prepared(
        &self,
        batch: &[Prepared],
    ) -> Result<Committed, StoreError> {
        let mut tx = self.begin_append().await?;
        let ids: Vec<&str> = batch
            .iter()
            .map(|p| p.item.decision.request.as_str())
            .collect();
        let (mut known, size) = existing(&mut tx, &ids).await?;
        let mut appender = Appender::at(&mut tx, self.backend, &self.nodes, size).await?;
        let recorded_at = jiff::Timestamp::now().to_string();
        let loaded = self.packs_recorded(&mut tx, batch).await?;
        let mut rows = BatchRows::default();
        let mut new_packs = HashSet::new();
        for pack in batch.iter().flat_map(|p| &p.item.decision.packs) {
            let key = (pack.id.clone(), pack.sha256.clone());
            if !loaded.contains(&key) && new_packs.insert(key) {
                let signature = pack.signature.as_deref().unwrap_or_default();
                let entry = pack_entry(&pack.id, &pack.sha256, &recorded_at, signature);
                let index = appender.append(entry.as_bytes())?;
                rows.pack(pack, index, entry, &recorded_at);
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        for prepared in batch {
            let id = &prepared.item.decision.request;
            if let Some((known_sha, index)) = known.get(id) {
                out.push(if *known_sha == prepared.sha {
                    Recorded::Existing(*index)
                } else {
                    Recorded::Conflict { id: id.clone() }
                });
                continue;
            }
            let entry = decision_entry(&prepared.decision, &recorded_at, id, &prepared.sha);
            let index = appender.append(entry.as_bytes())?;
            rows.decision(prepared, index, entry, &recorded_at);
            known.insert(id.clone(), (prepared.sha.clone(), index));
            out.push(Recorded::New(index));
        }
        let head = self.commit_append(tx, appender, rows.tables()).await?;
        self.packs
            .write()
            .expect("pack cache lock")
            .extend(loaded.into_iter().chain(new_packs));
        Ok(Committed {
            recorded: out,
            head,
        })
    }

    /// The pack versions recorded in the ledger, or at least those `batch` cites when this
    /// process knows them all to be (recorded is forever): then nothing is read.
    async fn packs_recorded(
        &self,
        conn: &mut AnyConnection,
        batch: &[Prepared],
    ) -> Result<HashSet<(String, String)>, StoreError> {
        let cited: HashSet<(String, String)> = batch
            .iter()
            .flat_map(|p| &p.item.decision.packs)
            .map(|p| (p.id.clone(), p.sha256.clone()))
            .collect();
        let cached = {
            let known = self.packs.read().expect("pack cache lock");
            cited.iter().all(|p| known.contains(p))
        };
        if cached {
            return Ok(cited);
        }
        Ok(sqlx::query("SELECT id, sha256 FROM packs")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect())
    }

    /// The decision recorded for a request: its ledger entry, checked against the rows that
    /// point at it.
    pub async fn decision(&self, request_id: &str) -> Result<Option<RecordedDecision>, StoreError> {
        let row = sqlx::query(
            "SELECT e.body, d.ledger_index, d.recorded_at, r.sha256 \
             FROM decisions d JOIN requests r ON r.id = d.request_id \
             JOIN ledger_entries e ON e.idx = d.ledger_index \
             WHERE d.request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (entry, index) = (row.get::<String, _>(0), row.get::<i64, _>(1) as u64);
        let decision = decision_in_entry(
            &entry,
            &row.get::<String, _>(2),
            request_id,
            &row.get::<String, _>(3),
        )
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the decision row of request {request_id} differs from its ledger entry {index}"
            ))
        })?;
        let start = crate::entry::DECISION_OPENING.len();
        let decision = start..start + decision.len();
        Ok(Some(RecordedDecision {
            index,
            entry,
            decision,
        }))
    }
}

/// A decision as recorded: its ledger entry and index.
#[derive(Debug, Clone)]
pub struct RecordedDecision {
    /// The entry's ledger index.
    pub index: u64,
    /// The entry's bytes.
    pub entry: String,
    /// Where the decision lies in the entry.
    decision: std::ops::Range<usize>,
}

impl RecordedDecision {
    /// The decision, as the entry holds it (canonical JSON).
    pub fn decision(&self) -> &str {
        &self.entry[self.decision.clone()]
    }
}

/// Requests already recorded among `ids`: id → (SHA-256, ledger index); and the ledger's
/// size, read in the same round trip.
async fn existing(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<(HashMap<String, (String, u64)>, u64), StoreError> {
    let mut out = HashMap::new();
    let mut size = None;
    // The size rides on the first lookup, as the one row without an id.
    for (i, chunk) in ids.chunks(LOOKUP_CHUNK).enumerate() {
        let size_row = if i == 0 {
            " UNION ALL SELECT NULL, NULL, COALESCE(MAX(idx) + 1, 0) FROM ledger_entries"
        } else {
            ""
        };
        let sql = format!(
            "SELECT r.id, r.sha256, d.ledger_index FROM requests r JOIN decisions d ON d.request_id = r.id WHERE r.id IN (…){size_row}"
        );
        let query = Backend::of(conn).query_in(&sql, chunk.iter().copied());
        for row in query.fetch_all(&mut *conn).await? {
            let index = row.get::<i64, _>(2) as u64;
            match row.get::<Option<String>, _>(0) {
                Some(id) => drop(out.insert(id, (row.get::<String, _>(1), index))),
                None => size = Some(index),
            }
        }
    }
    let size = match size {
        Some(size) => size,
        None => crate::ledger::ledger_size(conn).await?,
    };
    Ok((out, size))
}

#[cfg(test)]
mod tests {
    use super::delivery_id;

    #[test]
    fn delivery_ids_never_collide_and_plain_ones_read_as_before() {
        assert_eq!(
            delivery_id("nyc-1", "notify-release", "DHS-ICE-ERO"),
            "nyc-1/notify-release/DHS-ICE-ERO"
        );
        // The collision of `<request>/<act>/<recipient>` written plainly.
        let a = delivery_id("r1/notify-release/X", "notify-release", "Y");
        let b = delivery_id("r1", "notify-release", "X/notify-release/Y");
        assert_ne!(a, b);
        assert_eq!(a, "r1%2Fnotify-release%2FX/notify-release/Y");
        assert_ne!(
            delivery_id("a%2Fb", "hold", "c"),
            delivery_id("a/b", "hold", "c")
        );
    }
}
