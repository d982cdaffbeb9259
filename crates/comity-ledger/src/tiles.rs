//! The log as C2SP tlog-tiles serves it, so that any tlog client or witness can follow and
//! check it with its own code: tiles of 256 node hashes (`tile/<L>/<N>[.p/<W>]`), bundles of
//! 256 entries (`tile/entries/<N>[.p/<W>]`), and the checkpoint beside them.
//!
//! A hash tile at level `L` and index `N` holds the hashes of the complete subtrees at tree
//! level `8·L`, indices `256·N` to `256·N + W - 1`: exactly the nodes a [`crate::Nodes`] store
//! keeps, so serving a tile is one range read. A partial tile (`.p/<W>`, `W < 256`) is the
//! first `W` of those; its content never changes once the tree holds them.
//!
//! Paths are parsed by the `tlog_tiles` crate (Go's sumdb tile coordinates, ported by
//! Cloudflare): a C2SP path is its sumdb twin with the height (8) left out and `data` spelled
//! `entries`, and the crate checks the three-digit groups of `N` and that the path is the one
//! canonical spelling of its tile.

/// Tiles are 2^8 hashes wide, as C2SP tlog-tiles fixes them.
pub const TILE_HEIGHT: u8 = 8;

/// The hashes or entries a full tile holds.
pub const TILE_WIDTH: u32 = 1 << TILE_HEIGHT;

/// The largest entry an entry bundle can carry: its length is a big-endian `uint16`.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileContent {
    /// Node hashes of tile level `L` (tree level `8·L`).
    Hashes {
        /// The tile level.
        level: u8,
    },
    /// Entries, each prefixed by its length.
    Entries,
}

/// One tile of the log, as its path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileAddress {
    /// What the tile holds.
    pub content: TileContent,
    /// Its index `N` within its level.
    pub index: u64,
    /// How many hashes or entries it holds: 1 to 256.
    pub width: u32,
}

/// A path that names no tile.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a tile path: C2SP tlog-tiles names tiles tile/<L>/<N>[.p/<W>] and \
     tile/entries/<N>[.p/<W>], N in three-digit groups (x001/234), W from 1 to 255"
)]
pub struct BadTilePath(pub String);

/// An entry too long for an entry bundle.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("entry {index} is {bytes} bytes; an entry bundle carries entries of at most 65,535 bytes")]
pub struct EntryTooLong {
    /// The entry's index.
    pub index: u64,
    /// Its length.
    pub bytes: usize,
}

impl TileAddress {
    /// Parses a C2SP tlog-tiles path: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn parse(path: &str) -> Result<TileAddress, BadTilePath> {
        let bad = || BadTilePath(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (entries, coordinates) = match rest.strip_prefix("entries/") {
            Some(n) => (true, format!("tile/{TILE_HEIGHT}/data/{n}")),
            None => (false, format!("tile/{TILE_HEIGHT}/{rest}")),
        };
        // tlog_tiles 0.2 accepts a width of 0 (`.p/0`) and a level of 64 or more, and then
        // panics building the tile (both found by fuzzing): refused here first.
        let level = rest.split('/').next().unwrap_or_default();
        let level_ok = entries || level.parse::<u8>().is_ok_and(|l| l < 64);
        let width_ok = coordinates
            .rsplit_once(".p/")
            .is_none_or(|(_, w)| w.parse::<u32>().is_ok_and(|w| w > 0));
        if !level_ok || !width_ok {
            return Err(bad());
        }
        let tile = tlog_tiles::Tile::from_path(&coordinates).map_err(|_| bad())?;
        let address = TileAddress {
            content: if entries {
                TileContent::Entries
            } else {
                TileContent::Hashes {
                    level: tile.level(),
                }
            },
            index: tile.level_index(),
            width: tile.width(),
        };
        // One spelling a tile: `tile/data/…` is the sumdb twin's, not C2SP's.
        if address.path() != path {
            return Err(bad());
        }
        Ok(address)
    }

    /// The tile's C2SP path.
    pub fn path(&self) -> String {
        let (level, data) = match self.content {
            TileContent::Hashes { level } => (level, false),
            TileContent::Entries => (0, true),
        };
        let twin = tlog_tiles::Tile::new(TILE_HEIGHT, level, self.index, self.width, data).path();
        let rest = twin
            .strip_prefix(&format!("tile/{TILE_HEIGHT}/"))
            .expect("tlog_tiles paths begin tile/<height>/");
        match rest.strip_prefix("data/") {
            Some(n) => format!("tile/entries/{n}"),
            None => format!("tile/{rest}"),
        }
    }

    /// The tree level of the nodes a hash tile holds (0 for the leaves and for entries), or
    /// `None` past the deepest level a tree can have.
    pub fn tree_level(&self) -> Option<u8> {
        match self.content {
            TileContent::Hashes { level } => level.checked_mul(TILE_HEIGHT).filter(|l| *l < 64),
            TileContent::Entries => Some(0),
        }
    }

    /// The index, at its tree level, of the first node or entry the tile holds.
    pub fn first(&self) -> Option<u64> {
        self.index.checked_mul(u64::from(TILE_WIDTH))
    }

    /// Whether a tree of `size` leaves holds every node or entry of the tile.
    pub fn is_in(&self, size: u64) -> bool {
        let (Some(level), Some(first)) = (self.tree_level(), self.first()) else {
            return false;
        };
        first
            .checked_add(u64::from(self.width))
            .is_some_and(|end| end <= size >> level)
    }
}

/// An entry bundle: each entry as its length (big-endian `uint16`) and its bytes, in order.
/// `first` is the index of the first entry, to name one too long.
pub fn entry_bundle<'a>(
    first: u64,
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, EntryTooLong> {
    let mut bundle = Vec::new();
    for (index, entry) in (first..).zip(entries) {
        let length = u16::try_from(entry.len()).map_err(|_| EntryTooLong {
            index,
            bytes: entry.len(),
        })?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// The entries of a bundle, or `None` if it is not one.
pub fn bundle_entries(mut bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut entries = Vec::new();
    while let Some((length, rest)) = bundle.split_first_chunk::<2>() {
        let length = usize::from(u16::from_be_bytes(*length));
        if rest.len() < length {
            return None;
        }
        let (entry, rest) = rest.split_at(length);
        entries.push(entry);
        bundle = rest;
    }
    bundle.is_empty().then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(path: &str) -> TileAddress {
        TileAddress::parse(path).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn paths_of_the_specification_parse_and_print_back() {
        // The examples of C2SP tlog-tiles, "Tiles" and "Entry bundles".
        for (path, content, index, width) in [
            ("tile/0/000", TileContent::Hashes { level: 0 }, 0, 256),
            (
                "tile/0/x001/234",
                TileContent::Hashes { level: 0 },
                1234,
                256,
            ),
            (
                "tile/1/x001/x234/067.p/8",
                TileContent::Hashes { level: 1 },
                1_234_067,
                8,
            ),
            ("tile/entries/x001/234", TileContent::Entries, 1234, 256),
            ("tile/entries/000.p/1", TileContent::Entries, 0, 1),
        ] {
            let tile = parsed(path);
            assert_eq!(
                tile,
                TileAddress {
                    content,
                    index,
                    width
                },
                "{path}"
            );
            assert_eq!(tile.path(), path);
        }
    }

    #[test]
    fn paths_that_name_no_tile_are_refused() {
        for path in [
            "",
            "tile",
            "tile/0",
            "tile/0/0",
            "tile/0/1234",
            "tile/0/001/234",
            "tile/0/x1/234",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/",
            "tile/entries/000.p/0",
            "tile/data/000",
            "tile/8/0/000",
            "tile/-1/000",
            "tile/0/000/",
            "tiles/0/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            // Found by fuzzing: levels tlog_tiles 0.2 panics on.
            "tile/101/1",
            "tile/0198/01",
            "tile/64/000",
            "tile/15/5/0/1.p/00",
        ] {
            assert_eq!(
                TileAddress::parse(path),
                Err(BadTilePath(path.into())),
                "{path}"
            );
        }
    }

    #[test]
    fn a_tile_is_in_a_tree_once_the_tree_holds_all_it_covers() {
        let leaves = parsed("tile/0/000");
        assert!(!leaves.is_in(255));
        assert!(leaves.is_in(256));
        let partial = parsed("tile/0/001.p/3");
        assert!(!partial.is_in(258));
        assert!(partial.is_in(259));
        // Level 1 holds the hashes of 256-leaf subtrees.
        let upper = parsed("tile/1/000.p/2");
        assert!(!upper.is_in(511));
        assert!(upper.is_in(512));
        // Level 8 would be tree level 64: no tree reaches it.
        assert!(!parsed("tile/8/000.p/1").is_in(u64::MAX));
        assert!(!parsed("tile/0/x018/x446/x744/x073/x709/x551/615.p/1").is_in(u64::MAX));
    }

    #[test]
    fn bundles_frame_each_entry_by_its_length() {
        let entries: [&[u8]; 3] = [b"{}", b"", b"abc"];
        let bundle = entry_bundle(0, entries).unwrap();
        assert_eq!(bundle, b"\x00\x02{}\x00\x00\x00\x03abc");
        assert_eq!(bundle_entries(&bundle).unwrap(), entries);
        assert_eq!(bundle_entries(b"\x00\x05ab"), None);
        assert_eq!(bundle_entries(b"\x00"), None);
        let long = vec![b'x'; MAX_ENTRY_BYTES + 1];
        assert_eq!(
            entry_bundle(7, [b"{}".as_slice(), &long]),
            Err(EntryTooLong {
                index: 8,
                bytes: 65_536
            })
        );
        assert!(entry_bundle(0, [&long[1..]]).is_ok());
    }
}
