//! Reading the ledger in order, as reports count it: decision entries with the request each
//! decides, a page at a time, and the entries of what was done after (events and delivery
//! results). Rows are returned as stored; the reader checks each request against the SHA-256
//! its entry records.

use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use sqlx::Row;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::mpsc;

use crate::backend::{Backend, Direct};
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

/// `SELECT` of `$columns` (the index, the entry, the request) from the decision entries at
/// indices from `$1` up to `$2`, in ledger order, each with its request.
macro_rules! decisions_in {
    ($columns:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM ledger_entries e \
             JOIN decisions d ON d.ledger_index = e.idx \
             JOIN requests r ON r.id = d.request_id \
             WHERE e.kind = 'decision' AND e.idx >= $1 AND e.idx < $2 \
             ORDER BY e.idx"
        )
    };
}

/// The decision entries with their requests (SQL both databases accept).
const DECISIONS_IN: &str = decisions_in!("e.idx, e.body, r.body");

/// The same rows with only the last [`ENTRY_TAIL`] bytes of each entry (PostgreSQL). Taken
/// as bytes: `right()` counts the characters of the whole entry first, which doubles the
/// server's work on a ledger read (its decompressing each entry is the rest).
const DECISION_TAILS_IN: &str =
    decisions_in!("e.idx, substr(convert_to(e.body, 'UTF8'), octet_length(e.body) - 95), r.body");

/// How many bytes of an entry's end a [`PassOver`] is shown, at least (`DECISION_TAILS_IN`
/// takes the bytes from `octet_length - 95`: this number).
pub const ENTRY_TAIL: usize = 96;

/// Whether a decision row may be left out of the pages, judged from the end of its entry (at
/// least its last [`ENTRY_TAIL`] bytes: the whole entry, or only that end, which may begin
/// inside a character and is then not shown: the row is kept) and its request. A reader that
/// counts a few rows of a million (a report of one agency and year) need not be sent the
/// others' entries in full.
pub type PassOver = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Pages of decision rows, read ahead of their reader; a failure ends them.
pub type DecisionPages = mpsc::Receiver<Result<Vec<DecisionRow>, StoreError>>;

/// Pages read ahead of the reader: one being read while the reader works on the last.
const READ_AHEAD: usize = 2;

/// Ranges of a PostgreSQL ledger read at once.
const RANGES_IN_FLIGHT: usize = 2;

impl Store {
    /// Every decision entry below index `size`, in ledger order, in pages of at most `page`
    /// rows (never empty), read on a thread of their own while the reader counts the last (a
    /// report, a what-if), with each database's own driver rather than the store's pool: a
    /// SQLite file with SQLite's own library on one thread (through the pool, every value
    /// crossing to the reader's thread is copied and freed under SQLite's global locks, and
    /// the two threads take turns); PostgreSQL as [`read_postgres`] says. Must be called
    /// within a Tokio runtime.
    pub fn decision_pages(&self, size: u64, page: usize) -> DecisionPages {
        self.decision_pages_passing_over(size, page, None)
    }

    /// As [`Store::decision_pages`], but rows for which `pass_over` holds may be left out
    /// (pages hold at most `page` rows, and may hold fewer). PostgreSQL leaves them out: it
    /// sends each entry's end, and the whole entry only of the rows kept (a million entries
    /// of several kilobytes each are otherwise most of what a report reads through the
    /// socket). A SQLite file keeps them, its reader being one thread: the reader of the
    /// pages judges them again, on every core.
    pub fn decision_pages_passing_over(
        &self,
        size: u64,
        page: usize,
        pass_over: Option<PassOver>,
    ) -> DecisionPages {
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        match self.direct.clone() {
            Direct::Sqlite(file) => {
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = read_sqlite(&file, size, page, &tx) {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
            }
            Direct::Postgres(url) => {
                tokio::spawn(async move {
                    if let Err(e) = read_postgres(&url, size, page, pass_over, &tx).await {
                        let _ = tx.send(Err(e)).await;
                    }
                });
            }
        }
        rx
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

/// Reads the decision entries below `size` from PostgreSQL into pages sent on `tx`, a range of
/// `page` ledger indices at a time and two ranges at once on two connections of PostgreSQL's
/// own driver: the server's work on each (reading and decompressing the entries) runs on both
/// cores, and each row is copied once, from the wire. With `pass_over`, a range is read as
/// each entry's end first, and only the entries of the rows kept are read whole.
async fn read_postgres(
    url: &str,
    size: u64,
    page: usize,
    pass_over: Option<PassOver>,
    tx: &mpsc::Sender<Result<Vec<DecisionRow>, StoreError>>,
) -> Result<(), StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(RANGES_IN_FLIGHT as u32)
        .connect(url)
        .await?;
    let ranges = (0..size).step_by(page).map(|start| {
        let end = start.saturating_add(page as u64).min(size);
        let (pool, pass_over) = (&pool, pass_over.clone());
        async move {
            match pass_over {
                None => postgres_range(pool, start, end).await,
                Some(pass_over) => postgres_range_kept(pool, start, end, pass_over).await,
            }
        }
    });
    let mut pages = futures_util::stream::iter(ranges).buffered(RANGES_IN_FLIGHT);
    while let Some(rows) = pages.next().await {
        let rows = rows?;
        // A range of events alone, or of rows all passed over, is no page: an empty page
        // would be the end.
        if !rows.is_empty() && tx.send(Ok(rows)).await.is_err() {
            break;
        }
    }
    pool.close().await;
    Ok(())
}

/// The rows `query` selects for indices `start..end`.
async fn postgres_rows(
    pool: &sqlx::PgPool,
    query: &'static str,
    start: u64,
    end: u64,
) -> Result<Vec<sqlx::postgres::PgRow>, StoreError> {
    Ok(sqlx::query(query)
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(pool)
        .await?)
}

/// The rows for indices `start..end`, whole.
async fn postgres_range(
    pool: &sqlx::PgPool,
    start: u64,
    end: u64,
) -> Result<Vec<DecisionRow>, StoreError> {
    let rows = postgres_rows(pool, DECISIONS_IN, start, end).await?;
    rows.iter()
        .map(|r| {
            Ok(DecisionRow {
                index: r.try_get::<i64, _>(0)? as u64,
                entry: r.try_get::<&str, _>(1)?.to_owned(),
                request: r.try_get::<&str, _>(2)?.to_owned(),
            })
        })
        .collect()
}

/// The rows for indices `start..end` that `pass_over` keeps, each with its whole entry: the
/// ends of the entries are read and judged (on a blocking thread: judging hashes each
/// request), then the entries kept are read whole.
async fn postgres_range_kept(
    pool: &sqlx::PgPool,
    start: u64,
    end: u64,
    pass_over: PassOver,
) -> Result<Vec<DecisionRow>, StoreError> {
    let rows = postgres_rows(pool, DECISION_TAILS_IN, start, end).await?;
    let tails = rows
        .iter()
        .map(|r| {
            let end = std::str::from_utf8(r.try_get::<&[u8], _>(1)?).unwrap_or("");
            Ok(DecisionRow {
                index: r.try_get::<i64, _>(0)? as u64,
                entry: end.to_owned(),
                request: r.try_get::<&str, _>(2)?.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut kept = tokio::task::spawn_blocking(move || {
        tails
            .into_iter()
            .filter(|row| !pass_over(&row.entry, &row.request))
            .collect::<Vec<_>>()
    })
    .await
    // Not the end of the pages: a reader that stopped short would count a part as the whole.
    .map_err(|e| StoreError::Corrupt(format!("reading the ledger stopped: {e}")))?;
    if kept.is_empty() {
        return Ok(kept);
    }
    let indices: Vec<i64> = kept.iter().map(|row| row.index as i64).collect();
    let whole =
        sqlx::query("SELECT idx, body FROM ledger_entries WHERE idx = ANY($1) ORDER BY idx")
            .bind(&indices)
            .fetch_all(pool)
            .await?;
    if whole.len() != kept.len() {
        return Err(StoreError::Corrupt(format!(
            "ledger entries {start} to {end} changed while they were read"
        )));
    }
    for (row, entry) in kept.iter_mut().zip(&whole) {
        if entry.try_get::<i64, _>(0)? as u64 != row.index {
            return Err(StoreError::Corrupt(format!(
                "ledger entry {} changed while it was read",
                row.index
            )));
        }
        row.entry = entry.try_get::<&str, _>(1)?.to_owned();
    }
    Ok(kept)
}

/// A connection of SQLite's own library to `file`, for a long read on a thread of its own
/// (through the pool, every value crossing to another thread is copied and freed under
/// SQLite's global locks).
pub(crate) fn sqlite_reader(file: &Path) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    // Read and write as the store's own connections are (a read-only connection to a
    // database in WAL mode needs its shared-memory file to exist); this one only reads.
    let conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Set as every pooled connection is (waiting for locks, reading through a memory map).
    for pragma in Backend::Sqlite.session_setup() {
        conn.prepare(pragma)?.query([])?.next()?;
    }
    Ok(conn)
}

/// Reads the decision entries below `size` from a SQLite file into pages sent on `tx`, until
/// the end or the reader hangs up.
fn read_sqlite(
    file: &Path,
    size: u64,
    page: usize,
    tx: &mpsc::Sender<Result<Vec<DecisionRow>, StoreError>>,
) -> Result<(), StoreError> {
    let conn = sqlite_reader(file)?;
    let mut statement = conn.prepare(DECISIONS_IN)?;
    let mut rows = statement.query([0, size as i64])?;
    let mut pending = Vec::with_capacity(page);
    while let Some(row) = rows.next()? {
        pending.push(DecisionRow {
            index: row.get::<_, i64>(0)? as u64,
            entry: row.get(1)?,
            request: row.get(2)?,
        });
        if pending.len() == page {
            let full = std::mem::replace(&mut pending, Vec::with_capacity(page));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !pending.is_empty() {
        let _ = tx.blocking_send(Ok(pending));
    }
    Ok(())
}
