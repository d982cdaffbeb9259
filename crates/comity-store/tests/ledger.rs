//! The store on SQLite and on the machine's PostgreSQL: decisions recorded with their ledger
//! entries, idempotency, proofs that verify, and tamper scenarios that `verify` must catch.
//!
//! Each test runs on a fresh SQLite file and a fresh PostgreSQL database (comity-testdb).

use std::sync::Arc;

use comity_ledger::{NoteSigner, open_checkpoint, verify_consistency, verify_inclusion};
use comity_model::{Act, ActDecision, Decision, Outcome, PackRef, Reason};
use comity_store::{NewDecision, Recorded, Store};
use comity_testdb::TestDb;

/// A store on a fresh database of each backend.
async fn stores() -> Vec<(Store, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::both().await {
        out.push((Store::open(db.url()).await.unwrap(), db));
    }
    out
}

/// The signed release the decisions' pack carries (its text is not checked here).
const RELEASE: &str = "comity pack release\nocd-division/country:us/state:ny/place:new_york@2017-12-01\n\n\u{2014} counsel.test AAAA\n";

fn decision(id: &str, outcome: Outcome) -> NewDecision {
    let reason = Reason {
        rule: "nyc-doc-detainer-needs-judicial-warrant".into(),
        pack: "ocd-division/country:us/state:ny/place:new_york@2017-12-01".into(),
        citation: "NYC Admin. Code § 9-131(b)(1)(i)".into(),
        summary: "A detainer is honored only with a judicial warrant.".into(),
        facts: [("warrant_kind".to_owned(), "administrative".into())].into(),
        caution: None,
    };
    let decision = Decision {
        request: id.to_owned(),
        at: "2018-03-02T14:05:00-05:00".parse().unwrap(),
        packs: vec![PackRef {
            id: reason.pack.clone(),
            sha256: "ab".repeat(32),
            signature: Some(RELEASE.into()),
        }],
        acts: vec![ActDecision {
            act: Act::Hold,
            outcome,
            reasons: vec![Arc::new(reason)],
            limits: vec![],
            met: vec![],
            instruction: None,
        }],
        warnings: vec![],
    };
    NewDecision {
        request_body: format!("{{\"id\":\"{id}\",\"synthetic\":true}}"),
        decision,
        deliveries: vec![],
    }
}

fn batch(from: usize, to: usize) -> Vec<NewDecision> {
    (from..to)
        .map(|i| decision(&format!("synthetic-{i:05}"), Outcome::Forbidden))
        .collect()
}

#[tokio::test]
async fn records_idempotently_and_proves_every_entry() {
    for (store, fixture) in stores().await {
        let first = store.record_decisions(&batch(0, 37)).await.unwrap();
        // Entry 0 records the pack the decisions cite; decision i is entry i + 1.
        assert_eq!(
            first,
            (1..38).map(Recorded::New).collect::<Vec<_>>(),
            "{}",
            fixture.url()
        );
        let again = store.record_decisions(&batch(30, 40)).await.unwrap();
        assert_eq!(
            again[..7],
            (31..38).map(Recorded::Existing).collect::<Vec<_>>()
        );
        assert_eq!(again[7..], (38..41).map(Recorded::New).collect::<Vec<_>>());
        let other = decision("synthetic-00003", Outcome::Permitted);
        let mut changed = other.clone();
        changed.request_body.push(' ');
        let conflict = store.record_decisions(&[changed]).await.unwrap();
        assert_eq!(
            conflict,
            [Recorded::Conflict {
                id: "synthetic-00003".into()
            }]
        );
        assert_eq!(store.size().await.unwrap(), 41);

        for size in [1u64, 2, 3, 7, 8, 21, 41] {
            let root = store.root(size).await.unwrap();
            for index in [0, size / 2, size - 1] {
                let p = store.inclusion_proof(index, Some(size)).await.unwrap();
                assert_eq!(p.root, root);
                let entry = store.entry(index).await.unwrap().unwrap();
                assert_eq!(p.leaf_hash, comity_ledger::leaf_hash(entry.as_bytes()));
                verify_inclusion(&p.leaf_hash, index, size, &p.hashes, &root).unwrap();
                // Asked again, it is answered from the nodes cached: the same proof.
                assert_eq!(store.inclusion_proof(index, Some(size)).await.unwrap(), p);
            }
            let p = store.consistency_proof(size, None).await.unwrap();
            assert_eq!((p.from_size, p.to_size), (size, 41));
            verify_consistency(p.from_size, p.to_size, &p.from_root, &p.to_root, &p.hashes)
                .unwrap();
        }
        // A size the ledger does not have is refused, cache or not.
        assert!(store.inclusion_proof(0, Some(42)).await.is_err());
        assert!(store.root(42).await.is_err());
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        let signed = store.sign_checkpoint(&signer).await.unwrap();
        let cp = open_checkpoint(&signed.note, &signer.verifier()).unwrap();
        assert_eq!((cp.size, cp.root), (41, store.root(41).await.unwrap()));
        assert_eq!(
            signed.size, cp.size,
            "the size the store states is the note's"
        );
        let report = store
            .verify(&signer.verifier(), &|_, _| {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (report.entries, report.decisions, report.checkpoints),
            (41, 40, 1)
        );
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn several_writers_never_fork_the_tree() {
    for (store, fixture) in stores().await {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let url = fixture.url().to_owned();
                tokio::spawn(async move {
                    let store = Store::open(&url).await.unwrap();
                    for b in 0..5 {
                        let from = w * 1000 + b * 20;
                        store
                            .record_decisions(&batch(from, from + 20))
                            .await
                            .unwrap();
                    }
                    store.close().await;
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        assert_eq!(
            store.size().await.unwrap(),
            401,
            "400 decisions and one pack"
        );
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        store.sign_checkpoint(&signer).await.unwrap();
        let report = store.verify(&signer.verifier(), &|_, _| {}).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
        store.close().await;
        fixture.drop_database().await;
    }
}

/// Records 20 decisions, signs a checkpoint, applies `tamper` in plain SQL, and returns what
/// `verify` finds.
async fn tampered(tamper: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (store, fixture) in stores().await {
        store.record_decisions(&batch(0, 20)).await.unwrap();
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        store.sign_checkpoint(&signer).await.unwrap();
        let sql = fixture.pool().await;
        for statement in tamper {
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&sql)
                .await
                .unwrap();
        }
        sql.close().await;
        let finding = store
            .verify(&signer.verifier(), &|_, _| {})
            .await
            .unwrap()
            .expect_err("tampering must be found");
        found.push(finding.to_string());
        store.close().await;
        fixture.drop_database().await;
    }
    found
}

/// Applies `tamper` (see [`tampered`]) and checks that `verify` names entry `index` and says
/// `what`, on every backend.
async fn names(tamper: &[&str], index: u64, what: &str) {
    for f in tampered(tamper).await {
        assert!(
            f.starts_with(&format!("entry {index}: ")) && f.contains(what),
            "{f}"
        );
    }
}

#[tokio::test]
async fn a_changed_entry_is_named() {
    names(
        &["UPDATE ledger_entries SET body = replace(body, 'forbidden', 'permitted') WHERE idx = 7"],
        7,
        "the entry was changed",
    )
    .await;
}

#[tokio::test]
async fn an_entry_of_no_known_kind_is_named() {
    // The kind column is not hashed: an entry relabelled is caught by what it says it is.
    names(
        &["UPDATE ledger_entries SET kind = 'decisoin' WHERE idx = 7"],
        7,
        "no known kind (`decisoin`)",
    )
    .await;
}

#[tokio::test]
async fn a_changed_decision_is_named() {
    // A decision is stored once, in its entry: rewritten there, its leaf no longer matches.
    names(&["UPDATE ledger_entries SET body = replace(body, 'forbidden', 'permitted') WHERE body LIKE '%\"synthetic-00011\"%'"], 12, "changed").await;
    // Its row, when it no longer says what the entry says.
    names(
        &["UPDATE decisions SET recorded_at = '2020-01-01T00:00:00Z' WHERE ledger_index = 12"],
        12,
        "synthetic-00011",
    )
    .await;
}

#[tokio::test]
async fn a_changed_request_is_named() {
    names(
        &["UPDATE requests SET body = '{}' WHERE id = 'synthetic-00004'"],
        5,
        "synthetic-00004",
    )
    .await;
}

#[tokio::test]
async fn deleted_last_rows_are_found() {
    let statements = [
        "DELETE FROM decisions WHERE ledger_index >= 18",
        "DELETE FROM requests WHERE id >= 'synthetic-00017'",
        "DELETE FROM ledger_entries WHERE idx >= 18",
        // Nodes covering leaves 18..: node (level, index) is stored under level * 2^48 + index.
        "DELETE FROM ledger_nodes WHERE id IN (18, 19, 20, 281474976710665, 562949953421316)",
    ];
    for f in tampered(&statements).await {
        assert!(
            f.contains("checkpoint at size 21") && f.contains("only 18 entries"),
            "{f}"
        );
    }
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    names(
        &["DELETE FROM ledger_entries WHERE idx = 9"],
        9,
        "missing from the ledger",
    )
    .await;
}

#[tokio::test]
async fn a_missing_or_extra_tree_node_is_named() {
    // Node (1, 3), over leaves 6 and 7, is stored under 2^48 + 3.
    names(
        &["DELETE FROM ledger_nodes WHERE id = 281474976710659"],
        6,
        "level 1 covering it is missing",
    )
    .await;
    // A leaf node past the last of the 21 entries.
    let extra = format!(
        "INSERT INTO ledger_nodes (id, hash) VALUES (21, '{}')",
        "ab".repeat(32)
    );
    names(&[&extra], 21, "covers entries the ledger does not hold").await;
}

/// SQLite keeps whatever type a value is given: an entry, or a node, rewritten as a blob is
/// a finding naming it, not a failure to read.
#[tokio::test]
async fn a_value_stored_as_a_blob_where_text_belongs_is_named() {
    for (tamper, index, what) in [
        (
            "UPDATE ledger_entries SET body = CAST(body AS BLOB) WHERE idx = 7",
            7,
            "`e.body`, read for it, holds a blob, not text",
        ),
        (
            "UPDATE ledger_nodes SET hash = CAST(hash AS BLOB) WHERE id = 5",
            5,
            "the tree node at level 0 is stored as no SHA-256 hash",
        ),
    ] {
        let fixture = TestDb::sqlite();
        let store = Store::open(fixture.url()).await.unwrap();
        store.record_decisions(&batch(0, 20)).await.unwrap();
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        store.sign_checkpoint(&signer).await.unwrap();
        fixture.exec(tamper).await;
        let finding = store
            .verify(&signer.verifier(), &|_, _| {})
            .await
            .unwrap()
            .expect_err("tampering must be found")
            .to_string();
        assert!(
            finding.starts_with(&format!("entry {index}: ")) && finding.contains(what),
            "{finding}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_changed_pack_row_is_named() {
    names(
        &["UPDATE packs SET sha256 = 'cd' WHERE ledger_index = 0"],
        0,
        "pack",
    )
    .await;
}

#[tokio::test]
async fn a_pack_release_is_recorded_once_and_a_changed_one_is_named() {
    for (store, fixture) in stores().await {
        store.record_decisions(&batch(0, 3)).await.unwrap();
        let entry = store.entry(0).await.unwrap().unwrap();
        let value: serde_json::Value = serde_json::from_str(&entry).unwrap();
        assert_eq!(value["kind"], "pack-loaded");
        assert_eq!(value["signature"], RELEASE);
        store.close().await;
        fixture.drop_database().await;
    }
    names(
        &["UPDATE packs SET signature = '' WHERE ledger_index = 0"],
        0,
        "pack",
    )
    .await;
}

#[tokio::test]
async fn a_deleted_decision_row_is_found() {
    for f in tampered(&["DELETE FROM decisions WHERE ledger_index = 9"]).await {
        assert!(f.starts_with("entry 9: "), "{f}");
    }
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_is_refused() {
    for (store, fixture) in stores().await {
        store.record_decisions(&batch(0, 5)).await.unwrap();
        let ours = NoteSigner::generate("comity.test/ledger").unwrap();
        let theirs = NoteSigner::generate("comity.test/ledger").unwrap();
        store.sign_checkpoint(&theirs).await.unwrap();
        let finding = store
            .verify(&ours.verifier(), &|_, _| {})
            .await
            .unwrap()
            .expect_err("another key's checkpoint");
        assert!(
            finding.to_string().contains("checkpoint at size 6"),
            "{finding}"
        );
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn deliveries_are_written_with_their_decision_and_only_once() {
    use comity_store::{DeliveryKind, NewDelivery};
    for (store, fixture) in stores().await {
        let mut d = decision("synthetic-00001", Outcome::Permitted);
        d.deliveries = ["DHS-ICE-ERO", "subject"]
            .into_iter()
            .map(|to| NewDelivery {
                act: Act::Hold,
                kind: if to == "subject" {
                    DeliveryKind::Notice
                } else {
                    DeliveryKind::Disclosure
                },
                recipient: to.into(),
                subject_id: "synthetic-person".into(),
                payload: serde_json::json!({ "request": "synthetic-00001" }),
                awaiting_approval: false,
            })
            .collect();
        let mut other = d.clone();
        other.request_body.push(' ');
        store
            .record_decisions(std::slice::from_ref(&d))
            .await
            .unwrap();
        store.record_decisions(&[d.clone(), other]).await.unwrap();
        let sql = fixture.pool().await;
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, status, decision_index FROM outbox ORDER BY id")
                .fetch_all(&sql)
                .await
                .unwrap();
        assert_eq!(
            rows,
            [
                (
                    "synthetic-00001/hold/DHS-ICE-ERO".to_owned(),
                    "pending".to_owned(),
                    1
                ),
                (
                    "synthetic-00001/hold/subject".to_owned(),
                    "pending".to_owned(),
                    1
                ),
            ]
        );
        sql.close().await;
        store.close().await;
        fixture.drop_database().await;
    }
}

/// A decision whose one reason has a summary of `length` bytes.
fn with_summary(id: &str, length: usize) -> NewDecision {
    let mut item = decision(id, Outcome::Forbidden);
    let mut reason = (*item.decision.acts[0].reasons[0]).clone();
    reason.summary = "x".repeat(length);
    item.decision.acts[0].reasons[0] = Arc::new(reason);
    item
}

#[tokio::test]
async fn a_decision_too_long_for_an_entry_bundle_is_refused_and_nothing_written() {
    for (store, fixture) in stores().await {
        // With the rest of its entry, this summary passes 65,535 bytes by about 400.
        let refused = store
            .record_decisions(&[
                decision("synthetic-short", Outcome::Forbidden),
                with_summary("synthetic-long", 65_300),
            ])
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, comity_store::StoreError::EntryTooLong { request, bytes }
                if request == "synthetic-long" && *bytes > 65_535),
            "{refused}"
        );
        assert_eq!(
            fixture.count("SELECT COUNT(*) FROM ledger_entries").await,
            0
        );
        // Through the integrator it fails alone.
        let integrator = comity_store::Integrator::start(store.clone(), 8);
        assert!(
            integrator
                .record(with_summary("synthetic-long", 65_300))
                .await
                .is_err()
        );
        let short = integrator
            .record(decision("synthetic-short", Outcome::Forbidden))
            .await
            .unwrap();
        assert!(matches!(short.recorded, Recorded::New(_)));
        // Just under the bound is recorded, and served whole in its entry bundle.
        let index = store
            .record_decisions(&[with_summary("synthetic-under", 64_700)])
            .await
            .unwrap()[0]
            .index()
            .unwrap();
        let tile = format!("tile/entries/000.p/{}", index + 1);
        let tile = comity_ledger::TileAddress::parse(&tile).unwrap();
        let bundle = store.tile(&tile).await.unwrap().unwrap();
        let entries = comity_ledger::bundle_entries(&bundle).unwrap();
        let entry = store.entry(index).await.unwrap().unwrap();
        assert_eq!(entries[index as usize], entry.as_bytes());
        assert!(
            entry.len() > 65_000 && entry.len() <= 65_535,
            "{}",
            entry.len()
        );
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn events_are_entries_in_order_with_the_violations_of_their_decision() {
    use comity_model::Event;
    use comity_store::{EventError, NewEvent};
    let event = |text: &str| Event::from_json(text).unwrap();
    for (store, fixture) in stores().await {
        store.record_decisions(&batch(0, 1)).await.unwrap();
        let held = event(r#"{"kind":"held","at":"2018-03-04T10:00:00-05:00"}"#);
        let new = |event| NewEvent {
            request: "synthetic-00000",
            event,
            by: "synthetic-clerk (clerk)",
        };
        // The decision forbids the hold: recorded, with the rule that forbade it.
        let record = store.record_event(new(&held)).await.unwrap();
        assert_eq!(record.seq, 1);
        assert_eq!(record.violations.len(), 1, "{record:?}");
        assert!(
            record.violations[0].contains("nyc-doc-detainer-needs-judicial-warrant"),
            "{record:?}"
        );
        let entry: serde_json::Value =
            serde_json::from_str(&store.entry(record.ledger_index).await.unwrap().unwrap())
                .unwrap();
        assert_eq!(entry["kind"], "event");
        assert_eq!(entry["event"], "held");
        assert_eq!(entry["violations"][0], record.violations[0].as_str());
        // Out of order and unknown requests are refused, and write nothing.
        let early = event(r#"{"kind":"released","at":"2018-03-04T09:00:00-05:00"}"#);
        assert!(matches!(
            store.record_event(new(&early)).await,
            Err(EventError::OutOfOrder { field: "at", .. })
        ));
        let stranger = NewEvent {
            request: "nobody",
            ..new(&held)
        };
        assert!(matches!(
            store.record_event(stranger).await,
            Err(EventError::UnknownRequest(_))
        ));
        let released = event(r#"{"kind":"released","at":"2018-03-05T09:00:00-05:00"}"#);
        let record = store.record_event(new(&released)).await.unwrap();
        assert_eq!((record.seq, record.violations.len()), (2, 0));
        assert_eq!(store.events("synthetic-00000").await.unwrap().len(), 2);
        assert_eq!(store.verify_events().await.unwrap(), Ok(2));
        // An events row that no longer says what its entry says is found.
        let sql = fixture.pool().await;
        sqlx::query("UPDATE events SET at = '2018-03-04T11:00:00-05:00' WHERE seq = 1")
            .execute(&sql)
            .await
            .unwrap();
        sql.close().await;
        let finding = store.verify_events().await.unwrap().unwrap_err();
        assert!(finding.what.contains("its events row differs"), "{finding}");
        // A forged row on a real row's entry (its unique index dropped first) is found, as
        // is a row that no longer parses.
        for (forge, what) in [
            (
                vec![
                    "UPDATE events SET at = '2018-03-04T10:00:00-05:00' WHERE seq = 1",
                    "DROP INDEX events_ledger_index",
                    "INSERT INTO events SELECT request_id, 3, 'custody-disavowed', at, act, \
                        recorded_by, recorded_at, violations, ledger_index FROM events WHERE seq = 2",
                ],
                "two events rows point at this entry",
            ),
            (
                vec!["UPDATE events SET kind = 'escaped' WHERE seq = 3"],
                "no known kind",
            ),
        ] {
            for statement in forge {
                fixture.exec(statement).await;
            }
            let finding = store.verify_events().await.unwrap().unwrap_err();
            assert!(finding.what.contains(what), "{finding}");
            assert!(finding.index.is_some(), "{finding}");
        }
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn decision_pages_hold_every_decision_once_in_order_with_its_request() {
    use comity_model::Event;
    use comity_store::NewEvent;
    let held = Event::from_json(r#"{"kind":"held","at":"2018-03-04T10:00:00-05:00"}"#).unwrap();
    for (store, fixture) in stores().await {
        // Entry 0 records the pack; decisions 1-5, then five events (6-10), decisions 11-13:
        // pages of three indices cross the events, one range holding no decision at all.
        store.record_decisions(&batch(0, 5)).await.unwrap();
        for i in 0..5 {
            let id = format!("synthetic-{i:05}");
            let event = NewEvent {
                request: &id,
                event: &held,
                by: "synthetic-clerk (clerk)",
            };
            store.record_event(event).await.unwrap();
        }
        store.record_decisions(&batch(5, 8)).await.unwrap();
        let size = store.size().await.unwrap();
        assert_eq!(size, 14, "{}", fixture.url());
        for below in [size, 12] {
            let mut pages = store.decision_pages(below, 3);
            let mut seen = Vec::new();
            while let Some(page) = pages.recv().await {
                let page = page.unwrap();
                assert!(!page.is_empty() && page.len() <= 3, "{}", fixture.url());
                for row in page {
                    let entry: serde_json::Value = serde_json::from_str(&row.entry).unwrap();
                    assert_eq!(entry["kind"], "decision");
                    assert!(row.request.contains(entry["request"].as_str().unwrap()));
                    seen.push(row.index);
                }
            }
            let expected: Vec<u64> = (1..6).chain(11..14).filter(|i| *i < below).collect();
            assert_eq!(seen, expected, "{} below {below}", fixture.url());
        }
        // Passing over the requests of odd number, judged by the entry's end and the request:
        // every row kept comes whole; PostgreSQL leaves the others out, SQLite may keep them.
        let judged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let pass_over: comity_store::PassOver = {
            let judged = judged.clone();
            std::sync::Arc::new(move |end: &str, request: &str| {
                assert!(end.ends_with("\"}") && end.len() >= comity_store::ENTRY_TAIL);
                judged.lock().unwrap().push(end.to_owned());
                let odd = ["1\"", "3\"", "5\"", "7\""];
                odd.iter()
                    .any(|n| request.contains(&format!("synthetic-0000{n}")))
            })
        };
        let mut pages = store.decision_pages_passing_over(size, 3, Some(pass_over));
        let mut kept = Vec::new();
        while let Some(page) = pages.recv().await {
            for row in page.unwrap() {
                let entry: serde_json::Value = serde_json::from_str(&row.entry).unwrap();
                assert_eq!(entry["kind"], "decision", "a whole entry");
                kept.push(row.index);
            }
        }
        let even: Vec<u64> = vec![1, 3, 5, 12];
        if fixture.url().starts_with("postgres") {
            assert_eq!(kept, even, "{}", fixture.url());
            assert_eq!(judged.lock().unwrap().len(), 8, "every row judged once");
        } else {
            assert!(even.iter().all(|i| kept.contains(i)), "{kept:?}");
        }
    }
}
