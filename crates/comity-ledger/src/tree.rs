//! The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1), over node hashes that are stored, not
//! held: each algorithm reads the few complete subtrees it needs through [`Nodes`], so a tree
//! in a database is never loaded whole.
//!
//! The RFC's definitions split `D[n]` at `k`, the largest power of two smaller than `n`. The
//! left part `D[0:k]` is then always a complete subtree aligned on a multiple of its size, and
//! so is the left part of every split below it: a complete, aligned subtree is exactly what a
//! store holds, as the node `(level, index)` with `2^level` leaves starting at
//! `index · 2^level`. Reading it costs one lookup; only the right edge of the tree, where the
//! subtrees are not yet complete, is hashed on the way, in O(log n).

use std::convert::Infallible;

use crate::hash::{Hash, leaf_hash, node_hash};

/// A store of the complete subtrees of one append-only tree.
pub trait Nodes {
    /// Why a stored node could not be read.
    type Error;

    /// The hash of the complete subtree of leaves `[index · 2^level, (index + 1) · 2^level)`:
    /// at level 0 the leaf hashes, at level 1 the hashes of leaf pairs, and so on.
    ///
    /// The algorithms ask only for nodes whose leaves are all in the tree of the size they
    /// were given; a store that is missing one is inconsistent, and should say so.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// The store failed to give a node.
    #[error("reading a stored tree node: {0}")]
    Nodes(#[source] E),
    /// An inclusion proof was asked for a leaf that is not in the tree.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf asked for.
        index: u64,
        /// The size of the tree.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("no consistency proof leads from a tree of {old_size} leaves to one of {new_size}")]
    SizesOutOfOrder {
        /// The size the proof was to start from.
        old_size: u64,
        /// The size the proof was to end at.
        new_size: u64,
    },
}

/// The nodes that appending the leaf hash `leaf` at index `size_before` completes, each as
/// `(level, index, hash)`: the leaf itself, `(0, size_before)`, and every ancestor of which it
/// completes the right half, from the bottom up. Storing them with the leaf, in the same
/// transaction, keeps the store holding every complete subtree. The left siblings are read
/// from `nodes`, where they were stored by earlier appends.
pub fn completed_nodes<N: Nodes>(
    size_before: u64,
    leaf: Hash,
    nodes: &N,
) -> Result<Vec<(u8, u64, Hash)>, N::Error> {
    let mut completed = vec![(0, size_before, leaf)];
    let (mut level, mut index, mut hash) = (0u8, size_before, leaf);
    // A node with an odd index is a right child: with it, its parent is complete.
    while index % 2 == 1 {
        let left = nodes.node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        index /= 2;
        completed.push((level, index, hash));
    }
    Ok(completed)
}

/// `MTH(D[size])`, the Merkle Tree Hash of the first `size` leaves (RFC 9162 §2.1.1), or
/// [`crate::empty_root`] for size 0.
pub fn root<N: Nodes>(nodes: &N, size: u64) -> Result<Hash, N::Error> {
    if size == 0 {
        return Ok(crate::hash::empty_root());
    }
    mth(nodes, 0, size)
}

/// `PATH(m, D[n])`, the inclusion proof of leaf `index` in the tree of the first `size`
/// leaves (RFC 9162 §2.1.3.1): the sibling hashes from the leaf up to the root.
pub fn inclusion_proof<N: Nodes>(
    nodes: &N,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<N::Error>> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    path(nodes, index, 0, size).map_err(TreeError::Nodes)
}

/// `PROOF(m, D[n])`, the consistency proof that the tree of the first `old_size` leaves is a
/// prefix of the tree of the first `new_size` (RFC 9162 §2.1.4.1), computed as
/// `SUBPROOF(m, D[n], true)`. It is empty when the sizes are equal, and when `old_size` is 0:
/// the RFC defines no proof from the empty tree, which every tree extends.
pub fn consistency_proof<N: Nodes>(
    nodes: &N,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TreeError<N::Error>> {
    if old_size > new_size {
        return Err(TreeError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 {
        return Ok(Vec::new());
    }
    subproof(nodes, old_size, 0, new_size, true).map_err(TreeError::Nodes)
}

/// `k` in the RFC: the largest power of two smaller than `n`, for `n > 1`.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[start:start + n])` for `n ≥ 1`, where `start` is a multiple of the smallest power of
/// two not below `n` (true of every range the RFC's recursion visits): one stored node when
/// `n` is a power of two, else the RFC's split, `HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.
fn mth<N: Nodes>(nodes: &N, start: u64, n: u64) -> Result<Hash, N::Error> {
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        // A u64 has 64 bits: the level always fits in a u8.
        return nodes.node(level as u8, start >> level);
    }
    let k = largest_power_of_two_below(n);
    Ok(node_hash(
        &mth(nodes, start, k)?,
        &mth(nodes, start + k, n - k)?,
    ))
}

/// `PATH(m, D[start:start + n])`, with `m` counted from `start`:
///
/// ```text
/// PATH(0, {d(0)}) = {}
/// PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
/// PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])    for m >= k
/// ```
fn path<N: Nodes>(nodes: &N, m: u64, start: u64, n: u64) -> Result<Vec<Hash>, N::Error> {
    if n == 1 {
        return Ok(Vec::new());
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        let mut proof = path(nodes, m, start, k)?;
        proof.push(mth(nodes, start + k, n - k)?);
        Ok(proof)
    } else {
        let mut proof = path(nodes, m - k, start + k, n - k)?;
        proof.push(mth(nodes, start, k)?);
        Ok(proof)
    }
}

/// `SUBPROOF(m, D[start:start + n], b)`, with `m` counted from `start`:
///
/// ```text
/// SUBPROOF(m, D[m], true) = {}
/// SUBPROOF(m, D[m], false) = {MTH(D[m])}
/// SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])           for m <= k
/// SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])   for m > k
/// ```
fn subproof<N: Nodes>(
    nodes: &N,
    m: u64,
    start: u64,
    n: u64,
    b: bool,
) -> Result<Vec<Hash>, N::Error> {
    if m == n {
        return if b {
            Ok(Vec::new())
        } else {
            Ok(vec![mth(nodes, start, m)?])
        };
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        let mut proof = subproof(nodes, m, start, k, b)?;
        proof.push(mth(nodes, start + k, n - k)?);
        Ok(proof)
    } else {
        let mut proof = subproof(nodes, m - k, start + k, n - k, false)?;
        proof.push(mth(nodes, start, k)?);
        Ok(proof)
    }
}

/// A whole tree held in memory, level by level: for tests, benchmarks and small tools. A
/// deployment's tree lives in a store that implements [`Nodes`] the same way.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the node `(l, i)`; only complete subtrees are kept.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (hashed with [`leaf_hash`]) and returns its leaf index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        self.append_leaf(leaf_hash(entry))
    }

    /// Appends a leaf already hashed with [`leaf_hash`] (hashing can then run elsewhere, in
    /// parallel) and returns its leaf index.
    pub fn append_leaf(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut hash = leaf;
        for level in 0.. {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            // An even count means the node just pushed completed a pair: hash it upwards.
            if row.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
        }
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }
}

impl Nodes for MemoryTree {
    type Error = Infallible;

    /// # Panics
    ///
    /// Panics when the node is not complete in this tree, as when a root or proof is asked
    /// for a size larger than [`MemoryTree::size`].
    fn node(&self, level: u8, index: u64) -> Result<Hash, Infallible> {
        let node = self
            .levels
            .get(usize::from(level))
            .zip(usize::try_from(index).ok())
            .and_then(|(row, index)| row.get(index));
        match node {
            Some(hash) => Ok(*hash),
            None => panic!(
                "a MemoryTree of {} leaves has no complete node at level {level}, index {index}",
                self.size()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_power_of_two_below_is_the_rfc_split() {
        // Cases from transparency-dev/merkle testonly/reference_test.go, TestDownToPowerOfTwo.
        for (n, k) in [
            (2, 1),
            (3, 2),
            (7, 4),
            (8, 4),
            (9, 8),
            (63, 32),
            (28937, 16384),
        ] {
            assert_eq!(largest_power_of_two_below(n), k, "n = {n}");
        }
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }

    #[test]
    fn memory_tree_counts_and_indexes_its_leaves() {
        let mut tree = MemoryTree::new();
        assert_eq!(tree.size(), 0);
        for i in 0..13u64 {
            assert_eq!(tree.append(&i.to_be_bytes()), i);
            assert_eq!(tree.size(), i + 1);
        }
        let Ok(leaf) = tree.node(0, 12);
        assert_eq!(leaf, leaf_hash(&12u64.to_be_bytes()));
        let Ok(top) = tree.node(3, 0);
        let Ok(root) = root(&tree, 8);
        assert_eq!(top, root);
    }

    #[test]
    #[should_panic(expected = "no complete node at level 2, index 1")]
    fn memory_tree_refuses_an_incomplete_node() {
        let mut tree = MemoryTree::new();
        for i in 0..7u8 {
            tree.append(&[i]);
        }
        // Leaves 4..8: only three of them are there.
        let _ = tree.node(2, 1);
    }

    #[test]
    fn argument_errors_name_the_sizes() {
        let mut tree = MemoryTree::new();
        tree.append(b"only");
        assert!(matches!(
            inclusion_proof(&tree, 1, 1),
            Err(TreeError::IndexOutOfRange { index: 1, size: 1 })
        ));
        assert!(matches!(
            consistency_proof(&tree, 2, 1),
            Err(TreeError::SizesOutOfOrder {
                old_size: 2,
                new_size: 1
            })
        ));
        assert!(matches!(consistency_proof(&tree, 0, 1), Ok(p) if p.is_empty()));
        assert!(matches!(consistency_proof(&tree, 1, 1), Ok(p) if p.is_empty()));
    }
}
