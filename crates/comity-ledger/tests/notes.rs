//! Signed notes and checkpoints, against the reference implementation's published keys and
//! notes: golang.org/x/mod/sumdb/note, `note_test.go` in the golang/mod repository
//! (`sumdb/note/note_test.go`: `TestNewVerifier`, `TestNewSigner`, `TestSign`, `TestOpen`).

use comity_ledger::{
    Checkpoint, CheckpointError, KeyError, NoteError, NoteSigner, NoteVerifier,
    OpenCheckpointError, leaf_hash, open_checkpoint, open_note,
};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn verifier(vkey: &str) -> NoteVerifier {
    match NoteVerifier::from_verifier_key(vkey) {
        Ok(verifier) => verifier,
        Err(e) => panic!("{vkey}: {e}"),
    }
}

fn peter() -> NoteSigner {
    match NoteSigner::from_private_key(PETER_SKEY) {
        Ok(signer) => signer,
        Err(e) => panic!("{PETER_SKEY}: {e}"),
    }
}

#[test]
fn the_published_verifier_key_parses_with_its_key_id() {
    let v = verifier(PETER_VKEY);
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(v.verifier_key(), PETER_VKEY);
    assert_eq!(verifier(ENOCH_VKEY).key_id(), 0xaf0cfe78);
}

#[test]
fn the_published_private_key_gives_the_same_key_id_and_keys() {
    let signer = peter();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier_key(), PETER_VKEY);
    assert_eq!(signer.private_key(), PETER_SKEY);
    assert_eq!(signer.verifier(), verifier(PETER_VKEY));
}

#[test]
fn signing_reproduces_the_published_note_byte_for_byte() {
    // Ed25519 is deterministic (RFC 8032): the same key and text give the same signature.
    assert_eq!(peter().sign(TEXT), format!("{TEXT}\n{PETER_SIG}"));
}

#[test]
fn the_published_note_opens() {
    let note = format!("{TEXT}\n{PETER_SIG}");
    assert_eq!(open_note(&note, &verifier(PETER_VKEY)).ok(), Some(TEXT));
    // Signatures by keys the verifier does not know are skipped, in either order.
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(open_note(&both, &verifier(PETER_VKEY)).ok(), Some(TEXT));
    assert_eq!(open_note(&both, &verifier(ENOCH_VKEY)).ok(), Some(TEXT));
    // The same signature twice is still the one signature.
    let twice = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(open_note(&twice, &verifier(PETER_VKEY)).ok(), Some(TEXT));
}

#[test]
fn a_note_without_the_verifiers_signature_is_refused() {
    let enoch_only = format!("{TEXT}\n{ENOCH_SIG}");
    let misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego");
    let wrong_key_id = PETER_SIG.replace("x08g", "xxxx");
    for note in [
        enoch_only,
        format!("{TEXT}\n{misnamed}"),
        format!("{TEXT}\n{wrong_key_id}"),
    ] {
        assert!(
            matches!(
                open_note(&note, &verifier(PETER_VKEY)),
                Err(NoteError::NoSignature { ref name, key_id: 0xc74f20a3 }) if name == "PeterNeumann"
            ),
            "{note}"
        );
    }
}

#[test]
fn a_bad_signature_by_the_verifier_is_refused() {
    let corrupted = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let tampered_text = TEXT.replace("cryptography", "cryptographY");
    for note in [
        format!("{TEXT}\n{corrupted}"),
        format!("{tampered_text}\n{PETER_SIG}"),
        // A good signature by another key does not excuse a bad one by the verifier.
        format!("{tampered_text}\n{ENOCH_SIG}{PETER_SIG}"),
    ] {
        assert!(
            matches!(
                open_note(&note, &verifier(PETER_VKEY)),
                Err(NoteError::BadSignature { .. })
            ),
            "{note}"
        );
    }
}

#[test]
fn the_published_malformed_notes_are_refused() {
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\u{1}{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\n{}", PETER_SIG.repeat(101)),
    ];
    for note in bad {
        assert!(
            matches!(
                open_note(&note, &verifier(PETER_VKEY)),
                Err(NoteError::Malformed { .. })
            ),
            "{note:?}"
        );
    }
}

/// Every strict substring of `key`, and `key` with any one byte changed, is refused.
fn every_mangling_is_refused(key: &str, refused: impl Fn(&str) -> bool) {
    let bytes = key.as_bytes();
    for i in 0..=bytes.len() {
        for j in i + 1..=bytes.len() {
            if (i, j) != (0, bytes.len()) {
                assert!(refused(&key[i..j]), "{}", &key[i..j]);
            }
        }
    }
    for i in 0..bytes.len() {
        let mut mangled = bytes.to_vec();
        mangled[i] += 1;
        let mangled = String::from_utf8(mangled).unwrap_or_default();
        assert!(refused(&mangled), "{mangled}");
    }
}

#[test]
fn mangled_verifier_keys_are_refused() {
    every_mangling_is_refused(PETER_VKEY, |text| {
        NoteVerifier::from_verifier_key(text).is_err()
    });
    // A key of the wrong length, and of an unknown type, each with its key ID adjusted. (The
    // first is refused sooner here than in Go: its base64 has stray bits after the padding.)
    assert!(matches!(
        NoteVerifier::from_verifier_key(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(KeyError::BadBase64(_))
    ));
    assert!(matches!(
        NoteVerifier::from_verifier_key(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(KeyError::UnknownAlgorithm { algorithm: 0x65 })
    ));
    assert!(matches!(
        NoteVerifier::from_verifier_key(
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        ),
        Err(KeyError::KeyIdMismatch {
            stated: 0xc74f20a4,
            computed: 0xc74f20a3
        })
    ));
}

#[test]
fn mangled_private_keys_are_refused() {
    every_mangling_is_refused(PETER_SKEY, |text| {
        NoteSigner::from_private_key(text).is_err()
    });
    // A verifier key is not a private key.
    assert!(matches!(
        NoteSigner::from_private_key(PETER_VKEY),
        Err(KeyError::NotPrivateKey)
    ));
}

fn log_signer() -> NoteSigner {
    match NoteSigner::generate("comity.example/log") {
        Ok(signer) => signer,
        Err(e) => panic!("{e}"),
    }
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "comity.example/log".to_owned(),
        size: 42,
        root: leaf_hash(b"a root"),
    }
}

#[test]
fn a_signed_checkpoint_opens_to_itself() {
    let signer = log_signer();
    let note = signer.sign(&checkpoint().body());
    assert!(note.starts_with(&checkpoint().body()));
    let verifier = verifier(&signer.verifier_key());
    assert_eq!(open_checkpoint(&note, &verifier).ok(), Some(checkpoint()));
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let ours = log_signer();
    // Another key under the same name: its key ID differs, so it is not ours.
    let other = log_signer();
    let note = other.sign(&checkpoint().body());
    assert!(matches!(
        open_checkpoint(&note, &ours.verifier()),
        Err(OpenCheckpointError::Note(NoteError::NoSignature { .. }))
    ));
    // Another key's signature presented under our name and key ID does not verify.
    let line = note.lines().last().unwrap_or_default();
    let (_, blob) = line.rsplit_once(' ').unwrap_or_default();
    let mut forged_blob = ours.key_id().to_be_bytes().to_vec();
    forged_blob.extend_from_slice(&base64_decode(blob)[4..]);
    let forged_line = format!(
        "\u{2014} comity.example/log {}",
        base64_encode(&forged_blob)
    );
    let forged = note.replace(line, &forged_line);
    assert_ne!(forged, note);
    assert!(matches!(
        open_checkpoint(&forged, &ours.verifier()),
        Err(OpenCheckpointError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn a_tampered_checkpoint_is_refused() {
    let signer = log_signer();
    let note = signer.sign(&checkpoint().body());
    let bigger = note.replacen("\n42\n", "\n43\n", 1);
    assert_ne!(bigger, note);
    assert!(matches!(
        open_checkpoint(&bigger, &signer.verifier()),
        Err(OpenCheckpointError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn a_signed_text_that_is_not_a_checkpoint_is_refused() {
    let note = format!("{TEXT}\n{PETER_SIG}");
    assert!(matches!(
        open_checkpoint(&note, &verifier(PETER_VKEY)),
        Err(OpenCheckpointError::Checkpoint(
            CheckpointError::MissingLine { name: "root hash" }
        ))
    ));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}
