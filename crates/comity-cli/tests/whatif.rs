//! `comity whatif` as a council's staff would run it: a draft amendment (a copy of the packs
//! with one rule changed) replayed over a synthetic history, the cases it decides otherwise
//! listed with their rules; a bad history line named by its number.

mod common;
use common::{comity, copy_law, nyc_before_2017, ok};

#[test]
fn a_draft_amendment_is_replayed_over_a_history() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    copy_law(here);
    // The draft: Texas's duty to hold (art. 2.251(a)) kept only for watch-list matches.
    let proposal = here.join("proposal");
    std::fs::create_dir(&proposal).unwrap();
    for part in ["packs", "catalog"] {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(here.join(part))
            .arg(&proposal)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let rule = proposal.join("packs/country-us/state-tx/2017-09-25/2-251-detainers.cedar");
    let text = std::fs::read_to_string(&rule).unwrap();
    let duty = "permit (principal, action == Action::\"hold!required\", resource)\nwhen {\n";
    assert!(text.contains(duty));
    let drafted = text.replacen(duty, &format!("{duty}  context.watchlist_match &&\n"), 1);
    std::fs::write(&rule, drafted).unwrap();

    ok(&comity(
        here,
        &[
            "synth",
            "--seed",
            "9",
            "--from",
            "2019-05-01",
            "--to",
            "2019-05-14",
            "--places",
            "tx-harris,nyc-doc",
            "--out",
            "history.jsonl",
        ],
    ));
    let replay = ok(&comity(
        here,
        &[
            "whatif",
            "--baseline",
            "packs",
            "--proposal",
            "proposal/packs",
            "--history",
            "history.jsonl",
            "--json",
        ],
    ));
    let r: serde_json::Value = serde_json::from_str(&replay).unwrap();
    let required = r["baseline"]["hold"]["required"].as_u64().unwrap();
    assert!(required > 50, "{replay}");
    assert_eq!(
        r["proposal"]["hold"].get("required"),
        None,
        "no hold required but on a watch-list match"
    );
    assert_eq!(r["changed_acts"].as_u64().unwrap(), required, "{replay}");
    let first = &r["changed"][0];
    assert_eq!(
        (
            first["act"].as_str(),
            first["baseline"].as_str(),
            first["proposal"].as_str()
        ),
        (Some("hold"), Some("required"), Some("permitted"))
    );
    assert!(
        first["baseline_rules"][0]
            .as_str()
            .unwrap()
            .starts_with("tx-detainer-hold-required (Tex. Code Crim. Proc. art. 2.251")
    );
    assert_eq!(
        r["months"]["2019-05"]["changed_acts"].as_u64().unwrap(),
        required
    );
    // The same replay against itself changes nothing; New York City's requests never changed.
    let same = ok(&comity(
        here,
        &[
            "whatif",
            "--baseline",
            "packs",
            "--proposal",
            "packs",
            "--history",
            "history.jsonl",
        ],
    ));
    assert!(
        same.contains("acts decided otherwise") && same.contains("; 0 acts decided otherwise"),
        "{same}"
    );

    // A bad line is named by its number, and nothing is printed but the error.
    let mut history = std::fs::read_to_string(here.join("history.jsonl")).unwrap();
    let lines = history.lines().count();
    history.push_str("{\"id\": \"bad\", \"colour\": \"red\"}\n");
    std::fs::write(here.join("history.jsonl"), history).unwrap();
    let out = comity(
        here,
        &[
            "whatif",
            "--baseline",
            "packs",
            "--proposal",
            "packs",
            "--history",
            "history.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("--history line {}:", lines + 1)),
        "{said}"
    );
    assert!(out.stdout.is_empty());
}

/// New York City's law of 2014-12-14 against that of 2017-12-01 (L.L. 2017/228, § 10-178),
/// over a synthetic year: the changed cases are listed, each confirmed by `comity decide`
/// under either law; the same history read back from a database replays alike; the HTML
/// page carries its charts.
#[test]
fn nyc_2014_against_2017_over_a_synthetic_year() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    // The law of 2014-12-14 in force through 2018: the later versions taken out.
    nyc_before_2017(here);
    ok(&comity(
        here,
        &[
            "synth",
            "--seed",
            "5",
            "--from",
            "2018-01-01",
            "--to",
            "2018-12-31",
            "--places",
            "nyc-doc,nyc-nypd",
            "--scale",
            "0.25",
            "--out",
            "year.jsonl",
        ],
    ));
    let whatif = |history: &str| -> serde_json::Value {
        let out = ok(&comity(
            here,
            &[
                "whatif",
                "--baseline",
                "baseline/packs",
                "--proposal",
                "packs",
                "--catalog",
                "catalog",
                "--history",
                history,
                "--changed",
                "1000",
                "--json",
                "--html",
                "whatif.html",
            ],
        ));
        serde_json::from_str(&out).unwrap()
    };
    let r = whatif("year.jsonl");
    let changed = r["changed"].as_array().unwrap();
    assert!(r["changed_acts"].as_u64().unwrap() > 10, "{r}");
    // § 10-178(c): no city resources for civil immigration enforcement, from 2017-12-01.
    assert!(
        changed.iter().any(|c| c["proposal_rules"][0]
            .as_str()
            .unwrap()
            .contains("NYC Admin. Code § 10-178")),
        "{r}"
    );
    // Each changed outcome is what `comity decide` gives under either law.
    let requests: std::collections::HashMap<String, serde_json::Value> =
        std::fs::read_to_string(here.join("year.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_owned(), v)
            })
            .collect();
    let outcomes = changed.iter().filter(|c| c["what"] == "outcome").take(3);
    for case in outcomes {
        let request = &requests[case["request"].as_str().unwrap()];
        std::fs::write(here.join("one.json"), request.to_string()).unwrap();
        for (packs, side) in [("baseline/packs", "baseline"), ("packs", "proposal")] {
            let decision: serde_json::Value = serde_json::from_str(&ok(&comity(
                here,
                &[
                    "decide",
                    "--packs",
                    packs,
                    "--catalog",
                    "catalog",
                    "one.json",
                ],
            )))
            .unwrap();
            let act = decision["acts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["act"] == case["act"])
                .unwrap();
            assert_eq!(act["outcome"], case[side], "{side}: {case}");
        }
    }
    let html = std::fs::read_to_string(here.join("whatif.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "four charts");

    // The same year recorded (under the law in force) and replayed from the database.
    ok(&comity(here, &["ingest", "year.jsonl"]));
    let from_db = whatif("sqlite:comity.db");
    for field in [
        "requests",
        "changed_acts",
        "changed_limits",
        "baseline",
        "proposal",
    ] {
        assert_eq!(from_db[field], r[field], "{field}");
    }
}
