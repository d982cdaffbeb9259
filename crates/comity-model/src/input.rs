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

/// Reads every request in `text`. The first bad request fails the whole document, with its
/// position (`[3]`, `line 4`) before the field.
pub fn read_requests(text: &str) -> Result<(Shape, Vec<Request>), InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| InputError::new("", format!("not a JSON array: {e}")))?;
        let requests = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| Request::from_value(v).map_err(|e| e.within(&format!("[{i}]"))))
            .collect::<Result<_, _>>()?;
        return Ok((Shape::Array, requests));
    }
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let one_object_per_line = lines.len() > 1
        && lines
            .iter()
            .all(|(_, l)| serde_json::from_str::<serde_json::Value>(l).is_ok());
    if one_object_per_line {
        let requests = lines
            .into_iter()
            .map(|(n, l)| Request::from_json(l).map_err(|e| e.within(&format!("line {}", n + 1))))
            .collect::<Result<_, _>>()?;
        return Ok((Shape::Lines, requests));
    }
    if trimmed.is_empty() {
        return Err(InputError::new("", "no request given (empty input)"));
    }
    Ok((Shape::One, vec![Request::from_json(text)?]))
}
