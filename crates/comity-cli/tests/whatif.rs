//! `comity whatif` as a council's staff would run it: a draft amendment (a copy of the packs
//! with one rule changed) replayed over a synthetic history, the cases it decides otherwise
//! listed with their rules; a bad history line named by its number.

mod common;
use common::{comity, copy_law, ok};

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
