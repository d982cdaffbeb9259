//! Instants and dates as `docs/formats.md` writes them.

use serde_with::{DeserializeFromStr, SerializeDisplay};
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;

/// An instant written in RFC 3339 with its UTC offset, e.g. `2018-03-02T14:05:00-05:00`.
///
/// The offset the sender wrote is kept so that the instant is echoed back as written;
/// comparisons use the instant alone.
#[derive(Debug, Clone, Copy, SerializeDisplay, DeserializeFromStr)]
pub struct Instant {
    timestamp: Timestamp,
    offset: Offset,
}

impl Instant {
    /// An instant at `timestamp`, written with `offset`.
    pub fn new(timestamp: Timestamp, offset: Offset) -> Self {
        Instant { timestamp, offset }
    }

    /// The instant.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The offset the instant was written with.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// The same instant written with another offset.
    pub fn with_offset(self, offset: Offset) -> Self {
        Instant { offset, ..self }
    }

    /// The civil date at this instant, at its own offset.
    pub fn date(&self) -> jiff::civil::Date {
        self.offset.to_datetime(self.timestamp).date()
    }
}

impl PartialEq for Instant {
    fn eq(&self, other: &Self) -> bool {
        self.timestamp == other.timestamp
    }
}

impl Eq for Instant {}

impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Instant {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.timestamp.cmp(&other.timestamp)
    }
}

/// A time that is not RFC 3339 with an offset.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time with an offset (e.g. 2018-03-02T14:05:00-05:00)")]
pub struct BadInstant(pub String);

impl FromStr for Instant {
    type Err = BadInstant;

    fn from_str(s: &str) -> Result<Self, BadInstant> {
        let bad = || BadInstant(s.to_owned());
        let pieces = Pieces::parse(s).map_err(|_| bad())?;
        if pieces.time().is_none() || pieces.time_zone_annotation().is_some() {
            return Err(bad());
        }
        let offset = pieces.offset().ok_or_else(bad)?.to_numeric_offset();
        let timestamp: Timestamp = s.parse().map_err(|_| bad())?;
        Ok(Instant { timestamp, offset })
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.timestamp.display_with_offset(self.offset))
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, SerializeDisplay, DeserializeFromStr,
)]
pub struct Date(pub jiff::civil::Date);

/// A date that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not a date of the form YYYY-MM-DD")]
pub struct BadDate(pub String);

impl FromStr for Date {
    type Err = BadDate;

    fn from_str(s: &str) -> Result<Self, BadDate> {
        let well_formed = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !well_formed {
            return Err(BadDate(s.to_owned()));
        }
        s.parse().map(Date).map_err(|_| BadDate(s.to_owned()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_keeps_its_offset() {
        let i: Instant = "2018-03-02T14:05:00-05:00".parse().unwrap();
        assert_eq!(i.to_string(), "2018-03-02T14:05:00-05:00");
        let z: Instant = "2018-03-02T19:05:00Z".parse().unwrap();
        assert_eq!(i, z);
        assert_eq!(i.date().to_string(), "2018-03-02");
    }

    #[test]
    fn instant_without_offset_is_refused() {
        for bad in [
            "2018-03-02T14:05:00",
            "2018-03-02",
            "yesterday",
            "2018-13-02T14:05:00Z",
        ] {
            let err = bad.parse::<Instant>().unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            "2014-05-01".parse::<Date>().unwrap().to_string(),
            "2014-05-01"
        );
        for bad in ["2014-5-1", "2014-02-30", "20140501", "2014-05-01T00:00:00Z"] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }
}
