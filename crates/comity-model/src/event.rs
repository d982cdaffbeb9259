//! The events contract (`docs/formats.md`, "Events"): what an agency did on a request after
//! comity decided it (held the person, released them, transferred them, answered), as the
//! agency reports it. A decision says what the law allows; an event says what was done, so
//! that an action the decision did not allow can be seen.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::time::Instant;
use crate::vocab::{Act, EventKind};

/// An action the agency took on a request, as it reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// What was done.
    pub kind: EventKind,
    /// When it was done.
    pub at: Instant,
    /// For `response-sent`, the act the response carried out (an act that tells its
    /// recipient something, such as `notify-release`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
}

impl EventKind {
    /// Whether the event ends the person's custody on the request: nothing about custody
    /// can follow it.
    pub fn ends_custody(self) -> bool {
        matches!(
            self,
            EventKind::Released
                | EventKind::Transferred
                | EventKind::HoldExpired
                | EventKind::CustodyDisavowed
        )
    }

    /// Whether the event is about the person's custody (every kind but `response-sent`).
    pub fn is_custody(self) -> bool {
        self != EventKind::ResponseSent
    }
}

impl Event {
    /// Parses one event from JSON, refusing unknown fields and words with an error that
    /// names the field and the value, then checks what the types cannot say.
    pub fn from_json(text: &str) -> Result<Event, InputError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let event: Event = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| InputError::from_serde(e.path().to_string(), e.inner()))?;
        de.end().map_err(|e| InputError::new("", e.to_string()))?;
        event.check()?;
        Ok(event)
    }

    /// `act` is given exactly with `response-sent`, and is an act that tells.
    fn check(&self) -> Result<(), InputError> {
        match (self.kind, self.act) {
            (EventKind::ResponseSent, None) => Err(InputError::new(
                "act",
                "`response-sent` names the act the response carried out (e.g. notify-release)",
            )),
            (EventKind::ResponseSent, Some(act)) if !act.tells() => Err(InputError::new(
                "act",
                format!("`{act}` tells no one anything: a response carries out an act that does"),
            )),
            (kind, Some(act)) if kind != EventKind::ResponseSent => Err(InputError::new(
                "act",
                format!("`{act}` is given, but only `response-sent` names an act, not `{kind}`"),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_and_bad_ones_name_the_field() {
        let held = Event::from_json(r#"{"kind":"held","at":"2018-03-04T10:00:00-05:00"}"#).unwrap();
        assert_eq!(held.kind, EventKind::Held);
        let sent = Event::from_json(
            r#"{"kind":"response-sent","at":"2018-03-04T10:00:00-05:00","act":"notify-release"}"#,
        )
        .unwrap();
        assert_eq!(sent.act, Some(Act::NotifyRelease));
        for (text, field, needle) in [
            (
                r#"{"kind":"escaped","at":"2018-03-04T10:00:00-05:00"}"#,
                "kind",
                "`escaped`",
            ),
            (r#"{"kind":"held","at":"yesterday"}"#, "at", "`yesterday`"),
            (
                r#"{"kind":"held","at":"2018-03-04T10:00:00-05:00","who":"x"}"#,
                "who",
                "`who`",
            ),
            (
                r#"{"kind":"response-sent","at":"2018-03-04T10:00:00-05:00"}"#,
                "act",
                "names the act",
            ),
            (
                r#"{"kind":"response-sent","at":"2018-03-04T10:00:00-05:00","act":"hold"}"#,
                "act",
                "`hold`",
            ),
            (
                r#"{"kind":"held","at":"2018-03-04T10:00:00-05:00","act":"notify-release"}"#,
                "act",
                "not `held`",
            ),
        ] {
            let e = Event::from_json(text).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.to_string().contains(needle), "{e} should name {needle}");
        }
    }
}
