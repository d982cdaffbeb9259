//! comity's tamper-evident log, in the Certificate Transparency tradition: an append-only
//! Merkle tree (RFC 6962, RFC 9162 §2.1) whose nodes live in a store, proofs of inclusion and
//! consistency and their verification, and signed checkpoints of its head (C2SP
//! tlog-checkpoint, signed-note).
//!
//! Each algorithm is one function, named as the RFC names it, and tested with the RFC's
//! published vectors:
//!
//! - [`hash`]: `leaf_hash`, `node_hash`, the empty root.
//! - [`tree`]: `MTH` ([`root`]), `PATH` ([`inclusion_proof`]), `PROOF` ([`consistency_proof`])
//!   over a [`Nodes`] store, and the nodes an append completes ([`completed_nodes`]).
//! - [`proof`]: [`verify_inclusion`], [`verify_consistency`].
//! - [`checkpoint`] and [`note`]: [`Checkpoint`], [`NoteSigner`], [`NoteVerifier`],
//!   [`open_checkpoint`].
//! - [`tiles`]: the log as C2SP tlog-tiles serves it: [`TileAddress`], [`entry_bundle`].

pub mod checkpoint;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tree;

pub use checkpoint::{Checkpoint, CheckpointError, OpenCheckpointError, open_checkpoint};
pub use hash::{Hash, HexError, empty_root, from_hex, leaf_hash, node_hash, to_hex};
pub use note::{KeyError, NoteError, NoteSigner, NoteVerifier, open_note};
pub use proof::{ProofError, verify_consistency, verify_inclusion};
pub use tiles::{
    BadTilePath, EntryTooLong, MAX_ENTRY_BYTES, TILE_WIDTH, TileAddress, TileContent,
    bundle_entries, entry_bundle,
};
pub use tree::{
    MemoryTree, Nodes, TreeError, completed_nodes, consistency_proof, inclusion_proof, root,
};
