//! A node store as the storage layer keeps one: a map from `(level, index)` to hash, filled
//! only with what `completed_nodes` returns for each append.

use std::collections::HashMap;

use comity_ledger::{Hash, Nodes, completed_nodes, leaf_hash};

/// Nodes in a map, as rows in a table would be.
#[derive(Debug, Default)]
pub struct MapNodes {
    nodes: HashMap<(u8, u64), Hash>,
    size: u64,
}

/// A node the store was asked for and does not have.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("no stored node at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u8,
    pub index: u64,
}

impl MapNodes {
    /// Appends an entry the way the storage layer does: the nodes it completes, computed from
    /// what is stored, are stored with it.
    pub fn append(&mut self, entry: &[u8]) -> Result<(), MissingNode> {
        for (level, index, hash) in completed_nodes(self.size, leaf_hash(entry), self)? {
            let previous = self.nodes.insert((level, index), hash);
            assert_eq!(previous, None, "node ({level}, {index}) completed twice");
        }
        self.size += 1;
        Ok(())
    }

    /// Every stored node.
    pub fn all(&self) -> &HashMap<(u8, u64), Hash> {
        &self.nodes
    }
}

impl Nodes for MapNodes {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}
