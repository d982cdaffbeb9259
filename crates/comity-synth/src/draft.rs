//! One synthetic request: what it asks, on which form and warrant, about whom, in custody
//! until when. The shares below are the mix the published figures and the law's edge cases
//! suggest; each is a constant here, named for what it is.
//!
//! A request is drafted as the typed [`Request`] it is (a history of a million requests is
//! drafted in seconds: building each as a JSON value and reading it back cost a third of
//! the time), then checked as `comity ingest` checks what it reads ([`Request::check`]).

use comity_model::{
    Act, Adjudication, Agency, AgencyKind, Basis, Conviction, CourtEvent, CourtSystem, Custody,
    CustodyStatus, Date as RecordDate, Form, Instant, LocalAgency, OffenseClass, PendingCharge,
    Purpose, RecordField, Request, Subject, Violation, Warrant, WarrantForm, WarrantKind,
};
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, ZonedDateTime};
use rand::RngExt;
use rand_pcg::Pcg64Mcg;

use crate::{Place, Pool};

/// The day ICE Policy 10074.2 replaced the PEP forms with Form I-247A.
const FORM_CHANGE: (i16, i8, i8) = (2017, 4, 2);
/// Requests that ask only to be told of the release (not a hold).
const NOTIFICATION_ONLY: f64 = 0.10;
/// Requests by letter or call for records, not on a detainer form.
const BY_LETTER_OR_CALL: f64 = 0.05;
/// Warrant checks before a court date, where the agency runs them.
const WARRANT_CHECKS: f64 = 0.05;
/// Detainers that come with a judicial warrant: almost never.
const JUDICIAL_WARRANT: f64 = 0.003;
/// Detainers backed by an immigration judge's order.
const IMMIGRATION_JUDGE: f64 = 0.04;
/// Subjects the request says may match the terrorist screening database: under 0.1 %.
const WATCHLIST: f64 = 0.0005;
/// Subjects the request says re-entered after removal.
const REENTRY: f64 = 0.03;
/// Subjects who have shown proof of status (of citizenship, a tenth of them).
const STATUS_PROOF: f64 = 0.02;
/// Convictions adjudicated as a youthful offender or juvenile delinquent.
const YOUTHFUL: f64 = 0.05;
/// Subjects with a conviction outside the lists, and with a charge pending.
const OTHER_CONVICTION: f64 = 0.3;
const PENDING_CHARGE: f64 = 0.3;
/// Requests about a court date (New York City).
const COURT_DATE: f64 = 0.3;

/// The agency that asks for the holds and notices drawn.
const ICE: &str = "DHS-ICE-ERO";

/// A request being drawn.
pub(crate) struct Draft<'r> {
    rng: &'r mut Pcg64Mcg,
    place: &'r Place,
    pool: &'r Pool,
    day: Date,
    index: u64,
}

impl<'r> Draft<'r> {
    pub(crate) fn new(
        rng: &'r mut Pcg64Mcg,
        place: &'r Place,
        pool: &'r Pool,
        day: Date,
        index: u64,
    ) -> Self {
        Draft {
            rng,
            place,
            pool,
            day,
            index,
        }
    }

    /// The request, a subject with a qualifying conviction at the share `qualifying` (not
    /// yet checked).
    pub(crate) fn request(&mut self, qualifying: f64) -> Request {
        let p = self.place.profile;
        let received = self.received();
        let id = format!(
            "synth-{}-{}-{:05}",
            p.name,
            self.day.strftime("%Y%m%d"),
            self.index
        );
        let subject = self.subject(&received, qualifying);
        let custody = self.custody(&received);
        let mut r = Request {
            id,
            received_at: instant(&received),
            jurisdiction: self.place.jurisdiction.clone(),
            from: ice(),
            to: LocalAgency {
                agency: p.agency.to_owned(),
                kind: p.kind,
                state_agency: None,
            },
            form: None,
            basis: Vec::new(),
            purpose: Some(Purpose::CivilImmigration),
            warrant: None,
            acts: Vec::new(),
            subject,
            custody: Some(custody),
            court_event: None,
            arrest: None,
            records: Vec::new(),
            recipient: None,
            public_records: Vec::new(),
            form_issued_on: None,
        };
        let what: f64 = self.rng.random();
        if p.warrant_checks && what < WARRANT_CHECKS {
            self.warrant_check(&mut r, &received);
        } else if what < WARRANT_CHECKS + BY_LETTER_OR_CALL {
            let form = if self.rng.random_bool(0.5) {
                Form::Letter
            } else {
                Form::Call
            };
            r.form = Some(form);
            r.acts = vec![Act::ShareRecords];
            r.records = vec![
                RecordField::Identity,
                RecordField::ReleaseDate,
                RecordField::CustodyStatus,
            ];
        } else {
            self.detainer(
                &mut r,
                what < WARRANT_CHECKS + BY_LETTER_OR_CALL + NOTIFICATION_ONLY,
            );
        }
        if p.warrant_checks && self.rng.random_bool(COURT_DATE) && r.court_event.is_none() {
            r.court_event = Some(self.court_event(&received));
        }
        r
    }

    /// A detainer (or, `notify_only`, a request to be told of the release), on the form in
    /// use that day; now and then a PEP form after the change, issued before it or after.
    fn detainer(&mut self, r: &mut Request, notify_only: bool) {
        let change = Date::new(FORM_CHANGE.0, FORM_CHANGE.1, FORM_CHANGE.2).expect("a date");
        let after = self.day >= change;
        r.form = Some(match (after, notify_only) {
            (true, _) => Form::I247A,
            (false, true) => Form::I247N,
            (false, false) => Form::I247D,
        });
        if after
            && self.day < change.saturating_add(jiff::ToSpan::days(90))
            && self.rng.random_bool(0.2)
        {
            // A PEP form still in the queue: issued before the change (active) or after it.
            let issued = self
                .day
                .saturating_sub(jiff::ToSpan::days(self.rng.random_range(1..60)));
            r.form = Some(Form::I247D);
            r.form_issued_on = Some(RecordDate(issued));
        }
        r.acts = vec![Act::NotifyRelease];
        if !notify_only {
            r.acts.insert(0, Act::Hold);
            if self.place.profile.asks_transfer {
                r.acts.push(Act::Transfer);
            }
        }
        r.basis = vec![self.basis()];
        r.warrant = Some(self.warrant());
    }

    /// A warrant check the agency runs itself before a court date, telling immigration
    /// authorities what the check reveals.
    fn warrant_check(&mut self, r: &mut Request, received: &ZonedDateTime) {
        r.from = Agency {
            agency: self.place.profile.agency.to_owned(),
            kind: AgencyKind::Local,
        };
        r.recipient = Some(ice());
        r.acts = vec![Act::WarrantCheck];
        r.records = vec![
            RecordField::Identity,
            RecordField::CriminalHistory,
            RecordField::CourtDate,
        ];
        r.court_event = Some(self.court_event(received));
        r.purpose = None;
    }

    fn basis(&mut self) -> Basis {
        const BASES: [Basis; 4] = [
            Basis::FinalOrderOfRemoval,
            Basis::PendingRemovalProceedings,
            Basis::BiometricMatch,
            Basis::Statements,
        ];
        BASES[self.rng.random_range(0..BASES.len())]
    }

    /// An administrative warrant, mostly; an immigration judge's order now and then; a
    /// judicial warrant almost never.
    fn warrant(&mut self) -> Warrant {
        let w: f64 = self.rng.random();
        let (kind, form, violation) = if w < JUDICIAL_WARRANT {
            (WarrantKind::Judicial, None, Violation::Criminal)
        } else if w < JUDICIAL_WARRANT + IMMIGRATION_JUDGE {
            (WarrantKind::ImmigrationJudge, None, Violation::Civil)
        } else if w < 0.9 {
            let form = Some(WarrantForm::I200);
            (WarrantKind::Administrative, form, Violation::Civil)
        } else {
            let form = Some(WarrantForm::I205);
            (WarrantKind::Administrative, form, Violation::Civil)
        };
        Warrant {
            kind,
            form,
            violation: Some(violation),
        }
    }

    /// The person: synthetic id, convictions and charges drawn from the catalogs, and what
    /// the request states of them.
    fn subject(&mut self, received: &ZonedDateTime, qualifying: f64) -> Subject {
        let mut convictions = Vec::new();
        if !self.pool.qualifying.is_empty() && self.rng.random_bool(qualifying) {
            let pick = self.rng.random_range(0..self.pool.qualifying.len());
            convictions.push(self.conviction(true, pick, received));
        }
        if self.rng.random_bool(OTHER_CONVICTION) {
            let pick = self.rng.random_range(0..self.pool.other.len());
            convictions.push(self.conviction(false, pick, received));
        }
        let id = format!(
            "synth-person-{}-{}-{:05}",
            self.place.profile.name,
            self.day.strftime("%Y%m%d"),
            self.index
        );
        let mut subject = Subject {
            id,
            convictions,
            pending_charges: Vec::new(),
            watchlist_match: self.rng.random_bool(WATCHLIST),
            reentry_after_removal: self.rng.random_bool(REENTRY),
            status_proof_shown: false,
            citizenship_proof_shown: false,
            sex_or_arson_registrant: false,
            federal_aggravated_felony: false,
            federal_felony_warrant: false,
            outstanding_criminal_warrant: false,
            gang_database_match: false,
        };
        if self.rng.random_bool(PENDING_CHARGE) {
            let (offense, classes) =
                &self.pool.other[self.rng.random_range(0..self.pool.other.len())];
            let since = received
                .date()
                .saturating_sub(jiff::ToSpan::days(self.rng.random_range(0..5)));
            subject.pending_charges.push(PendingCharge {
                offense: offense.clone(),
                class: classes[self.rng.random_range(0..classes.len())],
                since: RecordDate(since),
                probable_cause_finding: false,
            });
        }
        if self.rng.random_bool(STATUS_PROOF) {
            subject.status_proof_shown = true;
            if self.rng.random_bool(0.1) {
                subject.citizenship_proof_shown = true;
            }
        }
        subject
    }

    /// A conviction of the `pick`-th offense of the qualifying or the other pool, judged up to
    /// 15 years before, sometimes with time served, now and then a youthful-offender or
    /// juvenile adjudication.
    fn conviction(
        &mut self,
        qualifying: bool,
        pick: usize,
        received: &ZonedDateTime,
    ) -> Conviction {
        let pool = if qualifying {
            &self.pool.qualifying
        } else {
            &self.pool.other
        };
        let (offense, classes) = &pool[pick];
        let felonies: Vec<&OffenseClass> = classes.iter().filter(|c| c.is_felony()).collect();
        let class = match (qualifying, felonies.is_empty()) {
            (true, false) => *felonies[self.rng.random_range(0..felonies.len())],
            _ => classes[self.rng.random_range(0..classes.len())],
        };
        let years_ago = self.rng.random_range(0..15 * 365);
        let date = received
            .date()
            .saturating_sub(jiff::ToSpan::days(years_ago + 1));
        let mut c = Conviction {
            offense: offense.clone(),
            class,
            date: RecordDate(date),
            adjudication: Adjudication::Conviction,
            incarcerated_days: 0,
            inchoate: None,
            equivalent: None,
            reduced: None,
        };
        if class.is_felony() && self.rng.random_bool(0.5) {
            c.incarcerated_days = self.rng.random_range(30..1500);
        }
        if self.rng.random_bool(YOUTHFUL) {
            c.adjudication = if self.rng.random_bool(0.5) {
                Adjudication::YouthfulOffender
            } else {
                Adjudication::JuvenileDelinquent
            };
        }
        c
    }

    /// In custody: arrested up to three days before the request, to be released two hours to
    /// four days after it (weekends and holidays fall where they fall).
    fn custody(&mut self, received: &ZonedDateTime) -> Custody {
        let arrested = received.saturating_sub(SignedDuration::from_mins(
            self.rng.random_range(60..72 * 60),
        ));
        let release = received.saturating_add(SignedDuration::from_mins(
            self.rng.random_range(120..96 * 60),
        ));
        Custody {
            status: CustodyStatus::InCustody,
            arrested_at: Some(instant(&arrested)),
            release_at: Some(instant(&release)),
        }
    }

    fn court_event(&mut self, received: &ZonedDateTime) -> CourtEvent {
        let at = received
            .date()
            .saturating_add(jiff::ToSpan::days(self.rng.random_range(1..30)))
            .to_datetime(Time::constant(9, 30, 0, 0))
            .to_zoned_datetime(self.place.tz.clone())
            .expect("a court date in range");
        CourtEvent {
            at: instant(&at),
            court: "Synthetic County Criminal Court".to_owned(),
            system: CourtSystem::NyUcs,
        }
    }

    /// The instant the request arrived: a random minute of the day, in the agency's zone.
    fn received(&mut self) -> ZonedDateTime {
        let minute = self.rng.random_range(0..24 * 60);
        let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).expect("a time");
        self.day
            .to_datetime(time)
            .to_zoned_datetime(self.place.tz.clone())
            .expect("a day in range")
    }
}

/// Immigration and Customs Enforcement, who asks.
fn ice() -> Agency {
    Agency {
        agency: ICE.to_owned(),
        kind: AgencyKind::FederalImmigration,
    }
}

/// An instant as a request states it: the time with the offset of the agency's zone.
fn instant(at: &ZonedDateTime) -> Instant {
    Instant::new(at.timestamp(), at.offset())
}

/// A Poisson draw of mean `lambda`: Knuth's product of uniforms for small means, a normal
/// approximation (Box-Muller) for large ones (their exponential would underflow). Written
/// here because `rand_distr` is not among the crates this machine has.
pub(crate) fn poisson(rng: &mut Pcg64Mcg, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        let (u, v): (f64, f64) = (rng.random(), rng.random());
        let normal = (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        return (lambda + lambda.sqrt() * normal).round().max(0.0) as u64;
    }
    let limit = (-lambda).exp();
    let (mut k, mut product) = (0, rng.random::<f64>());
    while product > limit {
        k += 1;
        product *= rng.random::<f64>();
    }
    k
}
