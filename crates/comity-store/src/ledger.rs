//! The Merkle ledger in the database: appending leaves, and roots and proofs read from the
//! stored hashes of complete subtrees.
//!
//! A proof needs O(log n) stored nodes. Which ones does not depend on their values, so a
//! proof is computed twice: once to learn the nodes it reads, which are then fetched in one
//! query, and once more over them.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use comity_ledger::{Checkpoint, Hash, Nodes, NoteSigner, TreeError};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::rows::{Cell, Page, Table, aggregate, hash, insert_all, parse_id};
use crate::{Backend, Store, StoreError};

/// Stored nodes, or (while learning what a computation reads) a recorder of the nodes read.
pub(crate) struct StoredNodes {
    known: HashMap<(u8, u64), Hash>,
    wanted: Option<RefCell<BTreeSet<(u8, u64)>>>,
}

/// A node the computation needed but the store lacks.
#[derive(Debug, thiserror::Error)]
#[error("the ledger lacks node (level {0}, index {1})")]
pub(crate) struct MissingNode(u8, u64);

impl Nodes for StoredNodes {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        if let Some(wanted) = &self.wanted {
            wanted.borrow_mut().insert((level, index));
            return Ok([0; 32]);
        }
        self.known
            .get(&(level, index))
            .copied()
            .ok_or(MissingNode(level, index))
    }
}

impl From<MissingNode> for StoreError {
    fn from(e: MissingNode) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

impl From<TreeError<MissingNode>> for StoreError {
    fn from(e: TreeError<MissingNode>) -> Self {
        match e {
            TreeError::Nodes(missing) => missing.into(),
            other => StoreError::NotFound(other.to_string()),
        }
    }
}

/// Node hashes by (level, index).
type NodeMap = HashMap<(u8, u64), Hash>;

/// Tree nodes read before, by (level, index); emptied when it grows past its bound.
#[derive(Debug, Default)]
pub(crate) struct NodeCache(std::sync::RwLock<NodeMap>);

/// Nodes kept at most (about 20 MiB).
const CACHED_NODES: usize = 1 << 18;

impl NodeCache {
    /// The nodes of `wanted` it holds, and those it lacks.
    fn split(&self, wanted: BTreeSet<(u8, u64)>) -> (NodeMap, BTreeSet<(u8, u64)>) {
        let held = self.0.read().expect("cache lock");
        let mut known = HashMap::with_capacity(wanted.len());
        let mut missing = BTreeSet::new();
        for node in wanted {
            match held.get(&node) {
                Some(h) => drop(known.insert(node, *h)),
                None => drop(missing.insert(node)),
            }
        }
        (known, missing)
    }

    /// Keeps `nodes`, which must be stored and committed.
    pub(crate) fn keep(&self, nodes: &NodeMap) {
        let mut held = self.0.write().expect("cache lock");
        if held.len() + nodes.len() > CACHED_NODES {
            held.clear();
        }
        held.extend(nodes.iter().map(|(k, v)| (*k, *v)));
    }
}

/// The nodes `f` reads, learnt by a dry run that reads zero hashes (its answer is thrown
/// away, only the nodes it asked count).
fn wanted_by<T, E>(f: &impl Fn(&StoredNodes) -> Result<T, E>) -> BTreeSet<(u8, u64)> {
    let learner = StoredNodes {
        known: HashMap::new(),
        wanted: Some(RefCell::new(BTreeSet::new())),
    };
    let _ = f(&learner);
    learner.wanted.expect("set above").into_inner()
}

/// Runs `f` over the stored nodes it reads: those cached, and the rest fetched in one query.
async fn over_stored<T, E>(
    conn: &mut AnyConnection,
    backend: Backend,
    cache: &NodeCache,
    f: impl Fn(&StoredNodes) -> Result<T, E>,
) -> Result<T, StoreError>
where
    StoreError: From<E>,
{
    let (mut known, missing) = cache.split(wanted_by(&f));
    if !missing.is_empty() {
        let fetched = fetch_nodes(conn, backend, &missing).await?;
        cache.keep(&fetched);
        known.extend(fetched);
    }
    Ok(f(&StoredNodes {
        known,
        wanted: None,
    })?)
}

/// Runs `f` over cached nodes alone, if it reads no others. That the nodes of a tree of
/// some size are stored proves the ledger has at least that many entries, so this answer
/// needs no query at all.
fn over_cached<T, E>(cache: &NodeCache, f: impl Fn(&StoredNodes) -> Result<T, E>) -> Option<T> {
    let (known, missing) = cache.split(wanted_by(&f));
    if !missing.is_empty() {
        return None;
    }
    f(&StoredNodes {
        known,
        wanted: None,
    })
    .ok()
}

/// Most nodes fetched in one statement.
const NODE_CHUNK: usize = 400;

async fn fetch_nodes(
    conn: &mut AnyConnection,
    backend: Backend,
    wanted: &BTreeSet<(u8, u64)>,
) -> Result<HashMap<(u8, u64), Hash>, StoreError> {
    let mut out = HashMap::with_capacity(wanted.len());
    let wanted: Vec<_> = wanted.iter().copied().collect();
    for chunk in wanted.chunks(NODE_CHUNK) {
        let sql = format!(
            "SELECT {} FROM ledger_nodes WHERE id IN (…)",
            aggregate(backend, &["id", "hash"]),
        );
        let ids = chunk.iter().map(|&(level, index)| node_id(level, index));
        let query = backend.query_in(&sql, ids);
        let page = Page::new(query.fetch_one(&mut *conn).await?.get(0))?;
        for record in page.rows() {
            let (level, index) = node_of(parse_id(record[0])?);
            out.insert(
                (level, index),
                hash(record[1], || format!("node ({level}, {index})"))?,
            );
        }
    }
    Ok(out)
}

/// The key a node is stored under: `level × 2^48 + index` (trees of up to 2^48 leaves).
pub(crate) fn node_id(level: u8, index: u64) -> i64 {
    ((u64::from(level) << 48) | index) as i64
}

/// The node a key stands for.
pub(crate) fn node_of(id: i64) -> (u8, u64) {
    let id = id as u64;
    ((id >> 48) as u8, id & ((1 << 48) - 1))
}

/// The nodes of `[0, size)` that a new leaf may need as left siblings: one complete subtree
/// per set bit of `size`.
fn frontier(size: u64) -> BTreeSet<(u8, u64)> {
    (0..64u8)
        .filter(|l| size >> l & 1 == 1)
        .map(|l| (l, (size >> l) - 1))
        .collect()
}

/// Appends leaves inside a transaction, collecting the nodes they complete.
pub(crate) struct Appender {
    size: u64,
    nodes: StoredNodes,
    new: Vec<(u8, u64, Hash)>,
}

/// An append finished: the tree head after it, and what to store and cache.
struct Appended {
    /// The head of the tree after the appends, with the leaves appended.
    head: TreeHead,
    /// The `ledger_nodes` rows of the nodes the appends completed.
    rows: Table,
    /// Every node the append held (the old right edge it read, and the nodes it completed):
    /// to cache once the transaction has committed, never before.
    nodes: NodeMap,
}

/// The head of the tree after a commit, with the leaves the commit appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// The size of the tree.
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// The leaf hash of each entry the commit appended, by index.
    pub leaves: HashMap<u64, Hash>,
}

impl Store {
    /// Begins a transaction that appends to the ledger. One appender at a time, so that
    /// appends from several processes never fork the tree: SQLite takes its write lock when
    /// the transaction begins (not on its first write, which would fail if another writer
    /// committed in between); PostgreSQL takes a transaction-scoped advisory lock, in the
    /// round trip that begins.
    pub(crate) async fn begin_append(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.pool.begin_with(self.backend.begin_append()).await?)
    }

    /// Writes `tables` (the rows the appended entries belong with) and the nodes the
    /// entries completed, commits, and only then caches the nodes.
    pub(crate) async fn commit_append(
        &self,
        mut tx: Transaction<'static, Any>,
        appender: Appender,
        mut tables: Vec<Table>,
    ) -> Result<TreeHead, StoreError> {
        let appended = appender.finish()?;
        tables.push(appended.rows);
        insert_all(&mut tx, tables).await?;
        tx.commit().await?;
        self.nodes.keep(&appended.nodes);
        Ok(appended.head)
    }
}

impl Appender {
    /// Starts appending after the ledger's last entry, reading the tree's right edge from
    /// `cache` where it holds it (as after this process's own last append).
    pub(crate) async fn start(
        conn: &mut AnyConnection,
        backend: Backend,
        cache: &NodeCache,
    ) -> Result<Appender, StoreError> {
        let size = ledger_size(conn).await?;
        Appender::at(conn, backend, cache, size).await
    }

    /// [`Appender::start`] on a ledger whose size the caller read, under the ledger's lock.
    pub(crate) async fn at(
        conn: &mut AnyConnection,
        backend: Backend,
        cache: &NodeCache,
        size: u64,
    ) -> Result<Appender, StoreError> {
        let (mut known, missing) = cache.split(frontier(size));
        if !missing.is_empty() {
            known.extend(fetch_nodes(conn, backend, &missing).await?);
        }
        Ok(Appender {
            size,
            nodes: StoredNodes {
                known,
                wanted: None,
            },
            new: Vec::new(),
        })
    }

    /// Appends one entry; returns its leaf index.
    pub(crate) fn append(&mut self, entry: &[u8]) -> Result<u64, StoreError> {
        let index = self.size;
        let leaf = comity_ledger::leaf_hash(entry);
        for (level, i, h) in comity_ledger::completed_nodes(index, leaf, &self.nodes)? {
            self.nodes.known.insert((level, i), h);
            self.new.push((level, i, h));
        }
        self.size += 1;
        Ok(index)
    }

    /// The tree head after the appends, and the rows of the nodes they completed. The root
    /// needs only the tree's new right edge, whose nodes the append already holds: the ones
    /// it completed, and the old edge it read.
    fn finish(self) -> Result<Appended, StoreError> {
        let root = comity_ledger::root(&self.nodes, self.size)?;
        let leaves = self
            .new
            .iter()
            .filter(|(l, _, _)| *l == 0)
            .map(|(_, i, h)| (*i, *h))
            .collect();
        let rows = self
            .new
            .into_iter()
            .map(|(l, i, h)| {
                vec![
                    Cell::Int(node_id(l, i)),
                    Cell::Text(comity_ledger::to_hex(&h)),
                ]
            })
            .collect();
        Ok(Appended {
            head: TreeHead {
                size: self.size,
                root,
                leaves,
            },
            rows: Table::new("ledger_nodes", &["id", "hash"], rows),
            nodes: self.nodes.known,
        })
    }
}

/// `size`, if the ledger has that many entries; the ledger's size if `None`.
async fn tree_size(conn: &mut AnyConnection, size: Option<u64>) -> Result<u64, StoreError> {
    let current = ledger_size(conn).await?;
    match size {
        Some(size) if size > current => Err(StoreError::NotFound(format!(
            "the ledger has {current} entries, not {size}"
        ))),
        Some(size) => Ok(size),
        None => Ok(current),
    }
}

pub(crate) async fn ledger_size(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.get::<i64, _>(0) as u64)
}

/// An inclusion proof of one leaf in a tree of some size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index.
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The leaf's hash.
    pub leaf_hash: Hash,
    /// The audit path, from the leaf up.
    pub hashes: Vec<Hash>,
    /// The root of the tree of that size.
    pub root: Hash,
}

/// The proof that one tree of the ledger is a prefix of a later one (RFC 6962 § 2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The size of the earlier tree.
    pub from_size: u64,
    /// Its root.
    pub from_root: Hash,
    /// The size of the later tree.
    pub to_size: u64,
    /// Its root.
    pub to_root: Hash,
    /// The proof's hashes.
    pub hashes: Vec<Hash>,
}

impl Store {
    /// The number of entries in the ledger.
    pub async fn size(&self) -> Result<u64, StoreError> {
        ledger_size(&mut *self.pool.acquire().await?).await
    }

    /// The canonical bytes of leaf `index`.
    pub async fn entry(&self, index: u64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM ledger_entries WHERE idx = $1")
            .bind(index as i64)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// The root of the tree of the first `size` entries.
    pub async fn root(&self, size: u64) -> Result<Hash, StoreError> {
        let root = move |n: &StoredNodes| comity_ledger::root(n, size);
        if let Some(r) = over_cached(&self.nodes, root) {
            return Ok(r);
        }
        let mut conn = self.pool.acquire().await?;
        let size = tree_size(&mut conn, Some(size)).await?;
        over_stored(&mut conn, self.backend, &self.nodes, move |n| {
            comity_ledger::root(n, size)
        })
        .await
    }

    /// The proof that leaf `index` is in the tree of `size` entries (default: all). With a
    /// size given and its nodes read before, it is answered from memory.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, StoreError> {
        let proof = move |n: &StoredNodes, size: u64| {
            Ok::<_, StoreError>((
                comity_ledger::inclusion_proof(n, index, size)?,
                comity_ledger::root(n, size)?,
                n.node(0, index)?,
            ))
        };
        let cached =
            size.and_then(|size| Some((size, over_cached(&self.nodes, move |n| proof(n, size))?)));
        let (size, (hashes, root, leaf)) = match cached {
            Some(answer) => answer,
            None => {
                let mut conn = self.pool.acquire().await?;
                let size = tree_size(&mut conn, size).await?;
                (
                    size,
                    over_stored(&mut conn, self.backend, &self.nodes, move |n| {
                        proof(n, size)
                    })
                    .await?,
                )
            }
        };
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: leaf,
            hashes,
            root,
        })
    }

    /// The proof that the tree of `from` entries is a prefix of the tree of `to` (default:
    /// all), with both roots.
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyProof, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let to = tree_size(&mut conn, to).await?;
        over_stored(&mut conn, self.backend, &self.nodes, |n| {
            Ok::<_, StoreError>(ConsistencyProof {
                from_size: from,
                from_root: comity_ledger::root(n, from)?,
                to_size: to,
                to_root: comity_ledger::root(n, to)?,
                hashes: comity_ledger::consistency_proof(n, from, to)?,
            })
        })
        .await
    }

    /// The root of the tree of the first `size` entries and the leaf hash of each entry of
    /// `indices` (each below `size`), in one read: a tree head that includes those entries,
    /// as the API answers recorded decisions with. `size` must not exceed the entries
    /// committed.
    pub async fn head_with_leaves(
        &self,
        size: u64,
        indices: &[u64],
    ) -> Result<(Hash, HashMap<u64, Hash>), StoreError> {
        if let Some(i) = indices.iter().find(|i| **i >= size) {
            return Err(StoreError::NotFound(format!(
                "entry {i} is not in a tree of {size} entries"
            )));
        }
        let mut conn = self.pool.acquire().await?;
        over_stored(&mut conn, self.backend, &self.nodes, |n| {
            let leaves = indices
                .iter()
                .map(|i| Ok((*i, n.node(0, *i)?)))
                .collect::<Result<_, MissingNode>>()?;
            Ok::<_, StoreError>((comity_ledger::root(n, size)?, leaves))
        })
        .await
    }

    /// Signs a checkpoint of the ledger as it stands (unless the latest already covers it)
    /// and returns the latest signed note.
    pub async fn sign_checkpoint(
        &self,
        signer: &NoteSigner,
    ) -> Result<SignedCheckpoint, StoreError> {
        let size = self.size().await?;
        if let Some(latest) = self.latest_checkpoint().await?
            && latest.size == size
        {
            return Ok(latest);
        }
        let root = self.root(size).await?;
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root,
        };
        let note = signer.sign(&checkpoint.body());
        sqlx::query("INSERT INTO checkpoints (size, root, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING")
            .bind(size as i64)
            .bind(comity_ledger::to_hex(&root))
            .bind(note.clone())
            .execute(&self.pool)
            .await?;
        // Another signer may have stored a later one meanwhile: the latest is answered.
        Ok(self
            .latest_checkpoint()
            .await?
            .unwrap_or(SignedCheckpoint { size, note }))
    }

    /// Whether the ledger still extends a checkpoint published earlier (already opened with
    /// the log's key): it holds at least that many entries, and its first `size` entries
    /// still hash to that root. Otherwise the finding names what is missing or changed.
    pub async fn extends(
        &self,
        published: &comity_ledger::Checkpoint,
    ) -> Result<Result<(), crate::Finding>, StoreError> {
        let size = self.size().await?;
        if published.size > size {
            return Ok(Err(crate::Finding {
                index: Some(size),
                what: format!(
                    "the ledger holds {size} entries, but a published checkpoint commits to {}: entries {size} to {} are missing",
                    published.size,
                    published.size - 1
                ),
            }));
        }
        if self.root(published.size).await? != published.root {
            return Ok(Err(crate::Finding {
                index: None,
                what: format!(
                    "the ledger's first {} entries no longer hash to the root of the published checkpoint",
                    published.size
                ),
            }));
        }
        Ok(Ok(()))
    }

    /// The latest stored checkpoint.
    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row = sqlx::query("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| SignedCheckpoint {
            size: r.get::<i64, _>(0) as u64,
            note: r.get(1),
        }))
    }
}

/// A checkpoint the store signed and keeps: the number of entries it commits to, and the
/// signed note (C2SP tlog-checkpoint) that states them with the root. A report names the one
/// it was computed at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCheckpoint {
    /// The number of entries it commits to.
    pub size: u64,
    /// The signed note.
    pub note: String,
}
