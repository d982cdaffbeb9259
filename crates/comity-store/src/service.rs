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
