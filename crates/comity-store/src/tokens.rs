//! API tokens, by their SHA-256 only: the role each is bound to, its holder, when it
//! expires, and whether (and by whom) it was revoked.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError};

/// An API token as stored: never the token itself, only its hash, its role and its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// Its public id: the first 16 hex digits of its SHA-256, to list and revoke it by.
    pub id: String,
    /// The role the token is bound to (`clerk`, `supervisor`, `counsel`, `auditor`, `admin`).
    pub role: String,
    /// Who holds it; for counsel, the counsel's name.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it stops working; `None` only for a token made before tokens expired.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, and by whom.
    pub revoked: Option<(String, String)>,
}

/// A token's public id, from its SHA-256 (hex).
fn token_id(sha256: &str) -> String {
    sha256.chars().take(16).collect()
}

const COLUMNS: &str = "id, role, name, created_at, expires_at, revoked_at, revoked_by";

fn stored(r: &sqlx::any::AnyRow) -> StoredToken {
    let revoked_at: String = r.get(5);
    let expires: String = r.get(4);
    StoredToken {
        id: r.get(0),
        role: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
        // An expiry that does not read as an instant has passed: refuse rather than trust.
        expires_at: (!expires.is_empty()).then(|| expires.parse().unwrap_or(Timestamp::UNIX_EPOCH)),
        revoked: (!revoked_at.is_empty()).then(|| (revoked_at, r.get(6))),
    }
}

impl Store {
    /// Stores a token's SHA-256 (hex) with its role, holder and expiry; returns its id.
    pub async fn create_token(
        &self,
        sha256: &str,
        role: &str,
        name: &str,
        expires_at: Timestamp,
    ) -> Result<String, StoreError> {
        let id = token_id(sha256);
        sqlx::query(
            "INSERT INTO api_tokens (sha256, id, role, name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256)
        .bind(&id)
        .bind(role)
        .bind(name)
        .bind(Timestamp::now().to_string())
        .bind(expires_at.to_string())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// The token whose SHA-256 (hex) is `sha256`, if one was created.
    pub async fn token(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE sha256 = $1"
        )))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(stored))
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(stored).collect())
    }

    /// Revokes the token `id`, recording who did; the token as it now stands, or `None` if
    /// no token has that id. Revoking a revoked token changes nothing.
    pub async fn revoke_token(
        &self,
        id: &str,
        by: &str,
    ) -> Result<Option<StoredToken>, StoreError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at = ''")
            .bind(Timestamp::now().to_string())
            .bind(by)
            .bind(id)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(stored))
    }
}
