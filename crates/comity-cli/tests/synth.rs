//! `comity synth` as a user runs it: the same seed writes the same bytes, every request it
//! writes is recorded by `comity ingest`, and bad arguments are refused naming the value.

mod common;
use common::{comity, ok};

#[test]
fn a_seeded_history_is_the_same_bytes_and_ingests_whole() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let run = |out: &str, events: &str| {
        ok(&comity(
            here,
            &[
                "synth",
                "--seed",
                "5",
                "--from",
                "2019-01-01",
                "--to",
                "2019-01-07",
                "--out",
                out,
                "--events",
                events,
            ],
        ))
    };
    run("a.jsonl", "a-events.jsonl");
    run("b.jsonl", "b-events.jsonl");
    let read = |f: &str| std::fs::read(here.join(f)).unwrap();
    assert_eq!(read("a.jsonl"), read("b.jsonl"));
    assert_eq!(read("a-events.jsonl"), read("b-events.jsonl"));
    let lines = String::from_utf8(read("a.jsonl")).unwrap().lines().count();
    assert!(lines > 100, "a week of every agency: {lines} requests");
    let summary = ok(&comity(here, &["ingest", "a.jsonl"]));
    assert!(summary.contains(&format!("{lines} recorded")), "{summary}");
    // Piped, there is no progress bar: standard error stays empty.
    let piped = comity(
        here,
        &[
            "synth",
            "--from",
            "2019-01-01",
            "--to",
            "2019-01-01",
            "--places",
            "nyc-doc",
        ],
    );
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
}

#[test]
fn bad_arguments_are_refused_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["--from", "2019-02-01", "--to", "2019-01-01"],
            "--from: `2019-02-01` is after",
        ),
        (
            vec!["--from", "2019-02-30", "--to", "2019-03-01"],
            "--from: `2019-02-30`",
        ),
        (
            vec![
                "--from",
                "2019-01-01",
                "--to",
                "2019-01-02",
                "--places",
                "nyc-docs",
            ],
            "unknown `nyc-docs`",
        ),
        (
            vec![
                "--from",
                "2019-01-01",
                "--to",
                "2019-01-02",
                "--violations",
                "2",
            ],
            "--violations: `2`",
        ),
    ] {
        let mut full = vec!["synth"];
        full.extend(args);
        let out = comity(dir.path(), &full);
        assert_eq!(out.status.code(), Some(2), "{full:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(needle), "{full:?}: {said}");
    }
}
