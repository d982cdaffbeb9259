//! What was done, not only what was allowed: events recorded on decided requests, in order,
//! each a ledger entry; an action the decision did not allow recorded and flagged as a
//! violation; bad and out-of-order events refused naming the field; an edited events row
//! found by `audit verify`.

mod common;
use common::{comity, example, ok};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Records an event on `request` from the command line.
fn event(dir: &std::path::Path, request: &str, kind: &str, at: &str) -> std::process::Output {
    comity(
        dir,
        &[
            "event",
            "--by",
            "synthetic-desk-officer",
            "--kind",
            kind,
            "--at",
            at,
            request,
        ],
    )
}

#[test]
fn events_follow_the_decision_and_violations_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    // New York City, 2018: an administrative warrant; the hold is forbidden (§ 9-131(b)).
    let nyc = example("nyc-doc-detainer.json");
    // Columbus, 2019: no local law; the hold is permitted, bound by the I-247A's 48 hours
    // (release 2019-03-04T10:00 -05:00, so the hold must end 2019-03-06T10:00).
    let mut columbus = example("columbus-sheriff-detainer.json");
    columbus["acts"] = serde_json::json!(["hold", "transfer"]);
    let file = here.join("requests.json");
    std::fs::write(&file, serde_json::json!([nyc, columbus]).to_string()).unwrap();
    ok(&comity(here, &["ingest", file.to_str().unwrap()]));

    // A hold the decision forbids is recorded, and flagged.
    let held = ok(&event(
        here,
        "nyc-doc-2018-000123",
        "held",
        "2018-03-04T10:00:00-05:00",
    ));
    assert!(held.contains("event 1"), "{held}");
    assert!(
        held.contains("VIOLATION: held past release, but the decision forbids `hold`")
            && held.contains("nyc-doc-"),
        "{held}"
    );
    // Out of order: before the last event, a second hold, a hold ended that was not held.
    let out = event(
        here,
        "nyc-doc-2018-000123",
        "released",
        "2018-03-04T09:00:00-05:00",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--at: `2018-03-04T09:00:00-05:00` is before the last event"),
        "{}",
        stderr(&out)
    );
    let out = event(
        here,
        "nyc-doc-2018-000123",
        "held",
        "2018-03-05T09:00:00-05:00",
    );
    assert!(
        stderr(&out).contains("--kind: `held`: the person is already recorded as held"),
        "{}",
        stderr(&out)
    );
    let out = event(
        here,
        "columbus-2019-000001",
        "hold-expired",
        "2019-03-05T09:00:00-05:00",
    );
    assert!(
        stderr(&out).contains("no hold is recorded"),
        "{}",
        stderr(&out)
    );
    // Bad input names the field and the value; an unknown request is named.
    let out = event(
        here,
        "columbus-2019-000001",
        "escaped",
        "2019-03-05T09:00:00-05:00",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--kind: unknown EventKind `escaped`"),
        "{}",
        stderr(&out)
    );
    let out = event(here, "columbus-2019-000001", "held", "Tuesday");
    assert!(
        stderr(&out).contains("--at:") && stderr(&out).contains("`Tuesday`"),
        "{}",
        stderr(&out)
    );
    let out = event(here, "nobody", "held", "2019-03-05T09:00:00-05:00");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no request `nobody`"),
        "{}",
        stderr(&out)
    );

    // A permitted hold, ended within its deadline: no violation.
    let held = ok(&event(
        here,
        "columbus-2019-000001",
        "held",
        "2019-03-04T10:00:00-05:00",
    ));
    assert!(!held.contains("VIOLATION"), "{held}");
    // The transfer is permitted too, but it comes an hour past the binding deadline.
    let late = ok(&event(
        here,
        "columbus-2019-000001",
        "transferred",
        "2019-03-06T11:00:00-05:00",
    ));
    assert!(
        late.contains("VIOLATION: held until 2019-03-06T11:00:00-05:00, past the binding deadline 2019-03-06T10:00:00-05:00"),
        "{late}"
    );
    // Custody ended: nothing about custody follows.
    let out = event(
        here,
        "columbus-2019-000001",
        "released",
        "2019-03-06T12:00:00-05:00",
    );
    assert!(
        stderr(&out).contains("already ended (`transferred`"),
        "{}",
        stderr(&out)
    );

    let verified = ok(&comity(here, &["audit", "verify"]));
    assert!(verified.contains("3 events verified"), "{verified}");
    // An events row edited in plain SQL (its violation erased) is found.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", here.join("comity.db").display());
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE events SET violations = '[]' WHERE request_id = 'nyc-doc-2018-000123'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let out = comity(here, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("its events row differs from the entry"),
        "{}",
        stderr(&out)
    );
}
