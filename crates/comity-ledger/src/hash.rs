//! Merkle tree hashing, RFC 6962 §2.1 (RFC 9162 §2.1.1): SHA-256 with a one-byte domain
//! separator, 0x00 before a leaf and 0x01 before two child hashes, so that no leaf can pass
//! for an interior node.
//!
//! Written on `sha2` rather than taken from `ct-merkle`: ct-merkle keeps the whole tree in
//! memory, and comity's tree lives in a database and may not fit in it. The algorithms in
//! [`crate::tree`] read the stored nodes they need, one at a time; this module only hashes.
//! ct-merkle stays in the tests, as an oracle that must agree with every root and proof.

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// The domain separator before a leaf's entry (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;

/// The domain separator before two child hashes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// The hash of a leaf: `MTH({d}) = SHA-256(0x00 || d)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([LEAF_PREFIX])
        .chain_update(entry)
        .finalize()
        .into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([NODE_PREFIX])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the empty tree: `MTH({}) = SHA-256()`, the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A hash as 64 lowercase hexadecimal digits.
pub fn to_hex(hash: &Hash) -> String {
    const_hex::encode(hash)
}

/// A hash from 64 hexadecimal digits (either case), and nothing else (no `0x`).
pub fn from_hex(text: &str) -> Result<Hash, HexError> {
    if text.len() != 64 {
        return Err(HexError::WrongLength { length: text.len() });
    }
    const_hex::decode_to_array(text).map_err(|e| match e {
        const_hex::FromHexError::InvalidHexCharacter { index, .. } => {
            HexError::NotHex { position: index }
        }
        // 64 digits that do not make 32 bytes: a `0x` prefix was stripped.
        _ => HexError::NotHex { position: 1 },
    })
}

/// Why a text is not a hash in hexadecimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The text is not 64 characters long.
    #[error("a SHA-256 hash is 64 hexadecimal digits, not {length} bytes of text")]
    WrongLength {
        /// The length of the text, in bytes.
        length: usize,
    },
    /// A character is not a hexadecimal digit.
    #[error("byte {position} of the hash is not a hexadecimal digit")]
    NotHex {
        /// The offset of the first offending byte.
        position: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_accepts_either_case() {
        let hash = leaf_hash(b"comity");
        let text = to_hex(&hash);
        assert_eq!(text.len(), 64);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(from_hex(&text), Ok(hash));
        assert_eq!(from_hex(&text.to_uppercase()), Ok(hash));
    }

    #[test]
    fn hex_refuses_wrong_lengths_and_non_digits() {
        let text = to_hex(&empty_root());
        assert_eq!(
            from_hex(&text[..63]),
            Err(HexError::WrongLength { length: 63 })
        );
        assert_eq!(
            from_hex(&format!("{text}0")),
            Err(HexError::WrongLength { length: 65 })
        );
        assert_eq!(from_hex(""), Err(HexError::WrongLength { length: 0 }));
        let bad = format!("{}g{}", &text[..10], &text[11..]);
        assert_eq!(from_hex(&bad), Err(HexError::NotHex { position: 10 }));
        // 64 bytes of text, but not 64 digits: a two-byte character.
        let bad = format!("é{}", &text[2..]);
        assert_eq!(from_hex(&bad), Err(HexError::NotHex { position: 0 }));
        // A `0x` prefix is not hexadecimal digits.
        let bad = format!("0x{}", &text[2..]);
        assert_eq!(from_hex(&bad), Err(HexError::NotHex { position: 1 }));
    }

    #[test]
    fn domain_separation_keeps_leaves_and_nodes_apart() {
        // A leaf whose entry is the bytes of two hashes must not hash like their parent.
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut joined = Vec::from(a);
        joined.extend_from_slice(&b);
        assert_ne!(leaf_hash(&joined), node_hash(&a, &b));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    }
}
