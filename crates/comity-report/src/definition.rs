//! Report definitions (`reports/<kind>.toml`, documented in `docs/formats.md`, "Reports"):
//! what a statute requires an agency to count, as data. Which requests a figure counts is
//! law, so it lives in a file that cites the statute, never in Rust: Rust only reads the
//! ledger and counts what a definition selects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use comity_model::{
    Act, AgencyKind, Basis, EventKind, Form, Jurisdiction, Outcome, Purpose, RecordField,
    WarrantForm, WarrantKind,
};
use serde::{Deserialize, Serialize};

/// A statutory report: its citation, the requests it covers, and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The report's name on the command line (`nyc-doc`): the file's stem.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// The statute that requires it.
    pub citation: String,
    /// How sure the reading of the statute is (`VERIFIED`, `UNCONFIRMED`, …).
    pub confidence: String,
    /// The period the statute names, in words (e.g. "the 12 months ending June 30").
    pub period: Period,
    /// The requests the report covers: those made in this jurisdiction (its division id, or
    /// any division below it).
    pub jurisdiction: Jurisdiction,
    /// … to these local agencies (`to.agency`); every agency there when empty.
    #[serde(default)]
    pub agencies: Vec<String>,
    /// Named ways of breaking a figure down.
    #[serde(default)]
    pub dimensions: BTreeMap<String, Dimension>,
    /// The figures, in the statute's order.
    pub figures: Vec<FigureSpec>,
}

/// The period a statute's report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    /// Twelve months ending June 30 (a New York City fiscal year).
    YearEndingJune30,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    CalendarYear,
}

impl Period {
    /// Whether `from..=to` is one period of this kind.
    pub fn fits(self, from: jiff::civil::Date, to: jiff::civil::Date) -> bool {
        use jiff::ToSpan;
        let months = match self {
            Period::YearEndingJune30 => {
                if (from.month(), from.day()) != (7, 1) {
                    return false;
                }
                12
            }
            Period::CalendarYear => {
                if (from.month(), from.day()) != (1, 1) {
                    return false;
                }
                12
            }
            Period::Quarter => {
                if from.day() != 1 || (from.month() - 1) % 3 != 0 {
                    return false;
                }
                3
            }
        };
        from.checked_add(months.months())
            .and_then(|end| end.checked_sub(1.day()))
            .is_ok_and(|end| end == to)
    }

    /// The period in words.
    pub fn words(self) -> &'static str {
        match self {
            Period::YearEndingJune30 => "the 12 months ending June 30",
            Period::Quarter => "a calendar quarter",
            Period::CalendarYear => "a calendar year",
        }
    }
}

/// One figure of a report: the requests it counts, or why the ledger cannot know it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// Its number in the statute (`1`, `9(i)`).
    pub id: String,
    /// What it counts, in the statute's words.
    pub label: String,
    /// The provision that requires it.
    pub citation: String,
    /// The requests it counts. Absent exactly when `not_derived` is given.
    #[serde(default)]
    pub select: Option<Selection>,
    /// Why the ledger cannot know this figure (e.g. federal funds received): it is reported
    /// as not derived, never invented.
    #[serde(default)]
    pub not_derived: Option<String>,
    /// Breakdowns: each a dimension's name, or names joined by `+` to cross them.
    #[serde(default)]
    pub by: Vec<String>,
}

/// A way of breaking a figure down: named buckets, or one bucket per value of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// What it breaks down by, in words.
    pub label: String,
    /// Named buckets, each with its selection (they may overlap, as a statute's do).
    #[serde(default)]
    pub buckets: Vec<Bucket>,
    /// Or one bucket per value of this field of the request.
    #[serde(default)]
    pub field: Option<Field>,
}

/// A field of the request a dimension may group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    /// The requesting agency.
    #[serde(rename = "from.agency")]
    FromAgency,
    /// The receiving (local) agency.
    #[serde(rename = "to.agency")]
    ToAgency,
}

/// One named bucket of a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Its name in the report.
    pub label: String,
    /// The requests in it.
    pub select: Selection,
}

/// Which requests count: every condition given must hold (and one of `any_of`, when
/// given). A condition on a fact holds only when the decision recorded that fact: what the
/// ledger does not say is never assumed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The requester is of one of these kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_kind: Vec<AgencyKind>,
    /// The request came on one of these forms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<Form>,
    /// The request states one of these purposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purpose: Vec<Purpose>,
    /// The request states one of these grounds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<Basis>,
    /// A warrant of one of these kinds came with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warrant_kind: Vec<WarrantKind>,
    /// A warrant on one of these forms came with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warrant_form: Vec<WarrantForm>,
    /// The request asks one of these acts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asks: Vec<Act>,
    /// Records shared would carry one of these fields: the request asks it (`records`) and
    /// the decision on `share-records` allows it (its `discloses` limits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordField>,
    /// For each act named, the decision on it was one of these outcomes (an act not asked
    /// fails the condition).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outcome: BTreeMap<Act, Vec<Outcome>>,
    /// Events of each of these kinds were recorded on the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    /// No event of these kinds was recorded on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_events: Vec<EventKind>,
    /// A response carrying one of these acts was sent (an event `response-sent`, or a
    /// disclosure delivered to the requester).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<Act>,
    /// No response carrying one of these acts was sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_responses: Vec<Act>,
    /// An event on it was flagged as a violation of the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<bool>,
    /// Facts the decision recorded (a reason's `facts`, e.g. `facts.nyc_vsc_5y` or
    /// `watchlist_match`), each with the value it must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, serde_json::Value>,
    /// At least one of these selections holds too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Selection>,
}

/// Why a report definition was refused.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a valid definition: `message` names the field.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field and value.
        message: String,
    },
    /// No definition of that kind.
    #[error("unknown report kind `{kind}`; the reports are: {known}")]
    Unknown {
        /// The kind asked for.
        kind: String,
        /// The kinds there are, comma-separated.
        known: String,
    },
}

impl Definition {
    /// Parses a definition from TOML and checks what the types cannot say.
    pub fn parse(path: &Path, text: &str) -> Result<Definition, DefinitionError> {
        let invalid = |message: String| DefinitionError::Invalid {
            path: path.to_owned(),
            message,
        };
        let definition: Definition =
            toml::from_str(text).map_err(|e| invalid(e.message().to_owned() + &at(&e)))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if definition.kind != stem {
            return Err(invalid(format!(
                "kind: `{}` must be the file's name, `{stem}`",
                definition.kind
            )));
        }
        definition.check().map_err(invalid)?;
        Ok(definition)
    }

    /// Each figure selects or says why not; each breakdown names dimensions that exist and
    /// that are either buckets or a field.
    fn check(&self) -> Result<(), String> {
        for (name, dimension) in &self.dimensions {
            if dimension.buckets.is_empty() == dimension.field.is_none() {
                return Err(format!(
                    "dimensions.{name}: give either `buckets` or `field`, not both or neither"
                ));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for figure in &self.figures {
            let id = &figure.id;
            if !ids.insert(id) {
                return Err(format!("figures: id `{id}` is given twice"));
            }
            if figure.select.is_some() == figure.not_derived.is_some() {
                return Err(format!(
                    "figures.{id}: give either `select` or `not_derived`, not both or neither"
                ));
            }
            for by in &figure.by {
                for name in by.split('+') {
                    if !self.dimensions.contains_key(name) {
                        return Err(format!("figures.{id}.by: no dimension `{name}`"));
                    }
                }
            }
        }
        Ok(())
    }

    /// The definition of `kind` in `dir`.
    pub fn load(dir: &Path, kind: &str) -> Result<Definition, DefinitionError> {
        let known = kinds(dir)?;
        if !known.iter().any(|k| k == kind) {
            return Err(DefinitionError::Unknown {
                kind: kind.to_owned(),
                known: known.join(", "),
            });
        }
        let path = dir.join(format!("{kind}.toml"));
        let text = std::fs::read_to_string(&path).map_err(|error| DefinitionError::Read {
            path: path.clone(),
            error,
        })?;
        Definition::parse(&path, &text)
    }

    /// The SHA-256 of the definition as JSON (the form a report carries it in), hex.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_string(self).expect("definitions serialize");
        comity_ledger::to_hex(&sha2::Sha256::digest(json.as_bytes()).into())
    }
}

/// Where in the TOML a parse error is, when it knows.
fn at(e: &toml::de::Error) -> String {
    e.span()
        .map(|s| format!(" (at byte {})", s.start))
        .unwrap_or_default()
}

/// The report kinds in `dir`: the stems of its `.toml` files, sorted.
pub fn kinds(dir: &Path) -> Result<Vec<String>, DefinitionError> {
    let read = |error| DefinitionError::Read {
        path: dir.to_owned(),
        error,
    };
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_some_and(|e| e == "toml")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            kinds.push(stem.to_owned());
        }
    }
    kinds.sort();
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    #[test]
    fn periods_fit_only_their_statutory_span() {
        let fy = Period::YearEndingJune30;
        assert!(fy.fits(date("2017-07-01"), date("2018-06-30")));
        assert!(!fy.fits(date("2017-07-01"), date("2018-06-29")));
        assert!(!fy.fits(date("2017-01-01"), date("2017-12-31")));
        assert!(Period::CalendarYear.fits(date("2017-01-01"), date("2017-12-31")));
        assert!(Period::Quarter.fits(date("2018-10-01"), date("2018-12-31")));
        assert!(!Period::Quarter.fits(date("2018-11-01"), date("2019-01-31")));
    }

    #[test]
    fn definitions_refuse_what_they_cannot_count() {
        let path = Path::new("reports/x.toml");
        let base = "kind = \"x\"\ntitle = \"t\"\ncitation = \"c\"\nconfidence = \"VERIFIED\"\n\
                    period = \"quarter\"\njurisdiction = \"ocd-division/country:us\"\n";
        let cases = [
            (
                "[[figures]]\nid = \"1\"\nlabel = \"l\"\ncitation = \"c\"\n",
                "either `select`",
            ),
            (
                "[[figures]]\nid = \"1\"\nlabel = \"l\"\ncitation = \"c\"\nselect = { asks = [\"holdd\"] }\n",
                "holdd",
            ),
            (
                "[[figures]]\nid = \"1\"\nlabel = \"l\"\ncitation = \"c\"\nselect = {}\nby = [\"nope\"]\n",
                "no dimension `nope`",
            ),
            (
                "[[figures]]\nid = \"1\"\nlabel = \"l\"\ncitation = \"c\"\nselect = { asked = [] }\n",
                "asked",
            ),
        ];
        for (figures, expected) in cases {
            let err = Definition::parse(path, &format!("{base}{figures}")).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let ok = format!(
            "{base}[[figures]]\nid = \"1\"\nlabel = \"l\"\ncitation = \"c\"\nselect = {{ asks = [\"hold\"] }}\n"
        );
        assert_eq!(Definition::parse(path, &ok).unwrap().figures.len(), 1);
        let err = Definition::parse(Path::new("reports/y.toml"), &ok).unwrap_err();
        assert!(err.to_string().contains("kind: `x`"), "{err}");
    }
}
