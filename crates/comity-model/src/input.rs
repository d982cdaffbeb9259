//! Reading requests from a document: one JSON object, a JSON array, or JSON lines.

use crate::error::InputError;
use crate::request::Request;

/// How a document held its requests; decisions are written back in the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One JSON object.
    One,
    /// A JSON array of objects.
    Array,
    /// One JSON object per line.
    Lines,
}

/// Where a request stands in its document, to name it in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The document is the request.
    Whole,
    /// Element `index` (from 0) of a JSON array, `[index]`, which begins on `line` (from 1)
    /// of its document.
    Index {
        /// Its place in the array.
        index: usize,
        /// The line its text begins on.
        line: usize,
    },
    /// Line `n` (from 1, counting blank lines) of JSON lines: `line n`.
    Line(usize),
}

impl Position {
    /// `error`, about the request at this position, as an error about the document.
    pub fn locate(self, error: InputError) -> InputError {
        match self {
            Position::Whole => error,
            Position::Index { index, line } => {
                let mut error = error.within(&format!("[{index}]"));
                error.message = format!("{} (the request beginning on line {line})", error.message);
                error
            }
            Position::Line(n) => error.within(&format!("line {n}")),
        }
    }

    /// The path of `field` of the request at this position, in the document.
    pub fn field(self, field: &str) -> String {
        self.locate(InputError::new(field, "")).field
    }
}

/// A request with the exact text it was received as (what its SHA-256 is taken of), and
/// where it stood in its document.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The request's JSON text as received.
    pub text: String,
    /// The request.
    pub request: Request,
    /// Where it stood.
    pub position: Position,
}

impl Received {
    /// Reads the request `text` at `position`, naming the position in an error.
    fn read(text: &str, position: Position) -> Result<Received, InputError> {
        let request = Request::from_json(text).map_err(|e| position.locate(e))?;
        Ok(Received {
            text: text.trim().to_owned(),
            request,
            position,
        })
    }
}

/// Reads every request in `text`. The first bad request fails the whole document, with its
/// position (`[3]`, `line 4`) before the field.
pub fn read_requests(text: &str) -> Result<(Shape, Vec<Request>), InputError> {
    let (shape, received) = read_received(text)?;
    Ok((shape, received.into_iter().map(|r| r.request).collect()))
}

/// Reads every request in `text` with the text each was received as.
pub fn read_received(text: &str) -> Result<(Shape, Vec<Received>), InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let raws: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
            .map_err(|e| InputError::new("", format!("not a JSON array: {e}")))?;
        let requests = raws
            .into_iter()
            .enumerate()
            .map(|(index, raw)| {
                // The element is a slice of `text`: where it begins is its offset in it.
                let offset = (raw.get().as_ptr() as usize)
                    .checked_sub(text.as_ptr() as usize)
                    .filter(|o| *o <= text.len())
                    .unwrap_or(0);
                let line = text[..offset].matches('\n').count() + 1;
                Received::read(raw.get(), Position::Index { index, line })
            })
            .collect::<Result<_, InputError>>()?;
        return Ok((Shape::Array, requests));
    }
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    // Several lines, the first a whole JSON object by itself: JSON lines, each line judged
    // on its own, so that a bad line is reported by its own number.
    let one_object_per_line = lines.len() > 1
        && lines.first().is_some_and(|(_, l)| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object())
        });
    if one_object_per_line {
        let requests = lines
            .into_iter()
            .map(|(n, l)| Received::read(l, Position::Line(n + 1)))
            .collect::<Result<_, InputError>>()?;
        return Ok((Shape::Lines, requests));
    }
    if trimmed.is_empty() {
        return Err(InputError::new("", "no request given (empty input)"));
    }
    Ok((Shape::One, vec![Received::read(text, Position::Whole)?]))
}
