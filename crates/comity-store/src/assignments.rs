//! Counsel's assignments: which counsel represents which person, as an authority assigned it
//! (an administrator, or the command line), never as counsel says. Counsel reads requests
//! and decisions only about the people assigned to it, and is sent a notice of each
//! disclosure about them. An assignment's end is written on it; nothing is deleted.

use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError};

/// An assignment of a counsel to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The counsel.
    pub counsel: String,
    /// The person, by the id requests give (`subject.id`).
    pub subject_id: String,
    /// Who assigned it.
    pub assigned_by: String,
    /// When (RFC 3339).
    pub assigned_at: String,
    /// When it ended and by whom, if it has.
    pub ended: Option<(String, String)>,
}

const COLUMNS: &str = "counsel, subject_id, assigned_by, assigned_at, ended_at, ended_by";

fn assignment(r: &sqlx::any::AnyRow) -> Assignment {
    let ended_at: String = r.get(4);
    Assignment {
        counsel: r.get(0),
        subject_id: r.get(1),
        assigned_by: r.get(2),
        assigned_at: r.get(3),
        ended: (!ended_at.is_empty()).then(|| (ended_at, r.get(5))),
    }
}

impl Store {
    /// Assigns `counsel` to `subject_id`, recording who did; `false` if that assignment
    /// stands already.
    pub async fn assign(
        &self,
        counsel: &str,
        subject_id: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO assignments (counsel, subject_id, assigned_by, assigned_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (counsel, subject_id) WHERE ended_at = '' DO NOTHING",
        )
        .bind(counsel)
        .bind(subject_id)
        .bind(by)
        .bind(jiff::Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends the standing assignment of `counsel` to `subject_id`, recording who did; `false`
    /// if none stands.
    pub async fn end_assignment(
        &self,
        counsel: &str,
        subject_id: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE assignments SET ended_at = $1, ended_by = $2 \
             WHERE counsel = $3 AND subject_id = $4 AND ended_at = ''",
        )
        .bind(jiff::Timestamp::now().to_string())
        .bind(by)
        .bind(counsel)
        .bind(subject_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every assignment, standing and ended, of `counsel` (or of every counsel), by counsel,
    /// subject and time.
    pub async fn assignments(&self, counsel: Option<&str>) -> Result<Vec<Assignment>, StoreError> {
        let filter = if counsel.is_some() {
            "WHERE counsel = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM assignments {filter} ORDER BY counsel, subject_id, assigned_at"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(c) = counsel {
            query = query.bind(c);
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(assignment)
            .collect())
    }

    /// Whether `counsel` is assigned to `subject_id` now.
    pub async fn is_assigned(&self, counsel: &str, subject_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM assignments WHERE counsel = $1 AND subject_id = $2 AND ended_at = ''",
        )
        .bind(counsel)
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
