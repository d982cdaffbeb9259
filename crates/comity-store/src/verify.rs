//! `audit verify`: rebuild the whole tree from the stored entries and check every stored
//! node, every checkpoint (signature and root) and every decision and request row against
//! the entry that records it (a decision itself is stored only in its entry).

use comity_ledger::{Hash, MemoryTree, Nodes, NoteVerifier};
use sqlx::Row;

use crate::entry::{EntryKind, decision_in_entry, pack_entry, sha256_hex};
use crate::ledger::{node_id, node_of};
use crate::rows::{hash, parse_id, records};
use crate::{Finding, Store, StoreError};
use rusqlite::types::ValueRef;
use std::path::Path;
use tokio::sync::mpsc::{Receiver, Sender};

use crate::backend::Direct;

/// What a clean verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries re-hashed.
    pub entries: u64,
    /// Stored nodes checked.
    pub nodes: u64,
    /// Decision rows checked against their entries.
    pub decisions: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// The root of the whole ledger.
    pub root: Hash,
}

fn finding(index: Option<u64>, what: impl Into<String>) -> Finding {
    Finding {
        index,
        what: what.into(),
    }
}

/// Rows read per page.
const PAGE: i64 = 2000;

/// A run of keys read as one page: the entries `[first, end)`, or the stored nodes of one
/// level covering `[first, end)` of that level.
#[derive(Debug, Clone, Copy)]
enum Span {
    Entries { first: u64, end: u64 },
    Nodes { level: u8, first: u64, end: u64 },
}

/// The pages `verify` reads, in the order it checks them: every entry below `size`, then
/// every node a tree of `size` leaves stores, level by level.
fn spans(size: u64) -> Vec<Span> {
    let page = PAGE as u64;
    let entries = (0..size).step_by(PAGE as usize).map(|first| Span::Entries {
        first,
        end: (first + page).min(size),
    });
    let nodes = (0..64u8)
        .map(|level| (level, size >> level))
        .take_while(|&(_, width)| width > 0)
        .flat_map(|(level, width)| {
            (0..width)
                .step_by(PAGE as usize)
                .map(move |first| Span::Nodes {
                    level,
                    first,
                    end: (first + page).min(width),
                })
        });
    entries.chain(nodes).collect()
}

/// A page as a reader lane read and checked it.
enum Checked {
    /// Entries, each with its leaf hash and what is wrong with the rows that record it.
    Entries(Vec<CheckedEntry>),
    /// Stored nodes of one level: their index and hash (`None`: what is stored is not a
    /// SHA-256 hash).
    Nodes(u8, Vec<(u64, Option<Hash>)>),
}

/// One entry as a reader lane checked it: its leaf hash, and what is wrong with the rows that
/// record it, if anything.
struct CheckedEntry {
    index: u64,
    leaf: Hash,
    fault: Option<String>,
}

/// The columns read for each entry, with the rows that record it: a decision and its request,
/// a pack, or (for a dispatch entry) the outbox row it is about.
/// The long texts come last, so that building the page moves each of them least.
const ENTRY_FIELDS: &[&str] = &[
    "e.idx",
    "e.kind",
    "COALESCE(d.request_id, '')",
    "COALESCE(d.recorded_at, '')",
    "COALESCE(r.sha256, '')",
    "COALESCE(p.id, '')",
    "COALESCE(p.sha256, '')",
    "COALESCE(p.recorded_at, '')",
    "COALESCE(p.signature, '')",
    "e.delivery",
    "COALESCE(o.id, '')",
    "COALESCE(r.body, '')",
    "e.body",
];

/// The columns read for each stored node.
const NODE_FIELDS: &[&str] = &["id", "hash"];

const ENTRY_FROM: &str = "ledger_entries e \
    LEFT JOIN decisions d ON d.ledger_index = e.idx \
    LEFT JOIN requests r ON r.id = d.request_id \
    LEFT JOIN packs p ON p.ledger_index = e.idx \
    LEFT JOIN outbox o ON o.id = e.delivery";

/// Hashes each entry of a page and checks the rows that point at it: a decision row and its
/// request must say what the entry says (request, SHA-256 of the request's body, time), a
/// pack row rebuilt into an entry must be the entry's bytes. A dispatch
/// entry is the only record of its attempt or result: it must name the delivery its row
/// names, and that delivery must be in the outbox.
fn check_entries(page: &crate::rows::Page) -> Result<Vec<CheckedEntry>, StoreError> {
    page.rows()
        .map(|record| {
            let index = parse_id(record.first().copied().unwrap_or_default())? as u64;
            check_entry(index, &record[1..])
        })
        .collect()
}

/// Hashes one entry (`fields`: [`ENTRY_FIELDS`] after the index) and checks the rows that
/// point at it, as [`check_entries`] says.
fn check_entry(index: u64, fields: &[&str]) -> Result<CheckedEntry, StoreError> {
    if fields.len() != ENTRY_FIELDS.len() - 1 {
        return Err(StoreError::Corrupt(format!(
            "entry {index} read back malformed"
        )));
    }
    let row = EntryRow {
        kind: fields[0],
        id: fields[1],
        recorded_at: fields[2],
        sha: fields[3],
        pack: fields[4],
        pack_sha: fields[5],
        loaded_at: fields[6],
        signature: fields[7],
        delivery: fields[8],
        outbox: fields[9],
        request: fields[10],
        body: fields[11],
    };
    Ok(CheckedEntry {
        index,
        leaf: comity_ledger::leaf_hash(row.body.as_bytes()),
        fault: row.fault(),
    })
}

/// An entry as read back with the rows that point at it (empty where there is none): see
/// [`ENTRY_FIELDS`].
struct EntryRow<'a> {
    kind: &'a str,
    /// The request whose decision row points at it.
    id: &'a str,
    recorded_at: &'a str,
    /// The SHA-256 its request row records.
    sha: &'a str,
    /// The pack whose row points at it.
    pack: &'a str,
    pack_sha: &'a str,
    loaded_at: &'a str,
    /// The pack's signed release, or empty.
    signature: &'a str,
    /// The delivery the entry's row says it is about.
    delivery: &'a str,
    /// That delivery's outbox row, if it is there.
    outbox: &'a str,
    /// The request's body.
    request: &'a str,
    /// The entry's bytes.
    body: &'a str,
}

impl EntryRow<'_> {
    /// What is wrong with the entry or the rows that point at it, if anything.
    fn fault(&self) -> Option<String> {
        let Ok(kind) = self.kind.parse::<EntryKind>() else {
            return Some(format!("an entry of no known kind (`{}`)", self.kind));
        };
        self.misplaced(kind).or_else(|| match kind {
            EntryKind::Decision => self.decision_fault(),
            EntryKind::PackLoaded => self.pack_fault(),
            _ if kind.is_about_a_delivery() => self.delivery_fault(kind),
            _ => None,
        })
    }

    /// A row pointing at an entry of another kind than its own.
    fn misplaced(&self, kind: EntryKind) -> Option<String> {
        let (id, pack, delivery) = (self.id, self.pack, self.delivery);
        if !id.is_empty() && kind != EntryKind::Decision {
            Some(format!(
                "the decision for request {id} points at a `{kind}` entry"
            ))
        } else if !pack.is_empty() && kind != EntryKind::PackLoaded {
            Some(format!("the row of pack {pack} points at a `{kind}` entry"))
        } else if !delivery.is_empty() && !kind.is_about_a_delivery() {
            Some(format!(
                "a `{kind}` entry is marked as about delivery {delivery}"
            ))
        } else {
            None
        }
    }

    /// A decision row and its request must say what the entry says (request, SHA-256 of
    /// the request's body, time).
    fn decision_fault(&self) -> Option<String> {
        let (id, sha) = (self.id, self.sha);
        if id.is_empty() {
            Some("a decision entry whose decision or request row is missing".to_owned())
        } else if sha.is_empty() {
            Some(format!("the request row of request {id} is missing"))
        } else if sha256_hex(self.request.as_bytes()) != sha {
            Some(format!(
                "request {id} no longer matches the SHA-256 its entry records"
            ))
        } else if decision_in_entry(self.body, self.recorded_at, id, sha).is_none() {
            Some(format!(
                "the decision row of request {id} differs from its ledger entry"
            ))
        } else {
            None
        }
    }

    /// A pack row rebuilt into an entry must be the entry's bytes.
    fn pack_fault(&self) -> Option<String> {
        let pack = self.pack;
        if pack.is_empty() {
            Some("a pack-loaded entry whose pack row is missing".to_owned())
        } else if pack_entry(pack, self.pack_sha, self.loaded_at, self.signature) != self.body {
            Some(format!(
                "the stored row of pack {pack} differs from its ledger entry"
            ))
        } else {
            None
        }
    }

    /// A dispatch or approval entry is the only record of what it records: it must name
    /// the delivery its row names, and that delivery must be in the outbox.
    fn delivery_fault(&self, kind: EntryKind) -> Option<String> {
        let delivery = self.delivery;
        let names = || {
            serde_json::from_str::<serde_json::Value>(self.body)
                .ok()
                .is_some_and(|e| e["delivery"].as_str() == Some(delivery))
        };
        if delivery.is_empty() {
            Some(format!("a `{kind}` entry that names no outbox row"))
        } else if !names() {
            Some(format!(
                "the entry is not about delivery {delivery}, which its row names"
            ))
        } else if self.outbox.is_empty() {
            Some(format!("the outbox row of delivery {delivery} is missing"))
        } else {
            None
        }
    }
}

/// The stored nodes of `level` in a page, decoded.
fn decode_nodes(
    page: &crate::rows::Page,
    level: u8,
) -> Result<Vec<(u64, Option<Hash>)>, StoreError> {
    page.rows()
        .map(|record| {
            let (at, index) = node_of(parse_id(record[0])?);
            debug_assert_eq!(at, level);
            Ok((index, comity_ledger::from_hex(record[1]).ok()))
        })
        .collect()
}

/// Reads and checks `spans` of a SQLite file with SQLite's own library, sending each page on
/// `tx`: each row's values are hashed and checked where SQLite holds them, never copied.
fn sqlite_lane(
    file: &Path,
    spans: &[Span],
    tx: &Sender<Result<Checked, StoreError>>,
) -> Result<(), StoreError> {
    let conn = crate::scan::sqlite_reader(file)?;
    let mut entries = conn.prepare(&format!(
        "SELECT {} FROM {ENTRY_FROM} WHERE e.idx >= ?1 AND e.idx < ?2 ORDER BY e.idx",
        ENTRY_FIELDS.join(", ")
    ))?;
    let mut nodes =
        conn.prepare("SELECT id, hash FROM ledger_nodes WHERE id >= ?1 AND id < ?2 ORDER BY id")?;
    for span in spans {
        let checked = match *span {
            Span::Entries { first, end } => {
                let mut rows = entries.query([first as i64, end as i64])?;
                let mut out = Vec::with_capacity((end - first) as usize);
                while let Some(row) = rows.next()? {
                    let index = row.get::<_, i64>(0)? as u64;
                    let mut fields = [""; ENTRY_FIELDS.len() - 1];
                    let mut not_text = None;
                    for (k, field) in fields.iter_mut().enumerate() {
                        match text(row.get_ref(k + 1)?) {
                            Ok(text) => *field = text,
                            Err(what) => {
                                not_text = Some(format!(
                                    "`{}`, read for it, holds {what}, not text",
                                    column(ENTRY_FIELDS[k + 1])
                                ));
                                break;
                            }
                        }
                    }
                    out.push(match not_text {
                        None => check_entry(index, &fields)?,
                        fault => CheckedEntry {
                            index,
                            leaf: [0; 32],
                            fault,
                        },
                    });
                }
                Checked::Entries(out)
            }
            Span::Nodes { level, first, end } => {
                let mut rows = nodes.query([node_id(level, first), node_id(level, end)])?;
                let mut out = Vec::with_capacity((end - first) as usize);
                while let Some(row) = rows.next()? {
                    let (_, index) = node_of(row.get(0)?);
                    let stored = text(row.get_ref(1)?).ok();
                    out.push((
                        index,
                        stored.and_then(|hex| comity_ledger::from_hex(hex).ok()),
                    ));
                }
                Checked::Nodes(level, out)
            }
        };
        if tx.blocking_send(Ok(checked)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// The text SQLite holds in a value, or what it holds instead.
fn text(value: ValueRef<'_>) -> Result<&str, &'static str> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|_| "text that is not UTF-8"),
        ValueRef::Null => Err("nothing"),
        ValueRef::Integer(_) => Err("an integer"),
        ValueRef::Real(_) => Err("a real"),
        ValueRef::Blob(_) => Err("a blob"),
    }
}

/// The column an [`ENTRY_FIELDS`] expression reads: `r.body` of `COALESCE(r.body, '')`.
fn column(field: &str) -> &str {
    let inner = field.strip_prefix("COALESCE(").unwrap_or(field);
    inner.split(',').next().unwrap_or(inner)
}

/// The next page of a lane.
async fn recv(lane: &mut Receiver<Result<Checked, StoreError>>) -> Result<Checked, StoreError> {
    lane.recv()
        .await
        .ok_or_else(|| StoreError::Corrupt("a reader stopped early".into()))?
}

/// The finding for a node the tree needs that is not stored.
fn missing_node(level: u8, index: u64) -> Finding {
    finding(
        Some(index << level),
        format!("the tree node at level {level} covering it is missing"),
    )
}

/// Connections reading at once: reading is most of the work, and SQLite serves several
/// readers of one file in parallel (4 was fastest on 2 cores, docs/perf.md).
const READERS: usize = 4;

impl Store {
    /// Reads and checks `spans` in `lanes` tasks on connections of their own (span `k` from
    /// lane `k % lanes`), so that reading, hashing and decoding run on every core while the
    /// caller checks the pages in order.
    /// A SQLite file is read with SQLite's own library, on threads of their own
    /// ([`sqlite_lane`]).
    fn read_spans(
        &self,
        spans: &[Span],
        lanes: usize,
    ) -> Vec<Receiver<Result<Checked, StoreError>>> {
        (0..lanes)
            .map(|lane| {
                let (tx, rx) = tokio::sync::mpsc::channel(2);
                let (pool, backend) = (self.pool.clone(), self.backend);
                let mine: Vec<Span> = spans.iter().skip(lane).step_by(lanes).copied().collect();
                if let Direct::Sqlite(file) = self.direct.clone() {
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = sqlite_lane(&file, &mine, &tx) {
                            let _ = tx.blocking_send(Err(e));
                        }
                    });
                    return rx;
                }
                tokio::spawn(async move {
                    let mut conn = match pool.acquire().await {
                        Ok(c) => c,
                        Err(e) => return drop(tx.send(Err(e.into())).await),
                    };
                    for span in mine {
                        let checked = match span {
                            Span::Entries { first, end } => {
                                let keys = (first as i64 - 1, end as i64);
                                records(&mut conn, backend, ENTRY_FIELDS, ENTRY_FROM, keys, PAGE)
                                    .await
                                    .and_then(|p| check_entries(&p))
                                    .map(Checked::Entries)
                            }
                            Span::Nodes { level, first, end } => {
                                let keys = (node_id(level, first) - 1, node_id(level, end));
                                records(&mut conn, backend, NODE_FIELDS, "ledger_nodes", keys, PAGE)
                                    .await
                                    .and_then(|p| decode_nodes(&p, level))
                                    .map(|nodes| Checked::Nodes(level, nodes))
                            }
                        };
                        if tx.send(checked).await.is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect()
    }

    /// The first stored node that a tree of `size` leaves does not have, if any: `(level,
    /// index)`.
    async fn extra_node(&self, size: u64) -> Result<Option<(u8, u64)>, StoreError> {
        for level in 0..64u8 {
            let (from, to) = (node_id(level, size >> level), node_id(level, (1 << 48) - 1));
            let first: Option<i64> =
                sqlx::query("SELECT MIN(id) FROM ledger_nodes WHERE id >= $1 AND id <= $2")
                    .bind(from)
                    .bind(to)
                    .fetch_one(&self.pool)
                    .await?
                    .get(0);
            if let Some(id) = first {
                return Ok(Some(node_of(id)));
            }
        }
        Ok(None)
    }

    /// Verifies everything stored; `progress(done, total)` is called as entries are read.
    /// `Ok(Err(finding))` reports the first fault found; `Err` is a failure to read.
    pub async fn verify(
        &self,
        verifier: &NoteVerifier,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Result<VerifyReport, Finding>, StoreError> {
        match self.verify_all(verifier, progress).await {
            Ok(report) => Ok(Ok(report)),
            Err(Stop::Found(finding)) => Ok(Err(finding)),
            Err(Stop::Failed(e)) => Err(e),
        }
    }

    /// [`Store::verify`], stopping at the first finding.
    async fn verify_all(
        &self,
        verifier: &NoteVerifier,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<VerifyReport, Stop> {
        let total = self.size().await?;
        let spans = spans(total);
        let mut lanes = self.read_spans(&spans, READERS);
        let mut pages = spans
            .iter()
            .enumerate()
            .map(|(k, span)| (k % READERS, *span));
        let entry_pages = pages.by_ref().take(total.div_ceil(PAGE as u64) as usize);
        let tree = check_entry_pages(&mut lanes, entry_pages, total, progress).await?;
        let size = tree.size();
        self.check_no_stray_decisions(size).await?;
        let nodes = check_node_pages(&mut lanes, pages, &tree).await?;
        self.check_node_count(size, nodes).await?;
        let checkpoints = self.check_checkpoints(verifier, &tree).await?;
        let decisions: i64 = sqlx::query("SELECT COUNT(*) FROM decisions")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(VerifyReport {
            entries: size,
            nodes,
            decisions: decisions as u64,
            checkpoints,
            root: comity_ledger::root(&tree, size).expect("in-memory tree"),
        })
    }

    /// No decision row points past the last entry (entries were removed from the end).
    async fn check_no_stray_decisions(&self, size: u64) -> Result<(), Stop> {
        let stray: i64 = sqlx::query("SELECT COUNT(*) FROM decisions WHERE ledger_index >= $1")
            .bind(size as i64)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        if stray > 0 {
            return Err(found(
                Some(size),
                format!(
                    "{stray} decision rows point past the end of the ledger (entries were removed)"
                ),
            ));
        }
        Ok(())
    }

    /// No node is stored beyond the `checked` ones a tree of `size` leaves has.
    async fn check_node_count(&self, size: u64, checked: u64) -> Result<(), Stop> {
        let stored: i64 = sqlx::query("SELECT COUNT(*) FROM ledger_nodes")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        if stored as u64 == checked {
            return Ok(());
        }
        Err(Stop::Found(match self.extra_node(size).await? {
            Some((level, index)) => finding(
                Some(index << level),
                format!("a tree node at level {level} covers entries the ledger does not hold"),
            ),
            None => finding(
                None,
                format!(
                    "{} stored tree nodes are not nodes of the tree",
                    stored as u64 - checked
                ),
            ),
        }))
    }

    /// Every checkpoint is signed by our key, of a size the ledger has, with the root the
    /// rebuilt `tree` has at that size; answers how many there are.
    async fn check_checkpoints(
        &self,
        verifier: &NoteVerifier,
        tree: &MemoryTree,
    ) -> Result<u64, Stop> {
        let size = tree.size();
        let rows = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size")
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let at = row.get::<i64, _>(0) as u64;
            let cp = comity_ledger::open_checkpoint(&row.get::<String, _>(2), verifier)
                .map_err(|e| found(None, format!("checkpoint at size {at}: {e}")))?;
            let stored_root = hash(&row.get::<String, _>(1), || format!("checkpoint {at}"))?;
            if cp.size != at || cp.root != stored_root {
                return Err(found(
                    None,
                    format!("checkpoint at size {at}: its row differs from its signed note"),
                ));
            }
            if at > size {
                return Err(found(
                    Some(size),
                    format!(
                        "checkpoint at size {at} was signed, but the ledger now holds only {size} entries (entries were removed)"
                    ),
                ));
            }
            if comity_ledger::root(tree, at).expect("in-memory tree") != cp.root {
                return Err(found(
                    None,
                    format!(
                        "checkpoint at size {at}: the ledger's root at that size differs from the signed root"
                    ),
                ));
            }
        }
        Ok(rows.len() as u64)
    }
}

/// Why verification stopped early: a finding, or a failure to read.
enum Stop {
    Found(Finding),
    Failed(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Failed(e)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Stop {
        Stop::Failed(e.into())
    }
}

fn found(index: Option<u64>, what: impl Into<String>) -> Stop {
    Stop::Found(finding(index, what))
}

/// Every entry, in order and without gaps, hashed into a tree rebuilt in memory; with it
/// the decision, request and pack rows that point at it, checked against it (by the reader
/// lanes, see [`check_entries`]).
async fn check_entry_pages(
    lanes: &mut [Receiver<Result<Checked, StoreError>>],
    pages: impl Iterator<Item = (usize, Span)>,
    total: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<MemoryTree, Stop> {
    let mut tree = MemoryTree::new();
    for (lane, _) in pages {
        let Checked::Entries(entries) = recv(&mut lanes[lane]).await? else {
            unreachable!("entries are read first");
        };
        for checked in entries {
            let next = tree.size();
            if checked.index != next {
                return Err(found(
                    Some(next),
                    "missing from the ledger (the entries jump over it)",
                ));
            }
            if let Some(fault) = checked.fault {
                return Err(found(Some(checked.index), fault));
            }
            tree.append_leaf(checked.leaf);
        }
        progress(tree.size(), total);
    }
    Ok(tree)
}

/// Every stored node, against the rebuilt `tree`: none missing, none different. Answers how
/// many were checked.
async fn check_node_pages(
    lanes: &mut [Receiver<Result<Checked, StoreError>>],
    pages: impl Iterator<Item = (usize, Span)>,
    tree: &MemoryTree,
) -> Result<u64, Stop> {
    let mut nodes = 0u64;
    for (lane, span) in pages {
        let (Checked::Nodes(level, stored), Span::Nodes { first, end, .. }) =
            (recv(&mut lanes[lane]).await?, span)
        else {
            unreachable!("nodes are read after the entries");
        };
        let mut expect = first;
        for (index, hash) in stored {
            if index != expect {
                return Err(Stop::Found(missing_node(level, expect)));
            }
            let rebuilt = tree.node(level, index).expect("a node below the size read");
            if hash != Some(rebuilt) {
                let what = if hash.is_none() {
                    format!("the tree node at level {level} is stored as no SHA-256 hash")
                } else if level == 0 {
                    "its stored bytes no longer hash to the leaf in the tree (the entry was changed)".to_owned()
                } else {
                    format!("the tree node at level {level} does not match the entries under it")
                };
                return Err(found(Some(index << level), what));
            }
            expect += 1;
            nodes += 1;
        }
        if expect != end {
            return Err(Stop::Found(missing_node(level, expect)));
        }
    }
    Ok(nodes)
}
