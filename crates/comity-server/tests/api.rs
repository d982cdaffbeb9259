//! The HTTP API, served on 127.0.0.1:0 over a fresh store (a temporary SQLite file, and once
//! the machine's PostgreSQL), deciding with the repository's packs and catalogs.
//!
//! PostgreSQL tests use `COMITY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) to create a fresh database per test.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use comity_ledger::{
    NoteSigner, NoteVerifier, from_hex, leaf_hash, open_checkpoint, verify_inclusion,
};
use comity_policy::Engine;
use comity_server::auth::{Access, ApiAction, Role, create_token};
use comity_server::http::{AppState, ServerOptions, serve};
use comity_store::Store;
use comity_testdb::TestDb;
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../../examples/nyc-doc-detainer.json");

/// A server running for one test.
struct Server {
    base: String,
    http: reqwest::Client,
    store: Store,
    verifier: NoteVerifier,
    tokens: HashMap<&'static str, String>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    db: TestDb,
}

fn engine() -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Engine::load(&root.join("packs"), &root.join("catalog")).expect("the repository's packs load")
}

impl Server {
    async fn start(db: TestDb, options: ServerOptions) -> Server {
        let store = Store::open(db.url()).await.unwrap();
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        let verifier = signer.verifier();
        let mut tokens = HashMap::new();
        for (holder, role) in [
            ("clerk", Role::Clerk),
            ("supervisor", Role::Supervisor),
            ("auditor", Role::Auditor),
            ("admin", Role::Admin),
            ("aid-1", Role::Counsel),
            ("aid-2", Role::Counsel),
        ] {
            let issued = create_token(&store, role, holder, 1).await.unwrap();
            tokens.insert(holder, issued.token);
        }
        let state = AppState::new(
            store.clone(),
            engine(),
            signer,
            Access::builtin().unwrap(),
            options,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            base,
            http: reqwest::Client::new(),
            store,
            verifier,
            tokens,
            stop,
            task,
            db,
        }
    }

    async fn sqlite() -> Server {
        Server::start(TestDb::sqlite(), ServerOptions::default()).await
    }

    /// Stops the server (gracefully) and drops its database.
    async fn finish(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        self.store.close().await;
        self.db.drop_database().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, who: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.tokens[who])
    }

    fn post(
        &self,
        who: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.tokens[who])
            .body(body)
    }

    /// `method path` with no token: the status and the JSON answered.
    async fn anonymous(&self, method: reqwest::Method, path: &str) -> (StatusCode, Value) {
        json_of(
            self.http
                .request(method, self.url(path))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// `GET path` as `who`: the status and the JSON answered.
    async fn get_json(&self, who: &str, path: &str) -> (StatusCode, Value) {
        json_of(self.get(who, path).send().await.unwrap()).await
    }

    /// `POST path` of `body` as `who`: the status and the JSON answered.
    async fn post_json(
        &self,
        who: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        json_of(self.post(who, path, body).send().await.unwrap()).await
    }

    async fn submit(&self, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        self.post_json("clerk", "/v1/requests", body).await
    }
}

async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let kind = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("application/json"), "{status}: {kind}");
    (status, response.json().await.unwrap())
}

/// The example request under another id and subject.
fn request(id: &str, subject: &str) -> Value {
    let mut v: Value = serde_json::from_str(EXAMPLE).unwrap();
    v["id"] = id.into();
    v["subject"]["id"] = subject.into();
    v
}

/// The text at `key` of each object of the JSON array `array`.
fn strings<'a>(array: &'a Value, key: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

/// A NYC DOC detainer of 2019 with a judicial warrant, for a person convicted of a violent
/// felony within five years, asking only for the release notice: permitted, once the privacy
/// officer approves it (NYC Admin. Code § 23-1202(c)).
fn release_notice_needing_approval(id: &str, subject: &str) -> Value {
    let mut r = request(id, subject);
    r["received_at"] = "2019-03-02T14:05:00-05:00".into();
    r["warrant"] = json!({ "kind": "judicial" });
    r["acts"] = json!(["notify-release"]);
    r["subject"]["convictions"][0]["date"] = "2016-05-01".into();
    r["subject"]["pending_charges"] = json!([]);
    r["custody"] = json!({ "status": "in-custody", "arrested_at": "2019-02-28T22:10:00-05:00",
                           "release_at": "2019-03-04T10:00:00-05:00" });
    r
}

/// Stores `token` for `role` with an expiry long past.
async fn expired_token(server: &Server, token: &str, role: &str) {
    server
        .store
        .create_token(
            &comity_store::sha256_hex(token.as_bytes()),
            role,
            &format!("expired-{role}"),
            "2020-01-01T00:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
}

/// Asserts an error answer's shape, status and field; returns its message.
fn error(status: StatusCode, body: &Value, expected: StatusCode, field: &str) -> String {
    assert_eq!(status, expected, "{body:#}");
    let e = &body["error"];
    assert_eq!(e["status"], expected.as_u16(), "{body:#}");
    assert_eq!(e["field"], field, "{body:#}");
    e["message"].as_str().unwrap().to_owned()
}

/// The decision without its `ledger` object.
fn bare(decision: &Value) -> Value {
    let mut d = decision.clone();
    d.as_object_mut().unwrap().remove("ledger");
    d
}

async fn rows(db: &TestDb) -> [i64; 4] {
    [
        db.count("SELECT COUNT(*) FROM requests").await,
        db.count("SELECT COUNT(*) FROM decisions").await,
        db.count("SELECT COUNT(*) FROM ledger_entries").await,
        db.count("SELECT COUNT(*) FROM outbox").await,
    ]
}

/// POST, GET the decision and the request; the same body again answers the first decision
/// (200); another body under the same id is 409 and records nothing; bad input is 422 naming
/// the field and the value and records nothing; a proof verifies against the checkpoint.
async fn round_trip(server: &Server) {
    let (status, first) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED, "{first:#}");
    assert_eq!(first["request"], "nyc-doc-2018-000123");
    assert_eq!(first["acts"][0]["act"], "hold");
    assert_eq!(first["acts"][0]["outcome"], "forbidden");
    let ledger = &first["ledger"];
    // Entries 0–2 record the packs in force; the decision follows them.
    assert_eq!(ledger["index"], 3);
    assert_eq!(ledger["tree_size"], 4);
    assert_eq!(ledger["leaf_hash"].as_str().unwrap().len(), 64);

    let (status, got) = server
        .get_json("clerk", "/v1/decisions/nyc-doc-2018-000123")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bare(&got), bare(&first));
    assert_eq!(got["ledger"]["index"], 3);
    assert_eq!(got["ledger"]["leaf_hash"], ledger["leaf_hash"]);

    let received = server
        .get("clerk", "/v1/requests/nyc-doc-2018-000123")
        .send()
        .await
        .unwrap();
    assert_eq!(received.status(), StatusCode::OK);
    assert_eq!(
        received.text().await.unwrap(),
        EXAMPLE.trim(),
        "the request exactly as received"
    );

    let (status, again) = server.submit(EXAMPLE).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same body again is no new record"
    );
    assert_eq!(again, first);
    let before = rows(&server.db).await;
    assert_eq!(before[..3], [1, 1, 4]);

    // Another body under a recorded id: 409, and nothing of its body is recorded, not even
    // the good request before it.
    let mut changed = request("nyc-doc-2018-000123", "local-person-881");
    changed["warrant"] = json!({ "kind": "judicial" });
    let body = json!([request("fresh-1", "local-person-7"), changed]).to_string();
    let (status, body) = server.submit(body).await;
    let message = error(status, &body, StatusCode::CONFLICT, "[1].id");
    assert!(message.contains("nyc-doc-2018-000123"), "{message}");
    assert_eq!(rows(&server.db).await, before);
    let (status, body) = server.submit(changed.to_string()).await;
    error(status, &body, StatusCode::CONFLICT, "id");
    assert_eq!(rows(&server.db).await, before);

    // Bad input: 422 naming the field and the value; nothing recorded.
    let mut bad = request("bad-1", "local-person-8");
    bad["subject"]["convictions"][0]["offense"] = "NY PL 999.99".into();
    let body = json!([request("fresh-2", "local-person-9"), bad]).to_string();
    let (status, body) = server.submit(body).await;
    let message = error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "[1].subject.convictions[0].offense",
    );
    assert!(message.contains("NY PL 999.99"), "{message}");
    let mut unknown = request("bad-2", "local-person-8");
    unknown["acts"] = json!(["hold", "deport"]);
    let (status, body) = server.submit(unknown.to_string()).await;
    let message = error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "acts[1]");
    assert!(message.contains("deport"), "{message}");
    let (status, body) = server.submit("[]").await;
    error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "");
    let (status, body) = server.submit("{\"id\": \"x\",").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("EOF"),
        "{body:#}"
    );
    assert_eq!(rows(&server.db).await, before);

    // A permitted disclosure is recorded with its decision, in the outbox: the release
    // date, to the agency that asked.
    changed["id"] = "with-judicial-warrant".into();
    let (status, permitted) = server.submit(changed.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        permitted["acts"][1]["outcome"], "permitted",
        "{permitted:#}"
    );
    assert_eq!(rows(&server.db).await, [2, 2, 5, before[3] + 1]);

    // The proof of the decision verifies against the signed checkpoint.
    let response = server
        .get("auditor", "/v1/audit/checkpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let note = response.text().await.unwrap();
    let checkpoint = open_checkpoint(&note, &server.verifier).expect("signed by the ledger key");
    assert_eq!(checkpoint.size, 5);
    let path = format!("/v1/audit/proof?index=3&size={}", checkpoint.size);
    let (status, proof) = server.get_json("auditor", &path).await;
    assert_eq!(status, StatusCode::OK, "{proof:#}");
    let hashes: Vec<_> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = from_hex(proof["leaf_hash"].as_str().unwrap()).unwrap();
    verify_inclusion(&leaf, 3, checkpoint.size, &hashes, &checkpoint.root).expect("proof verifies");
    assert_eq!(proof["leaf_hash"], ledger["leaf_hash"]);
    assert_eq!(proof["root"], comity_ledger::to_hex(&checkpoint.root));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_round_trip_is_idempotent_refuses_conflicts_and_bad_input_and_proves() {
    let server = Server::sqlite().await;
    round_trip(&server).await;
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_round_trip_is_idempotent_refuses_conflicts_and_bad_input_and_proves() {
    let server = Server::start(TestDb::postgres().await, ServerOptions::default()).await;
    round_trip(&server).await;
    // Concurrent callers share the integrator's transactions, and every entry verifies.
    let posts = (0..40).map(|i| {
        let body = request(&format!("concurrent-{i}"), &format!("local-person-{i}")).to_string();
        let server = &server;
        async move { server.submit(body).await }
    });
    let answers = futures_util::future::join_all(posts).await;
    let mut indices: Vec<u64> = answers
        .iter()
        .map(|(status, d)| {
            assert_eq!(*status, StatusCode::CREATED, "{d:#}");
            d["ledger"]["index"].as_u64().unwrap()
        })
        .collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices, (5..45).collect::<Vec<u64>>());
    let report = server
        .store
        .verify(&server.verifier, &|_, _| {})
        .await
        .unwrap()
        .expect("the ledger verifies");
    assert_eq!(report.entries, 45);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn arrays_and_json_lines_answer_in_their_shape_with_proofs_that_verify() {
    let server = Server::sqlite().await;
    let array = json!([
        request("a-1", "p-1"),
        request("a-2", "p-2"),
        request("a-1", "p-1")
    ]);
    let (status, answer) = server.submit(array.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer:#}");
    let answer = answer.as_array().unwrap();
    assert_eq!(answer.len(), 3);
    assert_eq!(
        answer[0], answer[2],
        "a request repeated in a body is recorded once"
    );
    let lines = format!("{}\n{}\n", request("l-1", "p-3"), request("l-2", "p-4"));
    let response = server
        .post("clerk", "/v1/requests", lines)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/x-ndjson"
    );
    let text = response.text().await.unwrap();
    let decisions: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(decisions[1]["request"], "l-2");
    // A decision's ledger object proves it against its own tree head, as recorded.
    for d in answer.iter().chain(&decisions) {
        let l = &d["ledger"];
        let (index, size) = (
            l["index"].as_u64().unwrap(),
            l["tree_size"].as_u64().unwrap(),
        );
        let path = format!("/v1/audit/proof?index={index}&size={size}");
        let (status, proof) = server.get_json("supervisor", &path).await;
        assert_eq!(status, StatusCode::OK);
        let hashes: Vec<_> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        let root = from_hex(l["root"].as_str().unwrap()).unwrap();
        let entry = server.store.entry(index).await.unwrap().unwrap();
        assert_eq!(
            l["leaf_hash"],
            comity_ledger::to_hex(&leaf_hash(entry.as_bytes()))
        );
        verify_inclusion(&leaf_hash(entry.as_bytes()), index, size, &hashes, &root).unwrap();
    }
    // Bad parameters name themselves.
    for (path, status, field) in [
        (
            "/v1/audit/proof?index=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "index",
        ),
        ("/v1/audit/proof", StatusCode::UNPROCESSABLE_ENTITY, "index"),
        (
            "/v1/audit/proof?index=1&sise=2",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sise",
        ),
        ("/v1/audit/proof?index=999", StatusCode::NOT_FOUND, "index"),
        (
            "/v1/audit/proof?index=0&size=999",
            StatusCode::NOT_FOUND,
            "size",
        ),
    ] {
        let (got, body) = server.get_json("auditor", path).await;
        error(got, &body, status, field);
    }
    server.finish().await;
}

/// Tiles of the log read over HTTP, for `tlog_tiles`' client, which checks each against the
/// checkpoint it was given.
struct HttpTiles<'a> {
    server: &'a Server,
}

impl tlog_tiles::TileReader for HttpTiles<'_> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let mut read = Vec::new();
                for tile in tiles {
                    // tlog_tiles names tiles as Go's sumdb does, with the height: tile/8/L/N.
                    let path = tile.path().replace("tile/8/", "/tile/");
                    let response = self.server.get("auditor", &path).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK, "{path}");
                    read.push(response.bytes().await.unwrap().to_vec());
                }
                Ok(read)
            })
        })
    }

    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

/// `/checkpoint` as an outside client reads it: the note's signature checked by the
/// `signed_note` crate against the log's verifier key, the checkpoint parsed by `tlog_tiles`.
async fn outside_checkpoint(server: &Server) -> tlog_tiles::Checkpoint {
    let response = server.get("auditor", "/checkpoint").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    let note = signed_note::Note::from_bytes(&response.bytes().await.unwrap()).unwrap();
    let verifier = signed_note::StandardVerifier::new(&server.verifier.verifier_key()).unwrap();
    let verifiers = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    note.verify(&verifiers).unwrap();
    tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_served_as_tlog_tiles_that_outside_clients_check() {
    let server = Server::sqlite().await;
    let (status, _) = server.submit(request("t-0", "p-0").to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let old = outside_checkpoint(&server).await;
    let batch: Vec<Value> = (1..300)
        .map(|i| request(&format!("t-{i}"), &format!("p-{i}")))
        .collect();
    let (status, _) = server.submit(Value::from(batch).to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let new = outside_checkpoint(&server).await;
    let size = new.size();
    assert!(size > 300, "{size}");
    assert_eq!(new.origin(), "comity.test/ledger");

    // tlog_tiles' client reads the tiles it needs (level 0 and level 1, whole and partial),
    // checks them against the checkpoint, and proves entries and the older tree from them.
    let tiles = HttpTiles { server: &server };
    let reader = tlog_tiles::TileHashReader::new(size, *new.hash(), &tiles);
    assert_eq!(tlog_tiles::tree_hash(size, &reader).unwrap(), *new.hash());
    let consistency = tlog_tiles::prove_tree(size, old.size(), &reader).unwrap();
    tlog_tiles::check_tree(&consistency, size, *new.hash(), old.size(), *old.hash()).unwrap();
    let response = server
        .get("supervisor", "/tile/entries/001.p/10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, max-age=31536000, immutable"
    );
    let bundle = response.bytes().await.unwrap();
    let entries = comity_ledger::bundle_entries(&bundle).unwrap();
    assert_eq!(entries.len(), 10);
    for (index, entry) in (256..).zip(&entries) {
        assert_eq!(
            *entry,
            server.store.entry(index).await.unwrap().unwrap().as_bytes()
        );
        let proof = tlog_tiles::prove_record(size, index, &reader).unwrap();
        let leaf = tlog_tiles::record_hash(entry);
        tlog_tiles::check_record(&proof, size, *new.hash(), index, leaf).unwrap();
    }

    // Entry bundles hold decisions: an auditor may read hashes, not them.
    let (status, body) = server.get_json("auditor", "/tile/entries/000").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["rule"], "ledger-entries-need-supervisor");
    let (status, body) = server.get_json("clerk", "/tile/0/000").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    // Paths that name no tile, and tiles not yet whole, are 404 naming the path.
    for path in [
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/1",
        "/tile/data/000",
        "/tile/0/x001/000",
        "/tile/0/002",
        "/tile/1/000",
        "/tile/2/000.p/1",
        "/tile/0/x018/x446/x744/x073/x709/x551/615.p/1",
    ] {
        let (status, body) = server.get_json("auditor", path).await;
        error(status, &body, StatusCode::NOT_FOUND, "path");
    }

    // A stored leaf hash changed by SQL: the proof of its neighbour, read from the tiles,
    // no longer leads to the checkpoint's root.
    sqlx::query("UPDATE ledger_nodes SET hash = $1 WHERE id = 5")
        .bind("00".repeat(32))
        .execute(&server.db.pool().await)
        .await
        .unwrap();
    let fresh = tlog_tiles::TileHashReader::new(size, *new.hash(), &tiles);
    let proof = tlog_tiles::prove_record(size, 4, &fresh).unwrap();
    let leaf = tlog_tiles::record_hash(server.store.entry(4).await.unwrap().unwrap().as_bytes());
    assert!(tlog_tiles::check_record(&proof, size, *new.hash(), 4, leaf).is_err());
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_413_and_record_nothing() {
    let options = ServerOptions {
        max_body: 2048,
        ..ServerOptions::default()
    };
    let server = Server::start(TestDb::sqlite(), options).await;
    let padded = format!("{EXAMPLE}{}", " ".repeat(2048));
    let (status, body) = server.submit(padded).await;
    let message = error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "");
    assert!(message.contains("--max-body"), "{message}");
    assert_eq!(rows(&server.db).await, [0; 4]);
    // A body sent in chunks, without a length, is cut off as it passes the limit.
    let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1024, " ".repeat(1024));
    let head = format!(
        "POST /v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.tokens["clerk"]
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..4 {
        // The server may answer, and close, before the last chunks are written.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    assert!(answer.contains("\"status\":413"), "{answer}");
    assert_eq!(rows(&server.db).await, [0; 4]);
    // Under the limit, the same request is taken.
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_required_and_each_role_gets_only_what_the_access_pack_grants() {
    let server = Server::sqlite().await;
    // No token, a malformed header, an unknown token: 401, as JSON.
    let response = server
        .http
        .get(server.url("/v1/decisions/x"))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    let (status, body) = json_of(response).await;
    error(status, &body, StatusCode::UNAUTHORIZED, "authorization");
    for auth in ["Basic abc", "Bearer comity_0000"] {
        let response = server
            .http
            .get(server.url("/v1/decisions/x"))
            .header(header::AUTHORIZATION, auth)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        error(status, &body, StatusCode::UNAUTHORIZED, "authorization");
    }
    // A refusal names the access rule that refused.
    let refused_by = |status: StatusCode, body: &Value| {
        error(status, body, StatusCode::FORBIDDEN, "");
        body["error"]["rule"].as_str().unwrap().to_owned()
    };
    let (status, body) = server.post_json("auditor", "/v1/requests", EXAMPLE).await;
    assert_eq!(
        refused_by(status, &body),
        "submit-needs-clerk-or-supervisor"
    );
    assert_eq!(rows(&server.db).await, [0; 4]);
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server
        .get_json("auditor", "/v1/decisions/nyc-doc-2018-000123")
        .await;
    assert_eq!(
        refused_by(status, &body),
        "personal-records-need-a-case-role"
    );
    assert!(
        body["error"]["citation"]
            .as_str()
            .unwrap()
            .contains("least data")
    );
    let (status, body) = server
        .get_json("admin", "/v1/requests/nyc-doc-2018-000123")
        .await;
    assert_eq!(
        refused_by(status, &body),
        "personal-records-need-a-case-role"
    );
    let (status, body) = server.get_json("clerk", "/v1/audit/checkpoint").await;
    assert_eq!(
        refused_by(status, &body),
        "ledger-reads-need-supervisor-or-auditor"
    );
    let (status, body) = server.get_json("clerk", "/metrics").await;
    assert_eq!(refused_by(status, &body), "metrics-need-auditor-or-admin");
    let new_token = json!({ "role": "clerk", "name": "desk-2" }).to_string();
    let (status, body) = server
        .post_json("clerk", "/v1/tokens", new_token.clone())
        .await;
    assert_eq!(refused_by(status, &body), "tokens-need-admin");
    for who in ["supervisor", "auditor"] {
        let status = server
            .get(who, "/v1/audit/checkpoint")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "{who}");
    }
    let status = server
        .get("supervisor", "/v1/decisions/nyc-doc-2018-000123")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.get_json("clerk", "/v1/decisions/nope").await;
    error(status, &body, StatusCode::NOT_FOUND, "id");

    // An administrator creates a token; it works at once, and only its hash is stored.
    let (status, created) = server.post_json("admin", "/v1/tokens", new_token).await;
    assert_eq!(status, StatusCode::CREATED, "{created:#}");
    assert_eq!(created["role"], "clerk");
    let token = created["token"].as_str().unwrap();
    let response = server
        .http
        .get(server.url("/v1/decisions/nyc-doc-2018-000123"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stored = server
        .store
        .token(&comity_store::sha256_hex(token.as_bytes()))
        .await
        .unwrap();
    assert_eq!(stored.unwrap().name, "desk-2");
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/tokens",
            json!({ "role": "root", "name": "x" }).to_string(),
        )
        .await;
    assert!(error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "role").contains("root"));
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/tokens",
            json!({ "role": "clerk" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "name");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn counsel_reads_only_about_the_people_an_administrator_assigned_to_it() {
    let server = Server::sqlite().await;
    let body = json!([
        request("case-881", "local-person-881"),
        request("case-999", "local-person-999")
    ]);
    let (status, _) = server.submit(body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);

    // Counsel cannot assign itself, to anyone; neither can a clerk.
    let assign = |who: &'static str, counsel: &str, subject: &str| {
        server.post_json(
            who,
            "/v1/assignments",
            json!({ "counsel": counsel, "subject_id": subject }).to_string(),
        )
    };
    for who in ["aid-1", "clerk"] {
        let (status, body) = assign(who, "aid-1", "local-person-999").await;
        error(status, &body, StatusCode::FORBIDDEN, "");
        assert_eq!(body["error"]["rule"], "assignments-need-admin");
    }
    let (status, body) = assign("admin", "aid-1", "local-person-881").await;
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
    assert_eq!(body["assignments"][0]["assigned_by"], "admin (admin)");
    let (status, _) = assign("admin", "aid-1", "local-person-881").await;
    assert_eq!(status, StatusCode::OK, "assigning again changes nothing");
    let (status, body) = server.get_json("aid-1", "/v1/assignments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(body["assignments"][0]["subject_id"], "local-person-881");
    let (status, body) = server.get_json("aid-2", "/v1/assignments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["assignments"].as_array().unwrap().is_empty(),
        "only its own"
    );

    let shared = &server;
    let refused_read = |who: &'static str, kind: &'static str, id: &'static str| async move {
        let (status, body) = shared.get_json(who, &format!("/v1/{kind}/{id}")).await;
        error(status, &body, StatusCode::FORBIDDEN, "");
        assert_eq!(
            body["error"]["rule"], "counsel-reads-only-assigned-subjects",
            "{who} {kind} {id}"
        );
    };
    for kind in ["decisions", "requests"] {
        let (status, _) = server
            .get_json("aid-1", &format!("/v1/{kind}/case-881"))
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        // Another person, another counsel's client, or no such record: refused alike.
        refused_read("aid-1", kind, "case-999").await;
        refused_read("aid-2", kind, "case-881").await;
        refused_read("aid-1", kind, "no-such-case").await;
    }
    // Ended: counsel reads nothing more about the person; the assignment and its end stay.
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/assignments/end",
            json!({ "counsel": "aid-1", "subject_id": "local-person-881" }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["assignments"][0]["ended_by"], "admin (admin)");
    refused_read("aid-1", "decisions", "case-881").await;
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/assignments/end",
            json!({ "counsel": "aid-1", "subject_id": "local-person-881" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::NOT_FOUND, "counsel");
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/assignments",
            json!({ "counsel": "aid-1", "subject": "x" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "subject");
    // Counsel submits nothing.
    let (status, body) = server.post_json("aid-1", "/v1/requests", EXAMPLE).await;
    assert_eq!(
        body["error"]["rule"], "submit-needs-clerk-or-supervisor",
        "{status}"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_lists_every_route_and_unknown_routes_and_methods_are_json() {
    let server = Server::sqlite().await;
    let (status, doc) = server
        .anonymous(reqwest::Method::GET, "/openapi.json")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/requests", "post"),
        ("/v1/requests/{id}", "get"),
        ("/v1/decisions/{id}", "get"),
        ("/v1/requests/{id}/deliveries", "get"),
        ("/v1/requests/{id}/events", "post"),
        ("/v1/requests/{id}/events", "get"),
        ("/v1/deliveries/{id}/approval", "post"),
        ("/v1/audit/checkpoint", "get"),
        ("/v1/audit/proof", "get"),
        ("/checkpoint", "get"),
        ("/tile/{path}", "get"),
        ("/v1/assignments", "post"),
        ("/v1/assignments", "get"),
        ("/v1/assignments/end", "post"),
        ("/v1/tokens", "post"),
        ("/v1/tokens", "get"),
        ("/v1/tokens/{id}", "delete"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert_eq!(paths.len(), 17);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // Requests and decisions are typed from the model, not as bare objects.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        doc["paths"]["/v1/requests"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Requests"
    );
    assert_eq!(
        schemas["Request"]["properties"]["acts"]["items"]["$ref"],
        "#/components/schemas/Act"
    );
    assert!(
        schemas["Act"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("notify-release"))
    );
    assert_eq!(schemas["Request"]["additionalProperties"], false);
    assert!(schemas["RecordedDecisions"]["oneOf"].is_array());

    let (status, body) = server.anonymous(reqwest::Method::GET, "/v2/nothing").await;
    error(status, &body, StatusCode::NOT_FOUND, "");
    let (status, body) = server
        .anonymous(reqwest::Method::DELETE, "/v1/requests")
        .await;
    error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "");
    let (status, health) = server.anonymous(reqwest::Method::GET, "/healthz").await;
    assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")));
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_record_what_was_done_and_flag_what_the_decision_forbade() {
    let server = Server::sqlite().await;
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    let path = "/v1/requests/nyc-doc-2018-000123/events";
    let event = |kind: &str, at: &str| json!({ "kind": kind, "at": at }).to_string();
    // The decision forbade the hold: recorded as done, and flagged.
    let (status, held) = server
        .post_json(
            "supervisor",
            path,
            event("held", "2018-03-04T10:00:00-05:00"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["seq"], 1);
    assert_eq!(held["by"], "supervisor (supervisor)");
    let violation = held["violations"][0].as_str().unwrap();
    assert!(violation.contains("the decision forbids `hold`"), "{held}");
    // Out of order, refused naming the field; nothing recorded.
    let (status, body) = server
        .post_json(
            "clerk",
            path,
            event("released", "2018-03-04T09:59:00-05:00"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "at", "{body}");
    let (status, body) = server
        .post_json("clerk", path, event("flown", "2018-03-05T10:00:00-05:00"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "kind", "{body}");
    let (status, _) = server
        .post_json(
            "clerk",
            "/v1/requests/nobody/events",
            event("held", "2018-03-05T10:00:00-05:00"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Counsel reads; it does not record.
    let (status, body) = server
        .post_json(
            "aid-1",
            path,
            event("released", "2018-03-05T10:00:00-05:00"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["rule"], "events-need-the-desk");
    let (status, released) = server
        .post_json(
            "clerk",
            path,
            event("released", "2018-03-05T10:00:00-05:00"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{released}");
    let (status, listed) = server.get_json("clerk", path).await;
    assert_eq!(status, StatusCode::OK);
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["violations"], held["violations"]);
    assert_eq!(events[1]["event"], "released");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_prometheus_text_counting_calls_and_decisions() {
    let server = Server::sqlite().await;
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::OK);
    // A hold the decision forbade, recorded as done: one event, one violation.
    let held = json!({ "kind": "held", "at": "2018-03-04T10:00:00-05:00" }).to_string();
    let path = "/v1/requests/nyc-doc-2018-000123/events";
    let (status, _) = server.post_json("clerk", path, held).await;
    assert_eq!(status, StatusCode::CREATED);
    let response = server.get("auditor", "/metrics").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    // Every line is a comment (# HELP / # TYPE) or `name{labels} value`.
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(!series.contains('{') || series.ends_with('}'), "{line}");
        samples.insert(series.to_owned(), value.parse::<f64>().unwrap());
    }
    let sample = |s: &str| {
        samples
            .get(s)
            .copied()
            .unwrap_or_else(|| panic!("no {s} in\n{text}"))
    };
    assert_eq!(
        sample("comity_http_requests_total{route=\"/v1/requests\",method=\"POST\",status=\"201\"}"),
        1.0
    );
    assert_eq!(
        sample("comity_http_requests_total{route=\"/v1/requests\",method=\"POST\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        sample("comity_decisions_total{act=\"hold\",outcome=\"forbidden\"}"),
        1.0
    );
    assert_eq!(
        sample("comity_decisions_total{act=\"notify-release\",outcome=\"forbidden\"}"),
        1.0
    );
    assert_eq!(sample("comity_requests_recorded_total"), 1.0);
    assert_eq!(sample("comity_events_total{event=\"held\"}"), 1.0);
    assert_eq!(sample("comity_event_violations_total{event=\"held\"}"), 1.0);
    assert_eq!(
        sample("comity_http_request_duration_seconds_count{route=\"/v1/requests\"}"),
        2.0
    );
    assert_eq!(
        sample("comity_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"+Inf\"}"),
        2.0
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn places_are_known_or_refused_and_boroughs_are_new_york_city() {
    let server = Server::sqlite().await;
    // A well-formed id the registry does not know: 422 naming it, nothing stored.
    for place in [
        "ocd-division/country:us/state:ny/place:new_yrok",
        "ocd-division/country:us/state:zz/place:atlantis",
    ] {
        let mut r = request("unknown-place", "local-person-3");
        r["jurisdiction"] = place.into();
        let (status, body) = server.submit(r.to_string()).await;
        let message = error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "jurisdiction",
        );
        assert!(message.contains(place), "{message}");
    }
    assert_eq!(rows(&server.db).await, [0, 0, 0, 0]);
    // Brooklyn, by its canonical county id and by its borough alias: New York City's law.
    for (id, place) in [
        ("kings", "ocd-division/country:us/state:ny/county:kings"),
        (
            "brooklyn",
            "ocd-division/country:us/state:ny/borough:brooklyn",
        ),
    ] {
        let mut r = request(id, "local-person-4");
        r["jurisdiction"] = place.into();
        let (status, decision) = server.submit(r.to_string()).await;
        assert_eq!(status, StatusCode::CREATED, "{decision:#}");
        let packs = strings(&decision["packs"], "id");
        assert!(
            packs.contains(&"ocd-division/country:us/state:ny/place:new_york@2017-12-01"),
            "{packs:?}"
        );
        assert_eq!(
            decision["acts"][0]["reasons"][0]["rule"],
            "nyc-doc-detainer-needs-judicial-warrant"
        );
    }
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_approves_what_a_permit_says_needs_approval() {
    let server = Server::sqlite().await;
    let r = release_notice_needing_approval("apr-api-1", "local-person-5");
    let (status, decision) = server.submit(r.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{decision:#}");
    assert_eq!(decision["acts"][0]["outcome"], "permitted");
    let listing = "/v1/requests/apr-api-1/deliveries";
    let (status, list) = server.get_json("clerk", listing).await;
    assert_eq!(status, StatusCode::OK, "{list:#}");
    let delivery = &list["deliveries"][0];
    assert_eq!(delivery["id"], "apr-api-1/notify-release/DHS-ICE-ERO");
    assert_eq!(delivery["status"], "awaiting-approval");

    let path = "/v1/deliveries/apr-api-1%2Fnotify-release%2FDHS-ICE-ERO/approval";
    let approve = json!({ "decision": "approved" }).to_string();
    // The clerk who submitted does not approve.
    let (status, body) = server.post_json("clerk", path, approve.clone()).await;
    error(status, &body, StatusCode::FORBIDDEN, "");
    assert_eq!(body["error"]["rule"], "approvals-need-supervisor");
    let (status, body) = server
        .post_json(
            "supervisor",
            path,
            json!({ "decision": "maybe" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "decision");
    let (status, body) = server
        .post_json(
            "supervisor",
            path,
            json!({ "decision": "approved", "approval": "mayor" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "approval");
    let (status, record) = server.post_json("supervisor", path, approve.clone()).await;
    assert_eq!(status, StatusCode::OK, "{record:#}");
    assert_eq!(record["approval"], "privacy-officer");
    assert_eq!(record["by"], "supervisor (supervisor)");
    assert_eq!(record["deliveries"], 1);
    let (_, list) = server.get_json("supervisor", listing).await;
    assert_eq!(list["deliveries"][0]["status"], "pending");
    let (status, body) = server.post_json("supervisor", path, approve).await;
    error(status, &body, StatusCode::CONFLICT, "id");
    let (status, body) = server
        .post_json(
            "supervisor",
            "/v1/deliveries/nobody%2Fhold%2FX/approval",
            json!({ "decision": "refused" }).to_string(),
        )
        .await;
    error(status, &body, StatusCode::NOT_FOUND, "id");
    // The approval is a ledger entry, and the ledger verifies.
    let entry = server
        .store
        .entry(record["ledger_index"].as_u64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(entry.contains("\"kind\":\"approval\""), "{entry}");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_holding_slashes_never_make_two_deliveries_one() {
    let server = Server::sqlite().await;
    let ohio: Value = serde_json::from_str(include_str!(
        "../../../examples/columbus-sheriff-detainer.json"
    ))
    .unwrap();
    // Written plainly, both deliveries would be `oh/notify-release/A/notify-release/B`.
    let mut first = ohio.clone();
    first["id"] = "oh/notify-release/A".into();
    first["from"]["agency"] = "B".into();
    first["acts"] = json!(["notify-release"]);
    let mut second = ohio;
    second["id"] = "oh".into();
    second["from"]["agency"] = "A/notify-release/B".into();
    second["acts"] = json!(["notify-release"]);
    for (r, id) in [(first, "oh%2Fnotify-release%2FA"), (second, "oh")] {
        let (status, decision) = server.submit(r.to_string()).await;
        assert_eq!(status, StatusCode::CREATED, "{decision:#}");
        assert_eq!(decision["acts"][0]["outcome"], "permitted");
        let (status, list) = server
            .get_json("clerk", &format!("/v1/requests/{id}/deliveries"))
            .await;
        assert_eq!(status, StatusCode::OK, "{list:#}");
        assert_eq!(list["deliveries"].as_array().unwrap().len(), 1, "{list:#}");
    }
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(DISTINCT id) FROM outbox")
            .await,
        2
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_listed_expire_and_once_revoked_are_refused_by_every_server() {
    let server = Server::sqlite().await;
    // A second server over the same database, with its own token cache.
    let other = AppState::new(
        Store::open(server.db.url()).await.unwrap(),
        engine(),
        NoteSigner::generate("comity.test/ledger").unwrap(),
        Access::builtin().unwrap(),
        ServerOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, other, std::future::pending()));

    let (status, created) = server
        .post_json(
            "admin",
            "/v1/tokens",
            json!({ "role": "admin", "name": "second-admin", "expires_in_days": 7 }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created:#}");
    let (token, id) = (
        created["token"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    let (status, body) = server
        .post_json(
            "admin",
            "/v1/tokens",
            json!({ "role": "clerk", "name": "x", "expires_in_days": 400 }).to_string(),
        )
        .await;
    error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expires_in_days",
    );
    let (status, list) = server.get_json("admin", "/v1/tokens").await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["role"], "admin");
    assert!(listed.get("token").is_none(), "never the token itself");
    assert!(!list.to_string().contains(&token));

    // The new admin works on both servers (each now remembers it).
    let mint = |base: String, token: String| async move {
        reqwest::Client::new()
            .post(format!("{base}/v1/tokens"))
            .bearer_auth(token)
            .body(json!({ "role": "admin", "name": "minted" }).to_string())
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        mint(server.base.clone(), token.clone()).await,
        StatusCode::CREATED
    );
    assert_eq!(
        mint(other_base.clone(), token.clone()).await,
        StatusCode::CREATED
    );
    // Revoked through the first server: refused there at once, and by the other within
    // the cache's bound, so a revoked admin cannot mint another.
    let revoked = server
        .http
        .delete(server.url(&format!("/v1/tokens/{id}")))
        .bearer_auth(&server.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        mint(server.base.clone(), token.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    let bound = comity_server::auth::TOKEN_TTL + std::time::Duration::from_millis(500);
    let started = std::time::Instant::now();
    loop {
        let status = mint(other_base.clone(), token.clone()).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(started.elapsed() < bound, "still accepted after {bound:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = server
        .anonymous(reqwest::Method::GET, "/v1/decisions/x")
        .await;
    error(status, &body, StatusCode::UNAUTHORIZED, "authorization");
    let response = server
        .http
        .delete(server.url("/v1/tokens/0000000000000000"))
        .bearer_auth(&server.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A token whose time ran out is refused, saying so.
    let expired = "comity_expired-synthetic-token";
    expired_token(&server, expired, "clerk").await;
    let response = server
        .http
        .get(server.url("/v1/decisions/x"))
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    let message = error(status, &body, StatusCode::UNAUTHORIZED, "authorization");
    assert!(message.contains("expired"), "{message}");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fbi_asking_a_court_date_for_a_criminal_investigation_is_permitted_by_cited_law() {
    let server = Server::sqlite().await;
    let mut r = request("fbi-1", "local-person-6");
    r["received_at"] = "2019-03-02T14:05:00-05:00".into();
    r["from"] = json!({ "agency": "FBI-NY", "kind": "federal-other" });
    r["purpose"] = "criminal-investigation".into();
    r["acts"] = json!(["notify-court-date"]);
    for key in ["form", "basis", "warrant"] {
        r.as_object_mut().unwrap().remove(key);
    }
    r["subject"]["convictions"] = json!([]);
    r["subject"]["pending_charges"] = json!([]);
    r["custody"] = json!({ "status": "in-custody", "arrested_at": "2019-02-28T22:10:00-05:00" });
    r["court_event"]["at"] = "2019-03-05T09:30:00-05:00".into();
    let (status, decision) = server.submit(r.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{decision:#}");
    let act = &decision["acts"][0];
    assert_eq!(act["outcome"], "permitted", "{decision:#}");
    let rules = strings(&act["reasons"], "rule");
    assert!(
        rules.contains(&"us-criminal-justice-information-exchange"),
        "{rules:?}"
    );
    let citation = act["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "us-criminal-justice-information-exchange")
        .unwrap()["citation"]
        .clone();
    assert!(
        citation.as_str().unwrap().contains("28 U.S.C. § 534"),
        "{citation}"
    );
    // The same asked for civil immigration enforcement is not.
    let mut civil = r.clone();
    civil["id"] = "fbi-2".into();
    civil["purpose"] = "civil-immigration".into();
    let (_, decision) = server.submit(civil.to_string()).await;
    assert_eq!(decision["acts"][0]["outcome"], "forbidden", "{decision:#}");
    server.finish().await;
}

/// The hostile-input table: each body is refused with a 4xx naming the field at fault (where
/// there is one), the server keeps serving, and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_inputs_are_refused_by_name_and_store_nothing() {
    let server = Server::sqlite().await;
    let example: Value = serde_json::from_str(EXAMPLE).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut v = example.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        v.to_string()
    };
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let many_acts = with("/acts", json!(vec!["hold"; 50_000]));
    let table: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "empty body",
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "not JSON",
            "hold them".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "truncated",
            EXAMPLE[..EXAMPLE.len() / 2].into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "nested 5,000 deep",
            deep,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "a repeated field",
            EXAMPLE.replacen(
                "\"form\": \"I-247A\",",
                "\"form\": \"I-247A\", \"form\": \"I-247N\",",
                1,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "form",
        ),
        (
            "a NUL in the id",
            with("/id", "nyc\u{0}1".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            "an id of 201 bytes",
            with("/id", "x".repeat(201).into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            "a subject id of 10,000 characters",
            with("/subject/id", "é".repeat(10_000).into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject.id",
        ),
        (
            "an agency with a newline",
            with("/from/agency", "DHS\nICE".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from.agency",
        ),
        (
            "50,000 acts",
            many_acts,
            StatusCode::UNPROCESSABLE_ENTITY,
            "acts[1]",
        ),
        (
            "a release in the year 9999",
            with("/custody/release_at", "9999-12-30T10:00:00-05:00".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "custody.release_at",
        ),
        (
            "a judgment in the year 1066",
            with("/subject/convictions/0/date", "1066-10-14".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject.convictions[0].date",
        ),
        (
            "a time without an offset",
            with("/received_at", "2018-03-02T14:05:00".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "received_at",
        ),
        (
            "a negative number of days served",
            with("/subject/convictions/0/incarcerated_days", json!(-1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject.convictions[0].incarcerated_days",
        ),
        (
            "a number where a word belongs",
            with("/to/kind", json!(7)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to.kind",
        ),
        (
            "an unknown place",
            with("/jurisdiction", "ocd-division/country:us/state:zz".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "jurisdiction",
        ),
        (
            "mixed JSON lines, the second bad",
            format!("{}\n{{\"id\": 1}}\n", example),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 2",
        ),
    ];
    for (what, body, expected, field) in table {
        let (status, answer) = server.submit(body).await;
        assert_eq!(status, expected, "{what}: {answer:#}");
        let at = answer["error"]["field"].as_str().unwrap();
        assert!(
            at.starts_with(field),
            "{what}: field `{at}`, expected `{field}`"
        );
        assert_eq!(rows(&server.db).await, [0; 4], "{what}: nothing stored");
    }
    // Still serving.
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_silent_past_its_cadence_degrades_health_and_raises_the_alarm() {
    use std::sync::atomic::{AtomicI64, Ordering};
    // A clock the test moves.
    let now = Arc::new(AtomicI64::new(
        "2026-03-02T09:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second(),
    ));
    let read = now.clone();
    let clock = comity_server::feeds::Clock::new(move || {
        jiff::Timestamp::from_second(read.load(Ordering::SeqCst)).unwrap()
    });
    let feed = |name: &str, from: &str, to: Option<&str>| comity_server::config::Feed {
        name: name.into(),
        from: from.into(),
        to: to.map(str::to_owned),
        silent_after_hours: 24,
    };
    let options = ServerOptions {
        feeds: vec![
            feed("ICE to DOC", "DHS-ICE-ERO", Some("NYC-DOC")),
            feed("FBI, anywhere", "FBI-NY", None),
        ],
        clock,
        ..ServerOptions::default()
    };
    let server = Server::start(TestDb::sqlite(), options).await;
    let advance = |hours: i64| now.fetch_add(hours * 3600, Ordering::SeqCst);
    let health = || async {
        let (status, body) = server.anonymous(reqwest::Method::GET, "/healthz").await;
        assert_eq!(status, StatusCode::OK, "degraded, not down");
        body
    };
    let metrics = || async {
        server
            .get("auditor", "/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // Just started: nothing is overdue yet.
    assert_eq!(health().await["status"], "ok");
    advance(25);
    let body = health().await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["silent_feeds"], json!(["ICE to DOC", "FBI, anywhere"]));
    assert!(
        metrics()
            .await
            .contains("comity_feed_silent{feed=\"ICE to DOC\"} 1")
    );
    // ICE's detainer to DOC arrives: that feed is healthy again; the FBI's is still silent.
    let (status, _) = server.submit(EXAMPLE).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = health().await;
    assert_eq!(body["silent_feeds"], json!(["FBI, anywhere"]));
    let text = metrics().await;
    assert!(
        text.contains("comity_feed_silent{feed=\"ICE to DOC\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("comity_feed_last_seen_seconds{feed=\"ICE to DOC\"}"),
        "{text}"
    );
    // A day and an hour on with nothing more: silent again.
    advance(25);
    assert_eq!(
        health().await["silent_feeds"],
        json!(["ICE to DOC", "FBI, anywhere"])
    );
    server.finish().await;
}

/// One call of the API, for the authorization matrix: the route as the OpenAPI document
/// names it, the path and body to call it with, the action the access pack decides it by,
/// and whether it reads a person's record (so counsel's assignment matters).
struct Call {
    route: &'static str,
    method: reqwest::Method,
    path: String,
    body: Option<String>,
    action: ApiAction,
    personal: bool,
}

/// Every route of the API but the open ones (`/healthz`, `/openapi.json`), for a request
/// `id` about a person counsel `aid-1` is assigned to.
fn every_call(id: &str) -> Vec<Call> {
    use reqwest::Method;
    let call = |route, method, path: String, body: Option<String>, action, personal| Call {
        route,
        method,
        path,
        body,
        action,
        personal,
    };
    let delivery = format!("{id}%2Fnotify-release%2FDHS-ICE-ERO");
    let assignment = json!({ "counsel": "aid-9", "subject_id": "local-person-9" }).to_string();
    vec![
        call(
            "/v1/requests",
            Method::POST,
            "/v1/requests".into(),
            Some(EXAMPLE.into()),
            ApiAction::Submit,
            false,
        ),
        call(
            "/v1/requests/{id}",
            Method::GET,
            format!("/v1/requests/{id}"),
            None,
            ApiAction::ReadRequest,
            true,
        ),
        call(
            "/v1/decisions/{id}",
            Method::GET,
            format!("/v1/decisions/{id}"),
            None,
            ApiAction::ReadDecision,
            true,
        ),
        call(
            "/v1/requests/{id}/deliveries",
            Method::GET,
            format!("/v1/requests/{id}/deliveries"),
            None,
            ApiAction::ReadRequest,
            true,
        ),
        call(
            "/v1/requests/{id}/events",
            Method::POST,
            format!("/v1/requests/{id}/events"),
            Some(
                json!({ "kind": "response-sent", "at": "2019-03-03T09:00:00-05:00",
                        "act": "notify-release" })
                .to_string(),
            ),
            ApiAction::RecordEvent,
            false,
        ),
        call(
            "/v1/requests/{id}/events",
            Method::GET,
            format!("/v1/requests/{id}/events"),
            None,
            ApiAction::ReadRequest,
            true,
        ),
        call(
            "/v1/deliveries/{id}/approval",
            Method::POST,
            format!("/v1/deliveries/{delivery}/approval"),
            Some(json!({ "decision": "refused" }).to_string()),
            ApiAction::Approve,
            false,
        ),
        call(
            "/v1/audit/checkpoint",
            Method::GET,
            "/v1/audit/checkpoint".into(),
            None,
            ApiAction::ReadLedger,
            false,
        ),
        call(
            "/v1/audit/proof",
            Method::GET,
            "/v1/audit/proof?index=0".into(),
            None,
            ApiAction::ReadLedger,
            false,
        ),
        call(
            "/checkpoint",
            Method::GET,
            "/checkpoint".into(),
            None,
            ApiAction::ReadLedger,
            false,
        ),
        call(
            "/tile/{path}",
            Method::GET,
            "/tile/0/000.p/1".into(),
            None,
            ApiAction::ReadLedger,
            false,
        ),
        call(
            "/tile/{path}",
            Method::GET,
            "/tile/entries/000.p/1".into(),
            None,
            ApiAction::ReadEntries,
            false,
        ),
        call(
            "/v1/assignments",
            Method::POST,
            "/v1/assignments".into(),
            Some(assignment.clone()),
            ApiAction::AssignCounsel,
            false,
        ),
        call(
            "/v1/assignments",
            Method::GET,
            "/v1/assignments".into(),
            None,
            ApiAction::ReadAssignments,
            false,
        ),
        call(
            "/v1/assignments/end",
            Method::POST,
            "/v1/assignments/end".into(),
            Some(assignment),
            ApiAction::AssignCounsel,
            false,
        ),
        call(
            "/v1/tokens",
            Method::POST,
            "/v1/tokens".into(),
            Some(json!({ "role": "clerk", "name": "matrix" }).to_string()),
            ApiAction::ManageTokens,
            false,
        ),
        call(
            "/v1/tokens",
            Method::GET,
            "/v1/tokens".into(),
            None,
            ApiAction::ManageTokens,
            false,
        ),
        call(
            "/v1/tokens/{id}",
            Method::DELETE,
            "/v1/tokens/0000000000000000".into(),
            None,
            ApiAction::ManageTokens,
            false,
        ),
        call(
            "/metrics",
            Method::GET,
            "/metrics".into(),
            None,
            ApiAction::ReadMetrics,
            false,
        ),
    ]
}

/// The authorization matrix, from the access pack: every route × every role × a person
/// counsel is assigned to and one it is not × a missing, malformed, unknown, expired and
/// revoked token. A role the pack refuses gets 403 naming the rule; one it allows is never
/// refused for its role; a token not in force gets 401, everywhere.
#[tokio::test(flavor = "multi_thread")]
async fn the_authorization_matrix_holds_in_every_cell() {
    let server = Server::sqlite().await;
    let access = Access::builtin().unwrap();
    let approved = release_notice_needing_approval("matrix-own", "local-person-1");
    let mut other = approved.clone();
    other["id"] = "matrix-other".into();
    other["subject"]["id"] = "local-person-2".into();
    let (status, _) = server.submit(json!([approved, other]).to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server
        .post_json(
            "admin",
            "/v1/assignments",
            json!({ "counsel": "aid-1", "subject_id": "local-person-1" }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Every route of the API is in the matrix.
    let (_, doc) = server
        .anonymous(reqwest::Method::GET, "/openapi.json")
        .await;
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            if path != "/healthz" && path != "/openapi.json" {
                documented.push((path.clone(), method.to_uppercase()));
            }
        }
    }
    let mut listed: Vec<(String, String)> = every_call("x")
        .iter()
        .map(|c| (c.route.to_owned(), c.method.to_string()))
        .collect();
    documented.sort();
    listed.sort();
    // A route decided by two actions (tiles: hashes and entries) is called once for each.
    listed.dedup();
    assert_eq!(
        documented, listed,
        "every documented route is in the matrix"
    );

    let roles = [
        ("clerk", Role::Clerk),
        ("supervisor", Role::Supervisor),
        ("aid-1", Role::Counsel),
        ("auditor", Role::Auditor),
        ("admin", Role::Admin),
    ];
    let mut cells = 0;
    for id in ["matrix-own", "matrix-other"] {
        for call in every_call(id) {
            for (who, role) in roles {
                let assigned = call.personal && role == Role::Counsel && id == "matrix-own";
                let allowed = access
                    .check(role, call.action, call.route, assigned)
                    .is_ok();
                let mut builder = server
                    .http
                    .request(call.method.clone(), server.url(&call.path))
                    .bearer_auth(&server.tokens[who]);
                if let Some(body) = &call.body {
                    builder = builder.body(body.clone());
                }
                let response = builder.send().await.unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if allowed {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{who} {} {}: {status} {body}",
                        call.method,
                        call.path
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{who} {} {}",
                        call.method,
                        call.path
                    );
                    assert!(body["error"]["rule"].is_string(), "{body}");
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 2 * every_call("x").len() * roles.len());

    // Tokens not in force: refused as unauthenticated, on every route.
    let expired = "comity_expired-matrix-token";
    expired_token(&server, expired, "admin").await;
    let (_, created) = server
        .post_json(
            "admin",
            "/v1/tokens",
            json!({ "role": "admin", "name": "soon-revoked" }).to_string(),
        )
        .await;
    let revoked = created["token"].as_str().unwrap().to_owned();
    let gone = server
        .http
        .delete(server.url(&format!("/v1/tokens/{}", created["id"].as_str().unwrap())))
        .bearer_auth(&server.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    for call in every_call("matrix-own") {
        for header in [
            None,
            Some("Basic YWRtaW46YWRtaW4=".to_owned()),
            Some("Bearer comity_unknown".to_owned()),
            Some(format!("Bearer {expired}")),
            Some(format!("Bearer {revoked}")),
        ] {
            let mut builder = server
                .http
                .request(call.method.clone(), server.url(&call.path));
            if let Some(h) = &header {
                builder = builder.header(header::AUTHORIZATION, h);
            }
            if let Some(body) = &call.body {
                builder = builder.body(body.clone());
            }
            let status = builder.send().await.unwrap().status();
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{header:?} {} {}",
                call.method,
                call.path
            );
        }
    }
    server.finish().await;
}
