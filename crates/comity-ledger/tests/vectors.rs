//! Known answers: the Certificate Transparency reference vectors for RFC 6962, as published in
//! the transparency-dev/merkle repository (github.com/transparency-dev/merkle):
//!
//! - the eight leaves, the hash of every complete subtree of their tree, and the roots of
//!   sizes 0 to 8: `testonly/constants.go` (`LeafInputs`, `NodeHashes`, `RootHashes`);
//! - inclusion proofs: `testonly/reference_test.go` (`TestRefInclusionProof`; the
//!   `inclusionProofs` of `proof/verify_test.go` are four of them, with leaves counted from 1);
//! - consistency proofs: `proof/verify_test.go` (`consistencyProofs`);
//! - the tampered proofs every verifier must refuse: `proof/verify_test.go`
//!   (`corruptInclusionProof`, `corruptConsistencyProof`).

mod support;

use comity_ledger::{
    Hash, MemoryTree, Nodes, ProofError, consistency_proof, empty_root, from_hex, inclusion_proof,
    leaf_hash, root, verify_consistency, verify_inclusion,
};
use support::MapNodes;

/// `LeafInputs()`, in hex.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `NodeHashes()`: `NODES[level][index]`, every complete subtree of the 8-leaf tree.
const NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// `RootHashes()`: `ROOTS[size]` for sizes 0 to 8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `(index, size, PATH(index, D[size]))`, indices from 0.
const INCLUSION: [(u64, u64, &[&str]); 7] = [
    (0, 1, &[]),
    (
        0,
        2,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        1,
        2,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// `(old size, new size, PROOF(old, D[new]))`.
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// `sha256SomeHash` in `proof/verify_test.go`: a hash that is nothing in particular.
const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

/// A tampered inclusion proof: (what was changed, index, size, leaf, proof, root).
type InclusionProbe = (&'static str, u64, u64, Hash, Vec<Hash>, Hash);

/// A tampered consistency proof: (what was changed, old size, new size, old root, new root,
/// proof).
type ConsistencyProbe = (&'static str, u64, u64, Hash, Hash, Vec<Hash>);

fn h(hex: &str) -> Hash {
    match from_hex(hex) {
        Ok(hash) => hash,
        Err(e) => panic!("bad hex in a test vector {hex}: {e}"),
    }
}

fn hashes(hexes: &[&str]) -> Vec<Hash> {
    hexes.iter().map(|hex| h(hex)).collect()
}

fn entry(i: usize) -> Vec<u8> {
    let text = LEAVES[i];
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap_or_default())
        .collect()
}

fn memory_tree(size: usize) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.append(&entry(i));
    }
    tree
}

fn map_nodes(size: usize) -> MapNodes {
    let mut nodes = MapNodes::default();
    for i in 0..size {
        assert_eq!(nodes.append(&entry(i)), Ok(()));
    }
    nodes
}

#[test]
fn the_empty_root_is_the_hash_of_nothing() {
    assert_eq!(empty_root(), h(ROOTS[0]));
}

#[test]
fn leaf_hashes_match() {
    for (i, expected) in NODES[0].iter().enumerate() {
        assert_eq!(leaf_hash(&entry(i)), h(expected), "leaf {i}");
    }
}

#[test]
fn every_complete_subtree_matches_in_both_stores() {
    let tree = memory_tree(8);
    let nodes = map_nodes(8);
    let mut count = 0;
    for (level, row) in NODES.iter().enumerate() {
        for (index, expected) in row.iter().enumerate() {
            let (level, index) = (level as u8, index as u64);
            let Ok(node) = tree.node(level, index);
            assert_eq!(node, h(expected), "MemoryTree node ({level}, {index})");
            assert_eq!(
                nodes.node(level, index),
                Ok(h(expected)),
                "completed_nodes node ({level}, {index})"
            );
            count += 1;
        }
    }
    // completed_nodes stored those 15 nodes and no others.
    assert_eq!(nodes.all().len(), count);
}

#[test]
fn roots_of_every_size_match() {
    let tree = memory_tree(8);
    let nodes = map_nodes(8);
    for (size, expected) in ROOTS.iter().enumerate() {
        // The roots of earlier sizes, from the tree of 8...
        let Ok(historical) = root(&tree, size as u64);
        assert_eq!(historical, h(expected), "size {size}, from the tree of 8");
        assert_eq!(root(&nodes, size as u64), Ok(h(expected)));
        // ...and from a tree of exactly that size.
        let Ok(current) = root(&memory_tree(size), size as u64);
        assert_eq!(current, h(expected), "size {size}");
    }
}

#[test]
fn inclusion_proofs_match_and_verify() {
    let tree = memory_tree(8);
    for (index, size, expected) in INCLUSION {
        let proof = inclusion_proof(&tree, index, size);
        assert_eq!(
            proof.ok(),
            Some(hashes(expected)),
            "PATH({index}, D[{size}])"
        );
        let leaf = leaf_hash(&entry(index as usize));
        let head = h(ROOTS[size as usize]);
        assert_eq!(
            verify_inclusion(&leaf, index, size, &hashes(expected), &head),
            Ok(())
        );
    }
}

#[test]
fn tampered_inclusion_proofs_are_refused() {
    for (index, size, expected) in INCLUSION {
        let proof = hashes(expected);
        let leaf = leaf_hash(&entry(index as usize));
        let head = h(ROOTS[size as usize]);
        let mut probes: Vec<InclusionProbe> = vec![
            (
                "index - 1",
                index.wrapping_sub(1),
                size,
                leaf,
                proof.clone(),
                head,
            ),
            ("index + 1", index + 1, size, leaf, proof.clone(), head),
            ("index ^ 2", index ^ 2, size, leaf, proof.clone(), head),
            ("size * 2", index, size * 2, leaf, proof.clone(), head),
            ("size / 2", index, size / 2, leaf, proof.clone(), head),
            (
                "wrong leaf",
                index,
                size,
                leaf_hash(b"WrongLeaf"),
                proof.clone(),
                head,
            ),
            ("empty root", index, size, leaf, proof.clone(), empty_root()),
            (
                "random root",
                index,
                size,
                leaf,
                proof.clone(),
                h(SOME_HASH),
            ),
            (
                "trailing garbage",
                index,
                size,
                leaf,
                [&proof[..], &[[0; 32]]].concat(),
                head,
            ),
            (
                "trailing root",
                index,
                size,
                leaf,
                [&proof[..], &[head]].concat(),
                head,
            ),
            (
                "preceding garbage",
                index,
                size,
                leaf,
                [&[[0; 32]], &proof[..]].concat(),
                head,
            ),
            (
                "preceding root",
                index,
                size,
                leaf,
                [&[head], &proof[..]].concat(),
                head,
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 8;
            probes.push(("modified proof bit 3", index, size, leaf, wrong, head));
        }
        if let Some((_, shorter)) = proof.split_last() {
            probes.push((
                "removed component",
                index,
                size,
                leaf,
                shorter.to_vec(),
                head,
            ));
        }
        if proof.len() > 1 {
            let inserted = [&proof[..1], &[h(SOME_HASH)], &proof[1..]].concat();
            probes.push(("inserted component", index, size, leaf, inserted, head));
        }
        for (what, index, size, leaf, proof, head) in probes {
            assert!(
                verify_inclusion(&leaf, index, size, &proof, &head).is_err(),
                "{what} verified, for leaf {index} of {size}"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_and_verify() {
    let tree = memory_tree(8);
    for (old, new, expected) in CONSISTENCY {
        let proof = consistency_proof(&tree, old, new);
        assert_eq!(proof.ok(), Some(hashes(expected)), "PROOF({old}, D[{new}])");
        let (old_root, new_root) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &hashes(expected)),
            Ok(())
        );
    }
}

#[test]
fn tampered_consistency_proofs_are_refused() {
    for (old, new, expected) in CONSISTENCY {
        let proof = hashes(expected);
        let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        let Some(first) = proof.first().copied() else {
            // Nothing to tamper with in an empty proof (as in verify_test.go).
            continue;
        };
        let garbage = [0u8; 32];
        let mut probes: Vec<ConsistencyProbe> = vec![
            ("old - 1", old - 1, new, r1, r2, proof.clone()),
            ("old + 1", old + 1, new, r1, r2, proof.clone()),
            ("old ^ 2", old ^ 2, new, r1, r2, proof.clone()),
            ("new * 2", old, new * 2, r1, r2, proof.clone()),
            ("new / 2", old, new / 2, r1, r2, proof.clone()),
            ("wrong old root", old, new, h(SOME_HASH), r2, proof.clone()),
            ("wrong new root", old, new, r1, h(SOME_HASH), proof.clone()),
            ("swapped roots", old, new, r2, r1, proof.clone()),
            ("empty proof", old, new, r1, r2, Vec::new()),
            (
                "trailing garbage",
                old,
                new,
                r1,
                r2,
                [&proof[..], &[garbage]].concat(),
            ),
            (
                "trailing old root",
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r1]].concat(),
            ),
            (
                "trailing new root",
                old,
                new,
                r1,
                r2,
                [&proof[..], &[r2]].concat(),
            ),
            (
                "preceding garbage",
                old,
                new,
                r1,
                r2,
                [&[garbage], &proof[..]].concat(),
            ),
            (
                "preceding old root",
                old,
                new,
                r1,
                r2,
                [&[r1], &proof[..]].concat(),
            ),
            (
                "preceding new root",
                old,
                new,
                r1,
                r2,
                [&[r2], &proof[..]].concat(),
            ),
            (
                "preceding proof[0]",
                old,
                new,
                r1,
                r2,
                [&[first], &proof[..]].concat(),
            ),
            (
                "truncated",
                old,
                new,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 16;
            probes.push(("modified proof bit 4", old, new, r1, r2, wrong));
        }
        for (what, old, new, r1, r2, proof) in probes {
            assert!(
                verify_consistency(old, new, &r1, &r2, &proof).is_err(),
                "{what} verified, for {old} → {new}"
            );
        }
    }
}

#[test]
fn verification_errors_say_what_failed() {
    let (index, size, expected) = INCLUSION[6];
    let proof = hashes(expected);
    let leaf = leaf_hash(&entry(index as usize));
    let head = h(ROOTS[size as usize]);
    assert_eq!(
        verify_inclusion(&leaf, index, size, &proof, &h(SOME_HASH)),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&leaf, index, size, &proof[..2], &head),
        Err(ProofError::WrongProofLength {
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(
        verify_inclusion(&leaf, index, size, &[&proof[..], &[head]].concat(), &head),
        Err(ProofError::WrongProofLength {
            expected: 3,
            actual: 4
        })
    );
    assert_eq!(
        verify_inclusion(&leaf, 8, 8, &proof, &head),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );

    let (old, new, expected) = CONSISTENCY[2];
    let proof = hashes(expected);
    let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
    assert_eq!(
        verify_consistency(old, new, &h(SOME_HASH), &r2, &proof),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        verify_consistency(old, new, &r1, &h(SOME_HASH), &proof),
        Err(ProofError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(new, old, &r2, &r1, &proof),
        Err(ProofError::SizesOutOfOrder {
            old_size: new,
            new_size: old
        })
    );
}
