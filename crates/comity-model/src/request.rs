//! The request contract (`docs/formats.md`, "Request").

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::offense::OffenseCode;
use crate::time::{Date, Instant};
use crate::vocab::*;

/// A request from another agency to act on a person, as the agency states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Unique key of the request.
    pub id: String,
    /// When the request arrived; the law in force at this instant decides it.
    pub received_at: Instant,
    /// Open Civic Data division id of the place where the act would happen.
    pub jurisdiction: Jurisdiction,
    /// The agency that asks.
    pub from: Agency,
    /// The local agency asked to act.
    pub to: LocalAgency,
    /// The form the request came on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// Grounds the request itself states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<Basis>,
    /// The purpose the request states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The warrant presented with the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warrant: Option<Warrant>,
    /// What is asked, in order.
    pub acts: Vec<Act>,
    /// The person the request is about.
    pub subject: Subject,
    /// The person's custody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<Custody>,
    /// The court event the request concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_event: Option<CourtEvent>,
    /// The arrest a `courthouse-arrest` act concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrest: Option<Arrest>,
    /// The fields a disclosure would carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordField>,
    /// For an act the local agency starts itself, the agency that would receive what is
    /// disclosed; absent means `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Agency>,
    /// What the acts would disclose that is already available to the public, as the local
    /// agency records it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_records: Vec<RecordField>,
    /// The date the form was issued, where the request states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_issued_on: Option<Date>,
}

/// An agency that asks, or receives a disclosure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// The agency's name or code, e.g. `DHS-ICE-ERO`.
    pub agency: String,
    /// The kind of agency.
    pub kind: AgencyKind,
}

/// The local agency asked to act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalAgency {
    /// The agency's name or code, e.g. `NYC-DOC`.
    pub agency: String,
    /// The kind of local agency.
    pub kind: LocalKind,
    /// For a `state-agency`, which kind of State agency it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_agency: Option<StateAgency>,
}

/// The warrant presented with a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Warrant {
    /// Who issued it.
    pub kind: WarrantKind,
    /// The form of an administrative warrant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<WarrantForm>,
    /// Whether it is for a civil or a criminal violation, when known.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub violation: Option<Violation>,
}

/// The person a request is about, as the request and local records state them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The local agency's identifier for the person.
    pub id: String,
    /// Judgments against the person.
    #[serde(default)]
    pub convictions: Vec<Conviction>,
    /// Open charges.
    #[serde(default)]
    pub pending_charges: Vec<PendingCharge>,
    /// The request states a possible match in the federal terrorist screening database.
    #[serde(default)]
    pub watchlist_match: bool,
    /// The request states illegal re-entry after a prior removal or return.
    #[serde(default)]
    pub reentry_after_removal: bool,
    /// The person has shown proof of citizenship or lawful status.
    #[serde(default)]
    pub status_proof_shown: bool,
    /// The proof shown is of United States citizenship (with `status_proof_shown`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub citizenship_proof_shown: bool,
    /// The person is a current registrant on the California Sex and Arson Registry.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sex_or_arson_registrant: bool,
    /// The request states a conviction of a federal aggravated felony (8 U.S.C.
    /// § 1101(a)(43)).
    #[serde(default, skip_serializing_if = "is_false")]
    pub federal_aggravated_felony: bool,
    /// The request identifies an outstanding federal felony arrest warrant.
    #[serde(default, skip_serializing_if = "is_false")]
    pub federal_felony_warrant: bool,
    /// The request states an outstanding criminal warrant.
    #[serde(default, skip_serializing_if = "is_false")]
    pub outstanding_criminal_warrant: bool,
    /// The request states that the person is identified in a law-enforcement gang database.
    #[serde(default, skip_serializing_if = "is_false")]
    pub gang_database_match: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A judgment against the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Conviction {
    /// The offense of the judgment (for an inchoate offense, the offense attempted).
    pub offense: OffenseCode,
    /// The class of the offense as adjudged.
    pub class: OffenseClass,
    /// The date of judgment.
    pub date: Date,
    /// How the case was adjudicated.
    #[serde(default = "conviction")]
    pub adjudication: Adjudication,
    /// Days served for it.
    #[serde(default)]
    pub incarcerated_days: u32,
    /// Whether the judgment was for attempting, conspiring, soliciting or facilitating the
    /// offense named (an extension of format version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inchoate: Option<Inchoate>,
    /// For a conviction under another jurisdiction's code, the section it is equivalent to,
    /// as the request states it (NY Penal Law § 70.06(1)(b)(i)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equivalent: Option<OffenseCode>,
    /// A later reduction of the judgment's class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduced: Option<Reduction>,
}

fn conviction() -> Adjudication {
    Adjudication::Conviction
}

/// An open charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PendingCharge {
    /// The offense charged.
    pub offense: OffenseCode,
    /// Its class.
    pub class: OffenseClass,
    /// The date the charge was filed.
    pub since: Date,
    /// A magistrate has found probable cause on the charge (held to answer, Cal. Penal Code
    /// § 872).
    #[serde(default, skip_serializing_if = "is_false")]
    pub probable_cause_finding: bool,
}

/// The person's custody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Custody {
    /// Where the person is.
    pub status: CustodyStatus,
    /// The instant arrest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrested_at: Option<Instant>,
    /// The scheduled release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_at: Option<Instant>,
}

/// A court event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CourtEvent {
    /// When.
    pub at: Instant,
    /// Which court.
    pub court: String,
    /// Which court system.
    pub system: CourtSystem,
}

/// The arrest a `courthouse-arrest` act concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Arrest {
    /// Civil or criminal.
    #[serde(rename = "type")]
    pub arrest_type: ArrestType,
    /// Where relative to the court proceeding.
    pub location: ArrestLocation,
    /// The person's role in the proceeding.
    pub role: ArrestRole,
}

/// An Open Civic Data division id, e.g. `ocd-division/country:us/state:ny/place:new_york`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jurisdiction(String);

/// A string that is not an OCD division id.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "`{0}` is not an Open Civic Data division id (e.g. ocd-division/country:us/state:ny/place:new_york)"
)]
pub struct BadJurisdiction(pub String);

impl Jurisdiction {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `type:id` segments after `ocd-division/`.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0["ocd-division/".len()..].split('/')
    }

    /// Whether this division is `other` or lies inside it by its id's path.
    pub fn starts_with(&self, other: &Jurisdiction) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = BadJurisdiction;

    fn try_from(s: String) -> Result<Self, BadJurisdiction> {
        let valid_segment = |seg: &str| {
            seg.split_once(':').is_some_and(|(t, id)| {
                !t.is_empty()
                    && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !id.is_empty()
                    && id.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.~".contains(&b)
                    })
            })
        };
        match s.strip_prefix("ocd-division/") {
            Some(rest) if rest.starts_with("country:") && rest.split('/').all(valid_segment) => {
                Ok(Jurisdiction(s))
            }
            _ => Err(BadJurisdiction(s)),
        }
    }
}

impl std::str::FromStr for Jurisdiction {
    type Err = BadJurisdiction;
    fn from_str(s: &str) -> Result<Self, BadJurisdiction> {
        s.to_owned().try_into()
    }
}

impl From<Jurisdiction> for String {
    fn from(j: Jurisdiction) -> String {
        j.0
    }
}

impl std::fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest name (a subject's id, an agency, a court) a request may give, in characters.
pub const MAX_NAME: usize = 200;

/// The years a request's dates may fall in: its law is encoded from 1997 on, and a deadline
/// is always computable within them.
pub const YEARS: std::ops::RangeInclusive<i16> = 1900..=2199;

impl Request {
    /// Refuses a date outside the years comity decides ([`YEARS`]), and a judgment or a
    /// charge dated after the request was received (in the request's own offset): the law
    /// in force then cannot have counted it.
    fn check_dates(&self) -> Result<(), InputError> {
        let custody = self.custody.as_ref();
        let instants = [
            ("received_at", Some(self.received_at)),
            ("custody.arrested_at", custody.and_then(|c| c.arrested_at)),
            ("custody.release_at", custody.and_then(|c| c.release_at)),
            ("court_event.at", self.court_event.as_ref().map(|c| c.at)),
        ];
        let days = instants
            .iter()
            .filter_map(|(field, at)| at.map(|t| (field.to_string(), t.to_string(), t.date())))
            .chain(
                self.record_dates()
                    .map(|(field, date)| (field, date.to_string(), date.0)),
            );
        for (field, text, day) in days {
            if !YEARS.contains(&day.year()) {
                return Err(InputError::new(
                    field,
                    format!(
                        "`{text}` is outside the years comity decides ({}–{})",
                        YEARS.start(),
                        YEARS.end()
                    ),
                ));
            }
        }
        let received = Date(self.received_at.date());
        if let Some((field, date)) = self.record_dates().find(|(_, date)| *date > received) {
            return Err(InputError::new(
                field,
                format!("`{date}` is after the request was received ({received})"),
            ));
        }
        Ok(())
    }

    /// The dates of what happened before the request (the form's issue, the subject's
    /// judgments and the charges pending since), each with its field.
    fn record_dates(&self) -> impl Iterator<Item = (String, Date)> + '_ {
        let subject = &self.subject;
        let convictions = subject
            .convictions
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("subject.convictions[{i}].date"), c.date));
        let charges = subject
            .pending_charges
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("subject.pending_charges[{i}].since"), c.since));
        let issued = self
            .form_issued_on
            .map(|d| ("form_issued_on".to_owned(), d));
        issued.into_iter().chain(convictions).chain(charges)
    }

    /// Parses one request from JSON, refusing unknown fields and words with an error that
    /// names the field and the value, then checks what the types cannot say.
    pub fn from_json(text: &str) -> Result<Request, InputError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let request: Request = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| InputError::from_serde(e.path().to_string(), e.inner()))?;
        de.end().map_err(|e| InputError::new("", e.to_string()))?;
        request.check()?;
        Ok(request)
    }

    /// Parses one request from a JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Request, InputError> {
        let request: Request = serde_path_to_error::deserialize(value)
            .map_err(|e| InputError::from_serde(e.path().to_string(), e.inner()))?;
        request.check()?;
        Ok(request)
    }

    /// The record fields the request asks (`records`) that `allowed` lets be carried, in
    /// the order asked.
    pub fn records_within(&self, allowed: &[RecordField]) -> Vec<RecordField> {
        (self.records.iter().copied())
            .filter(|f| allowed.contains(f))
            .collect()
    }

    /// The agency that would receive what is disclosed.
    pub fn recipient(&self) -> &Agency {
        self.recipient.as_ref().unwrap_or(&self.from)
    }

    /// Checks the rules of `docs/formats.md` that the types alone do not enforce (reading a
    /// request checks them; a request built in code is checked by calling this).
    pub fn check(&self) -> Result<(), InputError> {
        self.check_id()?;
        self.check_acts()?;
        self.check_names()?;
        self.check_courthouse_arrest()?;
        self.check_dates()?;
        self.check_refinements()?;
        self.check_convictions()?;
        if let Some(w) = &self.warrant
            && w.form.is_some()
            && w.kind != WarrantKind::Administrative
        {
            return Err(InputError::new(
                "warrant.form",
                format!(
                    "`{}` is an administrative warrant form but warrant.kind is `{}`",
                    w.form.unwrap(),
                    w.kind
                ),
            ));
        }
        Ok(())
    }

    /// A field that refines another is given only with it: `to.state_agency` with a
    /// `state-agency`, `form_issued_on` with a `form`, `citizenship_proof_shown` with
    /// `status_proof_shown`.
    fn check_refinements(&self) -> Result<(), InputError> {
        if let Some(kind) = self.to.state_agency
            && self.to.kind != LocalKind::StateAgency
        {
            return Err(InputError::new(
                "to.state_agency",
                format!(
                    "`{kind}` is given but to.kind is `{}`: it says which kind of `state-agency` the agency is",
                    self.to.kind
                ),
            ));
        }
        if let Some(day) = self.form_issued_on
            && self.form.is_none()
        {
            return Err(InputError::new(
                "form_issued_on",
                format!("`{day}` is given but `form` is absent"),
            ));
        }
        if self.subject.citizenship_proof_shown && !self.subject.status_proof_shown {
            return Err(InputError::new(
                "subject.citizenship_proof_shown",
                "`true` but subject.status_proof_shown is not: proof of citizenship is proof of status, so set both",
            ));
        }
        Ok(())
    }

    /// A conviction's `equivalent` names a section of another state's code, and a `prop-47`
    /// reduction is of a California felony.
    fn check_convictions(&self) -> Result<(), InputError> {
        for (i, c) in self.subject.convictions.iter().enumerate() {
            let at = format!("subject.convictions[{i}]");
            if let Some(equivalent) = &c.equivalent
                && equivalent.state() == c.offense.state()
            {
                return Err(InputError::new(
                    format!("{at}.equivalent"),
                    format!(
                        "`{equivalent}` is of the same state as the offense itself ({}): an equivalent names the section another state's law (or New York's, for a federal conviction) makes of a conviction elsewhere",
                        c.offense
                    ),
                ));
            }
            if let Some(Reduction::Prop47) = c.reduced {
                if !c.offense.code().starts_with("CA ") {
                    return Err(InputError::new(
                        format!("{at}.reduced"),
                        format!(
                            "`prop-47` reduces California convictions only, not `{}`",
                            c.offense
                        ),
                    ));
                }
                if !c.class.is_felony() {
                    return Err(InputError::new(
                        format!("{at}.reduced"),
                        format!(
                            "`prop-47` reduces a felony, but the class is `{}`: give the class as adjudged",
                            c.class
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// An id of 1–200 printable ASCII characters.
    fn check_id(&self) -> Result<(), InputError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 200
            && self.id.bytes().all(|b| b.is_ascii_graphic());
        if !id_ok {
            return Err(InputError::new(
                "id",
                format!(
                    "`{}` must be 1–200 printable ASCII characters without spaces",
                    self.id
                ),
            ));
        }
        Ok(())
    }

    /// At least one act, none twice.
    fn check_acts(&self) -> Result<(), InputError> {
        if self.acts.is_empty() {
            return Err(InputError::new("acts", "at least one act must be asked"));
        }
        let mut seen = BTreeSet::new();
        for (i, act) in self.acts.iter().enumerate() {
            if !seen.insert(*act) {
                return Err(InputError::new(
                    format!("acts[{i}]"),
                    format!("`{act}` is asked twice"),
                ));
            }
        }
        Ok(())
    }

    /// Names (the subject's id, agencies, the court) of 1 to [`MAX_NAME`] characters,
    /// without control characters.
    fn check_names(&self) -> Result<(), InputError> {
        if self.subject.id.is_empty() {
            return Err(InputError::new("subject.id", "must not be empty"));
        }
        let names = [
            ("subject.id", &self.subject.id),
            ("from.agency", &self.from.agency),
            ("to.agency", &self.to.agency),
        ];
        let recipient = self
            .recipient
            .as_ref()
            .map(|r| ("recipient.agency", &r.agency));
        let court = self
            .court_event
            .as_ref()
            .map(|c| ("court_event.court", &c.court));
        for (field, name) in names.into_iter().chain(recipient).chain(court) {
            if name.is_empty()
                || name.chars().count() > MAX_NAME
                || name.chars().any(char::is_control)
            {
                return Err(InputError::new(
                    field,
                    format!(
                        "{name:?} must be 1 to {MAX_NAME} characters, without control characters"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A courthouse arrest asked names the arrest and the court.
    fn check_courthouse_arrest(&self) -> Result<(), InputError> {
        if !self.acts.contains(&Act::CourthouseArrest) {
            return Ok(());
        }
        if self.arrest.is_none() {
            return Err(InputError::new(
                "arrest",
                "`courthouse-arrest` is asked but `arrest` is absent",
            ));
        }
        if self.court_event.is_none() {
            return Err(InputError::new(
                "court_event",
                "`courthouse-arrest` is asked but `court_event` (which court) is absent",
            ));
        }
        Ok(())
    }
}
