//! One synthetic request: what it asks, on which form and warrant, about whom, in custody
//! until when. The shares below are the mix the published figures and the law's edge cases
//! suggest; each is a constant here, named for what it is.

use comity_model::OffenseClass;
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, tz::TimeZone};
use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde_json::{Value, json};

use crate::{Pool, Profile};

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

/// A request being drawn.
pub(crate) struct Draft<'r> {
    rng: &'r mut Pcg64Mcg,
    profile: &'static Profile,
    pool: &'r Pool,
    day: Date,
    index: u64,
    tz: TimeZone,
}

impl<'r> Draft<'r> {
    pub(crate) fn new(
        rng: &'r mut Pcg64Mcg,
        profile: &'static Profile,
        pool: &'r Pool,
        day: Date,
        index: u64,
    ) -> Self {
        let tz = TimeZone::get(profile.tz).expect("the profiles' time zones are known");
        Draft {
            rng,
            profile,
            pool,
            day,
            index,
            tz,
        }
    }

    /// The request, a subject with a qualifying conviction at the share `qualifying`.
    pub(crate) fn request(&mut self, qualifying: f64) -> Value {
        let p = self.profile;
        let received = self.received();
        let id = format!(
            "synth-{}-{}-{:05}",
            p.name,
            self.day.strftime("%Y%m%d"),
            self.index
        );
        let mut r = json!({
            "id": id,
            "received_at": stamp(&received),
            "jurisdiction": p.jurisdiction,
            "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
            "to": { "agency": p.agency, "kind": p.kind },
            "purpose": "civil-immigration",
            "subject": self.subject(&received, qualifying),
            "custody": self.custody(&received),
        });
        let what: f64 = self.rng.random();
        if p.warrant_checks && what < WARRANT_CHECKS {
            self.warrant_check(&mut r, &received);
        } else if what < WARRANT_CHECKS + BY_LETTER_OR_CALL {
            let form = if self.rng.random_bool(0.5) {
                "letter"
            } else {
                "call"
            };
            r["form"] = form.into();
            r["acts"] = json!(["share-records"]);
            r["records"] = json!(["identity", "release-date", "custody-status"]);
        } else {
            self.detainer(
                &mut r,
                what < WARRANT_CHECKS + BY_LETTER_OR_CALL + NOTIFICATION_ONLY,
            );
        }
        if p.warrant_checks && self.rng.random_bool(COURT_DATE) && r.get("court_event").is_none() {
            r["court_event"] = self.court_event(&received);
        }
        r
    }

    /// A detainer (or, `notify_only`, a request to be told of the release), on the form in
    /// use that day; now and then a PEP form after the change, issued before it or after.
    fn detainer(&mut self, r: &mut Value, notify_only: bool) {
        let change = Date::new(FORM_CHANGE.0, FORM_CHANGE.1, FORM_CHANGE.2).expect("a date");
        let after = self.day >= change;
        let form = match (after, notify_only) {
            (true, _) => "I-247A",
            (false, true) => "I-247N",
            (false, false) => "I-247D",
        };
        r["form"] = form.into();
        if after
            && self.day < change.saturating_add(jiff::ToSpan::days(90))
            && self.rng.random_bool(0.2)
        {
            // A PEP form still in the queue: issued before the change (active) or after it.
            let issued = self
                .day
                .saturating_sub(jiff::ToSpan::days(self.rng.random_range(1..60)));
            r["form"] = "I-247D".into();
            r["form_issued_on"] = issued.to_string().into();
        }
        let mut acts = vec!["notify-release"];
        if !notify_only {
            acts.insert(0, "hold");
            if self.profile.asks_transfer {
                acts.push("transfer");
            }
        }
        r["acts"] = json!(acts);
        r["basis"] = json!([self.basis()]);
        r["warrant"] = self.warrant();
    }

    /// A warrant check the agency runs itself before a court date, telling immigration
    /// authorities what the check reveals.
    fn warrant_check(&mut self, r: &mut Value, received: &jiff::ZonedDateTime) {
        let p = self.profile;
        r["from"] = json!({ "agency": p.agency, "kind": "local" });
        r["recipient"] = json!({ "agency": "DHS-ICE-ERO", "kind": "federal-immigration" });
        r["acts"] = json!(["warrant-check"]);
        r["records"] = json!(["identity", "criminal-history", "court-date"]);
        r["court_event"] = self.court_event(received);
        r.as_object_mut().expect("an object").remove("purpose");
    }

    fn basis(&mut self) -> &'static str {
        const BASES: [&str; 4] = [
            "final-order-of-removal",
            "pending-removal-proceedings",
            "biometric-match",
            "statements",
        ];
        BASES[self.rng.random_range(0..BASES.len())]
    }

    /// An administrative warrant, mostly; an immigration judge's order now and then; a
    /// judicial warrant almost never.
    fn warrant(&mut self) -> Value {
        let w: f64 = self.rng.random();
        if w < JUDICIAL_WARRANT {
            json!({ "kind": "judicial", "for": "criminal" })
        } else if w < JUDICIAL_WARRANT + IMMIGRATION_JUDGE {
            json!({ "kind": "immigration-judge", "for": "civil" })
        } else if w < 0.9 {
            json!({ "kind": "administrative", "form": "I-200", "for": "civil" })
        } else {
            json!({ "kind": "administrative", "form": "I-205", "for": "civil" })
        }
    }

    /// The person: synthetic id, convictions and charges drawn from the catalogs, and what
    /// the request states of them.
    fn subject(&mut self, received: &jiff::ZonedDateTime, qualifying: f64) -> Value {
        let mut convictions = Vec::new();
        if !self.pool.qualifying.is_empty() && self.rng.random_bool(qualifying) {
            let pick = self.rng.random_range(0..self.pool.qualifying.len());
            convictions.push(self.conviction(true, pick, received));
        }
        if self.rng.random_bool(OTHER_CONVICTION) {
            let pick = self.rng.random_range(0..self.pool.other.len());
            convictions.push(self.conviction(false, pick, received));
        }
        let mut subject = json!({
            "id": format!("synth-person-{}-{}-{:05}", self.profile.name, self.day.strftime("%Y%m%d"), self.index),
            "convictions": convictions,
            "watchlist_match": self.rng.random_bool(WATCHLIST),
            "reentry_after_removal": self.rng.random_bool(REENTRY),
            "status_proof_shown": false,
        });
        if self.rng.random_bool(PENDING_CHARGE) {
            let (offense, classes) =
                &self.pool.other[self.rng.random_range(0..self.pool.other.len())];
            let since = received
                .date()
                .saturating_sub(jiff::ToSpan::days(self.rng.random_range(0..5)));
            subject["pending_charges"] = json!([{ "offense": offense,
                "class": classes[self.rng.random_range(0..classes.len())].as_str(), "since": since.to_string() }]);
        }
        if self.rng.random_bool(STATUS_PROOF) {
            subject["status_proof_shown"] = true.into();
            if self.rng.random_bool(0.1) {
                subject["citizenship_proof_shown"] = true.into();
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
        received: &jiff::ZonedDateTime,
    ) -> Value {
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
        let mut c =
            json!({ "offense": offense, "class": class.as_str(), "date": date.to_string() });
        if class.is_felony() && self.rng.random_bool(0.5) {
            c["incarcerated_days"] = self.rng.random_range(30..1500).into();
        }
        if self.rng.random_bool(YOUTHFUL) {
            let adjudication = if self.rng.random_bool(0.5) {
                "youthful-offender"
            } else {
                "juvenile-delinquent"
            };
            c["adjudication"] = adjudication.into();
        }
        c
    }

    /// In custody: arrested up to three days before the request, to be released two hours to
    /// four days after it (weekends and holidays fall where they fall).
    fn custody(&mut self, received: &jiff::ZonedDateTime) -> Value {
        let arrested = received.saturating_sub(SignedDuration::from_mins(
            self.rng.random_range(60..72 * 60),
        ));
        let release = received.saturating_add(SignedDuration::from_mins(
            self.rng.random_range(120..96 * 60),
        ));
        json!({ "status": "in-custody", "arrested_at": stamp(&arrested), "release_at": stamp(&release) })
    }

    fn court_event(&mut self, received: &jiff::ZonedDateTime) -> Value {
        let at = received
            .date()
            .saturating_add(jiff::ToSpan::days(self.rng.random_range(1..30)))
            .to_datetime(Time::constant(9, 30, 0, 0))
            .to_zoned_datetime(self.tz.clone())
            .expect("a court date in range");
        json!({ "at": stamp(&at), "court": "Synthetic County Criminal Court", "system": "ny-ucs" })
    }

    /// The instant the request arrived: a random minute of the day, in the agency's zone.
    fn received(&mut self) -> jiff::ZonedDateTime {
        let minute = self.rng.random_range(0..24 * 60);
        let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).expect("a time");
        self.day
            .to_datetime(time)
            .to_zoned_datetime(self.tz.clone())
            .expect("a day in range")
    }
}

/// RFC 3339 with the zone's offset, as requests write instants.
pub(crate) fn stamp(at: &jiff::ZonedDateTime) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
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
