//! What the HTTP API reads and writes besides decisions: requests as received, tree heads
//! with the leaf hashes of entries.

use std::collections::HashMap;

use sqlx::Row;

use crate::record::LOOKUP_CHUNK;
use crate::{Store, StoreError};

impl Store {
    /// The request recorded under `id`, exactly as received.
    pub async fn request(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// The SHA-256 (hex) of each request recorded among `ids`, by id: what idempotency
    /// compares a request received again with.
    pub async fn request_digests(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let query = self.backend.query_in(
                "SELECT id, sha256 FROM requests WHERE id IN (…)",
                chunk.iter().copied(),
            );
            for row in query.fetch_all(&self.pool).await? {
                out.insert(row.get::<String, _>(0), row.get::<String, _>(1));
            }
        }
        Ok(out)
    }
}

/// A recorded decision as a list of recent ones shows it: the request as received and the
/// decision's ledger entry.
#[derive(Debug, Clone)]
pub struct RecentDecision {
    /// The request's id.
    pub request_id: String,
    /// The decision's leaf index.
    pub ledger_index: u64,
    /// The request, as received.
    pub request: String,
    /// The decision's ledger entry (canonical JSON, holding the decision).
    pub entry: String,
}

impl Store {
    /// Up to `limit` decisions recorded before leaf index `before` (from the newest when
    /// `None`), newest first.
    pub async fn recent_decisions(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<RecentDecision>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "SELECT d.request_id, d.ledger_index, r.body, e.body \
             FROM decisions d \
             JOIN requests r ON r.id = d.request_id \
             JOIN ledger_entries e ON e.idx = d.ledger_index \
             WHERE d.ledger_index < $1 \
             ORDER BY d.ledger_index DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RecentDecision {
                request_id: r.get(0),
                ledger_index: r.get::<i64, _>(1) as u64,
                request: r.get(2),
                entry: r.get(3),
            })
            .collect())
    }
}
