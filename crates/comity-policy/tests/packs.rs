//! `comity check`: a pack that breaks any rule of the format is refused with the file (and
//! line) at fault; a good one loads, decides and passes its cases.

use std::fs;
use std::path::Path;

use comity_model::{Outcome, Request};
use comity_policy::{Engine, run_cases};

const CATALOG: &str = include_str!("../../../testdata/catalog-ny-pl.toml");

const MANIFEST: &str = r#"
jurisdiction = "ocd-division/country:us"
title = "Test federal pack"
effective_from = "2017-04-02"
timezone = "America/New_York"
confidence = "VERIFIED"

[[sources]]
citation = "8 CFR 287.7"

[facts.vsc_ever]
kind = "conviction"
lists = ["vsc"]
citation = "test"
"#;

const RULES: &str = r#"
@id("hold-permitted")
@citation("8 CFR 287.7(a)")
@summary("A detainer is a request.")
@instruction("You may hold the person.")
permit (principal, action == Action::"hold", resource)
when { context.from_kind == AgencyKind::"federal-immigration" };

@id("hold-needs-judicial-warrant")
@citation("Test § 1")
@summary("Holds need a judicial warrant unless the person has a listed conviction.")
@instruction("Release on schedule; do not hold.")
@exception("Test § 1(a): a judicial warrant")
@exception_2("Test § 1(b): a listed conviction")
forbid (principal, action == Action::"hold", resource)
unless { context.warrant_kind == WarrantKind::"judicial" }
unless { context.facts.vsc_ever };
"#;

/// The division registry of the fixtures.
const DIVISIONS: &str = r#"
source = "test"
as_of = "2026-03-19"
divisions = [
  { id = "ocd-division/country:us", name = "United States" },
  { id = "ocd-division/country:us/state:oh", name = "Ohio" },
  { id = "ocd-division/country:us/state:tx", name = "Texas" },
  { id = "ocd-division/country:us/state:tx/place:houston", name = "Houston city" },
]
"#;

const CASES: &str = r#"
base:
  id: t
  received_at: "2018-03-01T09:00:00-05:00"
  jurisdiction: ocd-division/country:us/state:oh
  from: { agency: DHS-ICE-ERO, kind: federal-immigration }
  to: { agency: JAIL, kind: sheriff }
  warrant: { kind: judicial }
  acts: [hold]
  subject: { id: synthetic-1 }
cases:
  - { name: a, rule: hold-permitted, kind: meets, expect: { hold: permitted } }
  - { name: b, rule: hold-permitted, kind: fails, with: { from: { agency: FBI, kind: federal-other } }, expect: { hold: forbidden } }
  - { name: c, rule: hold-permitted, kind: boundary, with: { form: call }, expect: { hold: permitted } }
  - { name: d, rule: hold-needs-judicial-warrant, kind: meets, expect: { hold: permitted } }
  - { name: e, rule: hold-needs-judicial-warrant, kind: fails, with: { warrant: { kind: immigration-judge } }, expect: { hold: forbidden } }
  - name: f
    rule: hold-needs-judicial-warrant
    kind: boundary
    with:
      warrant: { kind: none }
      subject: { convictions: [{ offense: NY PL 160.15, class: B-felony, date: "1990-01-01" }] }
    expect: { hold: permitted }
"#;

/// A pack root and catalog with one good pack, altered by `edit` (file name, new text).
fn fixture(edits: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("packs/country-us/2017-04-02");
    fs::create_dir_all(pack.join("tests")).unwrap();
    fs::create_dir_all(dir.path().join("catalog")).unwrap();
    fs::write(dir.path().join("catalog/ny.toml"), CATALOG).unwrap();
    fs::write(dir.path().join("catalog/divisions.toml"), DIVISIONS).unwrap();
    fs::write(pack.join("pack.toml"), MANIFEST).unwrap();
    fs::write(pack.join("rules.cedar"), RULES).unwrap();
    fs::write(pack.join("tests/cases.yaml"), CASES).unwrap();
    for (file, text) in edits {
        let path = pack.join(file);
        if text.is_empty() {
            fs::remove_file(&path).unwrap();
        } else {
            fs::write(path, text).unwrap();
        }
    }
    dir
}

fn load(dir: &Path) -> Result<Engine, String> {
    Engine::load(&dir.join("packs"), &dir.join("catalog")).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn refused(edits: &[(&str, &str)], expect: &[&str]) {
    let dir = fixture(edits);
    let message = load(dir.path()).expect_err("the pack must be refused");
    for needle in expect {
        assert!(
            message.contains(needle),
            "`{message}` should mention `{needle}`"
        );
    }
}

#[test]
fn a_good_pack_loads_decides_and_passes_its_cases() {
    let dir = fixture(&[]);
    let engine = load(dir.path()).unwrap();
    let pack = &engine.packs().packs()[0];
    assert_eq!(pack.id, "ocd-division/country:us@2017-04-02");
    assert_eq!(pack.sha256.len(), 64);
    let report = run_cases(&engine, pack);
    assert_eq!(report.cases, 6);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn failing_and_uncovered_cases_are_reported() {
    let wrong = CASES.replace(
        "name: a, rule: hold-permitted, kind: meets, expect: { hold: permitted }",
        "name: a, rule: hold-permitted, kind: meets, expect: { hold: forbidden }",
    );
    let dir = fixture(&[("tests/cases.yaml", &wrong)]);
    let engine = load(dir.path()).unwrap();
    let report = run_cases(&engine, &engine.packs().packs()[0]);
    assert_eq!(report.failures.len(), 1);
    assert!(
        report.failures[0]
            .message
            .contains("expected forbidden, got permitted")
    );

    let no_boundary: String = CASES
        .lines()
        .take_while(|l| !l.contains("name: f"))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = fixture(&[("tests/cases.yaml", &no_boundary)]);
    let engine = load(dir.path()).unwrap();
    let report = run_cases(&engine, &engine.packs().packs()[0]);
    let messages: Vec<_> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        ["rule hold-needs-judicial-warrant has no `boundary` case"]
    );

    // A case whose named rule is said to fire, but does not.
    let mislabelled = CASES.replace(
        "name: d, rule: hold-needs-judicial-warrant, kind: meets",
        "name: d, rule: hold-needs-judicial-warrant, kind: fails",
    );
    let dir = fixture(&[("tests/cases.yaml", &mislabelled)]);
    let engine = load(dir.path()).unwrap();
    let report = run_cases(&engine, &engine.packs().packs()[0]);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.message.contains("should be among the reasons"))
    );
}

#[test]
fn misspelt_words_and_attributes_fail_validation() {
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("\"federal-immigration\"", "\"federal-immigraton\""),
        )],
        &["rules.cedar", "federal-immigraton"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("context.warrant_kind", "context.warant_kind"),
        )],
        &["rules.cedar", "warant_kind"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("Action::\"hold\"", "Action::\"hodl\""),
        )],
        &["rules.cedar", "hodl"],
    );
}

#[test]
fn every_rule_needs_its_annotations() {
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("@instruction(\"You may hold the person.\")\n", ""),
        )],
        &["rules.cedar", "line 2", "@instruction"],
    );
    // Each `unless` clause of a forbid names the exception it is, in order; a permit has none.
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("@exception_2(\"Test § 1(b): a listed conviction\")\n", ""),
        )],
        &["2 `unless` clause(s)", "@exception, @exception_2"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace(
                "@instruction(\"You may hold the person.\")",
                "@instruction(\"You may hold the person.\")\n@exception(\"none\")",
            ),
        )],
        &["@exception belongs on a forbid"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("@citation(\"8 CFR 287.7(a)\")\n", ""),
        )],
        &["rules.cedar", "line 2", "@citation"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("@summary(\"A detainer is a request.\")", "@summary(\"\")"),
        )],
        &["@summary"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("\"hold-needs-judicial-warrant\"", "\"hold-permitted\""),
        )],
        &["used twice"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace(
                "@summary(\"A detainer is a request.\")",
                "@summary(\"x\")\n@sumary(\"y\")",
            ),
        )],
        &["unknown annotation @sumary"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("context.facts.vsc_ever", "context.facts.vsc_5y"),
        )],
        &["vsc_5y"],
    );
    refused(
        &[(
            "rules.cedar",
            &RULES.replace("@id(\"hold-permitted\")", "@id(\"Hold Permitted\")"),
        )],
        &["lower-kebab-case"],
    );
    refused(
        &[(
            "rules.cedar",
            &format!(
                "{RULES}\n@id(\"x\")\n@citation(\"c\")\n@summary(\"s\")\n@instruction(\"i\")\n@notice(\"subject\")\nforbid (principal, action, resource) when {{ false }};"
            ),
        )],
        &["limits"],
    );
    refused(
        &[("rules.cedar", "permit (principal, action, resource")],
        &["rules.cedar", "line"],
    );
}

#[test]
fn manifests_are_strict() {
    refused(
        &[("pack.toml", &MANIFEST.replace("timezone", "timezon"))],
        &["pack.toml", "timezon"],
    );
    refused(
        &[(
            "pack.toml",
            &MANIFEST.replace("America/New_York", "Mars/Olympus"),
        )],
        &["Mars/Olympus"],
    );
    refused(
        &[(
            "pack.toml",
            &MANIFEST.replace("lists = [\"vsc\"]", "lists = [\"vcs\"]"),
        )],
        &["vcs"],
    );
    refused(
        &[("pack.toml", &MANIFEST.replace("2017-04-02", "2017-04-03"))],
        &["belongs in"],
    );
    refused(
        &[(
            "pack.toml",
            &MANIFEST.replace(
                "confidence = \"VERIFIED\"",
                "confidence = \"VERIFIED\"\nsupersedes = \"2010-01-01\"",
            ),
        )],
        &["supersedes"],
    );
    refused(&[("tests/cases.yaml", "")], &["no test cases"]);
}

#[test]
fn duties_limits_and_silence_combine_across_packs() {
    let dir = fixture(&[]);
    let state = dir.path().join("packs/country-us/state-tx/2017-09-01");
    fs::create_dir_all(state.join("tests")).unwrap();
    fs::write(state.join("pack.toml"), "jurisdiction = \"ocd-division/country:us/state:tx\"\ntitle = \"Test state\"\neffective_from = \"2017-09-01\"\ntimezone = \"America/Chicago\"\nconfidence = \"VERIFIED\"\n[[sources]]\ncitation = \"x\"\n").unwrap();
    fs::write(
        state.join("duty.cedar"),
        r#"
@id("hold-required")
@citation("Tex. Code Crim. Proc. art. 2.251(a)")
@summary("Comply with the detainer.")
@instruction("Hold the person as the detainer asks.")
@notice("subject")
permit (principal, action == Action::"hold!required", resource)
when { context.from_kind == AgencyKind::"federal-immigration" };

@id("not-required-with-proof")
@citation("Tex. Code Crim. Proc. art. 2.251(b)")
@summary("Not required when status is proved.")
@instruction("You need not hold the person.")
forbid (principal, action == Action::"hold!required", resource)
when { context.status_proof_shown };
"#,
    )
    .unwrap();
    fs::write(state.join("tests/t.yaml"), "base: {}\ncases: []\n").unwrap();
    let engine = load(dir.path()).unwrap();
    let mut request: serde_json::Value = serde_json::from_str(
        r#"{
        "id": "t", "received_at": "2018-03-01T09:00:00-06:00",
        "jurisdiction": "ocd-division/country:us/state:tx/place:houston",
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": "HARRIS-CO", "kind": "sheriff" },
        "warrant": { "kind": "judicial" },
        "acts": ["hold", "share-records"],
        "subject": { "id": "synthetic-1" }
    }"#,
    )
    .unwrap();
    let decide = |v: &serde_json::Value| {
        engine
            .decide(&Request::from_value(v.clone()).unwrap())
            .unwrap()
    };
    let d = decide(&request);
    assert_eq!(d.packs.len(), 2);
    assert_eq!(d.acts[0].outcome, Outcome::Required);
    let rules: Vec<_> = d.acts[0].reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules, ["hold-required", "hold-permitted"]);
    assert_eq!(d.acts[0].limits[0].notice, ["subject"]);
    assert_eq!(
        d.acts[0].instruction.as_deref(),
        Some("Hold the person as the detainer asks."),
        "the most local law's instruction"
    );
    // The restriction applied and its first exception excused it: a requirement met.
    let met: Vec<_> = d.acts[0]
        .met
        .iter()
        .map(|r| (r.rule.as_str(), r.summary.as_str()))
        .collect();
    assert_eq!(
        met,
        [(
            "hold-needs-judicial-warrant",
            "Test § 1(a): a judicial warrant"
        )]
    );
    // No pack speaks of sharing records: refused until a person decides, naming each silent
    // pack.
    assert_eq!(d.acts[1].outcome, Outcome::Forbidden);
    assert_eq!(d.acts[1].reasons.len(), 2);
    assert!(d.acts[1].reasons.iter().all(|r| r.rule == "no-law-speaks"));
    assert!(d.acts[1].met.is_empty());
    assert!(
        d.warnings.iter().any(|w| w
            == "share-records: no law in force speaks to this act; refused until a person decides"),
        "{:?}",
        d.warnings
    );

    request["subject"]["status_proof_shown"] = true.into();
    let d = decide(&request);
    assert_eq!(d.acts[0].outcome, Outcome::Permitted);
    let rules: Vec<_> = d.acts[0].reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules, ["hold-permitted", "not-required-with-proof"]);
    assert!(d.acts[0].limits.is_empty());

    request["warrant"]["kind"] = "none".into();
    request["subject"]["status_proof_shown"] = false.into();
    let d = decide(&request);
    assert_eq!(
        d.acts[0].outcome,
        Outcome::Forbidden,
        "a forbid beats a duty"
    );
    assert!(d.warnings.iter().any(|w| w.contains("requires it")));
    assert_eq!(d.acts[0].reasons[0].facts["warrant_kind"], "none");
}

/// A state pack from 2017-09-01 over the fixture's federal pack, with `earlier` added to its
/// manifest, and a Houston request of `date` asking `acts`.
fn before_first_version(earlier: &str, date: &str, acts: &[&str]) -> comity_model::Decision {
    let dir = fixture(&[]);
    let state = dir.path().join("packs/country-us/state-tx/2017-09-01");
    fs::create_dir_all(state.join("tests")).unwrap();
    fs::write(
        state.join("pack.toml"),
        format!("jurisdiction = \"ocd-division/country:us/state:tx\"\ntitle = \"Test state\"\neffective_from = \"2017-09-01\"\ntimezone = \"America/Chicago\"\nconfidence = \"VERIFIED\"\n{earlier}\n[[sources]]\ncitation = \"x\"\n"),
    )
    .unwrap();
    fs::write(
        state.join("rules.cedar"),
        "@id(\"no-holds\")\n@citation(\"Test § 2\")\n@summary(\"No holds.\")\n@instruction(\"Do not hold.\")\nforbid (principal, action == Action::\"hold\", resource);\n",
    )
    .unwrap();
    fs::write(state.join("tests/t.yaml"), "base: {}\ncases: []\n").unwrap();
    let engine = load(dir.path()).unwrap();
    let request = Request::from_value(serde_json::json!({
        "id": "t", "received_at": format!("{date}T09:00:00-05:00"),
        "jurisdiction": "ocd-division/country:us/state:tx/place:houston",
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": "HARRIS-CO", "kind": "sheriff" },
        "warrant": { "kind": "judicial" },
        "acts": acts,
        "subject": { "id": "synthetic-1" }
    }))
    .unwrap();
    engine.decide(&request).unwrap()
}

#[test]
fn law_before_a_first_version_is_refused_unless_the_pack_says_there_was_none() {
    let rules = |d: &comity_model::Decision| -> Vec<(String, Outcome)> {
        d.acts
            .iter()
            .map(|a| (a.reasons[0].rule.clone(), a.outcome))
            .collect()
    };
    // Not said: what Texas allowed before its first version cannot be determined.
    let d = before_first_version("", "2017-06-01", &["hold"]);
    assert_eq!(
        rules(&d),
        [("law-not-encoded".to_owned(), Outcome::Forbidden)]
    );
    assert_eq!(
        d.acts[0].reasons[0].pack,
        "ocd-division/country:us/state:tx@before-2017-09-01"
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("before 2017-09-01 is not encoded"))
    );
    // Said to be none: federal law decides; the act it excepts is still refused.
    let d = before_first_version("earlier_law = \"none\"", "2017-06-01", &["hold"]);
    assert_eq!(
        rules(&d),
        [("hold-permitted".to_owned(), Outcome::Permitted)]
    );
    let d = before_first_version(
        "earlier_law = \"none\"\nearlier_law_except = [\"hold\"]",
        "2017-06-01",
        &["hold", "share-records"],
    );
    assert_eq!(d.acts[0].reasons[0].rule, "law-not-encoded");
    assert_eq!(d.acts[1].reasons[0].rule, "no-law-speaks");
    // From the first day the pack decides.
    let d = before_first_version("", "2017-09-01", &["hold"]);
    assert_eq!(rules(&d), [("no-holds".to_owned(), Outcome::Forbidden)]);
    // A local place without a pack of its own is decided with a warning saying so.
    assert!(
        d.warnings.iter().any(|w| w.contains(
            "no pack encodes the law of ocd-division/country:us/state:tx/place:houston itself"
        )),
        "{:?}",
        d.warnings
    );
}

#[test]
fn earlier_law_is_said_only_on_a_first_version_and_excepts_only_from_none() {
    refused(
        &[(
            "pack.toml",
            &MANIFEST.replace(
                "confidence = \"VERIFIED\"",
                "confidence = \"VERIFIED\"\nearlier_law_except = [\"hold\"]",
            ),
        )],
        &["earlier_law_except names acts excepted"],
    );
    refused(
        &[(
            "pack.toml",
            &MANIFEST.replace(
                "confidence = \"VERIFIED\"",
                "confidence = \"VERIFIED\"\nsupersedes = \"2010-01-01\"\nearlier_law = \"none\"",
            ),
        )],
        &["earlier_law belongs on a jurisdiction's first version"],
    );
}

/// A version of the fixture's law from 2019-01-01 that amends it: it adds a rule on office
/// space, with its cases, and otherwise states nothing.
const AMENDMENT: &str = r#"
jurisdiction = "ocd-division/country:us"
title = "Test federal pack, amended"
effective_from = "2019-01-01"
amends = "2017-04-02"
timezone = "America/New_York"
confidence = "VERIFIED"

[[sources]]
citation = "Test amendment"
"#;

const AMENDMENT_RULES: &str = r#"
@id("no-office-space")
@citation("Test amendment § 2")
@summary("No office space for immigration enforcement.")
@instruction("Refuse office space.")
forbid (principal, action == Action::"office-space", resource)
when { context.from_kind == AgencyKind::"federal-immigration" };
"#;

const AMENDMENT_CASES: &str = r#"
base:
  id: t
  received_at: "2019-06-04T09:00:00-04:00"
  jurisdiction: ocd-division/country:us/state:oh
  from: { agency: DHS-ICE-ERO, kind: federal-immigration }
  to: { agency: JAIL, kind: sheriff }
  acts: [office-space]
  subject: { id: synthetic-1 }
cases:
  - { name: g, rule: no-office-space, kind: fails, expect: { office-space: forbidden } }
  - { name: h, rule: no-office-space, kind: meets, with: { from: { agency: FBI, kind: federal-other } }, expect: { office-space: forbidden } }
  - { name: i, rule: no-office-space, kind: boundary, with: { from: { agency: DHS-ICE-HSI, kind: federal-immigration } }, expect: { office-space: forbidden } }
"#;

/// The fixture with the amendment beside it, `header` lines added to its manifest's and its
/// directory altered by `edits` (paths relative to the amendment).
fn amended(header: &str, edits: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = fixture(&[]);
    let version = dir.path().join("packs/country-us/2019-01-01");
    fs::create_dir_all(version.join("tests")).unwrap();
    fs::write(version.join("pack.toml"), with_header(header)).unwrap();
    fs::write(version.join("office.cedar"), AMENDMENT_RULES).unwrap();
    fs::write(version.join("tests/office.yaml"), AMENDMENT_CASES).unwrap();
    for (file, text) in edits {
        if text.is_empty() {
            fs::remove_file(version.join(file)).unwrap();
        } else {
            fs::write(version.join(file), text).unwrap();
        }
    }
    dir
}

/// The amendment's manifest with `line` after its `amends`.
fn with_header(line: &str) -> String {
    AMENDMENT.replace(
        "amends = \"2017-04-02\"\n",
        &format!("amends = \"2017-04-02\"\n{line}\n"),
    )
}

#[test]
fn an_amendment_inherits_what_it_does_not_change_and_its_inherited_cases_hold_under_it() {
    let dir = amended("", &[]);
    let engine = load(dir.path()).unwrap();
    let [base, amendment] = engine.packs().packs() else {
        panic!("two versions")
    };
    assert_eq!(amendment.id, "ocd-division/country:us@2019-01-01");
    let written: Vec<(&str, String)> = amendment
        .rules
        .values()
        .map(|r| (r.id.as_str(), r.written_in.to_string()))
        .collect();
    assert_eq!(
        written,
        [
            ("hold-needs-judicial-warrant", "2017-04-02".to_owned()),
            ("hold-permitted", "2017-04-02".to_owned()),
            ("no-office-space", "2019-01-01".to_owned()),
        ]
    );
    // Facts and sources are inherited too; its own sources come after.
    assert!(amendment.fact_names.contains(&"vsc_ever".to_owned()));
    let sources: Vec<&str> = amendment
        .manifest
        .sources
        .iter()
        .map(|s| s.citation.as_str())
        .collect();
    assert_eq!(sources, ["8 CFR 287.7", "Test amendment"]);
    // The six inherited cases run moved into 2019, beside its own three.
    let report = run_cases(&engine, amendment);
    assert_eq!(report.cases, 9);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(run_cases(&engine, base).cases, 6);
    assert!(engine.packs().copies().is_empty());
    // A request of 2019 is decided by the amendment's inherited rule.
    let mut request: serde_json::Value =
        serde_yaml_ng::from_str::<serde_json::Value>(CASES).unwrap()["base"].clone();
    request["received_at"] = "2019-03-01T09:00:00-05:00".into();
    let decision = engine
        .decide(&Request::from_value(request).unwrap())
        .unwrap();
    assert_eq!(decision.acts[0].outcome, Outcome::Permitted);
    assert_eq!(decision.acts[0].reasons[0].pack, amendment.id);
}

#[test]
fn an_inherited_case_the_amendment_changes_fails_naming_the_move() {
    // The amendment narrows the hold's exceptions to a judicial warrant alone: case `f`
    // (no warrant, a listed conviction) comes out otherwise under it.
    let narrowed = RULES
        .replace(
            "unless { context.warrant_kind == WarrantKind::\"judicial\" }\nunless { context.facts.vsc_ever };",
            "unless { context.warrant_kind == WarrantKind::\"judicial\" };",
        )
        .replace("@exception_2(\"Test § 1(b): a listed conviction\")\n", "");
    assert_ne!(narrowed, RULES);
    let dir = amended("", &[("rules.cedar", &narrowed)]);
    let engine = load(dir.path()).unwrap();
    let amendment = &engine.packs().packs()[1];
    let report = run_cases(&engine, amendment);
    let failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.case.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "f");
    assert!(
        failed[0]
            .1
            .starts_with("(inherited, moved 364 days later) hold: expected permitted"),
        "{}",
        failed[0].1
    );
}

#[test]
fn an_amendment_repeals_by_naming_files() {
    let dir = amended("repeals = [\"rules.cedar\", \"tests/cases.yaml\"]", &[]);
    let engine = load(dir.path()).unwrap();
    let amendment = &engine.packs().packs()[1];
    assert_eq!(
        amendment.rules.keys().collect::<Vec<_>>(),
        ["no-office-space"]
    );
    assert_eq!(run_cases(&engine, amendment).cases, 3);
}

#[test]
fn an_amendment_repeals_a_fact_no_rule_of_it_reads() {
    let dir = amended(
        "repeals = [\"rules.cedar\", \"tests/cases.yaml\", \"facts.vsc_ever\"]",
        &[],
    );
    let engine = load(dir.path()).unwrap();
    let amendment = &engine.packs().packs()[1];
    assert!(!amendment.fact_names.contains(&"vsc_ever".to_owned()));
    assert!(
        engine.packs().packs()[0]
            .fact_names
            .contains(&"vsc_ever".to_owned())
    );
    let dir = amended("repeals = [\"facts.nope\"]", &[]);
    let errors = load(dir.path()).unwrap_err();
    assert!(
        errors.contains("repeals `facts.nope`, which the version it amends does not declare"),
        "{errors}"
    );
}

#[test]
fn an_amendment_must_name_what_it_amends_and_repeals() {
    let cases: [(String, &[&str]); 4] = [
        (
            with_header("repeals = [\"nope.cedar\"]"),
            &["repeals `nope.cedar`", "2017-04-02"],
        ),
        (
            AMENDMENT.replace("amends = \"2017-04-02\"", "amends = \"2010-01-01\""),
            &["amends 2010-01-01, but there is no such version"],
        ),
        (
            with_header("supersedes = \"2017-04-02\""),
            &["either supersedes", "or amends"],
        ),
        (
            AMENDMENT.replace("America/New_York", "America/Chicago"),
            &["timezone", "America/New_York"],
        ),
    ];
    for (manifest, expect) in cases {
        let dir = amended("", &[("pack.toml", &manifest)]);
        let message = load(dir.path()).expect_err("the amendment must be refused");
        for needle in expect {
            assert!(
                message.contains(needle),
                "`{message}` should mention `{needle}`"
            );
        }
    }
    // A whole version may not repeal: it has nothing to inherit.
    refused(
        &[("pack.toml", &format!("repeals = [\"x.cedar\"]\n{MANIFEST}"))],
        &["repeals belongs on a version that amends"],
    );
}

#[test]
fn a_rule_file_written_again_word_for_word_is_a_copy() {
    // In an amendment, and in a version that supersedes the one before whole.
    let dir = amended("", &[("rules.cedar", RULES)]);
    let engine = load(dir.path()).unwrap();
    assert_eq!(
        engine.packs().copies(),
        [("ocd-division/country:us@2019-01-01", vec!["rules.cedar"])]
    );
    let whole = AMENDMENT.replace("amends = ", "supersedes = ");
    let dir = amended(
        "",
        &[
            (
                "pack.toml",
                &format!("{whole}{}", &MANIFEST[MANIFEST.find("[facts").unwrap()..]),
            ),
            ("rules.cedar", RULES),
            (
                "tests/cases.yaml",
                &CASES.replace("2018-03-01", "2019-03-01"),
            ),
        ],
    );
    let engine = load(dir.path()).unwrap();
    assert_eq!(
        engine.packs().copies(),
        [("ocd-division/country:us@2019-01-01", vec!["rules.cedar"])]
    );
}

#[test]
fn an_amendments_digest_changes_with_what_it_inherits() {
    let digest = |rules: &str| {
        let dir = amended("", &[]);
        fs::write(
            dir.path().join("packs/country-us/2017-04-02/rules.cedar"),
            rules,
        )
        .unwrap();
        load(dir.path()).unwrap().packs().packs()[1].sha256.clone()
    };
    assert_ne!(digest(RULES), digest(&format!("// reviewed\n{RULES}")));
    assert_eq!(digest(RULES), digest(RULES));
}

/// The statute text beside the fixture's rule file.
const STATUTE: &str = r#"
section = "8 CFR 287.7; Test § 1"
in_force_on = "2017-04-02"
source = "a test"
wording = "mixed"
confidence = "UNCONFIRMED"

[[paragraphs]]
ref = "(a)"
text = "A detainer is a request."
rules = ["hold-permitted"]
verbatim = true

[[paragraphs]]
ref = "§ 1"
text = "Holds need a judicial warrant or a listed conviction."
rules = ["hold-needs-judicial-warrant"]
verbatim = false
"#;

#[test]
fn statute_text_sits_beside_its_rules_and_amendments_inherit_it() {
    let dir = amended("", &[]);
    fs::write(
        dir.path()
            .join("packs/country-us/2017-04-02/rules.statute.toml"),
        STATUTE,
    )
    .unwrap();
    let engine = load(dir.path()).unwrap();
    let [base, amendment] = engine.packs().packs() else {
        panic!("two versions")
    };
    for pack in [base, amendment] {
        let [statute] = &pack.statutes[..] else {
            panic!("one statute file")
        };
        assert_eq!(statute.rule_file(), "rules.cedar");
        let verbatim: Vec<bool> = statute
            .statute
            .paragraphs
            .iter()
            .map(|p| p.is_verbatim(statute.statute.wording))
            .collect();
        assert_eq!(verbatim, [true, false]);
    }
    assert!(base.without_statute().is_empty());
    assert_eq!(amendment.without_statute(), ["office.cedar"]);
}

#[test]
fn a_statute_file_that_does_not_match_its_rules_is_refused_naming_it() {
    let cases: [(String, &str); 5] = [
        (
            STATUTE.replace("\"hold-permitted\"", "\"hold-allowed\""),
            "`hold-allowed` is not a rule of the rule file beside it",
        ),
        (
            STATUTE.replace("2017-04-02", "2016-01-01"),
            "in_force_on: the text is of the version it sits in, 2017-04-02",
        ),
        (
            STATUTE.replace("\"mixed\"", "\"verbatim\""),
            "`verbatim` is given exactly when wording = \"mixed\"",
        ),
        (
            STATUTE.replace("text = \"A detainer is a request.\"", "text = \"\""),
            "each has a ref and a text",
        ),
        (format!("{STATUTE}\nextra = 1\n"), "unknown field `extra`"),
    ];
    for (text, needle) in cases {
        refused(
            &[("rules.statute.toml", &text)],
            &["rules.statute.toml", needle],
        );
    }
    refused(
        &[("other.statute.toml", STATUTE)],
        &["other.statute.toml", "no rule file of the same name"],
    );
}

/// The fixture with a Texas pack whose manifest ends in `preempts` and a Houston pack that
/// forbids holds without a judicial warrant and attaches a notice and an approval to the
/// holds it allows.
fn preempting(preempts: &str) -> Engine {
    let dir = fixture(&[]);
    let write = |rel: &str, text: &str| {
        let path = dir.path().join("packs").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "country-us/state-tx/2017-09-01/pack.toml",
        &format!(
            "jurisdiction = \"ocd-division/country:us/state:tx\"\ntitle = \"Test state\"\neffective_from = \"2017-09-01\"\ntimezone = \"America/Chicago\"\nconfidence = \"VERIFIED\"\n[[sources]]\ncitation = \"x\"\n{preempts}"
        ),
    );
    write(
        "country-us/state-tx/2017-09-01/state.cedar",
        "@id(\"no-hold-of-children\")\n@citation(\"Test state § 2\")\n@summary(\"s\")\n@instruction(\"i\")\nforbid (principal, action == Action::\"hold\", resource) when { context.to_kind == LocalKind::\"probation\" };\n",
    );
    write(
        "country-us/state-tx/2017-09-01/tests/t.yaml",
        "base: {}\ncases: []\n",
    );
    write(
        "country-us/state-tx/place-houston/2017-09-01/pack.toml",
        "jurisdiction = \"ocd-division/country:us/state:tx/place:houston\"\ntitle = \"Test city\"\neffective_from = \"2017-09-01\"\ntimezone = \"America/Chicago\"\nconfidence = \"VERIFIED\"\n[[sources]]\ncitation = \"y\"\n",
    );
    write(
        "country-us/state-tx/place-houston/2017-09-01/city.cedar",
        r#"
@id("city-hold-needs-judicial-warrant")
@citation("Houston Code § 1")
@summary("No holds without a judicial warrant.")
@instruction("Release on schedule.")
@exception("Houston Code § 1: a judicial warrant")
forbid (principal, action == Action::"hold", resource)
unless { context.warrant_kind == WarrantKind::"judicial" };

@id("city-hold-with-notice")
@citation("Houston Code § 2")
@summary("A hold is told to the person and approved by the chief.")
@instruction("Tell the person; get the chief's approval.")
@notice("subject")
@approval("chief")
permit (principal, action == Action::"hold", resource)
when { context.from_kind == AgencyKind::"federal-immigration" };
"#,
    );
    write(
        "country-us/state-tx/place-houston/2017-09-01/tests/t.yaml",
        "base: {}\ncases: []\n",
    );
    load(dir.path()).unwrap()
}

fn houston_hold(engine: &Engine, warrant: &str, to: &str) -> comity_model::Decision {
    let request = serde_json::json!({
        "id": "t", "received_at": "2018-03-01T09:00:00-06:00",
        "jurisdiction": "ocd-division/country:us/state:tx/place:houston",
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": "HOUSTON-PD", "kind": to },
        "warrant": { "kind": warrant },
        "acts": ["hold"],
        "subject": { "id": "synthetic-1", "convictions": [{ "offense": "NY PL 160.15", "class": "B-felony", "date": "1990-01-01" }] }
    });
    engine
        .decide(&Request::from_value(request).unwrap())
        .unwrap()
}

const TX_PREEMPTS: &str = "[[preempts]]\nacts = [\"hold\", \"transfer\"]\nlower_may = \"add-notices\"\ncitation = \"Tex. Gov't Code § 752.053(a)\"\nsummary = \"No local policy may limit the enforcement of immigration laws.\"\n";

#[test]
fn a_law_that_preempts_sets_aside_the_forbids_of_the_law_below_it() {
    // Without pre-emption, the city's forbid wins.
    let plain = preempting("");
    let d = houston_hold(&plain, "administrative", "police");
    assert_eq!(d.acts[0].outcome, Outcome::Forbidden);
    assert_eq!(
        d.acts[0].reasons[0].rule,
        "city-hold-needs-judicial-warrant"
    );

    let engine = preempting(TX_PREEMPTS);
    let d = houston_hold(&engine, "administrative", "police");
    let hold = &d.acts[0];
    assert_eq!(hold.outcome, Outcome::Permitted);
    let reasons: Vec<(&str, &str)> = hold
        .reasons
        .iter()
        .map(|r| (r.rule.as_str(), r.citation.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("hold-permitted", "8 CFR 287.7(a)"),
            ("city-hold-with-notice", "Houston Code § 2"),
            ("pre-empted", "Tex. Gov't Code § 752.053(a)"),
        ]
    );
    assert!(
        hold.reasons[2]
            .summary
            .contains("sets aside city-hold-needs-judicial-warrant (Houston Code § 1)")
    );
    assert!(d.warnings.iter().any(|w| w.contains("city-hold-needs-judicial-warrant of ocd-division/country:us/state:tx/place:houston@2017-09-01 is set aside")), "{:?}", d.warnings);
    // The city may still add a notice; its approval is struck.
    assert_eq!(hold.limits.len(), 1, "{:?}", hold.limits);
    assert_eq!(hold.limits[0].notice, ["subject"]);
    assert_eq!(hold.limits[0].approval, None);

    // `nothing`: the city's notice is struck too.
    let strict = preempting(&TX_PREEMPTS.replace("add-notices", "nothing"));
    let d = houston_hold(&strict, "administrative", "police");
    assert_eq!(d.acts[0].outcome, Outcome::Permitted);
    assert!(d.acts[0].limits.is_empty(), "{:?}", d.acts[0].limits);

    // The pre-empting law's own forbids, and the federal law above it, still bind.
    let d = houston_hold(&engine, "judicial", "probation");
    assert_eq!(d.acts[0].outcome, Outcome::Forbidden);
    assert_eq!(d.acts[0].reasons[0].rule, "no-hold-of-children");
    // Acts it does not name are not pre-empted.
    let other = preempting(&TX_PREEMPTS.replace("[\"hold\", \"transfer\"]", "[\"transfer\"]"));
    assert_eq!(
        houston_hold(&other, "administrative", "police").acts[0].outcome,
        Outcome::Forbidden
    );
}

#[test]
fn a_preemption_names_its_acts_citation_and_summary() {
    for bad in [
        TX_PREEMPTS.replace("[\"hold\", \"transfer\"]", "[]"),
        TX_PREEMPTS.replace("Tex. Gov't Code § 752.053(a)", ""),
        TX_PREEMPTS.replace("add-notices", "everything"),
    ] {
        refused(
            &[("pack.toml", &format!("{MANIFEST}{bad}"))],
            &["pack.toml"],
        );
    }
}

#[test]
fn a_notice_owed_whatever_the_outcome_stands_alone_on_a_permit() {
    let owed = "@id(\"copy\")\n@citation(\"c\")\n@summary(\"s\")\n@instruction(\"i\")\n@owes_notice(\"subject\")\n";
    for (rule, needle) in [
        (
            format!("{owed}forbid (principal, action == Action::\"hold\", resource);"),
            "@owes_notice belongs on a permit of its own",
        ),
        (
            format!(
                "{owed}@notice(\"counsel\")\npermit (principal, action == Action::\"hold\", resource);"
            ),
            "@owes_notice belongs on a permit of its own",
        ),
    ] {
        refused(
            &[("rules.cedar", &format!("{RULES}\n{rule}"))],
            &["rules.cedar", needle],
        );
    }
    // Alone on a permit it permits nothing: the hold is still forbidden without a warrant,
    // and the notice is owed all the same.
    let dir = fixture(&[(
        "rules.cedar",
        &format!("{RULES}\n{owed}permit (principal, action == Action::\"hold\", resource);"),
    )]);
    let engine = load(dir.path()).unwrap();
    let mut request: serde_json::Value =
        serde_yaml_ng::from_str::<serde_json::Value>(CASES).unwrap()["base"].clone();
    request["warrant"]["kind"] = "none".into();
    let d = engine
        .decide(&Request::from_value(request.clone()).unwrap())
        .unwrap();
    assert_eq!(d.acts[0].outcome, Outcome::Forbidden);
    assert_eq!(d.acts[0].limits.len(), 1);
    assert_eq!(d.acts[0].limits[0].notice, ["subject"]);
    assert_eq!(d.acts[0].limits[0].rule, "copy");
    request["warrant"]["kind"] = "judicial".into();
    let d = engine
        .decide(&Request::from_value(request).unwrap())
        .unwrap();
    assert_eq!(d.acts[0].outcome, Outcome::Permitted);
    let rules: Vec<_> = d.acts[0].reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["hold-permitted"],
        "a rule that owes a notice is no reason to permit"
    );
    assert!(d.acts[0].limits.iter().any(|l| l.notice == ["subject"]));
}
