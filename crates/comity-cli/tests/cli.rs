//! The `comity` command as a person or a script uses it: the documented decision shape,
//! every pack's cases, exit codes, and errors that name the field and the value.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;
use common::{copy_law, repo};

fn comity(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args(args)
        .current_dir(repo())
        .env_remove("COMITY_PACKS")
        .env_remove("COMITY_CATALOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("comity runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write");
    child.wait_with_output().expect("comity ends")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn example() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/nyc-doc-detainer.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn decide_prints_the_documented_decision() {
    let out = comity(&["decide", "examples/nyc-doc-detainer.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["request"], "nyc-doc-2018-000123");
    assert_eq!(d["at"], "2018-03-02T14:05:00-05:00");
    let packs: Vec<&str> = d["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        packs.contains(&"ocd-division/country:us@2017-04-02"),
        "{packs:?}"
    );
    assert!(
        packs.contains(&"ocd-division/country:us/state:ny/place:new_york@2017-12-01"),
        "{packs:?}"
    );
    for p in d["packs"].as_array().unwrap() {
        assert_eq!(p["sha256"].as_str().unwrap().len(), 64);
    }
    let acts = d["acts"].as_array().unwrap();
    let names: Vec<&str> = acts.iter().map(|a| a["act"].as_str().unwrap()).collect();
    assert_eq!(names, ["hold", "notify-release"], "in the order asked");
    for a in acts {
        assert!(["required", "permitted", "forbidden"].contains(&a["outcome"].as_str().unwrap()));
        let reasons = a["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        for r in reasons {
            for key in ["rule", "pack", "citation", "summary"] {
                assert!(!r[key].as_str().unwrap().is_empty(), "{key} in {r}");
            }
        }
        assert!(a["limits"].is_array());
    }
    // An administrative warrant is no judicial warrant: NYC DOC may not honor the detainer.
    assert_eq!(acts[0]["outcome"], "forbidden");
    assert!(
        acts[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["citation"].as_str().unwrap().contains("9-131"))
    );
}

#[test]
fn every_pack_is_valid_and_passes_its_cases() {
    let out = comity(&["check"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = comity(&["test"], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .ends_with(" passed, 0 failed"),
        "{stdout}"
    );
    let out = comity(&["test", "--json"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], 0);
    let packs = report["packs"].as_array().unwrap();
    let jurisdictions = [
        "country:us@",
        "state:ny@",
        "place:new_york@",
        "state:ca@",
        "state:tx@",
    ];
    for j in jurisdictions {
        assert!(
            packs
                .iter()
                .any(|p| p["pack"].as_str().unwrap().contains(j)),
            "no pack for {j}"
        );
    }
}

#[test]
fn bad_input_exits_2_naming_field_and_value() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/colour", "red".into(), "colour"),
        ("/acts/1", "hodl".into(), "acts[1]: unknown Act `hodl`"),
        (
            "/to/kind",
            "jail".into(),
            "to.kind: unknown LocalKind `jail`",
        ),
        (
            "/received_at",
            "2018-03-02 14:05".into(),
            "received_at: `2018-03-02 14:05`",
        ),
        (
            "/subject/convictions/0/offense",
            "NY PL 999.99".into(),
            "subject.convictions[0].offense: unknown offense `NY PL 999.99`",
        ),
        (
            "/jurisdiction",
            "ocd-division/country:mx".into(),
            "jurisdiction: `ocd-division/country:mx`",
        ),
        (
            "/jurisdiction",
            "ocd-division/country:us/state:ny/place:new_yrok".into(),
            "jurisdiction: `ocd-division/country:us/state:ny/place:new_yrok` is not a division comity knows",
        ),
        (
            "/custody/release_at",
            "9999-12-30T10:00:00-05:00".into(),
            "custody.release_at: `9999-12-30T10:00:00-05:00` is outside the years comity decides (1900–2199)",
        ),
        ("/subject/id", "x".repeat(201).into(), "subject.id: "),
        (
            "/subject/convictions/0/date",
            "2018-03-03".into(),
            "subject.convictions[0].date: `2018-03-03` is after the request was received (2018-03-02)",
        ),
    ];
    for (pointer, value, message) in cases {
        let mut request = example();
        match request.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                request[pointer.trim_start_matches('/')] = value;
            }
        }
        let out = comity(&["decide", "-"], Some(&request.to_string()));
        assert_eq!(out.status.code(), Some(2), "{pointer}");
        assert!(
            out.stdout.is_empty(),
            "nothing printed for a refused request"
        );
        assert!(
            text(&out.stderr).contains(message),
            "{pointer}: {}",
            text(&out.stderr)
        );
    }
    let out = comity(&["decide", "no-such-file.json"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = comity(&["decide"], None);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn unknown_offenses_can_be_allowed_with_a_warning() {
    let mut request = example();
    request["subject"]["convictions"][0]["offense"] = "NY PL 999.99".into();
    let out = comity(
        &["decide", "--allow-unknown-offenses", "-"],
        Some(&request.to_string()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(d["warnings"][0].as_str().unwrap().contains("NY PL 999.99"));
}

#[test]
fn unknown_places_can_be_allowed_with_a_warning_and_law_of_their_known_parts() {
    let mut request = example();
    request["jurisdiction"] = "ocd-division/country:us/state:ny/place:new_yrok".into();
    let out = comity(
        &["decide", "--allow-unknown-places", "-"],
        Some(&request.to_string()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packs: Vec<&str> = d["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        packs,
        [
            "ocd-division/country:us@2017-04-02",
            "ocd-division/country:us/state:ny@2017-09-15"
        ]
    );
    let warning = d["warnings"][0].as_str().unwrap();
    assert!(warning.contains("place:new_yrok"), "{warning}");
}

#[test]
fn a_fact_warning_is_given_only_for_acts_that_read_the_fact() {
    let mut request = example();
    request["custody"]
        .as_object_mut()
        .unwrap()
        .remove("arrested_at");
    // Status information reads no conviction look-back; the release notice does.
    request["acts"] = serde_json::json!(["share-status"]);
    let out = comity(&["decide", "-"], Some(&request.to_string()));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(d.get("warnings").is_none(), "{d:#}");
    request["acts"] = serde_json::json!(["share-status", "notify-release"]);
    let out = comity(&["decide", "-"], Some(&request.to_string()));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<&str> = d["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w
                .starts_with("notify-release: fact `nyc_vsc_5y`: custody.arrested_at is absent")),
        "{warnings:?}"
    );
}

#[test]
fn explain_names_the_binding_deadline_the_requirements_met_and_what_to_do() {
    let mut request = example();
    request["received_at"] = "2019-03-01T14:05:00-05:00".into();
    request["warrant"] = serde_json::json!({ "kind": "judicial" });
    request["subject"]["convictions"][0]["date"] = "2016-05-01".into();
    request["subject"]["pending_charges"] = serde_json::json!([]);
    request["custody"] = serde_json::json!({ "status": "in-custody",
        "arrested_at": "2019-02-28T22:10:00-05:00", "release_at": "2019-03-01T10:00:00-05:00" });
    request["acts"] = serde_json::json!(["hold"]);
    let out = comity(&["decide", "-"], Some(&request.to_string()));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hold = &d["acts"][0];
    assert_eq!(hold["outcome"], "permitted");
    // Released Friday 10:00: the I-247A's own 48 hours end Sunday; 8 CFR 287.7(d), which
    // skips the weekend, ends Tuesday. The earliest binds.
    let limits = hold["limits"].as_array().unwrap();
    let binding: Vec<&Value> = limits.iter().filter(|l| l["binding"] == true).collect();
    assert_eq!(binding.len(), 1, "{limits:#?}");
    assert_eq!(binding[0]["hold_until"], "2019-03-03T10:00:00-05:00");
    assert_eq!(binding[0]["citation"], "Form I-247A (rev. 02/17)");
    let met: Vec<&str> = hold["met"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        met.contains(&"nyc-doc-detainer-needs-judicial-warrant"),
        "{met:?}"
    );
    assert!(hold["instruction"].as_str().unwrap().len() > 10);

    let out = comity(&["explain", "-"], Some(&request.to_string()));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("release by 2019-03-03T10:00:00-05:00 unless taken into custody: BINDING, the earliest of 2 hold limits"),
        "{shown}"
    );
    assert!(shown.contains("requirements met:"), "{shown}");
    assert!(shown.contains("§ 9-131(b)(1)(i): "), "{shown}");
    assert!(shown.contains("What to do: "), "{shown}");
}

#[test]
fn json_lines_in_json_lines_out_and_explain_for_people() {
    let one = example().to_string();
    let mut second = example();
    second["id"] = "nyc-doc-2018-000124".into();
    let out = comity(&["decide", "-"], Some(&format!("{one}\n{second}\n")));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["request"], "nyc-doc-2018-000124");

    let out = comity(&["explain", "examples/nyc-doc-detainer.json"], None);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(shown.contains("hold: FORBIDDEN"), "{shown}");
    assert!(shown.contains("NYC Admin. Code § 9-131"), "{shown}");
    assert!(shown.contains("facts: "), "{shown}");
}

#[test]
fn several_files_are_decided_and_errors_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let one = example().to_string();
    let lines = (0..7)
        .map(|i| {
            let mut r = example();
            r["id"] = format!("synthetic-{i}").into();
            r.to_string()
        })
        .collect::<Vec<_>>();
    let good = write("good.jsonl", &lines.join("\n"));
    let single = write("one.json", &one);
    let out = comity(&["decide", &single, &good], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("{\n"),
        "the first file's decision, pretty"
    );
    assert_eq!(shown.matches("\"request\":").count(), 8, "{shown}");

    // Broken JSON: the file, the line and the column.
    let pretty = serde_json::to_string_pretty(&example()).unwrap();
    let truncated = write("truncated.json", &pretty[..300]);
    let out = comity(&["decide", &single, &truncated], None);
    assert_eq!(out.status.code(), Some(2));
    let error = text(&out.stderr);
    assert!(
        error.starts_with(&format!("error: {truncated}: EOF while parsing")),
        "{error}"
    );
    let last_line = pretty[..300].lines().count();
    assert!(
        error.contains(&format!(" at line {last_line} column ")),
        "{error}"
    );
    assert!(!error.contains('?'), "{error}");
    // A request the law refuses to read (an unknown offense), on line 6 of JSON lines, after
    // a blank line: line 6.
    let mut bad = lines.clone();
    bad.insert(2, String::new());
    bad[5] = bad[5].replace("NY PL 160.15", "NY PL 999.99");
    let bad = write("bad.jsonl", &bad.join("\n"));
    for command in ["decide", "explain", "ingest"] {
        let out = Command::new(env!("CARGO_BIN_EXE_comity"))
            .args([command, &good, &bad])
            .current_dir(dir.path())
            .env("COMITY_PACKS", repo().join("packs"))
            .env_remove("COMITY_CATALOG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let error = text(&out.stderr);
        assert!(
            error.starts_with(&format!(
                "error: {bad}: line 6.subject.convictions[0].offense: "
            )),
            "{command}: {error}"
        );
        assert!(error.contains("NY PL 999.99"), "{command}: {error}");
    }
    assert!(
        !dir.path().join("comity.db").exists(),
        "ingest decides every file before it records anything"
    );
}

#[test]
fn packs_show_prints_the_law_in_force_and_where_each_rule_comes_from() {
    let nyc = "ocd-division/country:us/state:ny/place:new_york";
    let out = comity(
        &["packs", "show", nyc, "--at", "2026-03-01", "--json"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["id"], format!("{nyc}@2026-01-29"));
    assert_eq!(shown["amends"], "2017-12-01");
    let written_in = |file: &str| {
        shown["rule_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == file)
            .map(|f| f["written_in"].clone())
    };
    // Amended by Int. No. 1412-A; § 10-178 is as the 2017 version wrote it.
    assert_eq!(written_in("doc-9-131.cedar").unwrap(), "2026-01-29");
    assert_eq!(written_in("citywide-10-178.cedar").unwrap(), "2017-12-01");
    let out = comity(&["packs", "show", nyc, "--at", "2026-01-28"], None);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("{nyc}@2017-12-01")), "{stdout}");
    assert!(stdout.contains("citywide-10-178.cedar  written in this version"));
    // New York State in 2021: the common-law privilege was repealed by the 2020 amendment.
    let out = comity(
        &[
            "packs",
            "show",
            "ocd-division/country:us/state:ny",
            "--at",
            "2021-01-04",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("repeals common-law-court-privilege.cedar"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("\ncommon-law-court-privilege.cedar"),
        "{stdout}"
    );
    for (args, needle) in [
        (
            ["packs", "show", nyc, "--at", "2012-01-01"],
            "no version of",
        ),
        (
            [
                "packs",
                "show",
                "ocd-division/country:us/state:oh",
                "--at",
                "2020-01-01",
            ],
            "no pack for",
        ),
    ] {
        let out = comity(&args, None);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
    }
}

#[test]
fn check_reports_a_rule_file_copied_from_the_version_before() {
    let dir = tempfile::tempdir().unwrap();
    copy_law(dir.path());
    let nyc = dir.path().join("packs/country-us/state-ny/place-new_york");
    std::fs::copy(
        nyc.join("2017-12-01/nypd-14-154.cedar"),
        nyc.join("2026-01-29/nypd-14-154.cedar"),
    )
    .unwrap();
    let packs = dir.path().join("packs");
    let out = comity(&["check", "--packs", packs.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("place:new_york@2026-01-29: nypd-14-154.cedar is word for word"),
        "{stderr}"
    );
}

#[test]
fn packs_render_writes_the_statute_beside_its_rules_for_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let out = comity(&["packs", "render", "--out", out_dir], None);
    let listed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let check: Value = serde_json::from_slice(&comity(&["check", "--json"], None).stdout).unwrap();
    let versions = check["packs"].as_array().unwrap().len();
    assert_eq!(
        listed.lines().count(),
        versions + 1,
        "a page per version and an index"
    );
    let read = |path: &str| std::fs::read_to_string(dir.path().join(path)).unwrap();
    let nyc = read("country-us/state-ny/place-new_york/2026-01-29.html");
    // The amended section beside its rule, marked; the inherited ones unchanged; cases shown.
    let doc = nyc
        .find("id=\"doc-9-131.cedar\"")
        .expect("doc-9-131 section");
    let office = nyc
        .find("id=\"nyc-doc-no-ice-office-any-purpose\"")
        .expect("the new rule");
    assert!(doc < office);
    assert!(nyc[office..].contains("new in this version"));
    let citywide = nyc.find("id=\"citywide-10-178.cedar\"").unwrap();
    assert!(nyc[citywide..].contains("as written in the version of 2017-12-01"));
    assert!(nyc.contains("Test cases"));
    assert!(nyc.contains("NYC Admin. Code § 10-178"));
    // Every rule of the version has its card.
    let show: Value = serde_json::from_slice(
        &comity(
            &[
                "packs",
                "show",
                "ocd-division/country:us/state:ny/place:new_york",
                "--at",
                "2026-06-01",
                "--json",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    for file in show["rule_files"].as_array().unwrap() {
        for rule in file["rules"].as_array().unwrap() {
            let id = rule["id"].as_str().unwrap();
            assert!(nyc.contains(&format!("id=\"{id}\"")), "no card for {id}");
        }
    }
    // New York State's 2020 amendment shows what it repealed.
    let ny = read("country-us/state-ny/2020-12-15.html");
    assert!(ny.contains("Repealed by this version"));
    assert!(ny.contains("common-law-court-privilege.cedar"));
    // --at: only the versions in force that day.
    let at = tempfile::tempdir().unwrap();
    let out = comity(
        &[
            "packs",
            "render",
            "--at",
            "2019-06-01",
            "--out",
            at.path().to_str().unwrap(),
        ],
        None,
    );
    let pages: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert!(
        pages
            .iter()
            .any(|p| p.ends_with("place-new_york/2017-12-01.html")),
        "{pages:?}"
    );
    assert!(
        !pages.iter().any(|p| p.ends_with("2026-01-29.html")),
        "{pages:?}"
    );
}

#[test]
fn check_reports_a_rule_file_without_its_statute_text() {
    let dir = tempfile::tempdir().unwrap();
    copy_law(dir.path());
    std::fs::remove_file(
        dir.path()
            .join("packs/country-us/state-tx/2017-09-01/2-251-detainers.statute.toml"),
    )
    .unwrap();
    let packs = dir.path().join("packs");
    let out = comity(&["check", "--packs", packs.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "state:tx@2017-09-01: 2-251-detainers.cedar has no 2-251-detainers.statute.toml"
        ),
        "{stderr}"
    );
}

#[test]
fn texas_law_sets_aside_a_county_rule_that_limits_cooperation() {
    let dir = tempfile::tempdir().unwrap();
    copy_law(dir.path());
    // A synthetic county ordinance that forbids telling ICE of a release.
    let county = dir
        .path()
        .join("packs/country-us/state-tx/county-harris/2016-01-01");
    std::fs::create_dir_all(county.join("tests")).unwrap();
    std::fs::write(
        county.join("pack.toml"),
        "jurisdiction = \"ocd-division/country:us/state:tx/county:harris\"\ntitle = \"Synthetic county ordinance\"\neffective_from = \"2016-01-01\"\ntimezone = \"America/Chicago\"\nconfidence = \"UNCONFIRMED\"\nearlier_law = \"none\"\nnote = \"Synthetic: for testing pre-emption only.\"\n[[sources]]\ncitation = \"Synthetic County Code § 1\"\n",
    )
    .unwrap();
    std::fs::write(
        county.join("no-release-notices.cedar"),
        "@id(\"county-no-release-notices\")\n@citation(\"Synthetic County Code § 1\")\n@summary(\"The jail does not tell ICE of releases.\")\n@instruction(\"Do not notify ICE.\")\nforbid (principal, action == Action::\"notify-release\", resource)\nwhen { context.from_kind == AgencyKind::\"federal-immigration\" };\n",
    )
    .unwrap();
    std::fs::write(county.join("tests/t.yaml"), "base: {}\ncases: []\n").unwrap();
    let mut request = serde_json::json!({
        "id": "synthetic-harris-1",
        "received_at": "2019-06-04T09:00:00-05:00",
        "jurisdiction": "ocd-division/country:us/state:tx/county:harris",
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": "HARRIS-SO", "kind": "sheriff" },
        "form": "I-247A",
        "basis": ["biometric-match"],
        "acts": ["notify-release"],
        "records": ["release-date"],
        "subject": { "id": "synthetic-person-1" },
        "custody": { "status": "in-custody", "release_at": "2019-06-05T10:00:00-05:00" }
    });
    let packs = dir.path().join("packs");
    let decide = |request: &Value| {
        let out = comity(
            &["decide", "--packs", packs.to_str().unwrap(), "-"],
            Some(&request.to_string()),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let d = decide(&request);
    let act = &d["acts"][0];
    assert_ne!(act["outcome"], "forbidden", "{d:#}");
    let preempted = act["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "pre-empted")
        .expect("the pre-emption is a reason");
    assert_eq!(
        preempted["citation"],
        "Tex. Gov't Code § 752.053(a)(1), (a)(3), (b)(2)-(4)"
    );
    assert!(
        preempted["summary"]
            .as_str()
            .unwrap()
            .contains("sets aside county-no-release-notices")
    );
    // Before SB 4 took effect, the county's rule binds.
    request["received_at"] = "2017-06-01T09:00:00-05:00".into();
    request["custody"]["release_at"] = "2017-06-02T10:00:00-05:00".into();
    let d = decide(&request);
    assert_eq!(d["acts"][0]["outcome"], "forbidden", "{d:#}");
}
