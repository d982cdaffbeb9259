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

/// A request with the exact text it was received as (what its SHA-256 is taken of).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The request's JSON text as received.
    pub text: String,
    /// The request.
    pub request: Request,
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
        let raws: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(text)
            .map_err(|e| InputError::new("", format!("not a JSON array: {e}")))?;
        let requests = raws
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                let request =
                    Request::from_json(raw.get()).map_err(|e| e.within(&format!("[{i}]")))?;
                Ok(Received {
                    text: raw.get().to_owned(),
                    request,
                })
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
            .map(|(n, l)| {
                let request =
                    Request::from_json(l).map_err(|e| e.within(&format!("line {}", n + 1)))?;
                Ok(Received {
                    text: l.trim().to_owned(),
                    request,
                })
            })
            .collect::<Result<_, InputError>>()?;
        return Ok((Shape::Lines, requests));
    }
    if trimmed.is_empty() {
        return Err(InputError::new("", "no request given (empty input)"));
    }
    let request = Request::from_json(text)?;
    Ok((
        Shape::One,
        vec![Received {
            text: text.trim().to_owned(),
            request,
        }],
    ))
}
