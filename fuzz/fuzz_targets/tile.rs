//! Any text as a tile path, and any bytes as an entry bundle: parsed or refused, never a
//! panic; a path accepted is the one spelling of its tile, and a bundle accepted encodes back
//! to the same bytes.
#![no_main]

use comity_ledger::{TileAddress, bundle_entries, entry_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data)
        && let Ok(tile) = TileAddress::parse(path)
    {
        assert_eq!(tile.path(), path);
        assert!((1..=256).contains(&tile.width));
        for size in [0, 1, 255, 256, 65_536, u64::MAX] {
            let _ = tile.is_in(size);
        }
    }
    if let Some(entries) = bundle_entries(data) {
        assert_eq!(entry_bundle(0, entries).unwrap(), data);
    }
});
