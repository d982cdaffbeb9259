//! The ledger's costs at a million entries: hashing the leaves, building the tree, and making
//! and checking proofs. The tree is built once, outside the timed parts.

use std::hint::black_box;

use comity_ledger::{
    Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SIZE: u64 = 1_000_000;

/// The entry at `index`: a short record, as a decision digest would be.
fn entry(index: u64) -> Vec<u8> {
    format!("{{\"decision\":{index},\"digest\":\"{index:064x}\"}}").into_bytes()
}

/// Indices spread over the whole tree (a fixed multiplicative sequence, no RNG).
fn spread_indices(count: u64) -> Vec<u64> {
    (0..count)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % SIZE)
        .collect()
}

fn hashing(c: &mut Criterion) {
    let entries: Vec<Vec<u8>> = (0..SIZE).map(entry).collect();
    let mut group = c.benchmark_group("hash 1M leaves");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SIZE));
    group.bench_function("leaf_hash", |b| {
        b.iter(|| {
            entries
                .iter()
                .map(|e| leaf_hash(black_box(e)))
                .fold(0u8, |acc, h| acc ^ h[0])
        })
    });
    group.bench_function("MemoryTree::append (leaves and nodes)", |b| {
        b.iter(|| {
            let mut tree = MemoryTree::new();
            for e in &entries {
                tree.append(black_box(e));
            }
            tree
        })
    });
    group.finish();
}

fn proofs(c: &mut Criterion) {
    let mut tree = MemoryTree::new();
    for index in 0..SIZE {
        tree.append(&entry(index));
    }
    let Ok(head) = root(&tree, SIZE);
    let indices = spread_indices(1024);

    let mut group = c.benchmark_group("1M-entry tree");
    group.bench_function("inclusion_proof", |b| {
        let mut next = indices.iter().cycle();
        b.iter(|| {
            let index = *next.next().unwrap_or(&0);
            inclusion_proof(&tree, black_box(index), SIZE)
        })
    });

    let cases: Vec<(Hash, u64, Vec<Hash>)> = indices
        .iter()
        .filter_map(|&index| {
            let proof = inclusion_proof(&tree, index, SIZE).ok()?;
            Some((leaf_hash(&entry(index)), index, proof))
        })
        .collect();
    group.bench_function("verify_inclusion", |b| {
        let mut next = cases.iter().cycle();
        b.iter(|| {
            let (leaf, index, proof) = next.next().unwrap_or(&cases[0]);
            verify_inclusion(leaf, *index, SIZE, black_box(proof), &head)
        })
    });

    let old_sizes: Vec<u64> = indices.iter().map(|&i| i.max(1)).collect();
    group.bench_function("consistency_proof", |b| {
        let mut next = old_sizes.iter().cycle();
        b.iter(|| {
            let old = *next.next().unwrap_or(&1);
            consistency_proof(&tree, black_box(old), SIZE)
        })
    });
    let consistency_cases: Vec<(u64, Hash, Vec<Hash>)> = old_sizes
        .iter()
        .filter_map(|&old| {
            let Ok(old_root) = root(&tree, old);
            Some((old, old_root, consistency_proof(&tree, old, SIZE).ok()?))
        })
        .collect();
    group.bench_function("verify_consistency", |b| {
        let mut next = consistency_cases.iter().cycle();
        b.iter(|| {
            let (old, old_root, proof) = next.next().unwrap_or(&consistency_cases[0]);
            verify_consistency(*old, SIZE, old_root, &head, black_box(proof))
        })
    });
    group.bench_function("root", |b| b.iter(|| root(&tree, black_box(SIZE))));
    group.finish();
}

criterion_group!(benches, hashing, proofs);
criterion_main!(benches);
