//! Checkpoints (C2SP tlog-checkpoint): a log's signed tree head, the note text
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! ```
//!
//! signed as a note (see [`crate::note`]). comity writes no extension lines and accepts none:
//! what a checkpoint says is exactly its origin, size and root.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::note::{NoteError, NoteVerifier, open_note};

/// A log's tree head: the tree of `size` leaves whose root is `root`, in the log `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL such as `example.com/log`.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// `MTH(D[size])`.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: `"<origin>\n<size>\n<base64(root)>\n"`, with standard, padded base64.
    /// The origin is written as it is: it must be one non-empty line for the text to parse.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The checkpoint in a note text, which must be exactly what [`Checkpoint::body`] writes:
    /// a non-empty origin, a size in decimal with no sign and no leading zero, and a root of
    /// 32 bytes in canonical base64, each on a line ending in a newline.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let body = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::NoFinalNewline)?;
        let mut lines = body.split('\n');
        let mut line = |name| lines.next().ok_or(CheckpointError::MissingLine { name });
        let (origin, size, root) = (line("origin")?, line("tree size")?, line("root hash")?);
        let extensions = lines.count();
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size).ok_or_else(|| CheckpointError::BadSize {
            text: size.to_owned(),
        })?;
        let bad_root = || CheckpointError::BadRoot {
            text: root.to_owned(),
        };
        let root = STANDARD
            .decode(root)
            .map_err(|_| bad_root())?
            .try_into()
            .map_err(|_| bad_root())?;
        if extensions > 0 {
            return Err(CheckpointError::ExtensionLines { count: extensions });
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A tree size in decimal: digits only, and no leading zero but in `0` itself.
fn parse_size(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if !digits_only || leading_zero {
        return None;
    }
    text.parse().ok()
}

/// Opens a signed checkpoint: checks its signature by `verifier` (see [`open_note`]), then
/// parses its text with [`Checkpoint::parse`]. The origin is not compared with the key name:
/// a caller that knows which log it expects compares [`Checkpoint::origin`] itself.
pub fn open_checkpoint(
    note: &str,
    verifier: &NoteVerifier,
) -> Result<Checkpoint, OpenCheckpointError> {
    let body = open_note(note, verifier)?;
    Ok(Checkpoint::parse(body)?)
}

/// Why a signed checkpoint was refused.
#[derive(Debug, thiserror::Error)]
pub enum OpenCheckpointError {
    /// The note is malformed or not signed by the verifier's key.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note verifies, but its text is not a checkpoint.
    #[error("the signed text is not a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
}

/// Why a note text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not end in a newline.
    #[error("a checkpoint ends in a newline")]
    NoFinalNewline,
    /// The text stops before one of its three lines.
    #[error("the checkpoint has no {name} line")]
    MissingLine {
        /// The line missing.
        name: &'static str,
    },
    /// The origin line is empty.
    #[error("the checkpoint's origin is empty")]
    EmptyOrigin,
    /// The size is not a decimal number without sign or leading zero, or too large.
    #[error("tree size {text:?} is not a decimal number of leaves without a leading zero")]
    BadSize {
        /// The size line.
        text: String,
    },
    /// The root is not 32 bytes in canonical, padded standard base64.
    #[error("root hash {text:?} is not 32 bytes in standard base64")]
    BadRoot {
        /// The root line.
        text: String,
    },
    /// Lines follow the root hash.
    #[error("the checkpoint has {count} extension line(s); comity writes and accepts none")]
    ExtensionLines {
        /// How many lines follow the root hash.
        count: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::from_hex;

    /// The example in the C2SP tlog-checkpoint specification (C2SP/C2SP tlog-checkpoint.md).
    const SPEC_EXAMPLE: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_specification_example_parses_and_reprints() {
        let checkpoint = Checkpoint::parse(SPEC_EXAMPLE);
        let expected = Checkpoint {
            origin: "example.com/behind-the-sofa".to_owned(),
            size: 20852163,
            root: from_hex("0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62")
                .unwrap_or_default(),
        };
        assert_eq!(checkpoint.as_ref(), Ok(&expected));
        assert_eq!(expected.body(), SPEC_EXAMPLE);
    }

    #[test]
    fn every_deviation_is_refused() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let cases: [(String, CheckpointError); 12] = [
            (
                SPEC_EXAMPLE.trim_end().to_owned(),
                CheckpointError::NoFinalNewline,
            ),
            (
                "log\n1\n".to_owned(),
                CheckpointError::MissingLine { name: "root hash" },
            ),
            (
                "log\n".to_owned(),
                CheckpointError::MissingLine { name: "tree size" },
            ),
            (format!("\n1\n{root}\n"), CheckpointError::EmptyOrigin),
            (format!("log\n01\n{root}\n"), bad_size("01")),
            (format!("log\n+1\n{root}\n"), bad_size("+1")),
            (format!("log\n 1\n{root}\n"), bad_size(" 1")),
            (format!("log\n\n{root}\n"), bad_size("")),
            (
                format!("log\n18446744073709551616\n{root}\n"),
                bad_size("18446744073709551616"),
            ),
            // Unpadded, and with non-zero bits past the 32 bytes.
            (
                "log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".to_owned(),
                bad_root("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I"),
            ),
            (
                "log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_owned(),
                bad_root("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J="),
            ),
            (
                format!("log\n1\n{root}\nextension\n"),
                CheckpointError::ExtensionLines { count: 1 },
            ),
        ];
        for (text, error) in cases {
            assert_eq!(Checkpoint::parse(&text), Err(error), "{text:?}");
        }
        // 31 bytes.
        assert!(matches!(
            Checkpoint::parse("log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n"),
            Err(CheckpointError::BadRoot { .. })
        ));
        // The largest size and size 0 are sizes.
        assert!(Checkpoint::parse(&format!("log\n18446744073709551615\n{root}\n")).is_ok());
        assert!(Checkpoint::parse(&format!("log\n0\n{root}\n")).is_ok());
    }

    fn bad_size(text: &str) -> CheckpointError {
        CheckpointError::BadSize {
            text: text.to_owned(),
        }
    }

    fn bad_root(text: &str) -> CheckpointError {
        CheckpointError::BadRoot {
            text: text.to_owned(),
        }
    }
}
