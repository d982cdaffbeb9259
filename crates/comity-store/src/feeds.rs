//! When comity last heard from each source: a request's requesting agency and the agency
//! asked. Kept so that a feed gone silent (a court's reminder feed that stops, an agency's
//! requests that no longer arrive) is seen.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError};

impl Store {
    /// Records that requests from `from` to `to` were heard at `at` (a later time only ever
    /// moves it forward).
    pub async fn note_feeds(&self, seen: &[(String, String, Timestamp)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (from, to, at) in seen {
            sqlx::query(
                "INSERT INTO feed_seen (from_agency, to_agency, last_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (from_agency, to_agency) DO UPDATE SET last_at = excluded.last_at \
                 WHERE excluded.last_at > feed_seen.last_at",
            )
            .bind(from)
            .bind(to)
            .bind(at.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When requests were last heard from each source: `(from, to, at)`.
    pub async fn feeds_seen(&self) -> Result<Vec<(String, String, Timestamp)>, StoreError> {
        let rows = sqlx::query("SELECT from_agency, to_agency, last_at FROM feed_seen")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let at: String = r.get(2);
                let at = at
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("feed_seen.last_at `{at}`: {e}")))?;
                Ok((r.get(0), r.get(1), at))
            })
            .collect()
    }
}
