//! Offense codes as requests write them: `<STATE> <CODE> <SECTION>[(<SUBDIVISION>)…]`.

use serde_with::{DeserializeFromStr, SerializeDisplay};
use std::fmt;
use std::str::FromStr;

/// An offense code such as `NY PL 265.02(3)` or `CA PC 187`.
///
/// `code` is the state and the code (`NY PL`), `section` the section with any
/// subdivisions (`265.02(3)`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, SerializeDisplay, DeserializeFromStr,
)]
pub struct OffenseCode {
    code: String,
    section: String,
}

/// An offense code that does not have the documented form.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "`{0}` is not an offense code of the form <STATE> <CODE> <SECTION>[(<SUBDIVISION>)] (e.g. NY PL 265.02(3))"
)]
pub struct BadOffenseCode(pub String);

impl OffenseCode {
    /// The state and code, e.g. `NY PL`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The state (or `US`), e.g. `NY`.
    pub fn state(&self) -> &str {
        self.code
            .split_once(' ')
            .map_or(self.code.as_str(), |(state, _)| state)
    }

    /// The section with its subdivisions, e.g. `265.02(3)`.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The section with its last subdivision removed, if it has one:
    /// `135.65(2)(b)` → `135.65(2)` → `135.65`.
    pub fn parent_section(section: &str) -> Option<&str> {
        section
            .strip_suffix(')')
            .and_then(|s| s.rfind('(').map(|i| &section[..i]))
    }
}

impl FromStr for OffenseCode {
    type Err = BadOffenseCode;

    fn from_str(s: &str) -> Result<Self, BadOffenseCode> {
        let bad = || BadOffenseCode(s.to_owned());
        let mut parts = s.split(' ');
        let (Some(state), Some(code), Some(section), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let upper = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_uppercase());
        if state.len() != 2 || !upper(state) || !upper(code) || !valid_section(section) {
            return Err(bad());
        }
        Ok(OffenseCode {
            code: format!("{state} {code}"),
            section: section.to_owned(),
        })
    }
}

/// A section number (`120.04-a`, `12022.1`, Texas's `20A.02`) followed by parenthesised subdivisions
/// (`(2)`, `(b)`, `(4-a)`).
fn valid_section(s: &str) -> bool {
    let (number, mut rest) = s.split_at(s.find('(').unwrap_or(s.len()));
    let number_ok = number.starts_with(|c: char| c.is_ascii_digit())
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !number.ends_with(['.', '-']);
    if !number_ok {
        return false;
    }
    while !rest.is_empty() {
        let Some(close) = rest.find(')') else {
            return false;
        };
        let sub = &rest[1..close];
        if !rest.starts_with('(')
            || sub.is_empty()
            || !sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
        rest = &rest[close + 1..];
    }
    true
}

impl fmt::Display for OffenseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.section)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_forms_parse() {
        for (text, code, section) in [
            ("NY PL 120.10", "NY PL", "120.10"),
            ("NY PL 265.02(3)", "NY PL", "265.02(3)"),
            ("NY PL 135.65(2)(b)", "NY PL", "135.65(2)(b)"),
            ("NY PL 120.04-a(4)", "NY PL", "120.04-a(4)"),
            ("CA PC 187", "CA PC", "187"),
            ("CA VC 23152(a)", "CA VC", "23152(a)"),
            ("TX PC 20A.02", "TX PC", "20A.02"),
        ] {
            let o: OffenseCode = text.parse().unwrap();
            assert_eq!((o.code(), o.section()), (code, section));
            assert_eq!(o.to_string(), text);
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "NY",
            "NY PL",
            "ny PL 120.10",
            "NY PL  120.10",
            "NY PL 120.10 ",
            "NY PL (3)",
            "NY PL 265.02(",
            "NY PL 265.02()",
            "NY PL 265.02(3",
            "NY PL 265.02)3(",
            "N PL 1",
            "NY PL 120.",
            "NY PL 120.10(3)x",
            "TX PC A20.02",
        ] {
            assert!(bad.parse::<OffenseCode>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parents_strip_one_subdivision() {
        assert_eq!(
            OffenseCode::parent_section("135.65(2)(b)"),
            Some("135.65(2)")
        );
        assert_eq!(OffenseCode::parent_section("135.65(2)"), Some("135.65"));
        assert_eq!(OffenseCode::parent_section("135.65"), None);
    }
}
