//! Errors of packs and decisions.

use std::path::{Path, PathBuf};

use comity_model::InputError;

/// A pack that cannot be loaded or is not valid, with the file (and line) at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct PackError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong, with the line where known.
    pub message: String,
}

impl PackError {
    /// An error in `path`.
    pub fn new(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        PackError {
            path: path.as_ref().to_owned(),
            message: message.into(),
        }
    }
}

/// Why a request could not be decided.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecideError {
    /// The request is bad: no decision, nothing recorded.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A rule failed to evaluate. A forbid that errors does not forbid, so no decision is
    /// safe: the pack is at fault.
    #[error("pack {pack}: rule {rule} failed to evaluate: {message}")]
    Evaluation {
        /// The pack.
        pack: String,
        /// The rule.
        rule: String,
        /// The evaluation error.
        message: String,
    },
}
