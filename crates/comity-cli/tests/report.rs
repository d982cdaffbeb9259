//! Statutory reports from the ledger: the NYC DOC § 9-131(f) report of a small history
//! checked against a hand count; every figure listing its entries; `report verify` passing
//! on the report and failing, naming the figure, on one edited; a report of a synthetic year
//! agreeing with a count of the requests drawn; bad input refused naming the value.

mod common;
use std::collections::BTreeMap;
use std::path::Path;

use common::{comity, ok, repo};
use serde_json::Value;

const FY2018: [&str; 4] = ["--from", "2017-07-01", "--to", "2018-06-30"];

/// A synthetic fiscal year of the Department of Correction, holds forbidden now and then.
const SYNTH_YEAR: [&str; 11] = [
    "synth",
    "--from",
    "2017-07-01",
    "--to",
    "2018-06-30",
    "--places",
    "nyc-doc",
    "--seed",
    "11",
    "--violations",
    "0.2",
];

/// An edit of a report, and what `verify` must name when it finds it.
type Edit = (&'static str, fn(&mut Value));

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Ingests `requests` and records `events` in `dir`'s database; the ledger index of each
/// request, by id.
fn record(dir: &Path, requests: &Path, events: &Path) -> BTreeMap<String, u64> {
    record_in(dir, &[], requests, events)
}

/// As [`record`], with `db` (e.g. `--db URL`) given to each command.
fn record_in(dir: &Path, db: &[&str], requests: &Path, events: &Path) -> BTreeMap<String, u64> {
    let mut ingest = vec!["ingest", "--json", requests.to_str().unwrap()];
    ingest.extend(db);
    let indices = ok(&comity(dir, &ingest))
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["index"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut event = vec![
        "event",
        "--by",
        "synthetic-clerk",
        "--file",
        events.to_str().unwrap(),
    ];
    event.extend(db);
    ok(&comity(dir, &event));
    indices
}

/// The JSON report of `kind` over FY2018, written to `file` and read back.
fn json_report(dir: &Path, kind: &str, file: &str) -> Value {
    let mut args = vec!["report", kind, "--format", "json", "--out", file];
    args.extend(FY2018);
    ok(&comity(dir, &args));
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

/// [`SYNTH_YEAR`] drawn to `req.jsonl` and `ev.jsonl` in `dir`, recorded, and its DOC report
/// written to `file` and read back.
fn synthetic_year(dir: &Path, file: &str) -> Value {
    let mut to_files = SYNTH_YEAR.to_vec();
    to_files.extend(["--out", "req.jsonl", "--events", "ev.jsonl"]);
    ok(&comity(dir, &to_files));
    record(dir, &dir.join("req.jsonl"), &dir.join("ev.jsonl"));
    json_report(dir, "nyc-doc", file)
}

fn figure<'r>(report: &'r Value, id: &str) -> &'r Value {
    report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no figure {id}"))
}

/// The requests each figure counts, by the table below.
const HAND_COUNT: [(&str, &[&str]); 11] = [
    ("1", &["a", "b", "c", "g"]),
    ("2", &["b", "c"]),
    ("3", &["c"]),
    ("4", &["c"]),
    ("5", &[]),
    ("6", &[]),
    ("7", &["a", "g"]),
    ("8", &["b"]),
    ("9a", &["a", "d", "h"]),
    ("9b", &["d", "h"]),
    ("V", &["b"]),
];

/// The hand count of `testdata/reports/nyc-doc-fy2018.jsonl` (with its events), FY2018:
///
/// | request | received   | form, ground, warrant                 | asks                 | VSC  | TSDB | events                 |
/// |---------|------------|---------------------------------------|----------------------|------|------|------------------------|
/// | a       | 2018-03-02 | I-247A, removal order, I-200          | hold, notify-release | yes  | no   | released               |
/// | b       | 2017-08-10 | I-247A, biometric match, I-200        | hold                 | no   | no   | held (forbidden: a violation), hold-expired |
/// | c       | 2017-10-02 | I-247A, removal proceedings, judicial | hold, transfer       | yes  | no   | held, transferred      |
/// | d       | 2018-01-15 | letter, none                          | notify-release       | no   | yes  | response-sent (notify-release) |
/// | e       | 2018-07-02 | (after the fiscal year)               |                      |      |      |                        |
/// | f       | 2018-03-02 | to the NYPD (another report)          |                      |      |      |                        |
/// | g       | 2017-07-01 00:30, the first day | I-247A, statements, I-200 | hold           | no   | no   |                        |
/// | h       | 2018-04-10 | letter, none                          | share-records (custody status, release date) | yes | no | response-sent (share-records) |
#[test]
fn the_doc_report_of_a_small_history_is_the_hand_count_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let data = repo().join("testdata/reports");
    let index = record(
        here,
        &data.join("nyc-doc-fy2018.jsonl"),
        &data.join("nyc-doc-fy2018-events.jsonl"),
    );
    let report = json_report(here, "nyc-doc", "doc.json");
    assert_eq!(
        report["requests"], 6,
        "a, b, c, d, g and h are DOC's, in FY2018"
    );
    for (id, requests) in HAND_COUNT {
        let f = figure(&report, id);
        let entries: Vec<u64> = requests.iter().map(|r| index[*r]).collect();
        assert_eq!(f["entries"], serde_json::json!(entries), "figure {id}");
        if id == "6" {
            assert!(f["count"].is_null() && f["not_derived"].is_string(), "{f}");
        } else {
            assert_eq!(f["count"], requests.len(), "figure {id}");
        }
    }
    // Item 1 by the reason given: b and g gave reason to believe, c removal proceedings, a
    // an order; a, b and g came with an I-200 warrant of arrest.
    let cells = |id: &str, by: &str| -> Vec<u64> {
        figure(&report, id)["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["by"] == by)
            .unwrap()["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(cells("1", "reason"), [2, 1, 3, 1]);
    assert_eq!(cells("2", "reason"), [1, 1, 1, 0]);
    // Item 9: a and h have a VSC conviction (ii); d has none, with a watch-list match (i, iii).
    assert_eq!(cells("9a", "group"), [1, 2, 1]);
    assert_eq!(cells("9b", "group"), [1, 1, 1]);
    assert_eq!(cells("9b", "group+transfer"), [0, 1, 0, 1, 0, 1]);
    // By type of information (incarceration status, release date, court date, other): d was
    // told a release date; h's records carried custody status and the release date.
    assert_eq!(
        cells("9b", "group+information"),
        [0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0]
    );
    // Evidence: item 8 shows b's hold and its expiry; 9b the responses to d and h.
    assert_eq!(
        figure(&report, "8")["evidence"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        figure(&report, "9b")["evidence"].as_array().unwrap().len(),
        2
    );

    let verified = ok(&comity(here, &["report", "verify", "doc.json"]));
    assert!(
        verified.starts_with("ok: 11 figures re-derived"),
        "{verified}"
    );

    // A figure edited, a figure's entries trimmed with it, a breakdown edited: each found,
    // naming the figure.
    let edits: [Edit; 3] = [
        ("figure 3 (", |r| r["figures"][2]["count"] = 2.into()),
        ("figure 7 (", |r| {
            let f = &mut r["figures"][6];
            f["count"] = 1.into();
            f["entries"].as_array_mut().unwrap().pop();
        }),
        (
            "figure 1 (Detainers lodged): its breakdown by reason",
            |r| r["figures"][0]["breakdowns"][0]["cells"][0]["count"] = 3.into(),
        ),
    ];
    for (named, edit) in edits {
        let mut edited = report.clone();
        edit(&mut edited);
        std::fs::write(here.join("edited.json"), edited.to_string()).unwrap();
        let out = comity(here, &["report", "verify", "edited.json"]);
        assert_eq!(out.status.code(), Some(1), "{named}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("DOES NOT HOLD") && stderr(&out).contains(named),
            "{named}: {}",
            stderr(&out)
        );
    }
}

#[tokio::test]
async fn a_report_over_a_tampered_ledger_or_under_another_key_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let data = repo().join("testdata/reports");
    record(
        here,
        &data.join("nyc-doc-fy2018.jsonl"),
        &data.join("nyc-doc-fy2018-events.jsonl"),
    );
    json_report(here, "nyc-doc", "doc.json");
    // Another log's key does not open the checkpoint.
    let other = tempfile::tempdir().unwrap();
    let key = ok(&comity(
        other.path(),
        &["audit", "--data-dir", other.path().to_str().unwrap(), "key"],
    ));
    let out = comity(
        here,
        &["report", "verify", "--public-key", key.trim(), "doc.json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("checkpoint:"), "{}", stderr(&out));
    // The request c's decision was about, rewritten in the database: found.
    let url = format!("sqlite://{}", here.join("comity.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE requests SET body = replace(body, 'pending-removal', 'final-order-of-removal-x') WHERE id = 'c'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = comity(here, &["report", "verify", "doc.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the request stored for `c` is not the one the entry records"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_synthetic_year_reports_what_was_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let report = synthetic_year(here, "doc.json");
    // Counted from the files as drawn: detainers (an I-247 form from ICE), and those held.
    let requests: Vec<Value> = std::fs::read_to_string(here.join("req.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let detainers: Vec<&str> = requests
        .iter()
        .filter(|r| {
            r["from"]["kind"] == "federal-immigration"
                && r["form"].as_str().is_some_and(|f| f.starts_with("I-247"))
        })
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let held: std::collections::BTreeSet<String> = std::fs::read_to_string(here.join("ev.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"] == "held")
        .map(|e| e["request"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(report["requests"], requests.len());
    assert!(detainers.len() > 300, "{}", detainers.len());
    assert_eq!(figure(&report, "1")["count"], detainers.len());
    let held_detainers = detainers.iter().filter(|d| held.contains(**d)).count();
    assert!(held_detainers > 0, "the violation rate draws some holds");
    assert_eq!(figure(&report, "2")["count"], held_detainers);
    ok(&comity(here, &["report", "verify", "doc.json"]));
    // The other forms: a table, CSV rows, a page with its charts.
    let mut args = vec!["report", "nyc-doc"];
    args.extend(FY2018);
    let table = ok(&comity(here, &args));
    assert!(
        table.contains("Detainers lodged [§ 9-131(f)(1)]"),
        "{table}"
    );
    args.extend(["--format", "csv"]);
    let csv = ok(&comity(here, &args));
    assert!(
        csv.starts_with("figure,label,citation,breakdown,bucket,count,not_derived\n"),
        "{csv}"
    );
    args.pop();
    args.push("html");
    let html = ok(&comity(here, &args));
    assert_eq!(html.matches("<svg").count(), 3, "three charts");
    assert!(html.contains("Outcome by act") && html.contains("forbidden"));
}

#[test]
fn bad_report_input_is_refused_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let data = repo().join("testdata/reports");
    ok(&comity(
        here,
        &[
            "ingest",
            data.join("nyc-doc-fy2018.jsonl").to_str().unwrap(),
        ],
    ));
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "report",
                "nyc-dox",
                "--from",
                "2017-07-01",
                "--to",
                "2018-06-30",
            ],
            "unknown report kind `nyc-dox`; the reports are: ",
        ),
        (
            &[
                "report",
                "nyc-doc",
                "--from",
                "2018-07-01",
                "--to",
                "2018-06-30",
            ],
            "--from: `2018-07-01` is after --to `2018-06-30`",
        ),
        (
            &[
                "report",
                "nyc-doc",
                "--from",
                "2017-13-01",
                "--to",
                "2018-06-30",
            ],
            "--from: `2017-13-01` is not a date",
        ),
        (&["report", "verify", "missing.json"], "missing.json"),
    ];
    for (args, expected) in cases {
        let out = comity(here, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A period other than the statute's is reported, with a warning.
    let out = ok(&comity(
        here,
        &[
            "report",
            "nyc-doc",
            "--from",
            "2018-01-01",
            "--to",
            "2018-03-31",
        ],
    ));
    assert!(
        out.contains("warning: NYC Admin. Code § 9-131(f) requires the 12 months ending June 30"),
        "{out}"
    );
}

#[test]
fn a_history_drawn_straight_into_the_database_reports_as_if_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let ingested = synthetic_year(here, "ingested.json");

    let mut to_db = SYNTH_YEAR.to_vec();
    to_db.extend(["--db", "drawn.db", "--data-dir", "drawn-keys"]);
    let said = ok(&comity(here, &to_db));
    assert!(said.contains(" requests and ") && said.contains(", 0 requests already recorded"));
    // Again: nothing twice.
    let again = ok(&comity(here, &to_db));
    assert!(
        again.starts_with("0 requests and 0 events recorded"),
        "{again}"
    );
    let mut args = vec![
        "report",
        "nyc-doc",
        "--db",
        "drawn.db",
        "--data-dir",
        "drawn-keys",
        "--format",
        "json",
        "--out",
        "drawn.json",
    ];
    args.extend(FY2018);
    ok(&comity(here, &args));
    let drawn: Value =
        serde_json::from_str(&std::fs::read_to_string(here.join("drawn.json")).unwrap()).unwrap();
    assert_eq!(drawn["requests"], ingested["requests"]);
    for (a, b) in drawn["figures"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ingested["figures"].as_array().unwrap())
    {
        assert_eq!(a["count"], b["count"], "figure {}", a["id"]);
    }
    ok(&comity(
        here,
        &[
            "report",
            "verify",
            "--db",
            "drawn.db",
            "--data-dir",
            "drawn-keys",
            "drawn.json",
        ],
    ));
}

/// The same hand count from a ledger in PostgreSQL.
#[tokio::test]
async fn the_hand_count_holds_on_postgresql() {
    let db = comity_testdb::TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let data = repo().join("testdata/reports");
    let url = db.url().to_owned();
    let index = record_in(
        here,
        &["--db", &url],
        &data.join("nyc-doc-fy2018.jsonl"),
        &data.join("nyc-doc-fy2018-events.jsonl"),
    );
    let mut args = vec![
        "report", "nyc-doc", "--db", &url, "--format", "json", "--out", "doc.json",
    ];
    args.extend(FY2018);
    ok(&comity(here, &args));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(here.join("doc.json")).unwrap()).unwrap();
    for (id, requests) in HAND_COUNT {
        let entries: Vec<u64> = requests.iter().map(|r| index[*r]).collect();
        assert_eq!(
            figure(&report, id)["entries"],
            serde_json::json!(entries),
            "figure {id}"
        );
    }
    ok(&comity(
        here,
        &["report", "verify", "--db", &url, "doc.json"],
    ));
    db.drop_database().await;
}

/// Every report the repository ships parses and is computed over the synthetic history of
/// all five agencies, each over its statutory period, and verifies; each counts requests.
#[test]
fn every_shipped_report_is_computed_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    ok(&comity(
        here,
        &[
            "synth",
            "--from",
            "2018-01-01",
            "--to",
            "2018-03-31",
            "--scale",
            "0.5",
            "--seed",
            "4",
            "--violations",
            "0.2",
            "--db",
            "comity.db",
        ],
    ));
    let kinds: Vec<String> = std::fs::read_dir(repo().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    for kind in &kinds {
        let (from, to) = match kind.as_str() {
            "nyc-citywide" => ("2018-01-01", "2018-03-31"),
            k if k.starts_with("nyc-") => ("2017-07-01", "2018-06-30"),
            _ => ("2018-01-01", "2018-12-31"),
        };
        let file = format!("{kind}.json");
        let out = ok(&comity(
            here,
            &[
                "report", kind, "--from", from, "--to", to, "--format", "json", "--out", &file,
            ],
        ));
        assert!(out.is_empty());
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(here.join(&file)).unwrap()).unwrap();
        assert!(report["requests"].as_u64().unwrap() > 0, "{kind}");
        assert_eq!(
            report["warnings"],
            serde_json::json!([]),
            "{kind}: its own period"
        );
        assert!(
            report["figures"][0]["count"].as_u64().unwrap() > 0,
            "{kind}: its first figure counts requests"
        );
        ok(&comity(here, &["report", "verify", &file]));
    }
}
