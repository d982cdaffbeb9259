//! The ledger's speed on this machine (figures go to docs/perf.md):
//!
//! - durable appends per second on SQLite (WAL, `synchronous = FULL`) with group commit: one
//!   transaction per batch of decisions, each with its request, decision and ledger rows;
//! - inclusion proof generation and verification at 1,000,000 entries, from the SQLite store
//!   and from the nodes in memory;
//! - `verify` (every leaf, node, decision and checkpoint) over 1,000,000 entries.
//!
//! `cargo bench -p comity-store --bench ledger [-- ENTRIES]` (default 1,000,000); with
//! `COMITY_BENCH_DB=PATH` the database is kept at PATH.
//!
//! Each request stored is the example request (1.2 KB, its id changed), as received, so that
//! `verify` hashes request bodies of a real size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comity_ledger::{MemoryTree, NoteSigner, verify_inclusion};
use comity_model::{Act, ActDecision, Decision, Outcome, PackRef, Reason};
use comity_store::{NewDecision, Store};

/// The example request, its id replaced by `{id}`.
fn request_template() -> String {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/nyc-doc-detainer.json"),
    )
    .expect("the example request");
    let mut request: serde_json::Value = serde_json::from_str(&example).expect("JSON");
    request["id"] = "{id}".into();
    serde_json::to_string_pretty(&request).expect("JSON")
}

fn decisions(template: &str, from: usize, to: usize) -> Vec<NewDecision> {
    let reason = Arc::new(Reason {
        rule: "nyc-doc-detainer-needs-judicial-warrant".into(),
        pack: "ocd-division/country:us/state:ny/place:new_york@2017-12-01".into(),
        citation: "NYC Admin. Code § 9-131(b)(1)(i)".into(),
        summary: "A detainer is honored, by a hold or by a release notice, only with a judicial warrant presented with it.".into(),
        facts: [("warrant_kind".to_owned(), "administrative".into())].into(),
        caution: None,
    });
    (from..to)
        .map(|i| {
            let id = format!("bench-{i:08}");
            let decision = Decision {
                request: id.clone(),
                at: "2018-03-02T14:05:00-05:00".parse().expect("instant"),
                packs: vec![PackRef {
                    id: reason.pack.clone(),
                    sha256: "ab".repeat(32),
                    signature: None,
                }],
                acts: [Act::Hold, Act::NotifyRelease]
                    .into_iter()
                    .map(|act| ActDecision {
                        act,
                        outcome: Outcome::Forbidden,
                        reasons: vec![reason.clone()],
                        limits: vec![],
                        met: vec![],
                        instruction: None,
                    })
                    .collect(),
                warnings: vec![],
            };
            NewDecision {
                request_body: template.replace("{id}", &id),
                decision,
                deliveries: vec![],
            }
        })
        .collect()
}

/// The allocator the `comity` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let entries: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let template = request_template();
    let dir = tempfile::tempdir().expect("temp dir");
    // COMITY_BENCH_DB keeps the database, for `comity audit verify` or a profiler.
    let path = std::env::var("COMITY_BENCH_DB")
        .unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
    let store = Store::open(&path).await.expect("store");

    // Appends, durable, group commit of 1,000 per transaction.
    let batch = 1_000;
    let started = Instant::now();
    let mut done = 0;
    while done < entries {
        let to = (done + batch).min(entries);
        store
            .record_decisions(&decisions(&template, done, to))
            .await
            .expect("recorded");
        done = to;
    }
    let took = started.elapsed();
    println!(
        "appends: {entries} decisions in {took:.2?}: {:.0}/s (batches of {batch}, SQLite WAL, synchronous=FULL)",
        per_second(entries, took)
    );
    let signer = NoteSigner::generate("bench.local/ledger").expect("key");
    store.sign_checkpoint(&signer).await.expect("checkpoint");
    // For `comity audit verify --public-key` on the database COMITY_BENCH_DB keeps.
    println!("the ledger's key: {}", signer.verifier_key());

    // Group commit of 100 per transaction, on top.
    let extra = 20_000;
    let started = Instant::now();
    for from in (entries..entries + extra).step_by(100) {
        store
            .record_decisions(&decisions(&template, from, from + 100))
            .await
            .expect("recorded");
    }
    let took = started.elapsed();
    println!(
        "appends: {extra} more in batches of 100: {:.0}/s",
        per_second(extra, took)
    );
    let size = store.size().await.expect("size");

    // Inclusion proofs from the store.
    let samples = 2_000u64;
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut indices = Vec::new();
    for _ in 0..samples {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        indices.push(seed % size);
    }
    let started = Instant::now();
    let mut proofs = Vec::new();
    for &i in &indices {
        proofs.push(store.inclusion_proof(i, None).await.expect("proof"));
    }
    let took = started.elapsed();
    println!(
        "inclusion proof from SQLite at {size} entries (size read, nodes not cached): {:.1} µs each ({} hashes)",
        took.as_secs_f64() * 1e6 / samples as f64,
        proofs[0].hashes.len()
    );
    // The same proofs against a checkpoint's size: their nodes are now cached.
    let started = Instant::now();
    for &i in &indices {
        std::hint::black_box(store.inclusion_proof(i, Some(size)).await.expect("proof"));
    }
    let took = started.elapsed();
    println!(
        "inclusion proof from the store against a given size, nodes cached: {:.2} µs each",
        took.as_secs_f64() * 1e6 / samples as f64
    );
    let started = Instant::now();
    for p in &proofs {
        verify_inclusion(&p.leaf_hash, p.leaf_index, p.tree_size, &p.hashes, &p.root)
            .expect("verifies");
    }
    let took = started.elapsed();
    println!(
        "inclusion proof verification: {:.2} µs each",
        took.as_secs_f64() * 1e6 / samples as f64
    );

    // The same proofs from nodes in memory.
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.append(&i.to_be_bytes());
    }
    let started = Instant::now();
    for &i in &indices {
        std::hint::black_box(comity_ledger::inclusion_proof(&tree, i, size).expect("proof"));
    }
    let took = started.elapsed();
    println!(
        "inclusion proof from memory at {size} entries: {:.2} µs each",
        took.as_secs_f64() * 1e6 / samples as f64
    );

    // verify over everything.
    let started = Instant::now();
    let report = store
        .verify(&signer.verifier(), &|_, _| {})
        .await
        .expect("read")
        .expect("clean");
    let took = started.elapsed();
    println!(
        "verify: {} entries, {} nodes, {} decisions, {} checkpoints in {took:.2?}",
        report.entries, report.nodes, report.decisions, report.checkpoints
    );
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("database: {:.0} MiB", bytes as f64 / (1 << 20) as f64);
    store.close().await;
}
