//! The dispatcher against real receivers (a webhook sink, an SMTP sink and a directory on
//! this machine) over decisions the engine made from the repository's packs, on SQLite and on
//! the machine's PostgreSQL:
//!
//! - permitted disclosures arrive once each, signed, under their delivery id as
//!   `Idempotency-Key`; a delivery the ledger does not permit is refused, never sent, and the
//!   refusal is in the ledger; a notice goes to an assigned counsel; the file channel writes
//!   whole files; a recipient without a channel is dead-lettered at once;
//! - a notice to counsel carries a receipt counsel can check offline, the same on every
//!   attempt;
//! - a failing receiver is tried again with growing delays, then dead-lettered;
//! - two dispatchers on one database never deliver one delivery twice;
//! - email goes out by SMTP;
//!
//! and `verify` is clean after each.
//!
//! Each test runs on a fresh SQLite file and a fresh PostgreSQL database (comity-testdb),
//! except the SMTP one, on SQLite only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use comity_ledger::NoteSigner;
use comity_model::Request;
use comity_policy::Engine;
use comity_server::config::{Channel, Config, DispatchConfig};
use comity_server::dispatch::{CancellationToken, Dispatcher};
use comity_server::receipt::Receipt;
use comity_store::{NewDecision, Store};
use comity_testdb::TestDb;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SECRET: &str = "synthetic-webhook-secret";

// ---- databases ----

/// A store on a fresh database of each backend.
async fn stores() -> Vec<(Store, TestDb)> {
    let mut out = Vec::new();
    for db in TestDb::both().await {
        out.push((Store::open(db.url()).await.unwrap(), db));
    }
    out
}

/// `(delivery id, status, attempts, last error)` of every outbox row, by id.
async fn outbox(db: &TestDb) -> BTreeMap<String, (String, i64, String)> {
    let pool = db.pool().await;
    let rows = sqlx::query("SELECT id, status, attempts, last_error FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect()
}

/// The ledger's dispatch entries, parsed, in ledger order.
async fn dispatch_entries(db: &TestDb) -> Vec<Value> {
    let pool = db.pool().await;
    let rows = sqlx::query(
        "SELECT body FROM ledger_entries WHERE kind IN ('dispatch-attempt', 'dispatch-result') ORDER BY idx",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect()
}

/// The ledger's key in these tests: a dispatcher given it (`signing`, as the server's is)
/// signs the checkpoints of counsel's receipts with it, and `verify` checks every checkpoint
/// against it.
fn key() -> NoteSigner {
    NoteSigner::from_secret_bytes("comity.test/ledger", &[7; 32]).unwrap()
}

async fn verify_clean(store: &Store) {
    let signer = key();
    store.sign_checkpoint(&signer).await.unwrap();
    let report = store.verify(&signer.verifier(), &|_, _| {}).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

/// Assigns counsel `legal-aid-1` to the person of request `id` (`synthetic-<id>`), as an
/// administrator does.
async fn assign_counsel(store: &Store, id: &str) {
    let subject = format!("synthetic-{id}");
    assert!(
        store
            .assign("legal-aid-1", &subject, "synthetic-admin (admin)")
            .await
            .unwrap()
    );
}

// ---- decisions, made by the engine from the repository's packs ----

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Engine::load(&repo.join("packs"), &repo.join("catalog")).expect("the packs load")
    })
}

/// Decides `request` and plans its deliveries, as ingest does.
fn decided(request: &Value) -> NewDecision {
    let body = request.to_string();
    let request = Request::from_json(&body).unwrap();
    let decision = engine().decide(&request).unwrap();
    NewDecision {
        deliveries: comity_server::plan::deliveries(&request, &decision),
        request_body: body,
        decision,
    }
}

/// The repository's Columbus, Ohio example (a detainer from ICE to a sheriff: the federal
/// pack alone applies, and permits every act asked), under another id and acts.
fn ohio(id: &str, acts: &[&str]) -> Value {
    let mut request: Value = serde_json::from_str(include_str!(
        "../../../examples/columbus-sheriff-detainer.json"
    ))
    .unwrap();
    request["id"] = id.into();
    request["acts"] = json!(acts);
    request["subject"]["id"] = format!("synthetic-{id}").into();
    request
}

/// A California release notification for a person with a serious felony: permitted, and it
/// owes the TRUTH Act notice to the person and to counsel.
fn california(id: &str) -> Value {
    json!({
        "id": id,
        "received_at": "2019-03-01T09:00:00-08:00",
        "jurisdiction": "ocd-division/country:us/state:ca/place:los_angeles",
        "from": { "agency": "DHS-ICE-ERO", "kind": "federal-immigration" },
        "to": { "agency": "LA-COUNTY-SHERIFF", "kind": "sheriff" },
        "form": "I-247A",
        "basis": ["biometric-match"],
        "purpose": "civil-immigration",
        "warrant": { "kind": "administrative", "form": "I-200" },
        "acts": ["notify-release"],
        "subject": { "id": format!("synthetic-{id}"), "convictions": [
            { "offense": "CA PC 211", "class": "felony", "date": "2012-04-10", "incarcerated_days": 730 }
        ] },
        "custody": { "status": "in-custody", "arrested_at": "2019-02-26T21:00:00-08:00",
                     "release_at": "2019-03-04T10:00:00-08:00" }
    })
}

/// The repository's example: a NYC DOC detainer with an administrative warrant; holding and
/// telling the release date are both forbidden.
fn new_york() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nyc-doc-detainer.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// ---- receivers ----

/// What a webhook sink received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    key: String,
    signed: bool,
    body: Value,
    at: Instant,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A webhook sink on 127.0.0.1: `/ok` answers 200, `/fail` answers 500; both record what
/// arrived and whether its signature is the HMAC-SHA256 of the body under [`SECRET`].
async fn webhook_sink() -> (String, Log) {
    async fn receive(path: &str, log: &Log, headers: &HeaderMap, body: &Bytes) {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        log.lock().unwrap().push(Received {
            path: path.to_owned(),
            key: header("idempotency-key"),
            signed: header("comity-signature") == format!("sha256={expected}"),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            at: Instant::now(),
        });
    }
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .route(
            "/ok",
            post(
                |State(log): State<Log>, headers: HeaderMap, body: Bytes| async move {
                    receive("/ok", &log, &headers, &body).await;
                    StatusCode::OK
                },
            ),
        )
        .route(
            "/fail",
            post(
                |State(log): State<Log>, headers: HeaderMap, body: Bytes| async move {
                    receive("/fail", &log, &headers, &body).await;
                    (StatusCode::INTERNAL_SERVER_ERROR, "synthetic outage")
                },
            ),
        )
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, log)
}

/// An SMTP sink on 127.0.0.1 that accepts every message and keeps its text.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = messages.clone();
    tokio::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = conn.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut text = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                text.push_str(&l);
                                text.push('\n');
                            }
                            kept.lock().unwrap().push(text);
                            b"250 kept\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"502 no\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

fn webhook(url: String) -> Channel {
    Channel::Webhook {
        url,
        secret: SECRET.into(),
    }
}

fn config(
    channels: impl IntoIterator<Item = (&'static str, Channel)>,
    policy: DispatchConfig,
) -> Config {
    use comity_model::AgencyKind::{FederalImmigration, FederalOther};
    Config {
        dispatch: policy,
        channels: channels
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        // The agencies these tests disclose to, as the configuration vouches for them.
        agencies: [
            ("DHS-ICE-ERO", FederalImmigration),
            ("DHS-ICE-LESC", FederalImmigration),
            ("FBI-NCIC", FederalOther),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        feeds: Vec::new(),
    }
}

/// Runs passes until no delivery is pending (waiting out retries), at most 30 s.
async fn dispatch_all(dispatcher: &Dispatcher, store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.outbox_counts().await.unwrap().pending > 0 {
        assert!(
            Instant::now() < deadline,
            "deliveries still pending after 30 s"
        );
        if dispatcher.dispatch_due().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The keys that arrived, with how often each did.
fn arrivals(log: &Log) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in log.lock().unwrap().iter() {
        *out.entry(r.key.clone()).or_default() += 1;
    }
    out
}

// ---- the tests ----

#[tokio::test]
async fn only_permitted_deliveries_are_sent_once_each_signed_and_refusals_are_in_the_ledger() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let files = tempfile::tempdir().unwrap();
        let batch = [
            decided(&ohio("oh-1", &["notify-release", "share-status", "hold"])),
            decided(&california("ca-1")),
            decided(&new_york()),
        ];
        let recorded = store.record_decisions(&batch).await.unwrap();
        let index: Vec<u64> = recorded.iter().map(|r| r.index().unwrap()).collect();
        assert!(
            batch[2].deliveries.is_empty(),
            "nothing is permitted in New York"
        );
        assign_counsel(&store, "oh-1").await;
        // Rows the ledger does not back: a disclosure of a forbidden act, inserted by hand;
        // a row whose act was rewritten to one never decided; a row that names another
        // request's decision as its permit.
        let row = |id: &str, request: &str, act: &str, recipient: &str, decision: u64| {
            format!(
                "INSERT INTO outbox (id, request_id, act, kind, recipient, subject_id, decision_index, payload, status, attempts, next_at, claimed_until, last_error, created_at) \
                 VALUES ('{id}', '{request}', '{act}', 'disclosure', '{recipient}', 'synthetic', {decision}, '{{\"release_at\":\"2018-03-04T10:00:00-05:00\"}}', 'pending', 0, 0, 0, '', 'now')"
            )
        };
        let nyc = "nyc-doc-2018-000123";
        fixture
            .exec(&row(
                &format!("{nyc}/notify-release/DHS-ICE-ERO"),
                nyc,
                "notify-release",
                "DHS-ICE-ERO",
                index[2],
            ))
            .await;
        fixture
            .exec("UPDATE outbox SET act = 'transfer' WHERE id = 'oh-1/share-status/DHS-ICE-ERO'")
            .await;
        fixture
            .exec(&row(
                "oh-1/notify-court-date/DHS-ICE-ERO",
                "oh-1",
                "notify-release",
                "DHS-ICE-ERO",
                index[1],
            ))
            .await;
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("counsel:legal-aid-1", webhook(format!("{base}/ok"))),
                (
                    "subject",
                    Channel::File {
                        dir: files.path().join("subject"),
                    },
                ),
            ],
            DispatchConfig::default(),
        );
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into())
            .unwrap()
            .signing(key());
        dispatch_all(&dispatcher, &store).await;

        // Exactly the permitted disclosures, and the notice to the assigned counsel, once
        // each, signed, under their delivery id.
        let sent = [
            "ca-1/notify-release/DHS-ICE-ERO",
            "oh-1/notify-release/DHS-ICE-ERO",
            "oh-1/notify-release/counsel:legal-aid-1",
        ];
        let once: BTreeMap<String, usize> = sent.iter().map(|k| (k.to_string(), 1)).collect();
        assert_eq!(arrivals(&log), once, "{}", fixture.url());
        for r in log.lock().unwrap().iter() {
            assert!(r.signed, "{} arrived with a bad signature", r.key);
            assert_eq!(r.body["delivery"], r.key.as_str());
        }
        let by_key = |k: &str| {
            log.lock()
                .unwrap()
                .iter()
                .find(|r| r.key == k)
                .unwrap()
                .body
                .clone()
        };
        let oh = by_key("oh-1/notify-release/DHS-ICE-ERO");
        assert_eq!(oh["ledger_index"], index[0]);
        assert_eq!(oh["payload"]["release_at"], "2019-03-04T10:00:00-05:00");
        let counsel = by_key("oh-1/notify-release/counsel:legal-aid-1");
        assert_eq!(counsel["kind"], "notice");
        assert_eq!(counsel["payload"]["disclosed_to"], "DHS-ICE-ERO");

        // The TRUTH Act notice to the person went to a file, whole, under its id.
        let dir = files.path().join("subject");
        let names: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let name = "ca-1%2Fnotify-release%2Fsubject.json";
        assert_eq!(names, BTreeSet::from([name.to_owned()]));
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        assert_eq!(file["delivery"], "ca-1/notify-release/subject");
        assert_eq!(file["payload"]["because"], "Cal. Gov. Code § 7283.1(b)");

        // Every row's end; the notice owed to an unnamed `counsel` has no channel: dead at
        // once, never attempted.
        let outbox = outbox(&fixture).await;
        let status = |id: &str| outbox[id].clone();
        for id in sent.iter().chain(&["ca-1/notify-release/subject"]) {
            assert_eq!(
                (status(id).0.as_str(), status(id).1),
                ("delivered", 1),
                "{id}"
            );
        }
        let refused = [
            format!("{nyc}/notify-release/DHS-ICE-ERO"),
            "oh-1/notify-court-date/DHS-ICE-ERO".to_owned(),
            "oh-1/share-status/DHS-ICE-ERO".to_owned(),
        ];
        for id in &refused {
            assert_eq!(
                (status(id).0.as_str(), status(id).1),
                ("refused", 0),
                "{id}"
            );
        }
        assert!(
            status(&refused[0])
                .2
                .contains("finds `notify-release` forbidden")
        );
        assert!(status(&refused[1]).2.contains("names ledger entry"));
        assert!(status(&refused[2]).2.contains("does not decide `transfer`"));
        let dead = status("ca-1/notify-release/counsel");
        assert_eq!((dead.0.as_str(), dead.1), ("dead", 0));
        assert!(
            dead.2
                .contains("no channel is configured for recipient `counsel`")
        );

        // The ledger: an attempt and a result for each sent; a refusal, and no attempt, for
        // each refused.
        let entries = dispatch_entries(&fixture).await;
        let of = |kind: &str, id: &str| -> Vec<Value> {
            entries
                .iter()
                .filter(|e| e["kind"] == kind && e["delivery"] == id)
                .cloned()
                .collect()
        };
        for id in sent {
            let attempts = of("dispatch-attempt", id);
            assert_eq!(attempts.len(), 1, "{id}");
            assert_eq!(attempts[0]["dispatcher"], "d1");
            let results = of("dispatch-result", id);
            assert_eq!(results.len(), 1, "{id}");
            assert_eq!(results[0]["outcome"], "delivered");
        }
        assert_eq!(of("dispatch-attempt", sent[1])[0]["permit"], index[0]);
        for id in &refused {
            assert!(of("dispatch-attempt", id).is_empty(), "{id}");
            let results = of("dispatch-result", id);
            assert_eq!(results.len(), 1, "{id}");
            assert_eq!(results[0]["outcome"], "refused");
            assert_eq!(results[0]["attempt"], 0);
        }
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_notice_to_counsel_carries_a_receipt_counsel_can_check_the_same_on_every_attempt() {
    use comity_model::Act;
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let files = tempfile::tempdir().unwrap();
        let batch = [
            decided(&ohio("oh-5", &["notify-release"])),
            decided(&california("ca-5")),
        ];
        store.record_decisions(&batch).await.unwrap();
        assign_counsel(&store, "oh-5").await;
        // Counsel's receiver is down: the notice is tried twice, then dead-lettered.
        let policy = DispatchConfig {
            max_attempts: 2,
            base_delay_ms: 20,
            max_delay_ms: 100,
        };
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("counsel:legal-aid-1", webhook(format!("{base}/fail"))),
                (
                    "counsel",
                    Channel::File {
                        dir: files.path().to_owned(),
                    },
                ),
            ],
            policy,
        );
        // Where the ledger's key is kept (the server), the dispatcher signs what a receipt
        // needs.
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into())
            .unwrap()
            .signing(key());
        dispatch_all(&dispatcher, &store).await;

        let arrived = |key: &str| -> Vec<Value> {
            let log = log.lock().unwrap();
            log.iter()
                .filter(|r| r.key == key)
                .map(|r| r.body.clone())
                .collect()
        };
        let notices = arrived("oh-5/notify-release/counsel:legal-aid-1");
        assert_eq!(notices.len(), 2, "{}", fixture.url());
        assert_eq!(
            notices[0], notices[1],
            "every attempt carries the same receipt"
        );
        // The receipt is the disclosure's, and holds against the ledger's key alone.
        let receipt = Receipt::read(&notices[0].to_string()).unwrap();
        assert_eq!(receipt.delivery.id, "oh-5/notify-release/DHS-ICE-ERO");
        assert_eq!(receipt.delivery.status, "delivered");
        let checked = receipt.check(&key().verifier()).unwrap();
        assert_eq!(
            (checked.request.as_str(), checked.act),
            ("oh-5", Act::NotifyRelease)
        );
        assert_eq!(json!(checked.index), notices[0]["ledger_index"]);
        let stranger = NoteSigner::from_secret_bytes("comity.test/ledger", &[8; 32]).unwrap();
        assert!(receipt.check(&stranger.verifier()).is_err());
        // A notice carrying the receipt of another request is refused.
        let mut moved = notices[0].clone();
        moved["request"] = "oh-6".into();
        assert!(Receipt::read(&moved.to_string()).is_err());
        // The disclosure carries none.
        let disclosures = arrived("oh-5/notify-release/DHS-ICE-ERO");
        assert!(disclosures[0].get("receipt").is_none());

        // The notice California's law owes counsel carries the receipt of itself.
        let owed =
            std::fs::read_to_string(files.path().join("ca-5%2Fnotify-release%2Fcounsel.json"))
                .unwrap();
        let receipt = Receipt::read(&owed).unwrap();
        assert_eq!(receipt.delivery.id, "ca-5/notify-release/counsel");
        receipt.check(&key().verifier()).unwrap();
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_dispatcher_without_the_key_puts_a_notice_off_until_a_signed_checkpoint_covers_it() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let recorded = store
            .record_decisions(&[decided(&ohio("oh-9", &["notify-release"]))])
            .await
            .unwrap();
        let permit = recorded[0].index().unwrap();
        assign_counsel(&store, "oh-9").await;
        let policy = DispatchConfig {
            max_attempts: 3,
            base_delay_ms: 20,
            max_delay_ms: 100,
        };
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("counsel:legal-aid-1", webhook(format!("{base}/ok"))),
            ],
            policy,
        );
        // As `comity dispatch` runs it: no key.
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        let notice = "oh-9/notify-release/counsel:legal-aid-1";
        let mut passes = 0;
        while passes < 5 {
            if dispatcher.dispatch_due().await.unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            passes += 1;
        }
        assert!(
            arrivals(&log).contains_key("oh-9/notify-release/DHS-ICE-ERO"),
            "the disclosure goes ({})",
            fixture.url()
        );
        assert!(!arrivals(&log).contains_key(notice), "the notice waits");
        let (status, attempts, error) = outbox(&fixture).await[notice].clone();
        assert_eq!((status.as_str(), attempts), ("pending", 0), "{error}");
        assert!(
            error.contains(&format!(
                "no signed checkpoint covers ledger entry {permit} yet"
            )),
            "{error}"
        );
        assert!(
            store.latest_checkpoint().await.unwrap().is_none(),
            "the dispatcher signed nothing"
        );
        assert!(
            !dispatch_entries(&fixture)
                .await
                .iter()
                .any(|e| e["delivery"] == notice),
            "no attempt on the notice is in the ledger"
        );
        // The server's publisher signs a checkpoint: the notice goes, with a receipt in it.
        let published = store.sign_checkpoint(&key()).await.unwrap();
        dispatch_all(&dispatcher, &store).await;
        let got = log.lock().unwrap().clone();
        let sent: Vec<&Received> = got.iter().filter(|r| r.key == notice).collect();
        assert_eq!(sent.len(), 1);
        let receipt = Receipt::read(&sent[0].body.to_string()).unwrap();
        assert_eq!(receipt.checkpoint, published.note);
        assert_eq!(receipt.check(&key().verifier()).unwrap().index, permit);
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_receipt_the_store_fails_to_make_puts_that_notice_off_alone() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let ids = ["oh-10", "oh-f1", "oh-f2", "oh-11"];
        let mut index = BTreeMap::new();
        for id in ids {
            let recorded = store
                .record_decisions(&[decided(&ohio(id, &["notify-release"]))])
                .await
                .unwrap();
            index.insert(id, recorded[0].index().unwrap());
        }
        for id in ["oh-10", "oh-11"] {
            assign_counsel(&store, id).await;
        }
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("counsel:legal-aid-1", webhook(format!("{base}/ok"))),
            ],
            DispatchConfig::default(),
        );
        // The disclosures go; the notices to counsel are planned.
        let first = Dispatcher::new(store.clone(), config.clone(), "d1".into()).unwrap();
        first.dispatch_due().await.unwrap();
        store.sign_checkpoint(&key()).await.unwrap();
        // The leaf beside oh-10's entry, on its inclusion proof's path (and on no other
        // notice's), goes missing: the store cannot prove oh-10's entry.
        let sibling = index["oh-10"] ^ 1;
        assert_ne!(sibling, index["oh-11"]);
        fixture
            .exec(&format!("DELETE FROM ledger_nodes WHERE id = {sibling}"))
            .await;
        let own = Store::open(fixture.url()).await.unwrap();
        let dispatcher = Dispatcher::new(own.clone(), config, "d2".into()).unwrap();
        let done = dispatcher.dispatch_due().await.unwrap();
        let became: Vec<(&str, &str)> = done
            .iter()
            .map(|d| (d.delivery.as_str(), d.became.outcome()))
            .collect();
        assert_eq!(
            became,
            [
                ("oh-10/notify-release/counsel:legal-aid-1", "put-off"),
                ("oh-11/notify-release/counsel:legal-aid-1", "delivered")
            ],
            "{}",
            fixture.url()
        );
        assert!(arrivals(&log).contains_key("oh-11/notify-release/counsel:legal-aid-1"));
        let (status, attempts, error) =
            outbox(&fixture).await["oh-10/notify-release/counsel:legal-aid-1"].clone();
        assert_eq!((status.as_str(), attempts), ("pending", 0), "{error}");
        assert!(
            error.contains(&format!("the ledger lacks node (level 0, index {sibling})")),
            "{error}"
        );
        own.close().await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_notice_whose_disclosure_row_names_another_entry_carries_no_receipt_of_it() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let batch = [
            decided(&ohio("oh-7", &["notify-release"])),
            decided(&ohio("oh-8", &["notify-release"])),
        ];
        let recorded = store.record_decisions(&batch).await.unwrap();
        let other = recorded[1].index().unwrap();
        assign_counsel(&store, "oh-7").await;
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("counsel:legal-aid-1", webhook(format!("{base}/ok"))),
            ],
            DispatchConfig::default(),
        );
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        // The disclosures go; the notice to counsel is planned, not yet sent.
        dispatcher.dispatch_due().await.unwrap();
        let notice = "oh-7/notify-release/counsel:legal-aid-1";
        assert_eq!(outbox(&fixture).await[notice].0, "pending");
        // The delivered disclosure's row is then made to name another request's decision.
        fixture
            .exec(&format!(
                "UPDATE outbox SET decision_index = {other} WHERE id = 'oh-7/notify-release/DHS-ICE-ERO'"
            ))
            .await;
        dispatch_all(&dispatcher, &store).await;
        assert!(
            !arrivals(&log).contains_key(notice),
            "no notice goes with a receipt of another entry ({})",
            fixture.url()
        );
        let (status, _, error) = outbox(&fixture).await[notice].clone();
        assert_eq!(status, "dead", "{error}");
        assert!(error.contains("not the permitting entry"), "{error}");
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn verify_checks_every_outbox_row_a_page_at_a_time() {
    for (store, fixture) in stores().await {
        // 2,001 disclosures: more than a page of the check (2,000 rows).
        let batch: Vec<NewDecision> = (0..2001)
            .map(|i| decided(&ohio(&format!("oh-p{i:04}"), &["notify-release"])))
            .collect();
        for chunk in batch.chunks(500) {
            store.record_decisions(chunk).await.unwrap();
        }
        let plan = comity_server::plan::deliveries;
        assert_eq!(
            store.verify_outbox(plan).await.unwrap().unwrap(),
            2001,
            "{}",
            fixture.url()
        );
        // The last row, on the second page, edited: found.
        fixture
            .exec(
                "UPDATE outbox SET payload = '{}' WHERE id = 'oh-p2000/notify-release/DHS-ICE-ERO'",
            )
            .await;
        let finding = store.verify_outbox(plan).await.unwrap().unwrap_err();
        assert!(finding.what.contains("oh-p2000"), "{finding}");
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_growing_delays_then_dead_lettered() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        store
            .record_decisions(&[decided(&ohio("oh-2", &["notify-release"]))])
            .await
            .unwrap();
        let policy = DispatchConfig {
            max_attempts: 3,
            base_delay_ms: 60,
            max_delay_ms: 10_000,
        };
        let config = config([("DHS-ICE-ERO", webhook(format!("{base}/fail")))], policy);
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        dispatch_all(&dispatcher, &store).await;

        let got = log.lock().unwrap().clone();
        assert_eq!(got.len(), 3, "{}", fixture.url());
        assert!(got.iter().all(|r| r.path == "/fail" && r.signed));
        assert!(
            got.iter()
                .all(|r| r.key == "oh-2/notify-release/DHS-ICE-ERO")
        );
        // Retry n waits between half and all of 60 ms · 2^(n-1).
        let first = got[1].at - got[0].at;
        let second = got[2].at - got[1].at;
        assert!(first >= Duration::from_millis(30), "{first:?}");
        assert!(second >= Duration::from_millis(60), "{second:?}");

        let (status, attempts, error) =
            outbox(&fixture).await["oh-2/notify-release/DHS-ICE-ERO"].clone();
        assert_eq!((status.as_str(), attempts), ("dead", 3));
        assert!(
            error.contains("gave up after 3 attempts") && error.contains("500"),
            "{error}"
        );
        let entries = dispatch_entries(&fixture).await;
        let summary: Vec<(String, String)> = entries
            .iter()
            .map(|e| {
                let what = e["kind"].as_str().unwrap().to_owned();
                let detail = match what.as_str() {
                    "dispatch-attempt" => e["attempt"].to_string(),
                    _ => e["outcome"].as_str().unwrap().to_owned(),
                };
                (what, detail)
            })
            .collect();
        let expected: Vec<(String, String)> = [
            ("dispatch-attempt", "1"),
            ("dispatch-result", "failed"),
            ("dispatch-attempt", "2"),
            ("dispatch-result", "failed"),
            ("dispatch-attempt", "3"),
            ("dispatch-result", "dead"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(summary, expected);
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn two_dispatchers_on_one_database_never_deliver_twice() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        // 120 requests, two disclosures each: 240 deliveries.
        let batch: Vec<NewDecision> = (0..120)
            .map(|i| {
                decided(&ohio(
                    &format!("oh-{i:03}"),
                    &["notify-release", "share-status"],
                ))
            })
            .collect();
        store.record_decisions(&batch).await.unwrap();
        let config = config(
            [("DHS-ICE-ERO", webhook(format!("{base}/ok")))],
            DispatchConfig::default(),
        );
        let stop = CancellationToken::new();
        let mut running = Vec::new();
        for name in ["d1", "d2"] {
            // Each on its own connections, as separate processes would be.
            let own = Store::open(fixture.url()).await.unwrap();
            let dispatcher = Dispatcher::new(own.clone(), config.clone(), name.into())
                .unwrap()
                .batch(8)
                .idle_poll(Duration::from_millis(10));
            let stop = stop.clone();
            running.push(tokio::spawn(async move {
                dispatcher.run(stop, |_| {}).await;
                own.close().await;
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while store.outbox_counts().await.unwrap().delivered < 240 {
            assert!(
                Instant::now() < deadline,
                "{:?}",
                store.outbox_counts().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        for r in running {
            r.await.unwrap();
        }
        let got = arrivals(&log);
        assert_eq!(got.len(), 240, "{}", fixture.url());
        assert!(got.values().all(|n| *n == 1), "a delivery arrived twice");
        assert!(log.lock().unwrap().iter().all(|r| r.signed));
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!((counts.delivered, counts.pending, counts.dead), (240, 0, 0));
        let entries = dispatch_entries(&fixture).await;
        let attempts: Vec<&Value> = entries
            .iter()
            .filter(|e| e["kind"] == "dispatch-attempt")
            .collect();
        let distinct: BTreeSet<&str> = attempts
            .iter()
            .map(|e| e["delivery"].as_str().unwrap())
            .collect();
        assert_eq!((attempts.len(), distinct.len()), (240, 240));
        let by: BTreeSet<&str> = attempts
            .iter()
            .map(|e| e["dispatcher"].as_str().unwrap())
            .collect();
        assert_eq!(
            by,
            BTreeSet::from(["d1", "d2"]),
            "both dispatchers took part"
        );
        verify_clean(&store).await;
        store.close().await;
        fixture.drop_database().await;
    }
}

#[tokio::test]
async fn email_goes_out_by_smtp_with_a_message_id_from_the_delivery() {
    let fixture = TestDb::sqlite();
    let store = Store::open(fixture.url()).await.unwrap();
    let (port, messages) = smtp_sink().await;
    store
        .record_decisions(&[decided(&ohio("oh-mail", &["notify-release"]))])
        .await
        .unwrap();
    let email = Channel::Email {
        to: "intake@ice.example".into(),
        from: "comity@sheriff.example".into(),
        smtp: format!("smtp://127.0.0.1:{port}"),
    };
    let config = config([("DHS-ICE-ERO", email)], DispatchConfig::default());
    let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
    dispatch_all(&dispatcher, &store).await;
    let id = "oh-mail/notify-release/DHS-ICE-ERO";
    assert_eq!(outbox(&fixture).await[id].0, "delivered");
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let text = &messages[0];
    let message_id = format!("<{}@comity>", comity_store::sha256_hex(id.as_bytes()));
    assert!(text.contains(&message_id), "{text}");
    assert!(text.contains("To: intake@ice.example"), "{text}");
    assert!(text.contains(&format!("\"delivery\":\"{id}\"")), "{text}");
    verify_clean(&store).await;
    store.close().await;
    fixture.drop_database().await;
}

/// A NYC DOC detainer in 2019 with a judicial warrant for a person convicted of a violent
/// felony within five years: telling ICE the release date is permitted (§ 9-131(b)(1)), and
/// needs the privacy officer's approval first (§ 23-1202(c)).
fn nyc_with_judicial_warrant(id: &str) -> Value {
    let mut r = new_york();
    r["id"] = id.into();
    r["received_at"] = "2019-03-02T14:05:00-05:00".into();
    r["warrant"] = json!({ "kind": "judicial" });
    r["acts"] = json!(["notify-release"]);
    r["subject"]["id"] = format!("synthetic-{id}").into();
    r["subject"]["convictions"][0]["date"] = "2016-05-01".into();
    r["subject"]["pending_charges"] = json!([]);
    r["custody"] = json!({ "status": "in-custody", "arrested_at": "2019-02-28T22:10:00-05:00",
                           "release_at": "2019-03-04T10:00:00-05:00" });
    r
}

#[tokio::test]
async fn a_disclosure_that_needs_approval_is_sent_only_after_it_and_once() {
    use comity_store::{ApprovalError, NewApproval, Verdict};
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let batch: Vec<NewDecision> = ["apr-1", "apr-2", "apr-3"]
            .iter()
            .map(|id| decided(&nyc_with_judicial_warrant(id)))
            .collect();
        let limits = &batch[0].decision.acts[0].limits;
        assert!(
            limits
                .iter()
                .any(|l| l.approval.as_deref() == Some("privacy-officer")),
            "{limits:?}"
        );
        store.record_decisions(&batch).await.unwrap();
        let config = config(
            [("DHS-ICE-ERO", webhook(format!("{base}/ok")))],
            DispatchConfig::default(),
        );
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        dispatch_all(&dispatcher, &store).await;
        assert!(
            log.lock().unwrap().is_empty(),
            "nothing is sent before approval"
        );
        assert_eq!(store.outbox_counts().await.unwrap().awaiting_approval, 3);

        // A waiting row set to pending by hand is refused: the ledger holds no approval.
        fixture
            .exec("UPDATE outbox SET status = 'pending' WHERE request_id = 'apr-3'")
            .await;
        dispatch_all(&dispatcher, &store).await;
        assert!(log.lock().unwrap().is_empty());
        let rows = outbox(&fixture).await;
        let (status, _, error) = &rows["apr-3/notify-release/DHS-ICE-ERO"];
        assert_eq!(status, "refused");
        assert!(error.contains("privacy-officer"), "{error}");

        // Approved by a supervisor: released, sent once; a second approval is refused.
        let approve = |delivery: &'static str, verdict| NewApproval {
            delivery,
            approval: None,
            verdict,
            by: "synthetic-supervisor (supervisor)",
        };
        let record = store
            .decide_approval(approve(
                "apr-1/notify-release/DHS-ICE-ERO",
                Verdict::Approved,
            ))
            .await
            .unwrap();
        assert_eq!(record.approval, "privacy-officer");
        assert_eq!(record.deliveries, 1);
        dispatch_all(&dispatcher, &store).await;
        dispatch_all(&dispatcher, &store).await;
        assert_eq!(
            arrivals(&log),
            BTreeMap::from([("apr-1/notify-release/DHS-ICE-ERO".to_owned(), 1)])
        );
        let again = store
            .decide_approval(approve(
                "apr-1/notify-release/DHS-ICE-ERO",
                Verdict::Approved,
            ))
            .await;
        assert!(matches!(again, Err(ApprovalError::AlreadyDecided { .. })));

        // Refused: never sent.
        store
            .decide_approval(approve(
                "apr-2/notify-release/DHS-ICE-ERO",
                Verdict::Refused,
            ))
            .await
            .unwrap();
        dispatch_all(&dispatcher, &store).await;
        let rows = outbox(&fixture).await;
        assert_eq!(rows["apr-2/notify-release/DHS-ICE-ERO"].0, "refused");
        assert_eq!(arrivals(&log).len(), 1);
        let plan = comity_server::plan::deliveries;
        assert_eq!(store.verify_outbox(plan).await.unwrap().map(|_| ()), Ok(()));

        // A refusal is final: its row deleted, the approval is still refused by the ledger;
        // a row forged to say approved, and the delivery set pending by hand, send nothing,
        // and verify names the approval.
        fixture
            .exec("DELETE FROM approvals WHERE request_id = 'apr-2'")
            .await;
        let again = store
            .decide_approval(approve(
                "apr-2/notify-release/DHS-ICE-ERO",
                Verdict::Approved,
            ))
            .await;
        assert!(
            matches!(
                again,
                Err(ApprovalError::AlreadyDecided {
                    verdict: Verdict::Refused,
                    ..
                })
            ),
            "{again:?}"
        );
        let finding = store.verify_outbox(plan).await.unwrap().unwrap_err();
        assert!(finding.what.contains("no approvals row"), "{finding}");
        fixture
            .exec(
                "INSERT INTO approvals (request_id, act, approval, delivery, decision, decided_by, recorded_at, ledger_index) \
                 VALUES ('apr-2', 'notify-release', 'privacy-officer', 'apr-2/notify-release/DHS-ICE-ERO', 'approved', 'mallory', 'now', \
                 (SELECT idx FROM ledger_entries WHERE kind = 'approval' AND delivery = 'apr-2/notify-release/DHS-ICE-ERO'))",
            )
            .await;
        fixture
            .exec("UPDATE outbox SET status = 'pending' WHERE request_id = 'apr-2'")
            .await;
        dispatch_all(&dispatcher, &store).await;
        assert_eq!(arrivals(&log).len(), 1, "the refused act is never sent");
        assert!(store.verify_outbox(plan).await.unwrap().is_err());

        // An act that needs no approval cannot be approved.
        let ohio = decided(&ohio("oh-apr", &["notify-release"]));
        store.record_decisions(&[ohio]).await.unwrap();
        let needless = store
            .decide_approval(approve(
                "oh-apr/notify-release/DHS-ICE-ERO",
                Verdict::Approved,
            ))
            .await;
        assert!(matches!(needless, Err(ApprovalError::NotNeeded { .. })));
        verify_clean(&store).await;
    }
}

/// A warrant check started by a New York City agency in 2019, before a court appearance,
/// revealing `records` to `recipient`, about a person with no conviction.
fn nyc_warrant_check(
    id: &str,
    agency: (&str, &str),
    records: &[&str],
    recipient: (&str, &str),
) -> Value {
    let mut r = new_york();
    r["id"] = id.into();
    r["received_at"] = "2019-05-06T08:30:00-04:00".into();
    r["from"] = json!({ "agency": agency.0, "kind": "local" });
    r["to"] = json!({ "agency": agency.0, "kind": agency.1 });
    r["recipient"] = json!({ "agency": recipient.0, "kind": recipient.1 });
    r["acts"] = json!(["warrant-check"]);
    r["records"] = json!(records);
    // No conviction: § 9-131(h)(1)(i) does not lift DOC's bar.
    r["subject"] = json!({ "id": format!("synthetic-{id}") });
    for key in ["form", "basis", "purpose", "warrant"] {
        r.as_object_mut().unwrap().remove(key);
    }
    r["court_event"]["at"] = "2019-05-07T09:30:00-04:00".into();
    r["custody"] = json!({ "status": "in-custody" });
    r
}

#[tokio::test]
async fn a_warrant_check_that_would_tell_ice_a_court_date_sends_nothing() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let ice = ("DHS-ICE-LESC", "federal-immigration");
        let fbi = ("FBI-NCIC", "federal-other");
        let cases = [
            nyc_warrant_check(
                "wc-nypd",
                ("NYPD", "police"),
                &["identity", "court-date"],
                ice,
            ),
            nyc_warrant_check(
                "wc-doc",
                ("NYC-DOC", "corrections"),
                &["identity", "court-date"],
                ice,
            ),
            nyc_warrant_check("wc-identity", ("NYPD", "police"), &["identity"], ice),
            nyc_warrant_check(
                "wc-fbi",
                ("NYPD", "police"),
                &["identity", "court-date"],
                fbi,
            ),
        ];
        let batch: Vec<NewDecision> = cases.iter().map(decided).collect();
        let outcomes: Vec<(&str, comity_model::Outcome)> = batch
            .iter()
            .map(|d| (d.decision.request.as_str(), d.decision.acts[0].outcome))
            .collect();
        use comity_model::Outcome::{Forbidden, Permitted};
        assert_eq!(
            outcomes,
            [
                ("wc-nypd", Forbidden),
                ("wc-doc", Forbidden),
                ("wc-identity", Permitted),
                ("wc-fbi", Permitted)
            ]
        );
        let rules = |i: usize| -> Vec<String> {
            batch[i].decision.acts[0]
                .reasons
                .iter()
                .map(|r| r.citation.clone())
                .collect()
        };
        assert!(
            rules(0).iter().any(|c| c.contains("§ 10-178(c)")),
            "{:?}",
            rules(0)
        );
        assert!(
            rules(1).iter().any(|c| c.contains("§ 9-131(h)(1)")),
            "{:?}",
            rules(1)
        );
        assert!(batch[0].deliveries.is_empty() && batch[1].deliveries.is_empty());
        store.record_decisions(&batch).await.unwrap();
        let config = config(
            [
                ("DHS-ICE-LESC", webhook(format!("{base}/ok"))),
                ("FBI-NCIC", webhook(format!("{base}/ok"))),
                ("SOME-TASK-FORCE", webhook(format!("{base}/ok"))),
            ],
            DispatchConfig::default(),
        );
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        dispatch_all(&dispatcher, &store).await;
        let got = log.lock().unwrap().clone();
        let keys: BTreeSet<&str> = got.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "wc-fbi/warrant-check/FBI-NCIC",
                "wc-identity/warrant-check/DHS-ICE-LESC"
            ])
        );
        let identity = got
            .iter()
            .find(|r| r.key.starts_with("wc-identity"))
            .unwrap();
        assert!(
            identity.body["payload"].get("court-date").is_none(),
            "ICE learns no court date"
        );

        // A request that calls ICE's support center `federal-other` is permitted as the
        // request states it, but the configuration says what ICE is: nothing is sent. Nor
        // to an agency whose kind the configuration does not vouch for.
        let disguised = decided(&nyc_warrant_check(
            "wc-disguised",
            ("NYPD", "police"),
            &["identity", "court-date"],
            ("DHS-ICE-LESC", "federal-other"),
        ));
        let unknown = decided(&nyc_warrant_check(
            "wc-unlisted",
            ("NYPD", "police"),
            &["identity", "court-date"],
            ("SOME-TASK-FORCE", "federal-other"),
        ));
        store.record_decisions(&[disguised, unknown]).await.unwrap();
        dispatch_all(&dispatcher, &store).await;
        assert_eq!(log.lock().unwrap().len(), 2, "nothing more was sent");
        let rows = outbox(&fixture).await;
        let (status, _, error) = &rows["wc-disguised/warrant-check/DHS-ICE-LESC"];
        assert_eq!(status, "refused");
        assert!(
            error.contains("is a federal-immigration agency by the configuration"),
            "{error}"
        );
        let (status, _, error) = &rows["wc-unlisted/warrant-check/SOME-TASK-FORCE"];
        assert_eq!(status, "refused");
        assert!(
            error.contains("does not say what kind of agency"),
            "{error}"
        );
        verify_clean(&store).await;
    }
}

#[tokio::test]
async fn an_outbox_row_edited_after_planning_is_refused_and_verify_names_it() {
    for (store, fixture) in stores().await {
        let (base, log) = webhook_sink().await;
        let batch: Vec<NewDecision> = ["ed-1", "ed-2", "ed-3", "ed-4", "ed-5"]
            .iter()
            .map(|id| decided(&ohio(id, &["notify-release"])))
            .collect();
        store.record_decisions(&batch).await.unwrap();
        let plan = comity_server::plan::deliveries;
        assert_eq!(store.verify_outbox(plan).await.unwrap(), Ok(5));
        // An address and a criminal history added; another recipient; a request's body
        // rewritten (its stored SHA-256 left as it was); a forbidden act's row forged.
        let edits = [
            "UPDATE outbox SET payload = '{\"request\":\"ed-1\",\"act\":\"notify-release\",\"address\":\"1 Synthetic St\",\"criminal-history\":\"…\"}' WHERE request_id = 'ed-1'",
            "UPDATE outbox SET recipient = 'OTHER-AGENCY' WHERE request_id = 'ed-2'",
            "UPDATE requests SET body = replace(body, '2019-03-04T10:00:00-05:00', '2019-03-09T10:00:00-05:00') WHERE id = 'ed-3'",
            "UPDATE outbox SET act = 'notify-court-date' WHERE request_id = 'ed-4'",
        ];
        // Made last first, so that each is the first row `verify` finds at fault.
        for (n, sql) in edits.iter().enumerate().rev() {
            fixture.exec(sql).await;
            let finding = store.verify_outbox(plan).await.unwrap().unwrap_err();
            let id = format!("outbox row ed-{}/notify-release/", n + 1);
            assert!(finding.what.starts_with(&id), "{sql}: {finding}");
        }
        let config = config(
            [
                ("DHS-ICE-ERO", webhook(format!("{base}/ok"))),
                ("OTHER-AGENCY", webhook(format!("{base}/ok"))),
            ],
            DispatchConfig::default(),
        );
        let dispatcher = Dispatcher::new(store.clone(), config, "d1".into()).unwrap();
        dispatch_all(&dispatcher, &store).await;
        assert_eq!(
            arrivals(&log),
            BTreeMap::from([("ed-5/notify-release/DHS-ICE-ERO".to_owned(), 1)]),
            "only the untouched row is sent"
        );
        let rows = outbox(&fixture).await;
        for (id, why) in [
            ("ed-1/notify-release/DHS-ICE-ERO", "payload differs"),
            ("ed-2/notify-release/DHS-ICE-ERO", "recipient differs"),
            (
                "ed-3/notify-release/DHS-ICE-ERO",
                "no longer matches the SHA-256",
            ),
            (
                "ed-4/notify-release/DHS-ICE-ERO",
                "does not decide `notify-court-date`",
            ),
        ] {
            let (status, _, error) = &rows[id];
            assert_eq!(status, "refused", "{id}");
            assert!(error.contains(why), "{id}: {error}");
        }
        // Refused rows are settled, their refusal in the ledger; the rest agrees. (The
        // rewritten request itself is `verify`'s finding, not the outbox's.)
        assert_eq!(store.verify_outbox(plan).await.unwrap(), Ok(1));
    }
}
