//! The ledger's tiles (C2SP tlog-tiles): a hash tile is a range of stored nodes of one level,
//! an entry bundle a range of entries, each read in one query.

use comity_ledger::{TileAddress, TileContent, entry_bundle};
use sqlx::Row;

use crate::ledger::{ledger_size, node_id, node_of};
use crate::rows::hash;
use crate::{Store, StoreError};

impl Store {
    /// The bytes of a tile: `width` hashes of 32 bytes, or an entry bundle. `None` when the
    /// ledger does not yet hold all the tile covers.
    pub async fn tile(&self, tile: &TileAddress) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let size = ledger_size(&mut conn).await?;
        let (Some(level), Some(first), true) = (tile.tree_level(), tile.first(), tile.is_in(size))
        else {
            return Ok(None);
        };
        let end = first + u64::from(tile.width);
        let missing = |at: u64| {
            StoreError::Corrupt(format!(
                "the ledger of {size} entries lacks {} {at} of {}",
                match tile.content {
                    TileContent::Hashes { .. } => format!("the node of level {level} at"),
                    TileContent::Entries => "entry".to_owned(),
                },
                tile.path()
            ))
        };
        Ok(Some(match tile.content {
            TileContent::Hashes { .. } => {
                let rows = sqlx::query(
                    "SELECT id, hash FROM ledger_nodes WHERE id >= $1 AND id < $2 ORDER BY id",
                )
                .bind(node_id(level, first))
                .bind(node_id(level, end))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| (node_of(r.get(0)).1, r.get::<String, _>(1)))
                .collect();
                let mut bytes = Vec::with_capacity(tile.width as usize * 32);
                for text in contiguous(rows, first..end, missing)? {
                    bytes.extend(hash(&text, || format!("a node of {}", tile.path()))?);
                }
                bytes
            }
            TileContent::Entries => {
                let rows = sqlx::query(
                    "SELECT idx, body FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                )
                .bind(first as i64)
                .bind(end as i64)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| (r.get::<i64, _>(0) as u64, r.get::<String, _>(1)))
                .collect();
                let entries = contiguous(rows, first..end, missing)?;
                entry_bundle(first, entries.iter().map(|e| e.as_bytes()))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
        }))
    }
}

/// The values of `rows`, which must be keyed by every index of `range` in order; otherwise
/// the first index missing is named.
fn contiguous<T>(
    rows: Vec<(u64, T)>,
    range: std::ops::Range<u64>,
    missing: impl Fn(u64) -> StoreError,
) -> Result<Vec<T>, StoreError> {
    let mut values = Vec::with_capacity(rows.len());
    let mut expected = range.start;
    for (index, value) in rows {
        if index != expected {
            return Err(missing(expected));
        }
        values.push(value);
        expected += 1;
    }
    if expected != range.end {
        return Err(missing(expected));
    }
    Ok(values)
}
