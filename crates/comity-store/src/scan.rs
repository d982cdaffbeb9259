//! Reading the ledger in order, as reports count it: decision entries with the request each
//! decides, a page at a time, and the entries of what was done after (events and delivery
//! results). Rows are returned as stored; the reader checks each request against the SHA-256
//! its entry records.

use sqlx::Row;

use crate::entry::EntryKind;
use crate::{Store, StoreError};

/// A decision entry and the request body stored under the id it names.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    /// The entry's ledger index.
    pub index: u64,
    /// The entry's canonical bytes.
    pub entry: String,
    /// The request as received, as the `requests` row holds it.
    pub request: String,
}

/// An entry of another kind: its index, kind and bytes.
#[derive(Debug, Clone)]
pub struct EntryRow {
    /// The entry's ledger index.
    pub index: u64,
    /// Its kind.
    pub kind: EntryKind,
    /// Its canonical bytes.
    pub entry: String,
}

impl Store {
    /// The decision entries at indices `from..to`, in ledger order, each with its request.
    /// A range of indices rather than a count of rows: each query reads only its range,
    /// whatever plan the database picks.
    pub async fn decisions_in(&self, from: u64, to: u64) -> Result<Vec<DecisionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.idx, e.body, r.body FROM ledger_entries e \
             JOIN decisions d ON d.ledger_index = e.idx \
             JOIN requests r ON r.id = d.request_id \
             WHERE e.kind = 'decision' AND e.idx >= $1 AND e.idx < $2 \
             ORDER BY e.idx",
        )
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DecisionRow {
                index: r.get::<i64, _>(0) as u64,
                entry: r.get(1),
                request: r.get(2),
            })
            .collect())
    }

    /// The entries of what was done after decisions (events and delivery results) below
    /// index `below`, in ledger order.
    pub async fn activity_entries(&self, below: u64) -> Result<Vec<EntryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, kind, body FROM ledger_entries \
             WHERE kind IN ('event', 'dispatch-result') AND idx < $1 ORDER BY idx",
        )
        .bind(below as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let index = r.get::<i64, _>(0) as u64;
                let kind: String = r.get(1);
                let kind = kind.parse().map_err(|_| {
                    StoreError::Corrupt(format!("entry {index}: unknown kind `{kind}`"))
                })?;
                Ok(EntryRow {
                    index,
                    kind,
                    entry: r.get(2),
                })
            })
            .collect()
    }
}
