//! The outbox from the dispatcher's side, on SQLite and on the machine's PostgreSQL: claims
//! that never overlap and leases that run out, the ledger check before a delivery is sent,
//! attempts and results as ledger entries that `verify` rebuilds, and counsel's notices.
//!
//! Each test runs on a fresh SQLite file and a fresh PostgreSQL database (comity-testdb).

use std::collections::HashSet;
use std::sync::Arc;

use comity_ledger::NoteSigner;
use comity_model::{Act, ActDecision, Decision, Outcome, PackRef, Reason};
use comity_store::{Completion, Delivery, DeliveryKind, NewDecision, NewDelivery, Permit, Store};
use comity_testdb::TestDb;
use sqlx::Row;

/// A store on a fresh database of each backend.
async fn stores() -> Vec<(Store, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::both().await {
        out.push((Store::open(db.url()).await.unwrap(), db));
    }
    out
}

/// A decided request about `subject` whose acts are `hold` (forbidden) and `notify-release`
/// (as `outcome`), with a disclosure of the release date to DHS-ICE-ERO when it is permitted.
fn decided(id: &str, subject: &str, outcome: Outcome) -> NewDecision {
    let reason = Arc::new(Reason {
        rule: "synthetic-rule".into(),
        pack: "ocd-division/country:us@2017-04-02".into(),
        citation: "8 CFR 287.7".into(),
        summary: "A synthetic rule.".into(),
        facts: Default::default(),
        caution: None,
    });
    let act = |act, outcome| ActDecision {
        act,
        outcome,
        reasons: vec![reason.clone()],
        limits: vec![],
        met: vec![],
        instruction: None,
    };
    let decision = Decision {
        request: id.to_owned(),
        at: "2019-03-01T09:00:00-05:00".parse().unwrap(),
        packs: vec![PackRef {
            id: reason.pack.clone(),
            sha256: "ab".repeat(32),
            signature: None,
        }],
        acts: vec![
            act(Act::Hold, Outcome::Forbidden),
            act(Act::NotifyRelease, outcome),
        ],
        warnings: vec![],
    };
    let deliveries = if outcome == Outcome::Forbidden {
        vec![]
    } else {
        vec![NewDelivery {
            act: Act::NotifyRelease,
            kind: DeliveryKind::Disclosure,
            recipient: "DHS-ICE-ERO".into(),
            subject_id: subject.into(),
            payload: serde_json::json!({ "request": id, "release_at": "2019-03-04T10:00:00-05:00" }),
            awaiting_approval: false,
        }]
    };
    NewDecision {
        request_body: format!("{{\"id\":\"{id}\",\"synthetic\":true}}"),
        decision,
        deliveries,
    }
}

fn permitted(from: usize, to: usize) -> Vec<NewDecision> {
    (from..to)
        .map(|i| {
            decided(
                &format!("r-{i:04}"),
                &format!("p-{i:04}"),
                Outcome::Permitted,
            )
        })
        .collect()
}

/// One signer for every checkpoint the tests sign.
fn signer() -> &'static NoteSigner {
    static SIGNER: std::sync::OnceLock<NoteSigner> = std::sync::OnceLock::new();
    SIGNER.get_or_init(|| NoteSigner::generate("comity.test/ledger").unwrap())
}

async fn verify_clean(store: &Store) {
    store.sign_checkpoint(signer()).await.unwrap();
    let report = store
        .verify(&signer().verifier(), &|_, _| {})
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn claims_never_overlap_and_a_lost_claim_records_nothing() {
    for (store, fixture) in stores().await {
        store.record_decisions(&permitted(0, 120)).await.unwrap();
        // Four claimers, each on a pool of its own (as separate processes would be), claim
        // in small batches at once until nothing is left.
        let claimers: Vec<_> = (0..4)
            .map(|c| {
                let url = fixture.url().to_owned();
                tokio::spawn(async move {
                    let store = Store::open(&url).await.unwrap();
                    let mut mine = Vec::new();
                    loop {
                        let batch = store
                            .claim_deliveries(&format!("claimer-{c}"), 7, 60_000)
                            .await
                            .unwrap();
                        if batch.is_empty() {
                            break;
                        }
                        mine.extend(batch.into_iter().map(|d| d.id));
                    }
                    store.close().await;
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in claimers {
            all.extend(c.await.unwrap());
        }
        let distinct: HashSet<&String> = all.iter().collect();
        assert_eq!((all.len(), distinct.len()), (120, 120), "{}", fixture.url());
        assert!(
            store
                .claim_deliveries("late", 10, 60_000)
                .await
                .unwrap()
                .is_empty()
        );

        // A lease that ran out: the row is claimed again, and the first claim records nothing.
        store.record_decisions(&permitted(120, 121)).await.unwrap();
        let first = store.claim_deliveries("slow", 1, 1).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let second = store.claim_deliveries("fast", 1, 60_000).await.unwrap();
        assert_eq!(first[0].id, second[0].id);
        assert_ne!(first[0].claim, second[0].claim);
        let permit = second[0].decision_index;
        assert_eq!(
            store
                .record_attempts("slow", &[(&first[0], permit)])
                .await
                .unwrap(),
            [None]
        );
        assert_eq!(
            store
                .record_attempts("fast", &[(&second[0], permit)])
                .await
                .unwrap(),
            [Some(1)]
        );
        let done = [(&first[0], Completion::Delivered)];
        assert_eq!(
            store.complete_deliveries("slow", &done).await.unwrap(),
            [false]
        );
        let done = [(&second[0], Completion::Delivered)];
        assert_eq!(
            store.complete_deliveries("fast", &done).await.unwrap(),
            [true]
        );
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.delivered), (120, 1));
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn only_a_permitting_decision_in_the_ledger_permits() {
    for (store, fixture) in stores().await {
        let mut batch = permitted(0, 3);
        batch.push(decided("r-forbidden", "p-f", Outcome::Forbidden));
        batch.push(decided("r-required", "p-r", Outcome::Permitted));
        batch[4].decision.acts[1].outcome = Outcome::Required;
        let indices: Vec<u64> = store
            .record_decisions(&batch)
            .await
            .unwrap()
            .iter()
            .map(|r| r.index().unwrap())
            .collect();
        let permit = |r: &'static str, a: &'static str| {
            let store = store.clone();
            async move { store.permitting_entry(r, a).await.unwrap() }
        };
        let refused = |p: Permit, needle: &str| match p {
            Permit::Refused(why) => assert!(why.contains(needle), "{why}"),
            other => panic!("expected a refusal naming `{needle}`, got {other:?}"),
        };
        assert_eq!(
            permit("r-0000", "notify-release").await,
            Permit::Granted(indices[0])
        );
        assert_eq!(
            permit("r-required", "notify-release").await,
            Permit::Granted(indices[4])
        );
        refused(permit("r-0000", "hold").await, "finds `hold` forbidden");
        refused(permit("r-forbidden", "notify-release").await, "forbidden");
        refused(
            permit("r-0000", "share-records").await,
            "does not decide `share-records`",
        );
        refused(
            permit("no-such-request", "notify-release").await,
            "no decision",
        );
        // The decision row rewritten to point at another request's permitting entry: the
        // entry is not about this request.
        fixture
            .exec("UPDATE decisions SET ledger_index = ledger_index + 1000 WHERE request_id = 'r-0000'")
            .await;
        fixture
            .exec(&format!(
                "UPDATE decisions SET ledger_index = {} WHERE request_id = 'r-forbidden'",
                indices[0]
            ))
            .await;
        refused(
            permit("r-forbidden", "notify-release").await,
            "differs from its ledger entry",
        );
        // The entry rewritten to permit: it no longer hashes to its leaf.
        fixture
            .exec("UPDATE ledger_entries SET body = replace(body, 'forbidden', 'permitted') WHERE body LIKE '%\"r-0001\"%'")
            .await;
        refused(
            permit("r-0001", "hold").await,
            "no longer hashes to its leaf",
        );
        store.close().await;
        fixture.drop_database().await;
    }
}

/// Claims everything due, records an attempt on each, and completes each with `completion`.
async fn settle(store: &Store, completion: Completion) -> Vec<Delivery> {
    let claimed = store.claim_deliveries("d", 100, 60_000).await.unwrap();
    let attempts: Vec<(&Delivery, u64)> = claimed.iter().map(|d| (d, d.decision_index)).collect();
    store.record_attempts("d", &attempts).await.unwrap();
    let done: Vec<(&Delivery, Completion)> =
        claimed.iter().map(|d| (d, completion.clone())).collect();
    assert!(
        store
            .complete_deliveries("d", &done)
            .await
            .unwrap()
            .iter()
            .all(|r| *r)
    );
    claimed
}

#[tokio::test]
async fn a_delivered_disclosure_notifies_assigned_counsel_and_verify_checks_every_dispatch_entry() {
    for (store, fixture) in stores().await {
        store.record_decisions(&permitted(0, 3)).await.unwrap();
        assert!(
            store
                .assign("legal-aid-1", "p-0000", "synthetic-admin (admin)")
                .await
                .unwrap()
        );
        assert!(
            store
                .assign("legal-aid-2", "p-0000", "synthetic-admin (admin)")
                .await
                .unwrap()
        );
        let delivered = settle(&store, Completion::Delivered).await;
        assert_eq!(delivered.len(), 3);
        // Two notices, to the two counsel of p-0000, same request and act, permitted by the
        // same decision; notices delivered in turn produce no notices of their own.
        let notices = store.claim_deliveries("d", 100, 1).await.unwrap();
        let ids: Vec<&str> = notices.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "r-0000/notify-release/counsel:legal-aid-1",
                "r-0000/notify-release/counsel:legal-aid-2"
            ]
        );
        let payload: serde_json::Value = serde_json::from_str(&notices[0].payload).unwrap();
        assert_eq!(payload["disclosed_to"], "DHS-ICE-ERO");
        assert_eq!(
            payload["disclosed"]["release_at"],
            "2019-03-04T10:00:00-05:00"
        );
        assert_eq!(notices[0].kind, "notice");
        assert_eq!(
            store
                .permitting_entry(&notices[0].request_id, &notices[0].act)
                .await
                .unwrap(),
            Permit::Granted(notices[0].decision_index)
        );
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        settle(&store, Completion::Delivered).await;
        assert_eq!(store.outbox_counts().await.unwrap().delivered, 5);

        // A failed attempt goes back to pending, not before its retry time.
        store.record_decisions(&permitted(3, 4)).await.unwrap();
        let retry_at = jiff::Timestamp::now().as_millisecond() + 60_000;
        let failed = settle(
            &store,
            Completion::Failed {
                error: "receiver \u{1e}down\u{1f}".into(),
                retry_at,
            },
        )
        .await;
        assert_eq!(failed.len(), 1);
        assert!(
            store
                .claim_deliveries("d", 10, 60_000)
                .await
                .unwrap()
                .is_empty()
        );
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.delivered), (1, 5));

        // Every attempt and result is in the ledger, and verify rebuilds each from its row.
        let pool = fixture.pool().await;
        let kinds: Vec<(String, i64)> =
            sqlx::query("SELECT kind, COUNT(*) FROM ledger_entries GROUP BY kind ORDER BY kind")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        assert_eq!(
            kinds,
            [
                ("decision".to_owned(), 4),
                ("dispatch-attempt".to_owned(), 6),
                ("dispatch-result".to_owned(), 6),
                ("pack-loaded".to_owned(), 1)
            ]
        );
        pool.close().await;
        verify_clean(&store).await;

        let finding = |statement: &'static str| {
            let (store, fixture) = (&store, &fixture);
            async move {
                fixture.exec(statement).await;
                store
                    .verify(&signer().verifier(), &|_, _| {})
                    .await
                    .unwrap()
                    .expect_err("tampering must be found")
                    .to_string()
            }
        };
        // An entry pointed at another delivery's outbox row; then a delivery's outbox row
        // removed; then an entry that names no row at all. The first entry at fault is named.
        let f = finding(
            "UPDATE ledger_entries SET delivery = 'r-0000/notify-release/DHS-ICE-ERO' \
             WHERE delivery = 'r-0003/notify-release/DHS-ICE-ERO'",
        )
        .await;
        assert!(
            f.contains("not about delivery r-0000/notify-release/DHS-ICE-ERO, which its row names"),
            "{f}"
        );
        fixture
            .exec("UPDATE ledger_entries SET delivery = 'r-0003/notify-release/DHS-ICE-ERO' WHERE body LIKE '%\"r-0003/notify-release/DHS-ICE-ERO\"%'")
            .await;
        verify_clean(&store).await;
        let f = finding("DELETE FROM outbox WHERE id = 'r-0002/notify-release/DHS-ICE-ERO'").await;
        assert!(
            f.contains("outbox row of delivery r-0002/notify-release/DHS-ICE-ERO is missing"),
            "{f}"
        );
        let f =
            finding("UPDATE ledger_entries SET delivery = '' WHERE delivery LIKE 'r-0001/%'").await;
        assert!(
            f.contains("`dispatch-attempt` entry that names no outbox row"),
            "{f}"
        );
        let f = finding("UPDATE ledger_entries SET delivery = 'r-0001/notify-release/DHS-ICE-ERO' WHERE kind = 'pack-loaded'").await;
        assert!(
            f.starts_with("entry 0: ") && f.contains("marked as about delivery"),
            "{f}"
        );
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_decision_that_cannot_be_recorded_fails_alone_in_its_group_commit() {
    for (store, fixture) in stores().await {
        store
            .record_decisions(&[decided("planted", "synthetic-p", Outcome::Permitted)])
            .await
            .unwrap();
        // A row already holding the id the victim's delivery will have (a database edited
        // by hand: ids of different deliveries never collide).
        fixture
            .exec(
                "INSERT INTO outbox (id, request_id, act, kind, recipient, subject_id, decision_index, payload, status, attempts, next_at, claimed_until, last_error, created_at) \
                 VALUES ('victim/notify-release/DHS-ICE-ERO', 'planted', 'notify-release', 'disclosure', 'DHS-ICE-ERO', 'synthetic-p', 0, '{}', 'refused', 0, 0, 0, '', 'now')",
            )
            .await;
        let integrator = comity_store::Integrator::start(store.clone(), 64);
        let ids = ["innocent-1", "victim", "innocent-2", "innocent-3"];
        let results = futures_util::future::join_all(ids.iter().map(|id| {
            integrator.record(decided(id, &format!("synthetic-{id}"), Outcome::Permitted))
        }))
        .await;
        for (id, result) in ids.iter().zip(&results) {
            assert_eq!(result.is_ok(), *id != "victim", "{id}: {result:?}");
        }
        assert_eq!(
            fixture.count("SELECT COUNT(*) FROM decisions").await,
            4,
            "the planted request and the three innocent ones"
        );
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        store.sign_checkpoint(&signer).await.unwrap();
        let report = store.verify(&signer.verifier(), &|_, _| {}).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
    }
}
