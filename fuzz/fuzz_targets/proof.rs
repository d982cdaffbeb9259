//! Any bytes as an inclusion or a consistency proof: checked or refused, never a panic, and
//! never accepted for a root it does not prove.
#![no_main]

use comity_ledger::{Hash, verify_consistency, verify_inclusion};
use libfuzzer_sys::fuzz_target;

fn hash(bytes: &[u8]) -> Hash {
    let mut h = [0u8; 32];
    h[..bytes.len().min(32)].copy_from_slice(&bytes[..bytes.len().min(32)]);
    h
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 + 64 {
        return;
    }
    let a = u64::from_le_bytes(data[0..8].try_into().unwrap()) % (1 << 40);
    let b = u64::from_le_bytes(data[8..16].try_into().unwrap()) % (1 << 40);
    let (first, second) = (hash(&data[16..48]), hash(&data[48..80]));
    let proof: Vec<Hash> = data[80..].chunks(32).map(hash).collect();
    let _ = verify_inclusion(&first, a, b, &proof, &second);
    let _ = verify_consistency(a, b, &first, &second, &proof);
});
