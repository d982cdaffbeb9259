//! `comity dispatch --once` on a SQLite file, as an operator runs it after `comity ingest`:
//! one line per delivery, the permitted disclosures written by the file channel, an agency the
//! configuration does not vouch for refused, a bad name refused with exit 2, and `audit
//! verify` clean.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

mod common;
use common::{comity, example, ok};

/// The repository's Columbus, Ohio example asking for the release date and status (the
/// federal pack permits both), once more from another agency, and its New York example (both
/// acts forbidden), as JSON lines.
fn requests(dir: &Path) -> PathBuf {
    let mut ohio = example("columbus-sheriff-detainer.json");
    ohio["id"] = "oh-cli-1".into();
    ohio["subject"]["id"] = "synthetic-oh-cli-1".into();
    let mut ohio_2 = ohio.clone();
    ohio_2["id"] = "oh-cli-2".into();
    ohio_2["from"]["agency"] = "DHS-ICE-HSI".into();
    ohio_2["acts"] = json!(["notify-release"]);
    let new_york = example("nyc-doc-detainer.json");
    let path = dir.join("requests.jsonl");
    std::fs::write(&path, format!("{ohio}\n{ohio_2}\n{new_york}\n")).unwrap();
    path
}

#[test]
fn dispatch_once_delivers_what_is_due_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&comity(d, &["ingest", requests(d).to_str().unwrap()]));
    std::fs::write(
        d.join("comity.toml"),
        "[agencies]\n\"DHS-ICE-ERO\" = \"federal-immigration\"\n\n[channels.\"DHS-ICE-ERO\"]\nfile = { dir = \"drop\" }\n",
    )
    .unwrap();

    let bad = comity(d, &["dispatch", "--once", "--name", "bad\tname"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--name"));

    let out = comity(d, &["dispatch", "--once", "--name", "cli"]);
    let lines: Vec<Vec<String>> = ok(&out)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    let mut summary: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l[0].as_str(), l[1].as_str(), l[2].as_str()))
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            ("oh-cli-1/notify-release/DHS-ICE-ERO", "delivered", "1"),
            ("oh-cli-1/share-status/DHS-ICE-ERO", "delivered", "1"),
            ("oh-cli-2/notify-release/DHS-ICE-HSI", "refused", "-"),
        ]
    );
    // An agency whose kind the configuration does not vouch for is sent nothing.
    let refused = lines.iter().find(|l| l[1] == "refused").unwrap();
    assert!(
        refused[3].contains("does not say what kind of agency `DHS-ICE-HSI` is"),
        "{refused:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 pending, 2 delivered, 0 dead, 1 refused"),
        "{stderr}"
    );
    let written =
        std::fs::read_to_string(d.join("drop/oh-cli-1%2Fshare-status%2FDHS-ICE-ERO.json")).unwrap();
    let written: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(written["payload"]["status_proof_shown"], false);

    // Nothing is due any more: a second run delivers nothing.
    assert_eq!(ok(&comity(d, &["dispatch", "--once"])), "");
    let verified = ok(&comity(d, &["audit", "verify"]));
    assert!(verified.starts_with("ok: "), "{verified}");
}

/// Cal. Gov. Code § 7283.1(b): an ICE detainer a California sheriff must refuse still owes
/// the person a copy and the word that it is refused. The notice is planned from the
/// forbidding decision, delivered to the person's channel, and nothing goes to ICE.
#[test]
fn a_notice_owed_whatever_the_outcome_is_sent_on_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case_file =
        common::repo().join("packs/country-us/state-ca/2018-01-01/tests/request-copies.yaml");
    let cases: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(case_file).unwrap()).unwrap();
    let request = d.join("ca.json");
    std::fs::write(&request, cases["base"].to_string()).unwrap();
    ok(&comity(d, &["ingest", request.to_str().unwrap()]));
    std::fs::write(
        d.join("comity.toml"),
        "[agencies]\n\"DHS-ICE-ERO\" = \"federal-immigration\"\n\n[channels.\"DHS-ICE-ERO\"]\nfile = { dir = \"ice\" }\n\n[channels.subject]\nfile = { dir = \"person\" }\n",
    )
    .unwrap();
    let out = ok(&comity(d, &["dispatch", "--once", "--name", "cli"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("ca-copy/hold/subject\tdelivered\t1"),
        "{out}"
    );
    let written = std::fs::read_to_string(d.join("person/ca-copy%2Fhold%2Fsubject.json")).unwrap();
    let written: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(written["payload"]["outcome"], "forbidden");
    assert_eq!(written["payload"]["because"], "Cal. Gov. Code § 7283.1(b)");
    assert!(!d.join("ice").exists(), "nothing goes to ICE");
    let verified = ok(&comity(d, &["audit", "verify"]));
    assert!(verified.starts_with("ok: "), "{verified}");
}

/// A dispatcher run apart from the ledger's key (its own data directory, as on another
/// host) never makes a key of its own: the notice to an assigned counsel carries a receipt
/// proven in the checkpoint `ingest` signed with the ledger's key, and checks against it.
#[test]
fn a_dispatcher_apart_from_the_key_signs_nothing_and_its_receipts_check_against_the_ledger_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&comity(d, &["ingest", requests(d).to_str().unwrap()]));
    ok(&comity(
        d,
        &[
            "counsel",
            "assign",
            "--by",
            "synthetic-admin",
            "legal-aid-1",
            "synthetic-oh-cli-1",
        ],
    ));
    std::fs::write(
        d.join("comity.toml"),
        "[agencies]\n\"DHS-ICE-ERO\" = \"federal-immigration\"\n\n[channels.\"DHS-ICE-ERO\"]\nfile = { dir = \"drop\" }\n\n[channels.\"counsel:legal-aid-1\"]\nfile = { dir = \"counsel\" }\n",
    )
    .unwrap();
    let out = ok(&comity(
        d,
        &["dispatch", "--once", "--data-dir", "dispatch-host"],
    ));
    assert!(
        out.contains("oh-cli-1/notify-release/counsel:legal-aid-1\tdelivered\t1"),
        "{out}"
    );
    assert!(
        !d.join("dispatch-host").exists(),
        "the dispatcher made no key of its own"
    );
    let notice = d.join("counsel/oh-cli-1%2Fnotify-release%2Fcounsel%3Alegal-aid-1.json");
    let held = ok(&comity(
        d,
        &["audit", "check-receipt", notice.to_str().unwrap()],
    ));
    assert!(held.starts_with("ok: entry "), "{held}");
}
