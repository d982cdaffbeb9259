//! Signed notes (C2SP signed-note, as golang.org/x/mod/sumdb/note writes them) with Ed25519
//! keys: a text ending in a newline, a blank line, and signature lines
//! `— <key name> base64(key ID || signature)`.
//!
//! Keys travel as text in the same formats as Go's: a verifier key
//! `<name>+<key ID, 8 hex digits>+base64(0x01 || public key)` to hand to anyone who checks
//! the log, and a private key `PRIVATE+KEY+<name>+<key ID>+base64(0x01 || secret key)` to
//! keep in a file only the log can read.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 (C2SP signed-note, "Signature types").
const ALGORITHM_ED25519: u8 = 0x01;

/// What starts a signature line: an em dash (U+2014) and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// What starts a private key's text.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// The most signature lines a note may carry before it is refused unread, as in Go's
/// implementation (the specification asks verifiers to accept at least 16).
const MAX_SIGNATURES: usize = 100;

/// Why a key's text, or a key name, was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key name is empty, or has a space or a plus sign in it.
    #[error("key name {name:?} is empty or has a space or a `+` in it")]
    InvalidName {
        /// The name refused.
        name: String,
    },
    /// A private key's text does not begin with `PRIVATE+KEY+`.
    #[error("a private key's text begins with `PRIVATE+KEY+`")]
    NotPrivateKey,
    /// The text has fewer `+`-separated fields than a key has.
    #[error("the key's text has no {field}")]
    MissingField {
        /// The field missing: the key ID or the key.
        field: &'static str,
    },
    /// The key ID is not 8 lowercase hexadecimal digits.
    #[error("key ID {text:?} is not 8 lowercase hexadecimal digits")]
    BadKeyId {
        /// The text in place of the key ID.
        text: String,
    },
    /// The key is not standard base64 with padding.
    #[error("the key is not standard base64 with padding: {0}")]
    BadBase64(#[from] base64::DecodeError),
    /// The key is not an Ed25519 key.
    #[error("signature type {algorithm:#04x} is not Ed25519 (0x01)")]
    UnknownAlgorithm {
        /// The signature type byte found.
        algorithm: u8,
    },
    /// The key is not 32 bytes after the signature type byte.
    #[error("an Ed25519 key is 32 bytes, not {length}")]
    WrongKeyLength {
        /// The length found.
        length: usize,
    },
    /// The key ID stated is not the one the name and key give.
    #[error("the key ID is {stated:08x}, but this name and key give {computed:08x}")]
    KeyIdMismatch {
        /// The key ID in the text.
        stated: u32,
        /// The key ID computed from the name and the public key.
        computed: u32,
    },
    /// The public key is not a point of Ed25519, or one of small order.
    #[error("not a usable Ed25519 public key")]
    InvalidPublicKey,
    /// The operating system gave no random bytes for a new key.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(getrandom::Error),
}

/// Why a signed note was refused.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// The note is not in the signed-note format.
    #[error("malformed note: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No signature line carries the verifier's key name and key ID.
    #[error("the note has no signature by {name}+{key_id:08x}")]
    NoSignature {
        /// The verifier's key name.
        name: String,
        /// The verifier's key ID.
        key_id: u32,
    },
    /// A signature line with the verifier's key name and key ID does not verify.
    #[error("the signature by {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// The verifier's key name.
        name: String,
        /// The verifier's key ID.
        key_id: u32,
    },
}

/// A named Ed25519 key that signs notes.
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl NoteSigner {
    /// A new key, from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(KeyError::Randomness)?;
        Self::from_secret_bytes(name, &secret)
    }

    /// The key with this 32-byte Ed25519 secret key (RFC 8032's seed).
    pub fn from_secret_bytes(name: &str, secret: &[u8; 32]) -> Result<Self, KeyError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(secret);
        let key_id = key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The key in a private key's text, as [`NoteSigner::private_key`] writes it (and as
    /// Go's `note.GenerateKey` does).
    pub fn from_private_key(text: &str) -> Result<Self, KeyError> {
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(KeyError::NotPrivateKey)?;
        let (name, stated_id, key) = split_key_text(rest)?;
        let secret: [u8; 32] = key
            .try_into()
            .map_err(|key: Vec<u8>| KeyError::WrongKeyLength { length: key.len() })?;
        let signer = Self::from_secret_bytes(name, &secret)?;
        check_key_id(stated_id, signer.key_id)?;
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID: the first 4 bytes, big-endian, of
    /// `SHA-256(name || 0x0A || 0x01 || public key)`.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signed note of `body`: the body, a blank line, and one signature line,
    /// `— <name> base64(key ID || Ed25519 signature of the body)`.
    ///
    /// # Panics
    ///
    /// Panics when `body` is not a note text: one that ends in a newline and has no control
    /// characters but newlines. [`crate::Checkpoint::body`] always is one, for an origin
    /// without control characters.
    pub fn sign(&self, body: &str) -> String {
        assert!(
            body.ends_with('\n') && !has_control_characters(body),
            "a note text ends in a newline and has no other control characters"
        );
        let signature = self.key.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(4 + 64);
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIGNATURE_LINE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        )
    }

    /// The verifier that checks this key's signatures.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The verifier key's text: `<name>+<key ID>+base64(0x01 || public key)`.
    pub fn verifier_key(&self) -> String {
        self.verifier().verifier_key()
    }

    /// The private key's text, `PRIVATE+KEY+<name>+<key ID>+base64(0x01 || secret key)`: a
    /// secret, for a file only the log can read.
    pub fn private_key(&self) -> String {
        format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            typed_key(&self.key.to_bytes())
        )
    }
}

impl fmt::Debug for NoteSigner {
    /// The name and key ID; never the secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A named Ed25519 public key that checks signed notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// The verifier in a verifier key's text, `<name>+<key ID>+base64(0x01 || public key)`.
    pub fn from_verifier_key(text: &str) -> Result<Self, KeyError> {
        let (name, stated_id, key) = split_key_text(text)?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|key: Vec<u8>| KeyError::WrongKeyLength { length: key.len() })?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| KeyError::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        let verifier = Self {
            name: name.to_owned(),
            key_id: key_id(name, &key),
            key,
        };
        check_key_id(stated_id, verifier.key_id)?;
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID (see [`NoteSigner::key_id`]).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The verifier key's text: `<name>+<key ID>+base64(0x01 || public key)`.
    pub fn verifier_key(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            typed_key(self.key.as_bytes())
        )
    }
}

/// The text of `note` once its signature by `verifier` is checked. Signature lines by other
/// keys are skipped unread, as the specification asks; the note is refused when it is not in
/// the signed-note format, when no line carries the verifier's name and key ID, or when such a
/// line does not verify.
pub fn open_note<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, NoteError> {
    let malformed = |reason| NoteError::Malformed { reason };
    if has_control_characters(note) {
        return Err(malformed("a control character other than newline"));
    }
    // The text ends at the last blank line; it keeps its final newline.
    let split = note
        .rfind("\n\n")
        .ok_or(malformed("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if signatures.is_empty() {
        return Err(malformed("no signature lines"));
    }
    if !signatures.ends_with('\n') {
        return Err(malformed(
            "the last signature line does not end in a newline",
        ));
    }
    let mut verified = false;
    for (count, line) in signatures.split_terminator('\n').enumerate() {
        if count == MAX_SIGNATURES {
            return Err(malformed("more than 100 signatures"));
        }
        let (name, blob) = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .and_then(|line| line.split_once(' '))
            .ok_or(malformed("a signature line is not `— <name> <signature>`"))?;
        let blob = STANDARD
            .decode(blob)
            .map_err(|_| malformed("a signature is not standard base64"))?;
        if !is_valid_name(name) || blob.len() < 5 {
            return Err(malformed(
                "a signature line has a bad key name or signature",
            ));
        }
        let (key_id, signature) = blob.split_at(4);
        if name != verifier.name || key_id != verifier.key_id.to_be_bytes() {
            continue;
        }
        let bad_signature = || NoteError::BadSignature {
            name: verifier.name.clone(),
            key_id: verifier.key_id,
        };
        let signature = Signature::from_slice(signature).map_err(|_| bad_signature())?;
        verifier
            .key
            .verify_strict(text.as_bytes(), &signature)
            .map_err(|_| bad_signature())?;
        verified = true;
    }
    if !verified {
        return Err(NoteError::NoSignature {
            name: verifier.name.clone(),
            key_id: verifier.key_id,
        });
    }
    Ok(text)
}

/// The key ID of an Ed25519 key (C2SP signed-note, "Ed25519 signatures"): the first 4 bytes,
/// big-endian, of `SHA-256(name || 0x0A || 0x01 || public key)`.
fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let digest = Sha256::new()
        .chain_update(name)
        .chain_update([b'\n', ALGORITHM_ED25519])
        .chain_update(key.as_bytes())
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// `base64(0x01 || key)`: a key with its signature type, as key texts carry it.
fn typed_key(key: &[u8; 32]) -> String {
    let mut typed = Vec::with_capacity(33);
    typed.push(ALGORITHM_ED25519);
    typed.extend_from_slice(key);
    STANDARD.encode(typed)
}

/// Splits `<name>+<key ID>+<base64(0x01 || key)>` into the name, the stated key ID and the
/// key's bytes. Base64 has `+` in its alphabet: the key is everything after the second `+`.
fn split_key_text(text: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let mut fields = text.splitn(3, '+');
    let name = fields.next().unwrap_or_default();
    let id_text = fields
        .next()
        .ok_or(KeyError::MissingField { field: "key ID" })?;
    let key_text = fields
        .next()
        .ok_or(KeyError::MissingField { field: "key" })?;
    check_name(name)?;
    let bad_id = || KeyError::BadKeyId {
        text: id_text.to_owned(),
    };
    let lowercase_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if id_text.len() != 8 || !id_text.bytes().all(lowercase_hex) {
        return Err(bad_id());
    }
    let stated_id = u32::from_str_radix(id_text, 16).map_err(|_| bad_id())?;
    let typed = STANDARD.decode(key_text)?;
    match typed.split_first() {
        Some((&ALGORITHM_ED25519, key)) => Ok((name, stated_id, key.to_vec())),
        Some((&algorithm, _)) => Err(KeyError::UnknownAlgorithm { algorithm }),
        None => Err(KeyError::WrongKeyLength { length: 0 }),
    }
}

/// Refuses a key ID that is not the one computed from the name and key.
fn check_key_id(stated: u32, computed: u32) -> Result<(), KeyError> {
    if stated == computed {
        Ok(())
    } else {
        Err(KeyError::KeyIdMismatch { stated, computed })
    }
}

/// Refuses a key name that is empty or has a Unicode space or a plus sign in it.
fn check_name(name: &str) -> Result<(), KeyError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(KeyError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// Whether `name` can be a key name: non-empty, with no Unicode space and no `+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

/// Whether `text` has an ASCII control character (below U+0020) other than newline.
fn has_control_characters(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 && b != b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_their_texts() -> Result<(), KeyError> {
        let signer = NoteSigner::generate("comity.example/log")?;
        let again = NoteSigner::from_private_key(&signer.private_key())?;
        assert_eq!(again.verifier(), signer.verifier());
        assert_eq!(again.key.to_bytes(), signer.key.to_bytes());
        let verifier = NoteVerifier::from_verifier_key(&signer.verifier_key())?;
        assert_eq!(verifier, signer.verifier());
        assert_eq!(verifier.name(), "comity.example/log");
        assert_eq!(verifier.key_id(), signer.key_id());
        // Two generated keys differ.
        let other = NoteSigner::generate("comity.example/log")?;
        assert_ne!(other.key.to_bytes(), signer.key.to_bytes());
        Ok(())
    }

    #[test]
    fn debug_output_keeps_the_secret() -> Result<(), KeyError> {
        let signer = NoteSigner::from_secret_bytes("log", &[7; 32])?;
        let debug = format!("{signer:?}");
        let secret = STANDARD.encode([7u8; 32]);
        assert!(debug.contains("log") && debug.contains(&format!("{:08x}", signer.key_id())));
        assert!(!debug.contains(&secret[..20]) && !debug.contains("7, 7"));
        Ok(())
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "a b", "a+b", "tab\there", "nbsp\u{a0}x"] {
            assert!(
                matches!(
                    NoteSigner::from_secret_bytes(name, &[1; 32]),
                    Err(KeyError::InvalidName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "ends in a newline")]
    fn signing_a_text_without_final_newline_panics() {
        if let Ok(signer) = NoteSigner::from_secret_bytes("log", &[1; 32]) {
            signer.sign("no newline");
        }
    }

    #[test]
    fn notes_not_in_the_format_are_malformed() -> Result<(), KeyError> {
        let signer = NoteSigner::from_secret_bytes("log", &[1; 32])?;
        let verifier = signer.verifier();
        let note = signer.sign("text\n");
        let (text, signature_line) = note.split_once("\n\n").unwrap_or_default();
        let bad = [
            "text\n".to_owned(),
            "text\n\n".to_owned(),
            format!("{text}\n\n{}", signature_line.trim_end()),
            format!("\u{1}{note}"),
            format!("{note}unexpected line\n"),
            format!("{text}\n\n- log {}\n", &signature_line[8..]),
            format!("{text}\n\n\u{2014} bad name {}\n", &signature_line[8..]),
            format!("{text}\n\n\u{2014} log not*base64\n"),
            format!("{text}\n\n\u{2014} log AAAA\n"),
            format!("{text}\n\n{}", signature_line.repeat(101)),
        ];
        for note in bad {
            assert!(
                matches!(
                    open_note(&note, &verifier),
                    Err(NoteError::Malformed { .. })
                ),
                "{note:?}"
            );
        }
        // 100 copies of the signature are still a note.
        let many = format!("{text}\n\n{}", signature_line.repeat(100));
        assert!(matches!(open_note(&many, &verifier), Ok("text\n")));
        Ok(())
    }

    #[test]
    fn a_text_with_blank_lines_keeps_them() -> Result<(), KeyError> {
        let signer = NoteSigner::from_secret_bytes("log", &[2; 32])?;
        let text = "first\n\nthird\n\n";
        let note = signer.sign(text);
        assert!(matches!(open_note(&note, &signer.verifier()), Ok(t) if t == text));
        Ok(())
    }
}
