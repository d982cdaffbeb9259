//! Properties of trees of 1 to 2000 leaves: every proof `tree` makes verifies with `proof`;
//! one flipped bit anywhere (the leaf, any proof hash, a root) or one hash too many or too few
//! makes it fail; and roots and proofs are byte for byte those of `ct-merkle` 0.3, an
//! independent RFC 6962 implementation, used here as the oracle.
//!
//! The proofs come from one tree of 2000 leaves, asked about its earlier sizes, as a store is.
//! The oracle only answers for the size it has: it grows one leaf at a time beside them and is
//! compared at every size.

mod support;

use std::sync::OnceLock;

use comity_ledger::{
    Hash, MemoryTree, TreeError, consistency_proof, inclusion_proof, leaf_hash, root,
    verify_consistency, verify_inclusion,
};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle_sha2::Sha256;
use proptest::prelude::*;
use proptest::sample::Index;
use support::{MapNodes, MissingNode};

/// The largest tree size the properties reach.
const MAX_SIZE: u64 = 2000;

/// The entry at `index` of every test tree.
fn entry(index: u64) -> Vec<u8> {
    format!("decision {index}").into_bytes()
}

/// The tree of `entry(0..MAX_SIZE)`, built once.
fn full_tree() -> &'static MemoryTree {
    static TREE: OnceLock<MemoryTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut tree = MemoryTree::new();
        for index in 0..MAX_SIZE {
            tree.append(&entry(index));
        }
        tree
    })
}

/// The root of the full tree's first `size` leaves.
fn root_at(size: u64) -> Hash {
    let Ok(hash) = root(full_tree(), size);
    hash
}

/// `hash` with one bit flipped.
fn flipped(mut hash: Hash, bit: usize) -> Hash {
    hash[bit / 8 % 32] ^= 1 << (bit % 8);
    hash
}

proptest! {
    #[test]
    fn inclusion_proofs_verify_and_break_on_any_bit(
        size in 1..=MAX_SIZE,
        pick in any::<Index>(),
        bit in 0..256usize,
    ) {
        let index = pick.index(size as usize) as u64;
        let head = root_at(size);
        let proof = inclusion_proof(full_tree(), index, size);
        prop_assert!(proof.is_ok());
        let proof = proof.unwrap_or_default();

        let leaf = leaf_hash(&entry(index));
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &head), Ok(()));
        prop_assert!(verify_inclusion(&flipped(leaf, bit), index, size, &proof, &head).is_err());
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flipped(head, bit)).is_err());
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i] = flipped(wrong[i], bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &wrong, &head).is_err(), "proof[{}]", i);
        }
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_inclusion(&leaf, index, size, shorter, &head).is_err());
        }
        let longer = [&proof[..], &[head]].concat();
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &head).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_break_on_any_bit(
        new_size in 1..=MAX_SIZE,
        pick in any::<Index>(),
        bit in 0..256usize,
    ) {
        // 1..=new_size: from size 0 every tree is consistent, whatever its root.
        let old_size = pick.index(new_size as usize) as u64 + 1;
        let (old_root, new_root) = (root_at(old_size), root_at(new_size));
        let proof = consistency_proof(full_tree(), old_size, new_size);
        prop_assert!(proof.is_ok());
        let proof = proof.unwrap_or_default();

        prop_assert_eq!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof), Ok(()));
        prop_assert!(
            verify_consistency(old_size, new_size, &flipped(old_root, bit), &new_root, &proof).is_err()
        );
        prop_assert!(
            verify_consistency(old_size, new_size, &old_root, &flipped(new_root, bit), &proof).is_err()
        );
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i] = flipped(wrong[i], bit);
            prop_assert!(
                verify_consistency(old_size, new_size, &old_root, &new_root, &wrong).is_err(),
                "proof[{}]", i
            );
        }
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, shorter).is_err());
        }
        let longer = [&proof[..], &[new_root]].concat();
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &longer).is_err());
    }
}

#[test]
fn every_size_to_2000_matches_ct_merkle() {
    let mut oracle = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for size in 1..=MAX_SIZE {
        oracle.push(entry(size - 1));
        let oracle_root = oracle.root();
        assert_eq!(
            &root_at(size)[..],
            &oracle_root.as_bytes()[..],
            "root of {size}"
        );
        // The first, the last, the middle and a scattered leaf; the same for old sizes.
        let scattered = size.wrapping_mul(0x9E37_79B9_7F4A_7C15) % size;
        for index in [0, size - 1, size / 2, scattered] {
            let proof = inclusion_proof(full_tree(), index, size).unwrap_or_default();
            let expected = oracle.prove_inclusion(index as usize);
            assert_eq!(
                proof.concat(),
                expected.as_bytes(),
                "PATH({index}, D[{size}])"
            );
            let old = index + 1;
            let proof = consistency_proof(full_tree(), old, size).unwrap_or_default();
            let expected = oracle.prove_consistency((size - old) as usize);
            assert_eq!(
                proof.concat(),
                expected.as_bytes(),
                "PROOF({old}, D[{size}])"
            );
        }
    }
}

#[test]
fn nodes_completed_one_append_at_a_time_give_memory_tree_roots() {
    let mut nodes = MapNodes::default();
    let mut tree = MemoryTree::new();
    for index in 0..MAX_SIZE {
        assert_eq!(nodes.append(&entry(index)), Ok(()));
        assert_eq!(tree.append(&entry(index)), index);
        let size = index + 1;
        let Ok(expected) = root(&tree, size);
        assert_eq!(root(&nodes, size), Ok(expected), "size {size}");
    }
    // The map holds exactly the complete subtrees: 2n - popcount(n) of them.
    assert_eq!(
        nodes.all().len() as u64,
        2 * MAX_SIZE - u64::from(MAX_SIZE.count_ones())
    );
    for (&(level, index), hash) in nodes.all() {
        let Ok(node) = comity_ledger::Nodes::node(&tree, level, index);
        assert_eq!(&node, hash, "node ({level}, {index})");
    }
}

#[test]
fn a_store_missing_a_node_says_which() {
    let mut nodes = MapNodes::default();
    for index in 0..5 {
        assert_eq!(nodes.append(&entry(index)), Ok(()));
    }
    // A proof in a tree of 6 needs leaf 5, which was never stored.
    match inclusion_proof(&nodes, 4, 6) {
        Err(TreeError::Nodes(missing)) => {
            assert_eq!(missing, MissingNode { level: 0, index: 5 })
        }
        other => panic!("expected a missing node, got {other:?}"),
    }
    // The root of 6 needs the pair of leaves 4 and 5, never completed.
    assert_eq!(root(&nodes, 6), Err(MissingNode { level: 1, index: 2 }));
}
