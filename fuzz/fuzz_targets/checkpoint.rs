//! Any bytes as a signed note and a checkpoint: opened under a fixed key, or refused, never a
//! panic; and a checkpoint that parses writes back to the same text.
#![no_main]

use std::sync::OnceLock;

use comity_ledger::{Checkpoint, NoteVerifier, open_checkpoint, open_note};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static NoteVerifier {
    static KEY: OnceLock<NoteVerifier> = OnceLock::new();
    KEY.get_or_init(|| {
        comity_ledger::NoteSigner::generate("fuzz.example/log")
            .expect("a key")
            .verifier()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = open_note(text, verifier());
        let _ = open_checkpoint(text, verifier());
        let _ = NoteVerifier::from_verifier_key(text);
        if let Ok(c) = Checkpoint::parse(text) {
            assert_eq!(c.body(), text, "a checkpoint reads back as written");
        }
    }
});
