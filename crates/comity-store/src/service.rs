//! What the HTTP API reads and writes besides decisions: requests as received, tree heads
//! with the leaf hashes of entries, and counsel's subscriptions.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use crate::record::LOOKUP_CHUNK;
use crate::rows::placeholders;
use crate::{Store, StoreError};

/// A subject a counsel subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The subject's id, as requests state it.
    pub subject_id: String,
    /// When the subscription was made (RFC 3339).
    pub created_at: String,
}

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
            let sql = format!(
                "SELECT id, sha256 FROM requests WHERE id IN ({})",
                placeholders(self.backend, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.insert(row.get::<String, _>(0), row.get::<String, _>(1));
            }
        }
        Ok(out)
    }

    /// Subscribes `counsel` to `subject_id`; `false` if it already was.
    pub async fn subscribe(&self, counsel: &str, subject_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO subscriptions (counsel, subject_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (counsel, subject_id) DO NOTHING",
        )
        .bind(counsel)
        .bind(subject_id)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The subjects `counsel` subscribed to, in subject order.
    pub async fn subscriptions(&self, counsel: &str) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject_id, created_at FROM subscriptions WHERE counsel = $1 ORDER BY subject_id",
        )
        .bind(counsel)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Subscription {
                subject_id: r.get(0),
                created_at: r.get(1),
            })
            .collect())
    }

    /// Whether `counsel` subscribed to `subject_id`.
    pub async fn is_subscribed(&self, counsel: &str, subject_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM subscriptions WHERE counsel = $1 AND subject_id = $2")
            .bind(counsel)
            .bind(subject_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
