//! Speed, measured side by side (figures in docs/perf.md):
//!
//! - `per_act`: Cedar alone on the NYC pack (one prebuilt request, every policy scanned)
//!   against the whole engine per act (facts, packs in force, sliced evaluation,
//!   combination, reasons), fresh and cached;
//! - `loaded`: the same NYC decision with only the NYC pack loaded, with the packs a NYC
//!   request needs (federal, state, city), and with every jurisdiction's packs loaded;
//!   beside it Cedar alone on one unsliced set of every policy;
//! - `rego`: the NYC DOC detainer rules in Rego on regorus's bytecode VM, against comity;
//! - `cold`: 10,000 distinct NYC DOC detainers, every pack loaded, nothing remembered:
//!   regorus's VM, comity's compiled packs, and comity on Cedar's evaluator, their outcomes
//!   checked equal first.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use cedar_policy::{Authorizer, Entities, EntityUid, PolicySet};
use comity_model::{Outcome, Request};
use comity_policy::Engine;
use criterion::{Criterion, criterion_group, criterion_main};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A pack root holding only `dirs` (paths under packs/), as symlinks.
fn root_with(dirs: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    for d in dirs {
        let link = tmp.path().join(d);
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(repo().join("packs").join(d), &link).expect("symlink");
    }
    tmp
}

fn engine(root: &Path) -> Engine {
    Engine::load(root, &repo().join("catalog")).expect("packs load")
}

/// Synthetic NYC DOC detainer requests: administrative warrant only; judicial warrant and a
/// violent felony within five years; judicial warrant and an old conviction.
fn requests() -> Vec<Request> {
    let base: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/nyc-doc-detainer.json")).expect("example"),
    )
    .expect("json");
    let mut judicial = base.clone();
    judicial["warrant"] = serde_json::json!({ "kind": "judicial", "for": "civil" });
    let mut old = judicial.clone();
    old["subject"]["convictions"][0]["date"] = "2009-05-01".into();
    old["subject"]["convictions"][0]["incarcerated_days"] = 0.into();
    [base, judicial, old]
        .into_iter()
        .map(|v| Request::from_value(v).expect("valid"))
        .collect()
}

fn nyc_version(engine: &Engine) -> &comity_policy::Pack {
    engine
        .packs()
        .packs()
        .iter()
        .find(|p| p.id == "ocd-division/country:us/state:ny/place:new_york@2017-12-01")
        .expect("NYC 2017-12-01 pack")
}

fn uid(s: &str) -> EntityUid {
    s.parse().expect("uid")
}

/// The Cedar request the engine makes for a hold, with the context it would pass.
fn hold_request(context: cedar_policy::Context) -> cedar_policy::Request {
    cedar_policy::Request::new(
        uid("Requester::\"request\""),
        uid("Action::\"hold\""),
        uid("Subject::\"subject\""),
        context,
        None,
    )
    .expect("request")
}

fn per_act(c: &mut Criterion) {
    let root = root_with(&["country-us/state-ny/place-new_york"]);
    let fresh = engine(root.path()).with_cache(false);
    let cached = engine(root.path());
    let request = &requests()[1];
    let pack = nyc_version(&fresh);
    let cedar_request = hold_request(fresh.context_for(pack, request));
    let authorizer = Authorizer::new();
    let entities = Entities::empty();
    let acts = request.acts.len() as u32;
    let mut g = c.benchmark_group("per_act");
    g.bench_function("cedar_alone_nyc_pack", |b| {
        b.iter(|| authorizer.is_authorized(black_box(&cedar_request), pack.policies(), &entities))
    });
    g.bench_function("engine_fresh", |b| {
        b.iter_custom(|n| {
            let t = std::time::Instant::now();
            for _ in 0..n {
                black_box(fresh.decide(black_box(request)).expect("decides"));
            }
            t.elapsed() / acts
        })
    });
    g.bench_function("engine_cached", |b| {
        b.iter_custom(|n| {
            let t = std::time::Instant::now();
            for _ in 0..n {
                black_box(cached.decide(black_box(request)).expect("decides"));
            }
            t.elapsed() / acts
        })
    });
    g.finish();
}

fn loaded(c: &mut Criterion) {
    let nyc_only = root_with(&["country-us/state-ny/place-new_york"]);
    // Every version of the federal, New York State and City law (an amendment needs the
    // version it amends beside it).
    let nyc_stack = root_with(&[
        "country-us/1997-04-01",
        "country-us/2017-04-02",
        "country-us/state-ny",
    ]);
    let request = &requests()[1];
    let mut g = c.benchmark_group("loaded");
    for (name, root) in [
        ("nyc_only", nyc_only.path().to_owned()),
        ("nyc_stack", nyc_stack.path().to_owned()),
        ("all", repo().join("packs")),
    ] {
        let fresh = engine(&root).with_cache(false);
        let total: usize = fresh.packs().packs().iter().map(|p| p.rules.len()).sum();
        eprintln!(
            "loaded/{name}: {} packs, {total} rules",
            fresh.packs().packs().len()
        );
        g.bench_function(format!("engine_fresh_{name}"), |b| {
            b.iter(|| fresh.decide(black_box(request)).expect("decides"))
        });
        let cached = engine(&root);
        g.bench_function(format!("engine_cached_{name}"), |b| {
            b.iter(|| cached.decide(black_box(request)).expect("decides"))
        });
    }
    // Cedar alone, unsliced: every policy of every pack in one set.
    let all = engine(&repo().join("packs"));
    let nyc = nyc_version(&all);
    let mut every = PolicySet::new();
    for (i, p) in all.packs().packs().iter().enumerate() {
        for policy in p.policies().policies() {
            let id = cedar_policy::PolicyId::new(format!("{i}-{}", policy.id()));
            if nyc.policies().policies().all(|q| q.id() != policy.id()) || p.id == nyc.id {
                every.add(policy.new_id(id)).expect("unique");
            }
        }
    }
    let cedar_request = hold_request(all.context_for(nyc, request));
    let authorizer = Authorizer::new();
    let entities = Entities::empty();
    eprintln!(
        "loaded/cedar_alone: nyc {} policies, every pack {} policies",
        nyc.policies().policies().count(),
        every.policies().count()
    );
    g.bench_function("cedar_alone_nyc_pack", |b| {
        b.iter(|| authorizer.is_authorized(black_box(&cedar_request), nyc.policies(), &entities))
    });
    g.bench_function("cedar_alone_every_pack", |b| {
        b.iter(|| authorizer.is_authorized(black_box(&cedar_request), &every, &entities))
    });
    g.finish();
}

/// The Rego policy compiled once for regorus's VM, with the NYC lists as data.
fn rego_vm(engine: &Engine) -> regorus::rvm::vm::RegoVM {
    use regorus::languages::rego::compiler::Compiler;
    let mut vsc = serde_json::Map::new();
    for code in engine.catalogs().codes() {
        for offense in code.offenses() {
            if offense.lists.iter().any(|l| l.starts_with("nyc-vsc")) {
                vsc.insert(format!("{} {}", code.code, offense.section), true.into());
            }
        }
    }
    let data = regorus::Value::from_json_str(&serde_json::json!({ "vsc": vsc }).to_string())
        .expect("data");
    let mut rego = regorus::Engine::new();
    rego.add_policy("nyc_doc.rego".into(), include_str!("nyc_doc.rego").into())
        .expect("policy");
    rego.add_data(data.clone()).expect("data");
    let entry: regorus::Rc<str> = "data.comity.nyc_doc.decision".into();
    let compiled = rego.compile_with_entrypoint(&entry).expect("compiles");
    let program = Compiler::compile_from_policy(&compiled, &["data.comity.nyc_doc.decision"])
        .expect("rvm program");
    let mut vm = regorus::rvm::vm::RegoVM::new_with_policy(compiled);
    vm.load_program(program);
    vm.set_data(data).expect("data");
    vm
}

fn rego(c: &mut Criterion) {
    let root = root_with(&["country-us/state-ny/place-new_york"]);
    let fresh = engine(root.path()).with_cache(false);
    let cached = engine(root.path());
    let engines = [("comity_fresh", &fresh), ("comity_cached", &cached)];
    against_rego(c, "rego", &requests(), &engines);
}

/// Checks that every engine of `engines` decides each of `requests` alike, with the
/// outcomes the Rego peer gives, then times each per decision beside the peer.
fn against_rego(c: &mut Criterion, group: &str, requests: &[Request], engines: &[(&str, &Engine)]) {
    let inputs: Vec<regorus::Value> = requests
        .iter()
        .map(|r| {
            regorus::Value::from_json_str(&serde_json::to_string(r).expect("json")).expect("value")
        })
        .collect();
    let mut vm = rego_vm(engines[0].1);
    // Both must answer alike before their speed means anything.
    for (r, input) in requests.iter().zip(&inputs) {
        let ours = engines[0].1.decide(r).expect("decides");
        for (name, e) in &engines[1..] {
            assert_eq!(ours, e.decide(r).expect("decides"), "{name}: {}", r.id);
        }
        let outcomes: Vec<Outcome> = ours.acts.iter().map(|a| a.outcome).collect();
        assert_eq!(
            outcomes,
            rego_outcomes(&mut vm, input),
            "{}\n{}",
            serde_json::to_string(r).expect("json"),
            serde_json::to_string(&ours).expect("json")
        );
    }
    let n = requests.len() as u32;
    let per_decision = |iters: u64, once: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        for _ in 0..iters {
            once();
        }
        t.elapsed() / n
    };
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.bench_function("regorus_vm", |b| {
        b.iter_custom(|iters| {
            per_decision(iters, &mut || {
                for input in &inputs {
                    vm.set_input(input.clone());
                    black_box(vm.execute().expect("rego decides"));
                }
            })
        })
    });
    for (name, e) in engines {
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                per_decision(iters, &mut || {
                    for r in requests {
                        black_box(e.decide(black_box(r)).expect("decides"));
                    }
                })
            })
        });
    }
    g.finish();
}

/// `n` varied synthetic New York City requests (agencies, warrants, records, acts, dates),
/// from a fixed seed; with `doc`, detainers to the Department of Correction only, asking to
/// hold or tell the release date (what the Rego peer decides).
fn stream(n: usize, doc: bool) -> Vec<Request> {
    let mut seed: u64 = 0x5eed;
    let mut next = move |k: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % k
    };
    let offenses = [
        ("NY PL 160.15", "B-felony"),
        ("NY PL 120.05", "D-felony"),
        ("NY PL 155.30", "E-felony"),
        ("NY PL 120.00", "A-misdemeanor"),
        ("NY PL 265.02(3)", "D-felony"),
    ];
    let acts = [
        "hold",
        "notify-release",
        "notify-court-date",
        "share-records",
        "share-status",
        "transfer",
    ];
    (0..n)
        .map(|i| {
            let year = 2018 + next(8);
            let (offense, class) = offenses[next(offenses.len())];
            let acts = if doc { &acts[..2] } else { &acts[..] };
            let mut asked: Vec<&str> = acts.iter().copied().filter(|_| next(3) == 0).collect();
            if asked.is_empty() {
                asked.push("hold");
            }
            let to = if doc {
                "corrections"
            } else {
                ["corrections", "police", "probation"][next(3)]
            };
            // The peer encodes § 9-131(b)(1), the civil detainer (ICE's form).
            let form = if doc { "I-247A" } else { ["I-247A", "letter"][next(2)] };
            let purpose = if doc {
                "civil-immigration"
            } else {
                ["civil-immigration", "criminal-investigation"][next(2)]
            };
            let warrant = ["administrative", "judicial", "none"][next(3)];
            let v = serde_json::json!({
                "id": format!("stream-{i}"),
                "received_at": format!("{year}-0{}-1{}T10:00:00-05:00", 1 + next(9), next(10)),
                "jurisdiction": "ocd-division/country:us/state:ny/place:new_york",
                "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
                "to": { "agency": "X", "kind": to },
                "form": form,
                "purpose": purpose,
                "warrant": { "kind": warrant },
                "acts": asked,
                "records": ["identity", "release-date"],
                "subject": { "id": format!("synthetic-{i}"), "watchlist_match": next(100) == 0,
                             "convictions": [{ "offense": offense, "class": class,
                                               // Before the earliest request (2018): a judgment
                                               // after the request is refused as input.
                                               "date": format!("{}-06-01", 2005 + next(13)),
                                               "incarcerated_days": next(900) }] },
                "custody": { "status": "in-custody", "arrested_at": format!("{year}-01-05T10:00:00-05:00"),
                             "release_at": format!("{year}-12-0{}T10:00:00-05:00", 1 + next(9)) },
            });
            Request::from_value(v).expect("valid")
        })
        .collect()
}

fn varied(c: &mut Criterion) {
    let engine = engine(&repo().join("packs"));
    let requests = stream(2_000, false);
    let n = requests.len() as u32;
    let mut g = c.benchmark_group("stream");
    g.bench_function("engine_cold_cache_2000_varied", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                engine.clear_cache();
                let t = std::time::Instant::now();
                for r in &requests {
                    black_box(engine.decide(black_box(r)).expect("decides"));
                }
                total += t.elapsed();
            }
            total / n
        })
    });
    g.finish();
}

/// Regorus's outcome for each act of `input`'s request.
fn rego_outcomes(vm: &mut regorus::rvm::vm::RegoVM, input: &regorus::Value) -> Vec<Outcome> {
    vm.set_input(input.clone());
    let answer = vm.execute().expect("rego decides");
    let answer: serde_json::Value =
        serde_json::from_str(&answer.to_json_str().expect("json")).expect("json");
    answer
        .as_array()
        .expect("an array")
        .iter()
        .map(|a| {
            if a["outcome"] == "permitted" {
                Outcome::Permitted
            } else {
                Outcome::Forbidden
            }
        })
        .collect()
}

fn cold(c: &mut Criterion) {
    let t = std::time::Instant::now();
    let compiled = engine(&repo().join("packs")).with_cache(false);
    eprintln!(
        "cold: every pack loaded, checked and compiled in {:?}",
        t.elapsed()
    );
    let cedar = engine(&repo().join("packs"))
        .with_cache(false)
        .with_compiled(false);
    let engines = [("comity_compiled", &compiled), ("comity_cedar", &cedar)];
    against_rego(c, "cold", &stream(10_000, true), &engines);
}

criterion_group!(benches, per_act, loaded, rego, varied, cold);
criterion_main!(benches);
