//! Synthetic histories: the same seed draws the same history; every request validates and is
//! decided; the volumes are the profiles'; the edge cases the law turns on appear; and the
//! events follow the decisions, with violations only at the rate asked.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use comity_model::{Act, Outcome, Request};
use comity_policy::Engine;
use comity_synth::{Drawn, Generator, Options, PROFILES};
use jiff::civil::{Date, date};
use serde_json::Value;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Engine::load(&repo.join("packs"), &repo.join("catalog")).expect("packs load")
    })
}

fn options(seed: u64, from: Date, to: Date, violations: f64) -> Options {
    Options {
        seed,
        from,
        to,
        profiles: PROFILES.iter().collect(),
        scale: 1.0,
        qualifying: 0.3,
        violations,
    }
}

fn draw(options: Options) -> Vec<Drawn> {
    let generator = Generator::new(options, engine()).unwrap();
    generator
        .days()
        .flat_map(|d| generator.day(d).unwrap())
        .collect()
}

#[test]
fn the_same_seed_draws_the_same_history() {
    let a = draw(options(7, date(2019, 1, 1), date(2019, 1, 10), 0.02));
    let b = draw(options(7, date(2019, 1, 1), date(2019, 1, 10), 0.02));
    let c = draw(options(8, date(2019, 1, 1), date(2019, 1, 10), 0.02));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A day is drawn alike whatever span it is drawn in.
    let day = draw(options(7, date(2019, 1, 5), date(2019, 1, 5), 0.02));
    let within: Vec<&Drawn> = a
        .iter()
        .filter(|d| d.request.id.contains("-20190105-"))
        .collect();
    assert_eq!(day.iter().collect::<Vec<_>>(), within);
    // An agency's history does not depend on which others are drawn with it.
    let alone = Options {
        profiles: vec![comity_synth::profile("tx-harris").unwrap()],
        ..options(7, date(2019, 1, 1), date(2019, 1, 10), 0.02)
    };
    let texas: Vec<&Drawn> = a
        .iter()
        .filter(|d| d.request.id.starts_with("synth-tx-harris-"))
        .collect();
    assert_eq!(draw(alone).iter().collect::<Vec<_>>(), texas);
}

/// A year of every agency's requests, with violations at 2 %.
fn year() -> &'static Vec<Drawn> {
    static YEAR: OnceLock<Vec<Drawn>> = OnceLock::new();
    YEAR.get_or_init(|| draw(options(1, date(2018, 1, 1), date(2018, 12, 31), 0.02)))
}

#[test]
fn volumes_are_the_profiles_and_every_request_is_synthetic_and_valid() {
    let mut by_agency: BTreeMap<String, f64> = BTreeMap::new();
    for d in year() {
        // As written out, every request drawn validates.
        let written = serde_json::to_value(&d.request).unwrap();
        let r = Request::from_value(written).expect("every request drawn validates");
        assert!(
            r.subject.id.starts_with("synth-person-"),
            "{}",
            r.subject.id
        );
        assert!(r.id.starts_with("synth-"), "{}", r.id);
        *by_agency.entry(r.to.agency.clone()).or_default() += 1.0;
    }
    for p in PROFILES {
        let n = by_agency.get(p.agency).copied().unwrap_or_default();
        assert!(
            (n - p.per_year).abs() < 0.1 * p.per_year + 20.0,
            "{}: {n} drawn for {} a year",
            p.name,
            p.per_year
        );
    }
}

#[test]
fn the_edge_cases_the_law_turns_on_appear() {
    let requests: Vec<Value> = year()
        .iter()
        .map(|d| serde_json::to_value(&d.request).unwrap())
        .collect();
    let count = |f: &dyn Fn(&Value) -> bool| requests.iter().filter(|r| f(r)).count();
    let n = requests.len() as f64;
    let youthful = count(&|r| {
        r["subject"]["convictions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["adjudication"] == "youthful-offender")
    });
    let judge = count(&|r| r["warrant"]["kind"] == "immigration-judge");
    let judicial = count(&|r| r["warrant"]["kind"] == "judicial");
    let letters = count(&|r| r["form"] == "letter" || r["form"] == "call");
    let checks = count(&|r| {
        r["acts"][0] == "warrant-check"
            && r["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "court-date")
    });
    let watchlist = count(&|r| r["subject"]["watchlist_match"] == true);
    let served = count(&|r| {
        r["subject"]["convictions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.get("incarcerated_days").is_some())
    });
    assert!(youthful > 10, "youthful-offender adjudications: {youthful}");
    assert!(judge > 100, "immigration-judge orders: {judge}");
    assert!(
        (judicial as f64) < 0.01 * n,
        "judicial warrants almost never: {judicial}"
    );
    assert!(letters > 200, "requests by letter or call: {letters}");
    assert!(
        checks > 50,
        "warrant checks revealing court dates: {checks}"
    );
    assert!(
        (watchlist as f64) < 0.002 * n,
        "watch-list matches under 0.1 %: {watchlist}"
    );
    assert!(served > 100, "look-backs extended by time served: {served}");
    // The PEP forms after their withdrawal on 2017-04-02, issued before it or not.
    let spring = draw(options(1, date(2017, 4, 2), date(2017, 5, 31), 0.02));
    let old_forms = spring
        .iter()
        .filter(|d| {
            d.request.form == Some(comity_model::Form::I247D) && d.request.form_issued_on.is_some()
        })
        .count();
    assert!(old_forms > 20, "rescinded forms in the queue: {old_forms}");
}

#[test]
fn events_follow_the_decisions_and_violate_only_at_the_rate_asked() {
    let check = |violations: f64| {
        let drawn = draw(options(3, date(2019, 3, 1), date(2019, 3, 31), violations));
        let mut violating = 0;
        let mut with_hold = 0;
        for d in &drawn {
            let request = d.request.clone();
            let decision = engine().decide(&request).unwrap();
            let hold = decision.acts.iter().find(|a| a.act == Act::Hold);
            let Some(hold) = hold else { continue };
            with_hold += 1;
            let held = d.events.iter().any(|e| e["kind"] == "held");
            let forbidden = hold.outcome == Outcome::Forbidden;
            let deadline = hold.binding_hold().map(|(_, at)| at.timestamp());
            let late = d
                .events
                .last()
                .and_then(|e| e["at"].as_str())
                .is_some_and(|at| {
                    deadline.is_some_and(|dl| at.parse::<jiff::Timestamp>().unwrap() > dl)
                });
            if held && (forbidden || late) {
                violating += 1;
            }
        }
        (violating, with_hold)
    };
    let (none, asked) = check(0.0);
    assert_eq!(none, 0, "no violation at rate 0 among {asked}");
    let (all, asked) = check(1.0);
    assert!(all * 10 > asked * 9, "{all} of {asked} violate at rate 1");
}
