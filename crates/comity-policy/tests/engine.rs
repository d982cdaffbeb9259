//! The engine over the real packs: its answers (compiled packs, cached) equal Cedar's
//! evaluator's afresh over many generated requests, and no generated request makes a rule
//! fail to evaluate.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use comity_model::Request;
use comity_policy::{DecideError, Engine};
use proptest::prelude::*;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn engines() -> &'static (Engine, Engine) {
    static ENGINES: OnceLock<(Engine, Engine)> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let load =
            || Engine::load(&repo().join("packs"), &repo().join("catalog")).expect("packs load");
        (load(), load().with_cache(false).with_compiled(false))
    })
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> impl Strategy<Value = T> + use<T> {
    prop::sample::select(items.to_vec())
}

fn conviction() -> impl Strategy<Value = Value> {
    (
        pick(&[
            ("NY PL 160.15", "B-felony"),
            ("NY PL 120.05", "D-felony"),
            ("NY PL 155.30", "E-felony"),
            ("NY PL 265.02(3)", "D-felony"),
            ("NY PL 120.00", "A-misdemeanor"),
            ("CA PC 211", "felony"),
            ("CA PC 242", "misdemeanor"),
        ]),
        2000i32..2026,
        pick(&["conviction", "youthful-offender"]),
        0u32..2000,
    )
        .prop_map(|((offense, class), year, adjudication, days)| {
            json!({ "offense": offense, "class": class, "date": format!("{year}-06-15"),
                    "adjudication": adjudication, "incarcerated_days": days })
        })
}

fn request() -> impl Strategy<Value = Value> {
    let places = pick(&[
        "ocd-division/country:us/state:ny/place:new_york",
        "ocd-division/country:us/state:ny/place:albany",
        "ocd-division/country:us/state:ca/place:los_angeles",
        "ocd-division/country:us/state:tx/place:houston",
        "ocd-division/country:us/state:oh/place:columbus",
    ]);
    let acts = prop::sample::subsequence(
        vec![
            "hold",
            "transfer",
            "notify-release",
            "notify-court-date",
            "share-records",
            "share-status",
            "facility-access",
            "office-space",
            "courthouse-arrest",
            "warrant-check",
            "agreement-287g",
        ],
        1..5,
    );
    (
        (places, 2015i32..2027, 1u8..13, pick(&["federal-immigration", "federal-other", "state", "local"])),
        (pick(&["police", "corrections", "probation", "court", "sheriff", "state-agency"]), pick(&[None, Some("I-247A"), Some("I-247D"), Some("I-247N"), Some("letter")])),
        (pick(&["judicial", "immigration-judge", "administrative", "none"]), pick(&[None, Some("civil"), Some("criminal")]), pick(&[None, Some("civil-immigration"), Some("criminal-investigation")])),
        (acts, prop::collection::vec(conviction(), 0..3), any::<[bool; 4]>()),
        (pick(&["in-custody", "released"]), pick(&["civil", "criminal"]), pick(&["inside", "going-to", "elsewhere"]), pick(&["party", "witness", "other"]), pick(&["ny-ucs", "state", "federal"])),
    )
        .prop_map(|((place, year, month, from), (to, form), (wkind, wfor, purpose), (acts, mut convictions, flags), (custody, atype, loc, role, system))| {
            // A judgment after the request was received is refused as input.
            let received = format!("{year}-{month:02}-10");
            convictions.retain(|c| c["date"].as_str().is_some_and(|d| d <= received.as_str()));
            let mut r = json!({
                "id": "generated",
                "received_at": format!("{year}-{month:02}-10T10:00:00-05:00"),
                "jurisdiction": place,
                "from": { "agency": "A", "kind": from },
                "to": { "agency": "B", "kind": to },
                "warrant": { "kind": wkind },
                "acts": acts,
                "records": ["identity", "court-date"],
                "subject": { "id": "synthetic-x", "convictions": convictions,
                             "watchlist_match": flags[0], "reentry_after_removal": flags[1],
                             "status_proof_shown": flags[2] },
                "custody": { "status": custody, "arrested_at": format!("{year}-{month:02}-08T10:00:00-05:00") },
                "court_event": { "at": format!("{year}-{month:02}-12T09:30:00-05:00"), "court": "C", "system": system },
                "arrest": { "type": atype, "location": loc, "role": role },
            });
            if flags[3] {
                r["custody"]["release_at"] = format!("{year}-{month:02}-11T10:00:00-05:00").into();
            }
            if let Some(f) = form { r["form"] = f.into(); }
            if let Some(f) = wfor { r["warrant"]["for"] = f.into(); }
            if let Some(p) = purpose { r["purpose"] = p.into(); }
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// A verdict depends only on the pack and the context key, so a decision of the compiled
    /// packs, first and cached, is the decision Cedar's evaluator gives afresh (outcome,
    /// reasons in order, limits, warnings); and no rule fails to evaluate on any request.
    #[test]
    fn compiled_and_cached_decisions_are_cedar_s_afresh(value in request()) {
        let (cached, fresh) = engines();
        let request = Request::from_value(value).expect("generated requests are valid");
        let first = cached.decide(&request);
        let again = cached.decide(&request);
        let truth = fresh.decide(&request);
        match (&first, &again, &truth) {
            (Ok(a), Ok(b), Ok(t)) => {
                prop_assert_eq!(a, t);
                prop_assert_eq!(b, t);
                for act in &t.acts {
                    prop_assert!(!act.reasons.is_empty());
                }
            }
            (Err(DecideError::Input(_)), Err(DecideError::Input(_)), Err(DecideError::Input(_))) => {}
            other => prop_assert!(false, "decisions differ or a rule failed: {other:?}"),
        }
    }
}

/// Every division and alias of the registry decides, by the law of the places that contain
/// it: the United States everywhere, the state's law in New York, California and Texas, and
/// New York City's in the city and each of its five boroughs, by any of their ids.
#[test]
fn every_division_of_the_registry_is_decided_by_the_law_that_contains_it() {
    let (engine, _) = engines();
    let divisions = engine.catalogs().divisions();
    let nyc = "ocd-division/country:us/state:ny/place:new_york";
    let boroughs = ["bronx", "kings", "new_york", "queens", "richmond"]
        .map(|c| format!("ocd-division/country:us/state:ny/county:{c}"));
    let ids: Vec<(String, String)> = divisions
        .divisions()
        .map(|d| (d.id.to_string(), d.id.to_string()))
        .chain(
            divisions
                .aliases()
                .map(|(alias, canonical)| (alias.to_string(), canonical.to_string())),
        )
        .collect();
    assert!(ids.len() > 450, "{}", ids.len());
    let mut in_nyc = 0;
    for (id, canonical) in &ids {
        let request = Request::from_value(json!({
            "id": "walk", "received_at": "2019-06-03T11:00:00-04:00",
            "jurisdiction": id,
            "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
            "to": { "agency": "SHERIFF", "kind": "sheriff" },
            "acts": ["notify-release"],
            "subject": { "id": "synthetic-walk" },
        }))
        .unwrap();
        let decision = engine
            .decide(&request)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let packs: Vec<&str> = decision
            .packs
            .iter()
            .map(|p| p.id.split('@').next().unwrap())
            .collect();
        let state = canonical
            .split('/')
            .nth(2)
            .filter(|s| ["state:ny", "state:ca", "state:tx"].contains(s))
            .map(|s| format!("ocd-division/country:us/{s}"));
        let city = canonical == nyc || boroughs.contains(canonical);
        in_nyc += usize::from(city);
        let mut expected = vec!["ocd-division/country:us".to_owned()];
        expected.extend(state);
        if city {
            expected.push(nyc.to_owned());
        }
        assert_eq!(packs, expected, "{id}");
    }
    // The city, its five boroughs, and their ten aliases.
    assert_eq!(in_nyc, 16);
}

/// Forbids added to the packs, one engine each: a forbid on one act in one situation, on
/// every act of one pack, and on duties. Each is written into a copy of the repository's
/// packs, beside the real rules.
const EXTRA_FORBIDS: &[(&str, &str)] = &[
    (
        "country-us/2017-04-02",
        r#"forbid (principal, action == Action::"notify-release", resource) when { context.from_kind == AgencyKind::"federal-immigration" };"#,
    ),
    (
        "country-us/state-ny/place-new_york/2017-12-01",
        r#"forbid (principal, action, resource) when { context.watchlist_match };"#,
    ),
    (
        "country-us/state-ca/2018-01-01",
        r#"forbid (principal, action in [Action::"hold", Action::"hold!required", Action::"warrant-check"], resource) when { context.records.contains(RecordField::"identity") };"#,
    ),
    (
        "country-us/state-tx/2026-01-01",
        r#"forbid (principal, action in [Action::"hold!required", Action::"share-status"], resource);"#,
    ),
];

/// Engines over copies of the packs, each with one of [`EXTRA_FORBIDS`] added.
fn engines_with_forbids() -> &'static Vec<Engine> {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        EXTRA_FORBIDS
            .iter()
            .map(|(pack, rule)| {
                let dir = tempfile::tempdir().unwrap();
                comity_testdb::copy_dir(&repo().join("packs"), &dir.path().join("packs"));
                let text = format!(
                    "@id(\"extra-forbid\")\n@citation(\"none: a property test's rule\")\n@summary(\"A forbid added by a test.\")\n@instruction(\"Do not.\")\n{rule}\n"
                );
                std::fs::write(dir.path().join("packs").join(pack).join("zz-extra.cedar"), text)
                    .unwrap();
                Engine::load(&dir.path().join("packs"), &repo().join("catalog"))
                    .expect("packs with the extra forbid load")
            })
            .collect()
    })
}

/// How much an outcome lets the agency do.
fn latitude(o: comity_model::Outcome) -> u8 {
    match o {
        comity_model::Outcome::Forbidden => 0,
        comity_model::Outcome::Permitted => 1,
        comity_model::Outcome::Required => 2,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Adding a forbid never makes an act more permitted: no act goes from forbidden to
    /// permitted or required, nor from permitted to required.
    #[test]
    fn adding_a_forbid_never_permits_more(value in request(), which in 0..EXTRA_FORBIDS.len()) {
        let (base, _) = engines();
        let request = Request::from_value(value).expect("generated requests are valid");
        let (Ok(before), Ok(after)) = (base.decide(&request), engines_with_forbids()[which].decide(&request)) else {
            return Ok(());
        };
        for (b, a) in before.acts.iter().zip(&after.acts) {
            prop_assert!(
                latitude(a.outcome) <= latitude(b.outcome),
                "{}: {} became {} with forbid {which}",
                b.act, b.outcome, a.outcome
            );
        }
    }
}

/// Every pack directory under `dir`.
fn pack_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("pack.toml").is_file() {
        out.push(dir.to_owned());
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pack_dirs(&path, out);
        }
    }
}

/// The order packs are loaded in never changes a decision: the set orders them itself. The
/// repository's packs loaded in reverse and interleaved orders decide 300 generated requests
/// as the engine that loaded them in name order does.
#[test]
fn the_order_packs_are_loaded_in_does_not_change_a_decision() {
    use comity_model::Catalogs;
    use comity_policy::{Pack, PackFiles, PackSet};
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let root = repo().join("packs");
    let mut dirs = Vec::new();
    pack_dirs(&root, &mut dirs);
    dirs.sort();
    let count = dirs.len();
    let reversed: Vec<usize> = (0..count).rev().collect();
    let interleaved: Vec<usize> = (1..count).step_by(2).chain((0..count).step_by(2)).collect();
    let (engine, _) = engines();
    for order in [reversed, interleaved] {
        let catalogs = Catalogs::load(&repo().join("catalog")).unwrap();
        // Each amendment is checked after the version it amends; the set gets them in `order`.
        let mut loaded: Vec<Option<Pack>> = Vec::new();
        for dir in &dirs {
            let files = PackFiles::read(&root, dir).unwrap();
            let amends = files.amends();
            let base = loaded.iter().flatten().find(|p| {
                p.dir.parent() == dir.parent() && Some(p.manifest.effective_from) == amends
            });
            let pack = Pack::check(files, base, &catalogs).unwrap();
            loaded.push(Some(pack));
        }
        let packs: Vec<Pack> = order.iter().map(|&i| loaded[i].take().unwrap()).collect();
        let other = Engine::new(PackSet::new(packs).unwrap(), catalogs);
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy = request();
        for _ in 0..300 {
            let value = strategy.new_tree(&mut runner).unwrap().current();
            let request = Request::from_value(value).unwrap();
            assert_eq!(
                format!("{:?}", engine.decide(&request)),
                format!("{:?}", other.decide(&request))
            );
        }
    }
}

/// Where the digests of the generated decisions are kept.
const DIGESTS: &str = "tests/decisions.digests";

/// Generated requests decided, and their decisions hashed in groups of 100.
const GENERATED: usize = 2_000;

/// The decisions of 2,000 generated requests (a fixed seed) are the ones recorded in
/// `tests/decisions.digests`: every outcome, reason, its order, every limit and warning,
/// hashed in groups of 100 (pack digests left out, so that a pack's text may change without
/// its law). A refactoring must leave them all unchanged; a change of the law changes them on
/// purpose, and `COMITY_BLESS=1 cargo test -p comity-policy --test engine decisions_are` writes
/// the new digests, to be reviewed with the change.
#[test]
fn decisions_are_the_recorded_ones() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use sha2::{Digest, Sha256};

    let (engine, _) = engines();
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = request();
    let mut lines = Vec::new();
    let mut group = Sha256::new();
    let mut refused = 0;
    for i in 0..GENERATED {
        let mut value = strategy.new_tree(&mut runner).unwrap().current();
        value["id"] = format!("generated-{i}").into();
        let request = Request::from_value(value).expect("generated requests are valid");
        let answer = match engine.decide(&request) {
            Ok(mut decision) => {
                for pack in &mut decision.packs {
                    pack.sha256.clear();
                }
                serde_json::to_string(&decision).unwrap()
            }
            Err(e) => {
                refused += 1;
                format!("refused: {e}")
            }
        };
        group.update(answer.as_bytes());
        group.update(b"\n");
        if (i + 1) % 100 == 0 {
            let digest = std::mem::take(&mut group).finalize();
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            lines.push(format!("{:>4}-{:<4} {hex}", i + 1 - 100, i));
        }
    }
    assert!(
        refused < GENERATED / 10,
        "{refused} refused: too few decisions to compare"
    );
    let computed = lines.join("\n") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIGESTS);
    if std::env::var_os("COMITY_BLESS").is_some() {
        std::fs::write(&path, &computed).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    let changed: Vec<&str> = computed
        .lines()
        .zip(recorded.lines().chain(std::iter::repeat("")))
        .filter(|(c, r)| c != r)
        .map(|(c, _)| c.split_whitespace().next().unwrap_or_default())
        .collect();
    assert!(
        changed.is_empty(),
        "decisions of generated requests {changed:?} differ from {DIGESTS}; if the law changed on \
         purpose, bless them (COMITY_BLESS=1) and review the change"
    );
}

/// The last commit with every version of the law written whole, and the commit that rewrote
/// the superseding versions as amendments.
const WHOLE_LAYOUT: &str = "73a1899";
const AMENDED_LAYOUT: &str = "43865e4";

/// The packs and catalogs of a commit, in `dir`; `false` when the repository's history is
/// not here (an export without `.git`).
fn checkout_law(commit: &str, dir: &Path) -> bool {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo())
            .args(args)
            .output()
    };
    if !git(&["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_ok_and(|o| o.status.success())
    {
        return false;
    }
    let archive = git(&["archive", "--format=tar", commit, "packs", "catalog"]).unwrap();
    assert!(archive.status.success(), "git archive {commit}");
    let mut tar = std::process::Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
    assert!(tar.wait().unwrap().success());
    true
}

/// Every case request of the case files under `root`: each file's base with each case's
/// `with` merged in.
fn case_requests(root: &Path) -> Vec<Request> {
    let mut dirs = Vec::new();
    pack_dirs(root, &mut dirs);
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("tests")) else {
            continue;
        };
        for file in entries {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
            for case in doc["cases"].as_array().unwrap() {
                let mut request = doc["base"].clone();
                if let Some(patch) = case.get("with") {
                    json_patch::merge(&mut request, patch);
                }
                out.push(Request::from_value(request).unwrap());
            }
        }
    }
    out
}

/// Rewriting the superseding versions as amendments changed no decision: every case request
/// of both layouts and 2,000 generated requests are decided alike by the law of both commits
/// (outcomes, reasons and their order, limits, warnings; pack digests aside, which cover
/// different files).
#[test]
fn the_amendment_layout_decides_as_the_whole_versions_did() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let (whole, amended) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    if !checkout_law(WHOLE_LAYOUT, whole.path()) || !checkout_law(AMENDED_LAYOUT, amended.path()) {
        eprintln!("skipped: the repository's history is not here");
        return;
    }
    let load = |dir: &Path| Engine::load(&dir.join("packs"), &dir.join("catalog")).unwrap();
    let (before, after) = (load(whole.path()), load(amended.path()));
    let decide = |engine: &Engine, request: &Request| match engine.decide(request) {
        Ok(mut decision) => {
            decision.packs.iter_mut().for_each(|p| p.sha256.clear());
            serde_json::to_string(&decision).unwrap()
        }
        Err(e) => format!("refused: {e}"),
    };
    let mut requests = case_requests(&whole.path().join("packs"));
    requests.extend(case_requests(&amended.path().join("packs")));
    let cases = requests.len();
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = request();
    for _ in 0..GENERATED {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        requests.push(Request::from_value(value).unwrap());
    }
    assert!(cases > 600, "only {cases} case requests");
    for request in &requests {
        assert_eq!(
            decide(&before, request),
            decide(&after, request),
            "request {}",
            request.id
        );
    }
}
