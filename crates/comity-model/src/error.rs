//! Input errors that name the field and the value at fault.

/// Bad input: the field at fault (a path such as `subject.convictions[0].offense`) and what
/// is wrong with its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct InputError {
    /// Path of the field at fault; empty for the document as a whole.
    pub field: String,
    /// What is wrong, naming the value.
    pub message: String,
}

impl InputError {
    /// An error in `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error inside a larger document, under `prefix` (e.g. `[3]`, `line 4`).
    pub fn within(self, prefix: &str) -> Self {
        let field = match (self.field.is_empty(), self.field.starts_with('[')) {
            (true, _) => prefix.to_owned(),
            (false, true) => format!("{prefix}{}", self.field),
            (false, false) => format!("{prefix}.{}", self.field),
        };
        InputError { field, ..self }
    }

    /// The error serde gave at `path` (as `serde_path_to_error` writes it), naming the
    /// field: an unknown, missing or repeated field is named itself, not its parent.
    pub fn from_serde(path: String, err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to messages: for a wrong value the path
        // says more; for broken JSON the position is what there is.
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) if err.line() > 0 && err.is_data() => text[..i].to_owned(),
            _ => text,
        };
        // An unknown, missing or repeated field is reported at its parent: name the field.
        let named = ["unknown field `", "missing field `", "duplicate field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next());
        // `?` is serde_path_to_error's path when the JSON itself is broken.
        let field = match (path.as_str(), named) {
            ("." | "?", Some(name)) => name.to_owned(),
            ("." | "?", None) => String::new(),
            (_, Some(name)) if !path.ends_with(name) => format!("{path}.{name}"),
            _ => path,
        };
        InputError { field, message }
    }
}
