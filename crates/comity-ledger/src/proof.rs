//! Verifying inclusion and consistency proofs, step by step as RFC 9162 §2.1.3.2 and §2.1.4.2
//! describe it. A verifier needs nothing but the proof, the sizes and the roots: this is the
//! side a client, an auditor or a witness runs.

use crate::hash::{Hash, empty_root, node_hash};
use crate::tree::largest_power_of_two_below;

/// Why a proof does not prove what it was offered for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf index claimed.
        index: u64,
        /// The tree size claimed.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("a tree of {old_size} leaves cannot be a prefix of one of {new_size}")]
    SizesOutOfOrder {
        /// The old tree size claimed.
        old_size: u64,
        /// The new tree size claimed.
        new_size: u64,
    },
    /// The proof has more or fewer hashes than a proof between these sizes has.
    #[error("the proof has {actual} hashes, and a proof for these sizes has {expected}")]
    WrongProofLength {
        /// The number of hashes a proof for these sizes has.
        expected: usize,
        /// The number of hashes offered.
        actual: usize,
    },
    /// The inclusion proof leads from the leaf to another root.
    #[error("the inclusion proof does not lead from the leaf to the given root")]
    RootMismatch,
    /// The consistency proof does not rebuild the old root.
    #[error("the consistency proof does not rebuild the given old root")]
    OldRootMismatch,
    /// The consistency proof does not rebuild the new root.
    #[error("the consistency proof does not rebuild the given new root")]
    NewRootMismatch,
}

/// Checks that `proof` is `PATH(index, D[size])` for the leaf hash `leaf` under `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let wrong_length = || ProofError::WrongProofLength {
        expected: path_length(index, size),
        actual: proof.len(),
    };
    // 1. Fail if leaf_index is greater than or equal to tree_size.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let (mut f_n, mut s_n) = (index, size - 1);
    // 3. Set r to hash.
    let mut r = *leaf;
    // 4. For each value p in the inclusion_path array:
    for p in proof {
        // If sn is 0, then stop the iteration and fail the proof verification.
        if s_n == 0 {
            return Err(wrong_length());
        }
        if lsb(f_n) || f_n == s_n {
            // If LSB(fn) is set, or if fn is equal to sn: r = HASH(0x01 || p || r), then, if
            // LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            r = node_hash(p, &r);
            while !lsb(f_n) && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            // Otherwise: r = HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // Finally, right-shift both fn and sn one time.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. Succeed if sn is 0 and r equals root_hash.
    if s_n != 0 {
        return Err(wrong_length());
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that `proof` is `PROOF(old_size, D[new_size])` between the roots `old_root` and
/// `new_root` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots; a tree of
/// size 0 is a prefix of every tree, with an empty proof, when its root is
/// [`crate::empty_root`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    let wrong_length = || ProofError::WrongProofLength {
        expected: proof_length(old_size, new_size),
        actual: proof.len(),
    };
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(wrong_length());
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    let (fr, sr) =
        consistency_roots(old_size, new_size, old_root, proof).ok_or_else(wrong_length)?;
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// The roots of the old and the new tree a consistency proof between sizes
/// `0 < old_size < new_size` computes (RFC 9162 §2.1.4.2, steps 1–7), or `None` when the
/// proof has the wrong length.
fn consistency_roots(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Option<(Hash, Hash)> {
    // 1. If consistency_path is an empty array, stop and fail the proof verification.
    if proof.is_empty() {
        return None;
    }
    // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path.
    let mut path = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // 3. Set fn to first - 1 and sn to second - 1.
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while lsb(f_n) {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let (mut fr, mut sr) = (path[0], path[0]);
    // 6. For each subsequent value c in the consistency_path array:
    for c in &path[1..] {
        // If sn is 0, then stop the iteration and fail the proof verification.
        if s_n == 0 {
            return None;
        }
        if lsb(f_n) || f_n == s_n {
            // If LSB(fn) is set, or if fn is equal to sn: fr = HASH(0x01 || c || fr) and
            // sr = HASH(0x01 || c || sr), then, if LSB(fn) is not set, right-shift fn and sn
            // until either LSB(fn) is set or fn is 0.
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while !lsb(f_n) && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            // Otherwise: sr = HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // Finally, right-shift both fn and sn one time.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 7. Succeed if fr equals first_hash, sr equals second_hash (the caller compares), and
    //    sn is 0.
    (s_n == 0).then_some((fr, sr))
}

/// `LSB(x)`: whether the least significant bit of `x` is set.
fn lsb(x: u64) -> bool {
    x & 1 == 1
}

/// The number of hashes in `PATH(m, D[n])`, for `m < n` (RFC 9162 §2.1.3.1).
fn path_length(m: u64, n: u64) -> usize {
    if n == 1 {
        return 0;
    }
    let k = largest_power_of_two_below(n);
    1 + if m < k {
        path_length(m, k)
    } else {
        path_length(m - k, n - k)
    }
}

/// The number of hashes in `PROOF(m, D[n])`, for `m ≤ n`: none for `m = 0` or `m = n`, else the length of
/// `SUBPROOF(m, D[n], true)` (RFC 9162 §2.1.4.1).
fn proof_length(m: u64, n: u64) -> usize {
    fn subproof_length(m: u64, n: u64, b: bool) -> usize {
        if m == n {
            return usize::from(!b);
        }
        let k = largest_power_of_two_below(n);
        1 + if m <= k {
            subproof_length(m, k, b)
        } else {
            subproof_length(m - k, n - k, false)
        }
    }
    if m == 0 || m == n {
        return 0;
    }
    subproof_length(m, n, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn proof_lengths_follow_the_rfc_recursion() {
        // PATH: a power-of-two tree has log2(n) siblings; the last leaf of 5 has one.
        assert_eq!(path_length(0, 1), 0);
        assert_eq!(path_length(3, 8), 3);
        assert_eq!(path_length(4, 5), 1);
        assert_eq!(path_length(1, 5), 3);
        // PROOF: 1 → 8 needs three hashes, 2 → 5 two, 6 → 8 three (transparency-dev vectors).
        assert_eq!(proof_length(1, 8), 3);
        assert_eq!(proof_length(2, 5), 2);
        assert_eq!(proof_length(6, 8), 3);
        assert_eq!(proof_length(0, 8), 0);
        assert_eq!(proof_length(8, 8), 0);
    }

    #[test]
    fn a_single_leaf_tree_proves_its_leaf_with_nothing() {
        let leaf = leaf_hash(b"data");
        assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
        assert_eq!(
            verify_inclusion(&leaf, 0, 1, &[], &empty_root()),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&leaf, 0, 1, &[leaf], &leaf),
            Err(ProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
    }

    #[test]
    fn nothing_is_in_an_empty_tree() {
        let leaf = leaf_hash(b"data");
        for (index, size) in [(0, 0), (1, 0), (1, 1), (2, 1)] {
            assert_eq!(
                verify_inclusion(&leaf, index, size, &[], &empty_root()),
                Err(ProofError::IndexOutOfRange { index, size })
            );
        }
    }

    // Adapted from transparency-dev/merkle proof/verify_test.go, TestVerifyConsistency: the
    // cases without a proof. Unlike that verifier, a size-0 tree must have the empty root.
    #[test]
    fn trivial_consistency_cases() {
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let empty = empty_root();
        assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 1, &empty, &a, &[]), Ok(()));
        assert_eq!(verify_consistency(1, 1, &a, &a, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 1, &a, &b, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(1, 1, &a, &b, &[]),
            Err(ProofError::NewRootMismatch)
        );
        // Time travel to the past.
        assert_eq!(
            verify_consistency(1, 0, &a, &b, &[]),
            Err(ProofError::SizesOutOfOrder {
                old_size: 1,
                new_size: 0
            })
        );
        // An empty proof between different sizes.
        assert_eq!(
            verify_consistency(1, 2, &a, &b, &[]),
            Err(ProofError::WrongProofLength {
                expected: 1,
                actual: 0
            })
        );
        // Roots match, but the proof is not empty.
        for (old, new) in [(0, 0), (0, 1), (1, 1)] {
            let root = if old == 0 { empty } else { a };
            assert_eq!(
                verify_consistency(old, new, &root, &root, &[empty]),
                Err(ProofError::WrongProofLength {
                    expected: 0,
                    actual: 1
                })
            );
        }
    }
}
