//! `audit verify`: rebuild the whole tree from the stored entries and check every stored
//! node, every checkpoint (signature and root) and every decision and request row against
//! the entry that records it.

use comity_ledger::{Hash, MemoryTree, Nodes, NoteVerifier};
use sqlx::Row;

use crate::entry::{decision_entry, pack_entry, sha256_hex};
use crate::ledger::node_of;
use crate::rows::{hash, parse_id, records};
use crate::{Store, StoreError};
use tokio::sync::mpsc::Receiver;

/// What a clean verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries re-hashed.
    pub entries: u64,
    /// Stored nodes checked.
    pub nodes: u64,
    /// Decision rows rebuilt into their entries.
    pub decisions: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// The root of the whole ledger.
    pub root: Hash,
}

/// The first thing found that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{what}", index.map(|i| format!("entry {i}: ")).unwrap_or_default())]
pub struct Finding {
    /// The ledger index at fault, where there is one.
    pub index: Option<u64>,
    /// What differs.
    pub what: String,
}

fn finding(index: Option<u64>, what: impl Into<String>) -> Finding {
    Finding {
        index,
        what: what.into(),
    }
}

/// Rows read per page.
const PAGE: i64 = 5_000;

/// A page of rows read ahead of the checking.
type Page = Result<crate::rows::Page, StoreError>;

/// One entry as a reader lane checked it: its leaf hash, and what is wrong with the rows that
/// record it, if anything.
struct Checked {
    index: u64,
    leaf: Hash,
    fault: Option<String>,
}

/// The columns read for each entry, with the rows that record it: a decision and its request,
/// a pack, or (for a dispatch entry) the outbox row it is about.
const ENTRY_FIELDS: &[&str] = &[
    "e.idx",
    "e.kind",
    "e.body",
    "COALESCE(d.request_id, '')",
    "COALESCE(d.body, '')",
    "COALESCE(d.recorded_at, '')",
    "COALESCE(r.sha256, '')",
    "COALESCE(r.body, '')",
    "COALESCE(p.id, '')",
    "COALESCE(p.sha256, '')",
    "COALESCE(p.recorded_at, '')",
    "e.delivery",
    "COALESCE(o.id, '')",
];

const ENTRY_FROM: &str = "ledger_entries e \
    LEFT JOIN decisions d ON d.ledger_index = e.idx \
    LEFT JOIN requests r ON r.id = d.request_id \
    LEFT JOIN packs p ON p.ledger_index = e.idx \
    LEFT JOIN outbox o ON o.id = e.delivery";

/// Hashes each entry of a page and checks the rows that record it (a decision and its
/// request, or a pack): rebuilt into the entry's bytes, they must be those bytes. A dispatch
/// entry is the only record of its attempt or result: it must name the delivery its row
/// names, and that delivery must be in the outbox.
fn check_page(page: &crate::rows::Page) -> Result<Vec<Checked>, StoreError> {
    let mut out = Vec::new();
    for record in page.rows() {
        let [
            index,
            kind,
            body,
            id,
            decision,
            recorded_at,
            sha,
            request,
            pack,
            pack_sha,
            loaded_at,
            delivery,
            outbox,
        ] = record[..]
        else {
            return Err(StoreError::Corrupt("an entry read back malformed".into()));
        };
        let index = parse_id(index)? as u64;
        let dispatched = kind == "dispatch-attempt" || kind == "dispatch-result";
        let names = || {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .is_some_and(|e| e["delivery"].as_str() == Some(delivery))
        };
        let fault = match kind {
            _ if !id.is_empty() && kind != "decision" => Some(format!(
                "the decision for request {id} points at a `{kind}` entry"
            )),
            _ if !pack.is_empty() && kind != "pack-loaded" => {
                Some(format!("the row of pack {pack} points at a `{kind}` entry"))
            }
            _ if !delivery.is_empty() && !dispatched => Some(format!(
                "a `{kind}` entry is marked as about delivery {delivery}"
            )),
            "decision" if id.is_empty() => {
                Some("a decision entry whose decision or request row is missing".to_owned())
            }
            "decision" if sha.is_empty() => {
                Some(format!("the request row of request {id} is missing"))
            }
            "decision" if sha256_hex(request.as_bytes()) != sha => Some(format!(
                "request {id} no longer matches the SHA-256 its entry records"
            )),
            "decision" if decision_entry(decision, recorded_at, id, sha) != body => Some(format!(
                "the stored decision for request {id} differs from its ledger entry"
            )),
            "pack-loaded" if pack.is_empty() => {
                Some("a pack-loaded entry whose pack row is missing".to_owned())
            }
            "pack-loaded" if pack_entry(pack, pack_sha, loaded_at) != body => Some(format!(
                "the stored row of pack {pack} differs from its ledger entry"
            )),
            _ if dispatched && delivery.is_empty() => {
                Some(format!("a `{kind}` entry that names no outbox row"))
            }
            _ if dispatched && !names() => Some(format!(
                "the entry is not about delivery {delivery}, which its row names"
            )),
            _ if dispatched && outbox.is_empty() => {
                Some(format!("the outbox row of delivery {delivery} is missing"))
            }
            _ => None,
        };
        out.push(Checked {
            index,
            leaf: comity_ledger::leaf_hash(body.as_bytes()),
            fault,
        });
    }
    Ok(out)
}

/// Connections reading entries at once: reading is most of the work, and SQLite serves
/// several readers of one file in parallel (4 was fastest on 2 cores, docs/perf.md).
const READERS: usize = 4;

impl Store {
    /// Reads pages of `fields` from `from` in key order, ahead of the checking, on a task
    /// of its own.
    fn scan(&self, fields: &'static [&'static str], from: &'static str) -> Receiver<Page> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (pool, backend) = (self.pool.clone(), self.backend);
        tokio::spawn(async move {
            let mut after = -1;
            let mut conn = match pool.acquire().await {
                Ok(c) => c,
                Err(e) => return drop(tx.send(Err(e.into())).await),
            };
            loop {
                let page = records(&mut conn, backend, fields, from, (after, i64::MAX), PAGE).await;
                let last = page
                    .as_ref()
                    .ok()
                    .and_then(|p| p.last_key())
                    .map(|k| k.parse().unwrap_or(i64::MAX));
                let done = last.is_none();
                if tx.send(page).await.is_err() || done {
                    return;
                }
                after = last.expect("not done");
            }
        });
        rx
    }

    /// Reads and checks the entries below `size`, page `k` covering indices
    /// `[k·PAGE, (k+1)·PAGE)`, in `lanes` tasks on connections of their own (page `k` from
    /// lane `k % lanes`), so that reading and hashing run on every core.
    fn scan_entries(
        &self,
        size: u64,
        lanes: usize,
    ) -> Vec<Receiver<Result<Vec<Checked>, StoreError>>> {
        (0..lanes)
            .map(|lane| {
                let (tx, rx) = tokio::sync::mpsc::channel(2);
                let (pool, backend) = (self.pool.clone(), self.backend);
                tokio::spawn(async move {
                    let mut conn = match pool.acquire().await {
                        Ok(c) => c,
                        Err(e) => return drop(tx.send(Err(e.into())).await),
                    };
                    for page in (lane as u64..).step_by(lanes) {
                        let first = page * PAGE as u64;
                        if first >= size {
                            return;
                        }
                        let range = (first as i64 - 1, (first + PAGE as u64) as i64);
                        let rows =
                            records(&mut conn, backend, ENTRY_FIELDS, ENTRY_FROM, range, PAGE)
                                .await;
                        if tx.send(rows.and_then(|p| check_page(&p))).await.is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect()
    }

    /// Verifies everything stored; `progress(done, total)` is called as entries are read.
    /// `Ok(Err(finding))` reports the first fault found; `Err` is a failure to read.
    pub async fn verify(
        &self,
        verifier: &NoteVerifier,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Result<VerifyReport, Finding>, StoreError> {
        let total = self.size().await?;
        // 1. Every entry, in order and without gaps, hashed into a tree rebuilt in memory;
        //    with it the decision and request rows it records, rebuilt into the entry's
        //    bytes and compared with them.
        let mut tree = MemoryTree::new();
        let mut next: u64 = 0;
        let mut lanes = self.scan_entries(total, READERS);
        for page_no in 0..total.div_ceil(PAGE as u64) as usize {
            let lane = lanes.len();
            let page = lanes[page_no % lane]
                .recv()
                .await
                .ok_or_else(|| StoreError::Corrupt("a reader stopped early".into()))??;
            for checked in page {
                if checked.index != next {
                    return Ok(Err(finding(
                        Some(next),
                        "missing from the ledger (the entries jump over it)",
                    )));
                }
                if let Some(fault) = checked.fault {
                    return Ok(Err(finding(Some(checked.index), fault)));
                }
                tree.append_leaf(checked.leaf);
                next += 1;
            }
            progress(next, total);
        }
        let decisions: i64 = sqlx::query("SELECT COUNT(*) FROM decisions")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        let decisions = decisions as u64;
        let size = next;
        let stray: i64 = sqlx::query("SELECT COUNT(*) FROM decisions WHERE ledger_index >= $1")
            .bind(size as i64)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        if stray > 0 {
            return Ok(Err(finding(
                Some(size),
                format!(
                    "{stray} decision rows point past the end of the ledger (entries were removed)"
                ),
            )));
        }
        // 2. Every stored node, against the rebuilt tree; none missing, none extra.
        let mut expected = (0..64u8).flat_map(|l| (0..size >> l).map(move |i| (l, i)));
        let mut nodes = 0u64;
        let mut pages = self.scan(&["id", "hash"], "ledger_nodes");
        while let Some(page) = pages.recv().await {
            let page = page?;
            if page.is_empty() {
                break;
            }
            for record in page.rows() {
                let (level, index) = node_of(parse_id(record[0])?);
                let first_leaf = index << level;
                match expected.next() {
                    Some(e) if e == (level, index) => {}
                    Some((l, i)) if (l, i) < (level, index) => {
                        return Ok(Err(finding(
                            Some(i << l),
                            format!("the tree node at level {l} covering it is missing"),
                        )));
                    }
                    _ => {
                        return Ok(Err(finding(
                            Some(first_leaf),
                            format!(
                                "a tree node at level {level} covers entries the ledger does not hold"
                            ),
                        )));
                    }
                }
                let stored = hash(record[1], || format!("node ({level}, {index})"))?;
                let rebuilt = tree
                    .node(level, index)
                    .expect("complete node of the rebuilt tree");
                if stored != rebuilt {
                    let what = if level == 0 {
                        "its stored bytes no longer hash to the leaf in the tree (the entry was changed)".to_owned()
                    } else {
                        format!(
                            "the tree node at level {level} does not match the entries under it"
                        )
                    };
                    return Ok(Err(finding(Some(first_leaf), what)));
                }
                nodes += 1;
            }
        }
        if let Some((l, i)) = expected.next() {
            return Ok(Err(finding(
                Some(i << l),
                format!("the tree node at level {l} covering it is missing"),
            )));
        }
        // 3. Every checkpoint: signed by our key, of a size the ledger has, with its root.
        let rows = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size")
            .fetch_all(&self.pool)
            .await?;
        let checkpoints = rows.len() as u64;
        for row in rows {
            let at = row.get::<i64, _>(0) as u64;
            let cp = match comity_ledger::open_checkpoint(&row.get::<String, _>(2), verifier) {
                Ok(cp) => cp,
                Err(e) => return Ok(Err(finding(None, format!("checkpoint at size {at}: {e}")))),
            };
            let stored_root = hash(&row.get::<String, _>(1), || format!("checkpoint {at}"))?;
            if cp.size != at || cp.root != stored_root {
                return Ok(Err(finding(
                    None,
                    format!("checkpoint at size {at}: its row differs from its signed note"),
                )));
            }
            if at > size {
                return Ok(Err(finding(
                    Some(size),
                    format!(
                        "checkpoint at size {at} was signed, but the ledger now holds only {size} entries (entries were removed)"
                    ),
                )));
            }
            let root = comity_ledger::root(&tree, at).expect("in-memory tree");
            if root != cp.root {
                return Ok(Err(finding(
                    None,
                    format!(
                        "checkpoint at size {at}: the ledger's root at that size differs from the signed root"
                    ),
                )));
            }
        }
        let root = comity_ledger::root(&tree, size).expect("in-memory tree");
        Ok(Ok(VerifyReport {
            entries: size,
            nodes,
            decisions,
            checkpoints,
            root,
        }))
    }
}
