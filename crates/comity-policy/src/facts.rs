//! Facts: what a pack declares it needs in `pack.toml`, and how Rust derives it from a
//! request. Rust computes, Cedar decides: a fact is a boolean (or, for hold deadlines, an
//! instant that travels as a limit), never a rule.

use comity_model::{
    Adjudication, Catalogs, Conviction, Date, OffenseClass, OffenseCode, Reduction, Request,
};
use jiff::ToSpan;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::deadline::{SkipDay, deadline};

/// A fact a pack declares, by kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FactSpec {
    /// "Convicted of an offense in one of `lists`", optionally within a look-back window.
    Conviction(ConvictionFact),
    /// "A charge pending for an offense in one of `lists`".
    PendingCharge(PendingChargeFact),
    /// The instant a hold must end: `hours` of running time after the scheduled release,
    /// not running on the days `skip` names, in the pack's time zone.
    HoldDeadline {
        /// Hours of running time.
        hours: i64,
        /// Days the time does not run on.
        #[serde(default)]
        skip: Vec<SkipDay>,
        /// The statute that sets the deadline.
        citation: String,
    },
    /// "The form was issued before `date`": the request states an issue date
    /// (`form_issued_on`) before it. A request that states none is taken as issued on no
    /// earlier day than it was received, so the fact does not hold.
    FormIssuedBefore {
        /// The first day the fact no longer holds.
        date: Date,
        /// The statute or policy that makes the issue date matter.
        citation: String,
    },
}

/// A conviction fact: "convicted of an offense in one of `lists`", optionally within a
/// look-back window.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvictionFact {
    /// The catalog lists that count.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Every offense a catalog holds counts, instead of `lists`.
    #[serde(default)]
    pub any_offense: bool,
    /// Offenses in these lists do not count.
    #[serde(default)]
    pub except_lists: Vec<String>,
    /// Only convictions of these classes count.
    #[serde(default)]
    pub classes: ClassFilter,
    /// A conviction under another code counts as the section it states as its
    /// `equivalent` too (NY Penal Law § 70.06(1)(b)(i)).
    #[serde(default)]
    pub equivalents: bool,
    /// Convictions later reduced so do not count (Cal. Penal Code § 1170.18(k)).
    #[serde(default)]
    pub exclude_reductions: Vec<Reduction>,
    /// Only convictions later reduced so count (Cal. Gov. Code § 7282.5(a)(6): those
    /// convicted of misdemeanors that were previously felonies).
    #[serde(default)]
    pub only_reductions: Vec<Reduction>,
    /// Look-back in years; absent means ever.
    #[serde(default)]
    pub within_years: Option<i16>,
    /// A separate look-back for misdemeanors, which then count only if their offense
    /// can also be a felony (a "wobbler", Cal. Gov. Code § 7282.5(a)(3)).
    #[serde(default)]
    pub wobbler_misdemeanor_within_years: Option<i16>,
    /// Where the look-back is measured from.
    #[serde(default)]
    pub since: Since,
    /// Whether time incarcerated for a counted conviction extends the window
    /// (NYC Admin. Code § 9-131(a)(2)(ii)).
    #[serde(default)]
    pub extend_by_incarceration: bool,
    /// Adjudications that do not count.
    #[serde(default)]
    pub exclude: Vec<Adjudication>,
    /// The statute that defines the fact.
    pub citation: String,
}

/// A pending-charge fact: "a charge pending for an offense in one of `lists`".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingChargeFact {
    /// The catalog lists that count.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Every offense a catalog holds counts, instead of `lists`.
    #[serde(default)]
    pub any_offense: bool,
    /// Offenses in these lists do not count.
    #[serde(default)]
    pub except_lists: Vec<String>,
    /// Only charges of these classes count.
    #[serde(default)]
    pub classes: ClassFilter,
    /// Only charges on which a magistrate has found probable cause count.
    #[serde(default)]
    pub probable_cause_finding: bool,
    /// The statute that defines the fact.
    pub citation: String,
}

impl PendingChargeFact {
    /// The offenses the fact selects.
    fn selection(&self) -> Selection<'_> {
        Selection {
            lists: &self.lists,
            any_offense: self.any_offense,
            except_lists: &self.except_lists,
            classes: self.classes,
        }
    }

    /// Whether a charge pending counts, by the catalogs' lists on the day `received`.
    fn holds(&self, request: &Request, catalogs: &Catalogs, received: Date) -> bool {
        let selection = self.selection();
        request.subject.pending_charges.iter().any(|c| {
            (c.probable_cause_finding || !self.probable_cause_finding)
                && selection.counts(catalogs, &c.offense, c.class, received)
        })
    }
}

/// Which offenses a fact counts: those in `lists` (or, with `any_offense`, every offense a
/// catalog holds), of a class `classes` admits, and in none of `except_lists`.
struct Selection<'a> {
    lists: &'a [String],
    any_offense: bool,
    except_lists: &'a [String],
    classes: ClassFilter,
}

impl Selection<'_> {
    /// What the types cannot say: the lists that count or `any_offense`, not both and not
    /// neither, and no list both counted and excepted.
    fn check(&self) -> Result<(), String> {
        if let Some(both) = self.lists.iter().find(|l| self.except_lists.contains(l)) {
            return Err(format!("list `{both}` both counts and is excepted"));
        }
        match (self.lists.is_empty(), self.any_offense) {
            (false, false) | (true, true) => Ok(()),
            (true, false) => Err("give the `lists` that count, or `any_offense = true`".into()),
            (false, true) => Err("`lists` and `any_offense = true` together: give one".into()),
        }
    }

    /// Whether `offense`, judged or charged as `class`, counts on the day `on`. An offense
    /// no catalog holds (decided with a warning) counts under no selection.
    fn counts(
        &self,
        catalogs: &Catalogs,
        offense: &OffenseCode,
        class: OffenseClass,
        on: Date,
    ) -> bool {
        let selected = if self.any_offense {
            catalogs.resolve(offense).is_some()
        } else {
            catalogs.in_any_list(offense, class, self.lists, on)
        };
        selected && self.classes.admits(class) && !self.excepts(catalogs, offense, class, on)
    }

    /// Whether `offense` is excepted: in one of `except_lists`, or, for a section named
    /// without its subdivision, one of its subdivisions is.
    fn excepts(
        &self,
        catalogs: &Catalogs,
        offense: &OffenseCode,
        class: OffenseClass,
        on: Date,
    ) -> bool {
        catalogs.may_be_in_any_list(offense, class, self.except_lists, on)
    }
}

/// How a conviction counts for a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// Not at all.
    No,
    /// By its own offense.
    Itself,
    /// Only by the equivalent the request states for it.
    ByEquivalent,
}

/// Whether a conviction fact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holding {
    /// It does not.
    No,
    /// It does, by a conviction's own offense.
    Yes,
    /// It does only through an equivalent the request states.
    ByEquivalent,
}

impl ConvictionFact {
    /// The offenses the fact selects.
    fn selection(&self) -> Selection<'_> {
        Selection {
            lists: &self.lists,
            any_offense: self.any_offense,
            except_lists: &self.except_lists,
            classes: self.classes,
        }
    }

    /// How a conviction counts, whatever its date: not excluded by its adjudication or a
    /// reduction (nor, with `only_reductions`, lacking one), and its offense selected, or,
    /// its own offense not excepted, the equivalent it states.
    fn counts(&self, c: &Conviction, catalogs: &Catalogs, received: Date) -> Counts {
        let selection = self.selection();
        let reduced = c
            .reduced
            .is_some_and(|r| self.exclude_reductions.contains(&r));
        let unreduced = !self.only_reductions.is_empty()
            && !c.reduced.is_some_and(|r| self.only_reductions.contains(&r));
        if self.exclude.contains(&c.adjudication) || reduced || unreduced {
            Counts::No
        } else if selection.counts(catalogs, &c.offense, c.class, received) {
            Counts::Itself
        } else if self.equivalents
            && !selection.excepts(catalogs, &c.offense, c.class, received)
            && c.equivalent
                .as_ref()
                .is_some_and(|e| selection.counts(catalogs, e, c.class, received))
        {
            Counts::ByEquivalent
        } else {
            Counts::No
        }
    }

    /// Whether the subject has a conviction that counts, within its window of
    /// `reference`, by the catalogs' lists on the day `received`.
    fn holds(
        &self,
        request: &Request,
        catalogs: &Catalogs,
        reference: jiff::civil::Date,
        received: Date,
    ) -> Holding {
        let counted: Vec<(&Conviction, Counts)> = request
            .subject
            .convictions
            .iter()
            .map(|c| (c, self.counts(c, catalogs, received)))
            .filter(|(_, how)| *how != Counts::No)
            .collect();
        let in_window = |c: &Conviction| match self.window(c, catalogs) {
            Window::NotCounted => false,
            Window::Ever => true,
            Window::Years(years) => {
                // Time served for counted judgments entered on or after this one does not
                // run against the window.
                let extension: i64 = if self.extend_by_incarceration {
                    counted
                        .iter()
                        .filter(|(k, _)| k.date >= c.date)
                        .map(|(k, _)| i64::from(k.incarcerated_days))
                        .sum()
                } else {
                    0
                };
                within(c.date.0, reference, years, extension)
            }
        };
        let holding: Vec<Counts> = counted
            .iter()
            .filter(|(c, _)| in_window(c))
            .map(|(_, how)| *how)
            .collect();
        if holding.contains(&Counts::Itself) {
            Holding::Yes
        } else if holding.contains(&Counts::ByEquivalent) {
            Holding::ByEquivalent
        } else {
            Holding::No
        }
    }

    /// The window of a counted conviction. With a separate misdemeanor window, felonies
    /// take `within_years`, misdemeanors of offenses that can also be felonies take theirs,
    /// and nothing else counts.
    fn window(&self, c: &Conviction, catalogs: &Catalogs) -> Window {
        let years = match self.wobbler_misdemeanor_within_years {
            Some(y) if c.class.is_misdemeanor() => {
                let wobbler = catalogs
                    .resolve(&c.offense)
                    .is_some_and(|r| r.classes.iter().any(|k| k.is_felony()));
                if !wobbler {
                    return Window::NotCounted;
                }
                Some(y)
            }
            Some(_) if !c.class.is_felony() => return Window::NotCounted,
            _ => self.within_years,
        };
        years.map_or(Window::Ever, Window::Years)
    }
}

/// Which classes of offense a fact counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassFilter {
    /// Every class.
    #[default]
    Any,
    /// Felonies only.
    Felony,
    /// Misdemeanors only.
    Misdemeanor,
    /// Felonies and misdemeanors, not violations or infractions.
    FelonyOrMisdemeanor,
}

impl ClassFilter {
    fn admits(self, class: OffenseClass) -> bool {
        match self {
            ClassFilter::Any => true,
            ClassFilter::Felony => class.is_felony(),
            ClassFilter::Misdemeanor => class.is_misdemeanor(),
            ClassFilter::FelonyOrMisdemeanor => class.is_felony() || class.is_misdemeanor(),
        }
    }
}

/// Where a look-back window is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Since {
    /// The request's `received_at`.
    #[default]
    Received,
    /// The instant arrest (`custody.arrested_at`). When the request does not state it the
    /// window cannot be placed, and the fact is taken as not holding, with a warning: a
    /// look-back measured from a later day would count more.
    Arrest,
}

/// What a request's facts came to for one pack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactValues {
    /// Bit `i` set when the pack's `i`-th boolean fact holds.
    pub bits: u64,
    /// The pack's hold deadlines, by fact name; absent when the release time is unknown.
    pub deadlines: Vec<(String, Option<jiff::Timestamp>)>,
    /// Warnings about how facts were measured: the fact, and what to know of it.
    pub warnings: Vec<(String, String)>,
}

impl FactSpec {
    /// Whether the fact is a boolean passed to Cedar (rather than an instant).
    pub fn is_boolean(&self) -> bool {
        !matches!(self, FactSpec::HoldDeadline { .. })
    }

    /// The offenses a fact about offenses selects; none for the other facts.
    fn selection(&self) -> Option<Selection<'_>> {
        match self {
            FactSpec::Conviction(f) => Some(f.selection()),
            FactSpec::PendingCharge(f) => Some(f.selection()),
            FactSpec::HoldDeadline { .. } | FactSpec::FormIssuedBefore { .. } => None,
        }
    }

    /// The catalog lists the fact names, those it counts and those it excepts.
    pub fn lists(&self) -> impl Iterator<Item = &String> {
        self.selection()
            .into_iter()
            .flat_map(|s| s.lists.iter().chain(s.except_lists))
    }

    /// Whether the fact counts any offense a catalog holds (`any_offense`), so that it reads
    /// every code.
    pub fn counts_any_offense(&self) -> bool {
        self.selection().is_some_and(|s| s.any_offense)
    }

    /// Checks what the types cannot say: a fact about offenses names its lists or counts
    /// any offense, not both and not neither, and excepts no list it counts.
    pub fn check(&self) -> Result<(), String> {
        self.selection().map_or(Ok(()), |s| s.check())
    }

    /// The statute that defines the fact.
    pub fn citation(&self) -> &str {
        match self {
            FactSpec::Conviction(ConvictionFact { citation, .. })
            | FactSpec::PendingCharge(PendingChargeFact { citation, .. })
            | FactSpec::HoldDeadline { citation, .. }
            | FactSpec::FormIssuedBefore { citation, .. } => citation,
        }
    }
}

/// Computes a pack's facts for a request. `facts` are the pack's declared facts in order;
/// `tz` is the pack's time zone.
pub fn compute(
    facts: &[(String, FactSpec)],
    request: &Request,
    catalogs: &Catalogs,
    tz: &TimeZone,
) -> FactValues {
    let mut out = FactValues::default();
    let received = request
        .received_at
        .timestamp()
        .to_zoned_datetime(tz.clone())
        .date();
    let mut bit = 0;
    for (name, spec) in facts {
        match spec {
            FactSpec::HoldDeadline { hours, skip, .. } => {
                let release = request.custody.as_ref().and_then(|c| c.release_at);
                let until = release.and_then(|r| deadline(r.timestamp(), *hours, skip, tz));
                out.deadlines.push((name.clone(), until));
                continue;
            }
            FactSpec::PendingCharge(fact) => {
                let holds = fact.holds(request, catalogs, Date(received));
                out.bits |= u64::from(holds) << bit;
            }
            FactSpec::FormIssuedBefore { date, .. } => {
                let holds = request.form_issued_on.is_some_and(|d| d < *date);
                out.bits |= u64::from(holds) << bit;
            }
            FactSpec::Conviction(fact) => {
                let Some(reference) = look_back_from(fact.since, request, tz, received) else {
                    // The window cannot be placed: the fact is not taken to hold, so an
                    // exception it would open stays closed.
                    out.warnings.push((
                        name.clone(),
                        format!("fact `{name}`: custody.arrested_at is absent, so the look-back from arrest cannot be measured; taken as not holding"),
                    ));
                    bit += 1;
                    continue;
                };
                let holding = fact.holds(request, catalogs, reference, Date(received));
                if holding == Holding::ByEquivalent {
                    out.warnings.push((
                        name.clone(),
                        format!("fact `{name}`: holds only through the equivalent a conviction states (convictions[].equivalent), which is the request's word: check it"),
                    ));
                }
                out.bits |= u64::from(holding != Holding::No) << bit;
            }
        }
        bit += 1;
    }
    out
}

/// The day a conviction's look-back is measured back from, in the pack's time zone: the
/// day received, or the day of arrest (`None` when the request does not give it).
fn look_back_from(
    since: Since,
    request: &Request,
    tz: &TimeZone,
    received: jiff::civil::Date,
) -> Option<jiff::civil::Date> {
    match since {
        Since::Received => Some(received),
        Since::Arrest => {
            let at = request.custody.as_ref()?.arrested_at?;
            Some(at.timestamp().to_zoned_datetime(tz.clone()).date())
        }
    }
}

/// How long ago a counted conviction may be and still count.
enum Window {
    /// It does not count at all.
    NotCounted,
    /// It counts however old.
    Ever,
    /// It counts within so many years.
    Years(i16),
}

/// "Within `years` before `reference`", the window extended by `extension_days`: strictly
/// after the day that long before, and not after `reference`.
fn within(
    date: jiff::civil::Date,
    reference: jiff::civil::Date,
    years: i16,
    extension_days: i64,
) -> bool {
    let cutoff = reference
        .checked_sub(years.years())
        .and_then(|d| d.checked_sub(extension_days.days()))
        .unwrap_or(jiff::civil::Date::MIN);
    date > cutoff && date <= reference
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CATALOG: &str = include_str!("../../../testdata/catalog-ny-pl.toml");

    /// A second code, for convictions under another jurisdiction's law.
    const OTHER_CODE: &str = r#"
code = "CA PC"
title = "California Penal Code"
source = "test"
as_of = "2025-01-01"
offenses = [
  { section = "211", title = "Robbery", class = "felony" },
  { section = "487", title = "Grand theft", class = ["felony", "misdemeanor"], lists = ["fam"] },
]
"#;

    fn catalogs() -> Catalogs {
        let mut c = Catalogs::default();
        c.add(CATALOG).unwrap();
        c.add(OTHER_CODE).unwrap();
        c
    }

    fn spec(toml_text: &str) -> Vec<(String, FactSpec)> {
        let spec: FactSpec = toml::from_str(toml_text).unwrap();
        vec![("f".to_owned(), spec)]
    }

    fn request(convictions: serde_json::Value) -> Request {
        Request::from_value(json!({
            "id": "t", "received_at": "2020-06-01T12:00:00-04:00",
            "jurisdiction": "ocd-division/country:us/state:ny/place:new_york",
            "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
            "to": { "agency": "NYC-DOC", "kind": "corrections" },
            "acts": ["hold"],
            "subject": { "id": "synthetic-1", "convictions": convictions,
                         "pending_charges": [{ "offense": "NY PL 160.15", "class": "B-felony", "since": "2020-05-01" }] },
            "custody": { "status": "in-custody", "arrested_at": "2020-05-01T08:00:00-04:00" }
        }))
        .unwrap()
    }

    fn holds(spec_text: &str, convictions: serde_json::Value) -> bool {
        let tz = TimeZone::get("America/New_York").unwrap();
        compute(&spec(spec_text), &request(convictions), &catalogs(), &tz).bits == 1
    }

    const FIVE_YEARS: &str = r#"
kind = "conviction"
lists = ["vsc"]
within_years = 5
since = "arrest"
extend_by_incarceration = true
exclude = ["youthful-offender", "juvenile-delinquent"]
citation = "NYC Admin. Code § 9-131(a)(2)"
"#;

    fn conviction(offense: &str, class: &str, date: &str, days: u32) -> serde_json::Value {
        json!({ "offense": offense, "class": class, "date": date, "incarcerated_days": days })
    }

    #[test]
    fn five_year_look_back_from_the_arrest() {
        let c = |date, days| json!([conviction("NY PL 160.15", "B-felony", date, days)]);
        // Arrest 2020-05-01: the window opens after 2015-05-01.
        assert!(holds(FIVE_YEARS, c("2015-05-02", 0)));
        assert!(
            !holds(FIVE_YEARS, c("2015-05-01", 0)),
            "exactly five years is outside"
        );
        // 730 days served extend the window back to after 2013-05-01.
        assert!(holds(FIVE_YEARS, c("2013-05-02", 730)));
        assert!(!holds(FIVE_YEARS, c("2013-05-01", 730)));
        assert!(!holds(FIVE_YEARS, c("2013-05-02", 729)));
    }

    #[test]
    fn only_listed_felony_convictions_count() {
        let one = |o: &str, class: &str| json!([conviction(o, class, "2019-01-01", 0)]);
        assert!(
            !holds(FIVE_YEARS, one("NY PL 155.30", "E-felony")),
            "not listed"
        );
        assert!(holds(FIVE_YEARS, one("NY PL 120.05", "D-felony")));
        assert!(
            !holds(FIVE_YEARS, one("NY PL 120.05", "A-misdemeanor")),
            "felony only"
        );
        let yo = json!([{ "offense": "NY PL 160.15", "class": "B-felony", "date": "2019-01-01",
                          "adjudication": "youthful-offender" }]);
        assert!(!holds(FIVE_YEARS, yo), "YO adjudications are excluded");
    }

    #[test]
    fn wobbler_misdemeanors_have_their_own_window() {
        let spec = r#"
kind = "conviction"
lists = ["fam"]
within_years = 15
wobbler_misdemeanor_within_years = 5
citation = "Cal. Gov. Code § 7282.5(a)(3)"
"#;
        // Received 2020-06-01.
        let c = |class, date| json!([conviction("NY PL 120.05", class, date, 0)]);
        assert!(holds(spec, c("A-misdemeanor", "2015-06-02")));
        assert!(!holds(spec, c("A-misdemeanor", "2015-06-01")));
        assert!(holds(spec, c("D-felony", "2005-06-02")));
        assert!(!holds(spec, c("D-felony", "2005-06-01")));
    }

    #[test]
    fn pending_charges_and_deadlines() {
        let pending = "kind = \"pending-charge\"\nlists = [\"vsc\"]\ncitation = \"x\"";
        assert!(holds(pending, json!([])));
        let tz = TimeZone::get("America/New_York").unwrap();
        let deadline = spec("kind = \"hold-deadline\"\nhours = 48\ncitation = \"8 CFR 287.7(d)\"");
        let values = compute(&deadline, &request(json!([])), &catalogs(), &tz);
        assert_eq!(
            values.deadlines,
            vec![("f".to_owned(), None)],
            "no release time, no deadline"
        );
        assert_eq!(values.bits, 0);
    }

    #[test]
    fn any_offense_counts_every_catalogued_offense_but_the_excepted() {
        let spec = r#"
kind = "conviction"
any_offense = true
except_lists = ["fam"]
classes = "felony-or-misdemeanor"
citation = "NYC L.L. 2011/062, covered crime"
"#;
        let one = |o: &str, class: &str| json!([conviction(o, class, "2019-01-01", 0)]);
        assert!(holds(spec, one("NY PL 155.30", "E-felony")), "in no list");
        assert!(holds(spec, one("CA PC 211", "felony")), "another code");
        assert!(!holds(spec, one("NY PL 120.05", "D-felony")), "excepted");
        let violation = r#"
kind = "conviction"
any_offense = true
classes = "felony-or-misdemeanor"
citation = "x"
"#;
        assert!(holds(violation, one("NY PL 120.00", "A-misdemeanor")));
        assert!(
            !holds(violation, one("NY PL 120.00", "violation")),
            "not a crime"
        );
    }

    #[test]
    fn a_stated_equivalent_counts_only_where_the_fact_says() {
        let ca = |equivalent: &str| {
            json!([{ "offense": "CA PC 211", "class": "felony", "date": "2019-01-01",
                     "equivalent": equivalent }])
        };
        let with = format!("{FIVE_YEARS}equivalents = true\n");
        assert!(holds(&with, ca("NY PL 160.15")));
        assert!(!holds(&with, ca("NY PL 155.30")), "equivalent not listed");
        assert!(
            !holds(FIVE_YEARS, ca("NY PL 160.15")),
            "equivalents not counted"
        );
        let misdemeanor = json!([{ "offense": "CA PC 487", "class": "misdemeanor",
                                   "date": "2019-01-01", "equivalent": "NY PL 160.15" }]);
        assert!(
            !holds(&with, misdemeanor),
            "felony_only reads its own class"
        );
    }

    #[test]
    fn a_section_named_without_its_subdivision_does_not_escape_an_exception() {
        let spec = r#"
kind = "conviction"
any_offense = true
except_lists = ["vsc"]
citation = "x"
"#;
        let one = |o: &str| json!([conviction(o, "D-felony", "2019-01-01", 0)]);
        assert!(
            holds(spec, one("NY PL 265.02(1)")),
            "a subdivision not excepted"
        );
        assert!(
            !holds(spec, one("NY PL 265.02(2)")),
            "the excepted subdivision"
        );
        assert!(
            !holds(spec, one("NY PL 265.02")),
            "the section may be the excepted one"
        );
    }

    #[test]
    fn an_excepted_offense_does_not_count_through_its_equivalent() {
        let spec = r#"
kind = "conviction"
any_offense = true
except_lists = ["fam"]
equivalents = true
classes = "felony"
citation = "x"
"#;
        let theft = json!([{ "offense": "CA PC 487", "class": "felony", "date": "2019-01-01",
                             "equivalent": "NY PL 155.30" }]);
        assert!(!holds(spec, theft));
    }

    #[test]
    fn only_reduced_convictions_count_where_the_fact_says() {
        let spec = r#"
kind = "conviction"
any_offense = true
only_reductions = ["prop-47"]
citation = "Cal. Gov. Code § 7282.5(a)(6)"
"#;
        let theft = |reduced: bool| {
            let mut c = json!({ "offense": "CA PC 487", "class": "felony", "date": "2019-01-01" });
            if reduced {
                c["reduced"] = json!("prop-47");
            }
            json!([c])
        };
        assert!(holds(spec, theft(true)));
        assert!(!holds(spec, theft(false)));
    }

    #[test]
    fn a_fact_that_holds_only_by_an_equivalent_warns() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let with = format!("{FIVE_YEARS}equivalents = true\n");
        let ca = json!([{ "offense": "CA PC 211", "class": "felony", "date": "2019-01-01",
                          "equivalent": "NY PL 160.15" }]);
        let values = compute(&spec(&with), &request(ca), &catalogs(), &tz);
        assert_eq!(values.bits, 1);
        assert!(
            values.warnings[0].1.contains("only through the equivalent"),
            "{values:?}"
        );
        let own = json!([conviction("NY PL 160.15", "B-felony", "2019-01-01", 0)]);
        let values = compute(&spec(&with), &request(own), &catalogs(), &tz);
        assert_eq!((values.bits, values.warnings.len()), (1, 0));
    }

    #[test]
    fn an_excluded_reduction_does_not_count() {
        let spec = r#"
kind = "conviction"
lists = ["fam"]
exclude_reductions = ["prop-47"]
citation = "Cal. Penal Code § 1170.18(k)"
"#;
        let theft = |reduced: bool| {
            let mut c = json!({ "offense": "CA PC 487", "class": "felony", "date": "2019-01-01" });
            if reduced {
                c["reduced"] = json!("prop-47");
            }
            json!([c])
        };
        assert!(holds(spec, theft(false)));
        assert!(!holds(spec, theft(true)));
        let plain = "kind = \"conviction\"\nlists = [\"fam\"]\ncitation = \"x\"";
        assert!(holds(plain, theft(true)), "only where the fact says");
    }

    #[test]
    fn a_probable_cause_finding_is_needed_only_where_the_fact_says() {
        let spec = |finding: bool| {
            format!(
                "kind = \"pending-charge\"\nlists = [\"vsc\"]\nprobable_cause_finding = {finding}\ncitation = \"x\""
            )
        };
        let tz = TimeZone::get("America/New_York").unwrap();
        let mut r = request(json!([]));
        let bits = |text: &str, r: &Request| compute(&self::spec(text), r, &catalogs(), &tz).bits;
        assert_eq!(bits(&spec(true), &r), 0, "no finding stated");
        assert_eq!(bits(&spec(false), &r), 1);
        r.subject.pending_charges[0].probable_cause_finding = true;
        assert_eq!(bits(&spec(true), &r), 1);
    }

    #[test]
    fn a_form_issued_before_the_date_holds_only_when_the_request_says_so() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let facts = spec("kind = \"form-issued-before\"\ndate = \"2017-04-02\"\ncitation = \"x\"");
        let mut r = request(json!([]));
        r.form = Some(comity_model::Form::I247D);
        let bit = |r: &Request| compute(&facts, r, &catalogs(), &tz).bits;
        assert_eq!(bit(&r), 0, "no issue date stated");
        r.form_issued_on = Some("2017-04-01".parse().unwrap());
        assert_eq!(bit(&r), 1);
        r.form_issued_on = Some("2017-04-02".parse().unwrap());
        assert_eq!(bit(&r), 0, "the date itself is not before");
    }

    #[test]
    fn a_fact_about_offenses_names_lists_or_any_offense() {
        let check = |text: &str| toml::from_str::<FactSpec>(text).unwrap().check();
        assert!(check("kind = \"conviction\"\ncitation = \"x\"").is_err());
        assert!(
            check(
                "kind = \"pending-charge\"\nlists = [\"vsc\"]\nany_offense = true\ncitation = \"x\""
            )
            .is_err()
        );
        assert!(check("kind = \"pending-charge\"\nany_offense = true\ncitation = \"x\"").is_ok());
        assert!(
            check("kind = \"conviction\"\nlists = [\"vsc\"]\nexcept_lists = [\"vsc\"]\ncitation = \"x\"")
                .unwrap_err()
                .contains("both counts and is excepted")
        );
    }

    #[test]
    fn unknown_keys_in_a_fact_are_refused() {
        let bad = "kind = \"conviction\"\nlists = [\"vsc\"]\nwithin_yeras = 5\ncitation = \"x\"";
        assert!(toml::from_str::<FactSpec>(bad).is_err());
    }
}
