//! The receipts notices to counsel carry, kept once made: a notice is sent again (at least
//! once delivery), and must carry the same bytes every time.

use sqlx::Row;

use crate::{Store, StoreError};

impl Store {
    /// The receipt kept for delivery `id`, if one was.
    pub async fn kept_receipt(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM receipts WHERE delivery_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Keeps `body` as delivery `id`'s receipt unless one is kept already (two dispatchers
    /// may make one at once), and returns the one kept.
    pub async fn keep_receipt(&self, id: &str, body: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO receipts (delivery_id, body) VALUES ($1, $2) \
             ON CONFLICT (delivery_id) DO NOTHING",
        )
        .bind(id)
        .bind(body)
        .execute(&self.pool)
        .await?;
        self.kept_receipt(id).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("the receipt of delivery `{id}` was not kept"))
        })
    }
}
