//! The places and agencies a synthetic history is drawn for, with their yearly volumes.

use comity_model::LocalKind;

/// One local agency that receives requests, and how many a year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Its name on the command line and in request ids (`nyc-doc`).
    pub name: &'static str,
    /// Where its acts happen (an Open Civic Data id the registry knows).
    pub jurisdiction: &'static str,
    /// Its time zone.
    pub tz: &'static str,
    /// The agency, as requests name it.
    pub agency: &'static str,
    /// Its `LocalKind`.
    pub kind: LocalKind,
    /// Requests a year, before `--scale`.
    pub per_year: f64,
    /// Where the volume comes from, and how sure it is.
    pub source: &'static str,
    /// The catalog lists whose convictions the law there turns on: a subject "with a
    /// qualifying conviction" has one of these.
    pub lists: &'static [&'static str],
    /// The code the subject's other convictions and charges are drawn from.
    pub code: &'static str,
    /// Whether it runs warrant checks before court dates (police and jails in New York City).
    pub warrant_checks: bool,
    /// Whether the law there makes holds and transfers mandatory, so that a detainer asks
    /// for the transfer too (Texas).
    pub asks_transfer: bool,
}

/// New York City: the Department of Correction, the Police Department and the Department of
/// Probation; a California county sheriff; a Texas county sheriff.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "nyc-doc",
        jurisdiction: "ocd-division/country:us/state:ny/place:new_york",
        tz: "America/New_York",
        agency: "NYC-DOC",
        kind: LocalKind::Corrections,
        per_year: 540.0,
        source: "DOC's § 9-131(f) report: about 540 detainers in FY2017",
        lists: &["nyc-vsc"],
        code: "NY PL",
        warrant_checks: true,
        asks_transfer: false,
    },
    Profile {
        name: "nyc-nypd",
        jurisdiction: "ocd-division/country:us/state:ny/place:new_york",
        tz: "America/New_York",
        agency: "NYPD",
        kind: LocalKind::Police,
        per_year: 1_500.0,
        source: "NYPD's § 14-154(f) report: about 1,500 detainers in 2017 (2,916 in FY2019)",
        lists: &["nyc-vsc"],
        code: "NY PL",
        warrant_checks: true,
        asks_transfer: false,
    },
    Profile {
        name: "nyc-probation",
        jurisdiction: "ocd-division/country:us/state:ny/place:new_york",
        tz: "America/New_York",
        agency: "NYC-DOP",
        kind: LocalKind::Probation,
        per_year: 40.0,
        source: "an estimate (no published figure): Probation holds few people",
        lists: &["nyc-vsc"],
        code: "NY PL",
        warrant_checks: false,
        asks_transfer: false,
    },
    Profile {
        name: "ca-los-angeles",
        jurisdiction: "ocd-division/country:us/state:ca/county:los_angeles",
        tz: "America/Los_Angeles",
        agency: "LA-COUNTY-SHERIFF",
        kind: LocalKind::Sheriff,
        per_year: 3_000.0,
        source: "an estimate: a large county's share of about 14,000 detainers a month nationally (2017-18)",
        lists: &["ca-serious-felony", "ca-violent-felony", "ca-7282-5-a3"],
        code: "CA PC",
        warrant_checks: false,
        asks_transfer: false,
    },
    Profile {
        name: "tx-harris",
        jurisdiction: "ocd-division/country:us/state:tx/county:harris",
        tz: "America/Chicago",
        agency: "HARRIS-COUNTY-SHERIFF",
        kind: LocalKind::Sheriff,
        per_year: 6_000.0,
        source: "an estimate: a large Texas county's share of about 14,000 detainers a month nationally (2017-18)",
        lists: &[],
        code: "TX PC",
        warrant_checks: false,
        asks_transfer: true,
    },
];

/// The profile named `name`.
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}
