//! Synthetic request history (`comity synth`): requests from federal immigration authorities to
//! the agencies of [`PROFILES`] over a span of days, in the volumes and mixes published
//! figures give, with the edge cases the law turns on, and the events that follow each
//! request (mostly what the decision allows; now and then, at a chosen rate, an action it does
//! not allow, so that violations show).
//!
//! Deterministic: the history is a function of the seed alone (each day and agency draws from
//! its own PCG stream, seeded from the seed, the day and the agency), so days can be drawn in
//! any order or in parallel and the output is the same. No real person is in it: people are
//! `synth-person-…` ids, offenses are drawn from the catalogs, and nothing about a person is
//! inferred from anything else: a request states what it states.

mod draft;
mod events;
mod profile;

use comity_model::{Catalogs, Jurisdiction, OffenseClass, OffenseCode, Request, UnknownOffenses};
use comity_policy::Engine;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde_json::Value;

pub use profile::{PROFILES, Profile, profile};

/// What to draw.
#[derive(Debug, Clone)]
pub struct Options {
    /// The seed: the same seed draws the same history.
    pub seed: u64,
    /// The first day.
    pub from: Date,
    /// The last day.
    pub to: Date,
    /// The agencies.
    pub profiles: Vec<&'static Profile>,
    /// A factor on every agency's yearly volume.
    pub scale: f64,
    /// The share of subjects with a conviction the law there turns on.
    pub qualifying: f64,
    /// The share of requests whose events include an action the decision did not allow.
    pub violations: f64,
}

/// A request drawn, and the events that followed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// The request, validated (it serializes in the documented format, `docs/formats.md`,
    /// "Request").
    pub request: Request,
    /// Its decision, as `comity ingest` would record it.
    pub decision: comity_model::Decision,
    /// What the agency did on it, in order, each in the documented event format with the
    /// request's id as `request`.
    pub events: Vec<Value>,
}

/// Why a history could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// An agency cannot be drawn: its division or time zone does not read, or its catalog
    /// code or list holds no offense to draw.
    #[error("{profile}: {what}")]
    Catalog {
        /// The agency.
        profile: &'static str,
        /// What is missing.
        what: String,
    },
    /// A request drawn did not validate, or was not decided: a fault of the generator.
    #[error("request {id} drawn does not hold: {why}")]
    Invalid {
        /// The request.
        id: String,
        /// Why.
        why: String,
    },
}

/// The offenses an agency's subjects are drawn with: those its law turns on, and the rest of
/// its code, each with the classes it can carry.
struct Pool {
    qualifying: Vec<(OffenseCode, Vec<OffenseClass>)>,
    other: Vec<(OffenseCode, Vec<OffenseClass>)>,
}

/// An agency, with its division and time zone read once.
struct Place {
    profile: &'static Profile,
    jurisdiction: Jurisdiction,
    tz: TimeZone,
}

/// Draws a history day by day.
pub struct Generator<'e> {
    options: Options,
    engine: &'e Engine,
    places: Vec<(Place, Pool)>,
}

impl<'e> Generator<'e> {
    /// A generator for `options`, deciding with `engine` (its packs and catalogs).
    pub fn new(options: Options, engine: &'e Engine) -> Result<Self, SynthError> {
        let places = options
            .profiles
            .iter()
            .map(|p| Ok((place(p)?, pool(p, engine.catalogs())?)))
            .collect::<Result<_, SynthError>>()?;
        Ok(Generator {
            options,
            engine,
            places,
        })
    }

    /// The days drawn, in order.
    pub fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.options
            .from
            .series(jiff::ToSpan::days(1))
            .take_while(|d| *d <= self.options.to)
    }

    /// Every agency's requests on `day` and the events that followed them, in agency order;
    /// each request validated and decided.
    pub fn day(&self, day: Date) -> Result<Vec<Drawn>, SynthError> {
        let mut out = Vec::new();
        for (place, pool) in &self.places {
            let profile = place.profile;
            let mut rng = Pcg64Mcg::seed_from_u64(stream(self.options.seed, day, profile.name));
            let lambda = profile.per_year * self.options.scale / 365.25;
            for index in 0..draft::poisson(&mut rng, lambda) {
                let mut d = draft::Draft::new(&mut rng, place, pool, day, index);
                let request = d.request(self.options.qualifying);
                let decided = self.decide(request)?;
                let events = events::follow(&mut rng, &decided, self.options.violations);
                out.push(Drawn {
                    request: decided.request,
                    decision: decided.decision,
                    events,
                });
            }
        }
        Ok(out)
    }

    /// The request validated as `comity ingest` validates it, and decided.
    fn decide(&self, request: Request) -> Result<events::Decided, SynthError> {
        let invalid = |why: String| SynthError::Invalid {
            id: request.id.clone(),
            why,
        };
        request.check().map_err(|e| invalid(e.to_string()))?;
        self.engine
            .catalogs()
            .check_request(&request, UnknownOffenses::Refuse)
            .map_err(|e| invalid(e.to_string()))?;
        let decision = self
            .engine
            .decide(&request)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(events::Decided { request, decision })
    }
}

/// The seed of one agency's stream on one day: of the agency's name, not its place among
/// those drawn, so that an agency's history does not depend on which others are drawn.
fn stream(seed: u64, day: Date, agency: &str) -> u64 {
    let day =
        u64::from(day.year().unsigned_abs()) * 1000 + u64::from(day.day_of_year().unsigned_abs());
    // FNV-1a over the name: a fixed function, unlike std's hasher.
    let name = agency.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ day.wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ name.wrapping_mul(0x94D0_49BB_1331_11EB)
}

/// `profile`'s division and time zone.
fn place(profile: &'static Profile) -> Result<Place, SynthError> {
    let bad = |what: String| SynthError::Catalog {
        profile: profile.name,
        what,
    };
    Ok(Place {
        profile,
        jurisdiction: profile
            .jurisdiction
            .parse()
            .map_err(|e| bad(format!("{e}")))?,
        tz: TimeZone::get(profile.tz).map_err(|e| bad(format!("time zone: {e}")))?,
    })
}

/// The offenses of `profile`'s lists and code, each with its classes.
fn pool(profile: &'static Profile, catalogs: &Catalogs) -> Result<Pool, SynthError> {
    let missing = |what: String| SynthError::Catalog {
        profile: profile.name,
        what,
    };
    let code = catalogs
        .codes()
        .find(|c| c.code == profile.code)
        .ok_or_else(|| missing(format!("no catalog for code `{}`", profile.code)))?;
    let mut other = Vec::new();
    let mut qualifying = Vec::new();
    let mut offenses: Vec<_> = code.offenses().collect();
    offenses.sort_by(|a, b| a.section.cmp(&b.section));
    for o in offenses {
        let name = format!("{} {}", code.code, o.section);
        let offense: OffenseCode = name
            .parse()
            .map_err(|e| missing(format!("offense `{name}`: {e}")))?;
        let entry = (offense, o.classes.iter().copied().collect());
        if profile.lists.iter().any(|l| o.lists.contains(*l)) {
            qualifying.push(entry);
        } else {
            other.push(entry);
        }
    }
    if other.is_empty() || (qualifying.is_empty() && !profile.lists.is_empty()) {
        return Err(missing(format!(
            "code `{}` holds no offense to draw for its lists",
            profile.code
        )));
    }
    Ok(Pool { qualifying, other })
}
