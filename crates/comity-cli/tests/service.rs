//! The records service as it runs in production: several `comity serve` processes and
//! dispatchers sharing one PostgreSQL database, a local webhook standing in for the receiving
//! agency, and a crash.
//!
//! - `three_servers_two_dispatchers_deliver_each_permitted_disclosure_once`: 10,000 synthetic
//!   requests spread over three servers; every permitted disclosure reaches the webhook
//!   exactly once (by idempotency key, signature checked), none that was not permitted does,
//!   and `comity audit verify` is clean.
//! - `a_killed_server_loses_nothing_accepted_and_delivers_nothing_twice`: a server is killed
//!   with SIGKILL in the middle of the load and restarted; every request it had accepted is
//!   recorded, clients that got no answer resend, and still nothing is delivered twice.
//!
//! Each test makes and drops its own PostgreSQL database (comity-testdb).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use comity_testdb::TestDb;
use common::{example, repo};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod common;

const SECRET: &str = "synthetic-shared-secret";

/// The two tests each run several servers and thousands of requests: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_comity")
}

/// What the webhook received: idempotency key → how many times, and every body.
#[derive(Default)]
struct Sink {
    by_key: BTreeMap<String, usize>,
    bad_signatures: usize,
}

async fn start_sink() -> (String, Arc<Mutex<Sink>>) {
    let sink = Arc::new(Mutex::new(Sink::default()));
    let state = sink.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(&body);
                let expected = format!("sha256={}", hex(&mac.finalize().into_bytes()));
                let signed = headers
                    .get("comity-signature")
                    .and_then(|v| v.to_str().ok())
                    == Some(expected.as_str());
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let mut s = state.lock().unwrap();
                if !signed {
                    s.bad_signatures += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                *s.by_key.entry(key).or_default() += 1;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, sink)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn comity(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env("COMITY_PACKS", repo().join("packs"))
        .env_remove("COMITY_CATALOG")
        .env("COMITY_DATA_DIR", dir.join(".comity"))
        .stdin(Stdio::null());
    c
}

/// A running `comity serve` and the port it listens on.
struct Server {
    process: Process,
    port: u16,
}

/// Starts `comity serve` on `listen` (port 0: one the system picks, so no other process can
/// take it between choosing and binding) and waits until it answers `/healthz`; its log is
/// `serve-<n>.log` in `dir`.
async fn serve(client: &reqwest::Client, dir: &Path, db: &str, listen: &str) -> Server {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log_path = dir.join(format!("serve-{n}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = comity(
        dir,
        &[
            "serve",
            "--db",
            db,
            "--listen",
            listen,
            "--config",
            "comity.toml",
            "--no-dispatch",
            "--checkpoint-every",
            "1",
        ],
    )
    .stdout(Stdio::null())
    .stderr(log)
    .spawn()
    .unwrap();
    let mut process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = |why: &str| -> ! {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!("comity serve --listen {listen} {why}:\n{log}")
    };
    let port = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(port) = log
            .lines()
            .find_map(|l| l.strip_prefix("comity: serving on http://"))
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|p| p.parse::<u16>().ok())
        {
            break port;
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            failed(&format!("exited ({status})"));
        }
        if Instant::now() > deadline {
            failed("did not start listening");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return Server { process, port };
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            failed(&format!("exited ({status})"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    failed("did not become healthy")
}

fn dispatcher(dir: &Path, db: &str, name: &str) -> Process {
    dispatcher_leasing(dir, db, name, 60)
}

/// A dispatcher whose claims last `lease_seconds`.
fn dispatcher_leasing(dir: &Path, db: &str, name: &str, lease_seconds: u64) -> Process {
    let lease = lease_seconds.to_string();
    let child = comity(
        dir,
        &[
            "dispatch",
            "--db",
            db,
            "--config",
            "comity.toml",
            "--name",
            name,
            "--lease-seconds",
            &lease,
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    Process(child)
}

/// `n` synthetic requests: half to a sheriff in Columbus, Ohio (no state or local law: the
/// federal pack permits the release notice and status), half to the NYC Department of
/// Correction on an administrative warrant (the release notice is forbidden).
fn requests(n: usize) -> Vec<Value> {
    let (columbus, new_york) = (
        example("columbus-sheriff-detainer.json"),
        example("nyc-doc-detainer.json"),
    );
    (0..n)
        .map(|i| {
            let mut r = if i % 2 == 0 { &columbus } else { &new_york }.clone();
            r["id"] = format!("svc-{i:05}").into();
            r["subject"]["id"] = format!("synthetic-person-{i}").into();
            r["acts"] = json!(["notify-release", "share-status"]);
            r
        })
        .collect()
}

/// The ids of the webhook deliveries the law permits for `requests`, decided here with the
/// same packs.
fn permitted_webhook_deliveries(requests: &[Value]) -> BTreeSet<String> {
    let engine =
        comity_policy::Engine::load(&repo().join("packs"), &repo().join("catalog")).unwrap();
    let mut out = BTreeSet::new();
    for v in requests {
        let r = comity_model::Request::from_value(v.clone()).unwrap();
        let d = engine.decide(&r).unwrap();
        for delivery in comity_server::plan::deliveries(&r, &d) {
            if delivery.recipient == "DHS-ICE-ERO" {
                out.insert(delivery.id(&r.id));
            }
        }
    }
    out
}

fn write_config(dir: &Path, hook: &str) {
    let config = format!(
        "[dispatch]\nmax_attempts = 20\nbase_delay_ms = 50\nmax_delay_ms = 1000\n\n\
         [agencies]\n\"DHS-ICE-ERO\" = \"federal-immigration\"\n\n\
         [channels.\"DHS-ICE-ERO\"]\nwebhook = {{ url = \"{hook}\", secret = \"{SECRET}\" }}\n\n\
         [channels.subject]\nfile = {{ dir = \"notices/subject\" }}\n\n\
         [channels.counsel]\nfile = {{ dir = \"notices/counsel\" }}\n"
    );
    std::fs::write(dir.join("comity.toml"), config).unwrap();
}

fn token(dir: &Path, db: &str) -> String {
    let out = comity(
        dir,
        &[
            "token",
            "create",
            "--db",
            db,
            "--role",
            "clerk",
            "--name",
            "synthetic-clerk",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The ports of the servers clients send to; a restarted server replaces its port.
type Ports = Arc<Mutex<Vec<u16>>>;

/// Posts every request (in arrays of `chunk`) to the servers in turn, resending a chunk to
/// the next server when one does not answer; returns how many were accepted.
async fn post_all(
    client: &reqwest::Client,
    ports: &Ports,
    token: &str,
    requests: &[Value],
    chunk: usize,
) -> usize {
    let mut accepted = 0;
    let chunks: Vec<&[Value]> = requests.chunks(chunk).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in chunks.into_iter().enumerate() {
        let (client, ports, token, body) = (
            client.clone(),
            ports.clone(),
            token.to_owned(),
            Value::Array(c.to_vec()),
        );
        tasks.spawn(async move {
            for attempt in 0..200 {
                let port = {
                    let ports = ports.lock().unwrap();
                    ports[(i + attempt) % ports.len()]
                };
                let sent = client
                    .post(format!("http://127.0.0.1:{port}/v1/requests"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                if let Ok(r) = sent
                    && r.status().is_success()
                {
                    return body.as_array().unwrap().len();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("chunk {i} was never accepted");
        });
        while tasks.len() >= 16 {
            accepted += tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(n) = tasks.join_next().await {
        accepted += n.unwrap();
    }
    accepted
}

/// [`post_all`] in a task of its own, while the test kills what serves it.
fn spawn_load(
    client: &reqwest::Client,
    ports: &Ports,
    token: &str,
    requests: &[Value],
    chunk: usize,
) -> tokio::task::JoinHandle<usize> {
    let (client, ports, token, requests) = (
        client.clone(),
        ports.clone(),
        token.to_owned(),
        requests.to_vec(),
    );
    tokio::spawn(async move { post_all(&client, &ports, &token, &requests, chunk).await })
}

async fn wait_delivered(db: &TestDb, sink: &Arc<Mutex<Sink>>, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let pending = db.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND recipient = 'DHS-ICE-ERO'").await;
        if pending == 0 && sink.lock().unwrap().by_key.len() >= expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "deliveries did not finish: {} of {expected}",
        sink.lock().unwrap().by_key.len()
    );
}

/// Checks that every permitted disclosure arrived, signed, and nothing else did; returns how
/// many were sent again (at least once: after a dispatcher was killed between sending and
/// recording).
fn check_deliveries(sink: &Arc<Mutex<Sink>>, expected: &BTreeSet<String>) -> usize {
    let s = sink.lock().unwrap();
    assert_eq!(s.bad_signatures, 0);
    let got: BTreeSet<String> = s.by_key.keys().cloned().collect();
    let unexpected: Vec<_> = got.difference(expected).take(5).collect();
    let missing: Vec<_> = expected.difference(&got).take(5).collect();
    assert!(
        unexpected.is_empty(),
        "delivered without a permit: {unexpected:?}"
    );
    assert!(
        missing.is_empty(),
        "permitted but not delivered: {missing:?}"
    );
    s.by_key.values().map(|n| n - 1).sum()
}

fn assert_exactly_once(sink: &Arc<Mutex<Sink>>, expected: &BTreeSet<String>) {
    assert_eq!(
        check_deliveries(sink, expected),
        0,
        "delivered more than once"
    );
}

/// `comity audit verify`, against the checkpoint the servers published outside the
/// database (every second while they served): the ledger must still extend it.
fn audit_verify(dir: &Path, db: &str) {
    let published = dir.join(".comity/checkpoint");
    assert!(published.exists(), "the servers published a checkpoint");
    let published = published.to_str().unwrap();
    let out = comity(
        dir,
        &["audit", "--db", db, "verify", "--checkpoint", published],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What each test starts from: its own database and folder, a webhook sink with the
/// configuration that delivers to it, a clerk's token, and an HTTP client.
struct Setup {
    db: TestDb,
    dir: tempfile::TempDir,
    sink: Arc<Mutex<Sink>>,
    token: String,
    client: reqwest::Client,
}

impl Setup {
    /// On a fresh PostgreSQL database.
    async fn new() -> Setup {
        Setup::on(TestDb::postgres().await).await
    }

    /// On `db`.
    async fn on(db: TestDb) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (hook, sink) = start_sink().await;
        write_config(dir.path(), &hook);
        let token = token(dir.path(), db.url());
        Setup {
            db,
            dir,
            sink,
            token,
            client: reqwest::Client::new(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_two_dispatchers_deliver_each_permitted_disclosure_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Setup {
        db,
        dir,
        sink,
        token,
        client,
    } = Setup::new().await;
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(serve(&client, dir.path(), db.url(), "127.0.0.1:0").await);
    }
    let ports: Ports = Arc::new(Mutex::new(servers.iter().map(|s| s.port).collect()));
    let dispatchers = [
        dispatcher(dir.path(), db.url(), "d1"),
        dispatcher(dir.path(), db.url(), "d2"),
    ];

    let requests = requests(10_000);
    let expected = permitted_webhook_deliveries(&requests);
    assert!(
        expected.len() >= 5_000,
        "half the requests permit two disclosures each"
    );
    assert_eq!(
        post_all(&client, &ports, &token, &requests, 50).await,
        10_000
    );
    wait_delivered(&db, &sink, expected.len()).await;
    drop(dispatchers);
    drop(servers);
    assert_exactly_once(&sink, &expected);
    assert_eq!(db.count("SELECT COUNT(*) FROM decisions").await, 10_000);
    audit_verify(dir.path(), db.url());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_nothing_accepted_and_delivers_nothing_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Setup {
        db,
        dir,
        sink,
        token,
        client,
    } = Setup::new().await;
    let mut server = serve(&client, dir.path(), db.url(), "127.0.0.1:0").await;
    let ports: Ports = Arc::new(Mutex::new(vec![server.port]));
    let _dispatcher = dispatcher(dir.path(), db.url(), "d1");

    let requests = requests(4_000);
    let expected = permitted_webhook_deliveries(&requests);
    let load = spawn_load(&client, &ports, &token, &requests, 10);
    // Kill the server in the middle of the load, then start it again; clients send to it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while db.count("SELECT COUNT(*) FROM decisions").await < 400 {
        assert!(
            Instant::now() < deadline,
            "the server recorded fewer than 400 requests in two minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.process.0.kill().unwrap();
    server.process.0.wait().unwrap();
    let at_kill = db.count("SELECT COUNT(*) FROM decisions").await;
    assert!(
        at_kill < 4_000,
        "the server was killed in the middle of the load ({at_kill} recorded)"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = serve(&client, dir.path(), db.url(), "127.0.0.1:0").await;
    *ports.lock().unwrap() = vec![restarted.port];
    // Clients resend only what got no answer; every request is recorded once, so nothing
    // that was accepted before the kill was lost.
    assert_eq!(load.await.unwrap(), 4_000);
    assert_eq!(db.count("SELECT COUNT(*) FROM decisions").await, 4_000);
    wait_delivered(&db, &sink, expected.len()).await;
    drop(server);
    assert_exactly_once(&sink, &expected);
    audit_verify(dir.path(), db.url());
    db.drop_database().await;
}

/// The crash harness for dispatchers: two dispatchers (3 s leases) deliver the 3,000
/// disclosures 2,000 requests permit while one of them is killed with SIGKILL at a random moment and started again,
/// `COMITY_CRASH_KILLS` times (8 by default; set it higher for a long campaign). Every permitted
/// disclosure must arrive, nothing else may, and the ledger must verify; a delivery sent
/// again after a kill (at least once) is counted and printed, not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_dispatchers_deliver_every_permitted_disclosure_and_nothing_else() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Setup {
        db,
        dir,
        sink,
        token,
        client,
    } = Setup::new().await;
    let kills = kill_count(8);
    let server = serve(&client, dir.path(), db.url(), "127.0.0.1:0").await;
    let ports: Ports = Arc::new(Mutex::new(vec![server.port]));
    let requests = requests(2_000);
    let expected = permitted_webhook_deliveries(&requests);
    assert_eq!(
        post_all(&client, &ports, &token, &requests, 20).await,
        2_000
    );
    let mut dispatchers = [
        dispatcher_leasing(dir.path(), db.url(), "d1", 3),
        dispatcher_leasing(dir.path(), db.url(), "d2", 3),
    ];
    let mut moments = Moments::default();
    for k in 0..kills {
        moments.wait(50, 450).await;
        let victim = k % 2;
        dispatchers[victim].0.kill().unwrap();
        dispatchers[victim].0.wait().unwrap();
        dispatchers[victim] =
            dispatcher_leasing(dir.path(), db.url(), &format!("d{}", victim + 1), 3);
    }
    wait_delivered(&db, &sink, expected.len()).await;
    drop(dispatchers);
    drop(server);
    let repeats = check_deliveries(&sink, &expected);
    eprintln!(
        "crash harness: {kills} dispatcher kills, {} permitted disclosures delivered, {repeats} sent again after a kill, 0 unpermitted",
        expected.len()
    );
    audit_verify(dir.path(), db.url());
    db.drop_database().await;
}

/// How many kills a crash harness makes: `COMITY_CRASH_KILLS`, or `default`.
fn kill_count(default: usize) -> usize {
    std::env::var("COMITY_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(default)
}

/// Pseudo-random moments to kill at: a fixed linear congruential sequence, so runs repeat.
struct Moments(u64);

impl Default for Moments {
    fn default() -> Self {
        Moments(0x5eed_c0de)
    }
}

impl Moments {
    /// Sleeps between `from` and `to` milliseconds.
    async fn wait(&mut self, from: u64, to: u64) {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(from + (self.0 >> 33) % (to - from))).await;
    }
}

/// The crash harness for the whole service, on SQLite and on PostgreSQL: while requests are
/// posted (1,500, or 250 a kill), the server and two dispatchers (3 s leases) are killed with SIGKILL in
/// turn at random moments and started again, `COMITY_CRASH_KILLS` times (6 by default).
/// Every request acknowledged is stored once, every permitted disclosure arrives, nothing else
/// does, and the ledger verifies and extends what the servers published.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_servers_and_dispatchers_lose_nothing_and_send_nothing_unpermitted() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let kills = kill_count(6);
    for db in TestDb::both().await {
        let Setup {
            db,
            dir,
            sink,
            token,
            client,
        } = Setup::on(db).await;
        let (dir, url) = (dir.path(), db.url());
        let mut server = serve(&client, dir, url, "127.0.0.1:0").await;
        let ports: Ports = Arc::new(Mutex::new(vec![server.port]));
        let mut dispatchers = [
            dispatcher_leasing(dir, url, "d1", 3),
            dispatcher_leasing(dir, url, "d2", 3),
        ];
        // Enough load that the kills fall in it: in arrays of 2, about 250 a kill.
        let total = (250 * kills).max(1_500);
        let requests = requests(total);
        let expected = permitted_webhook_deliveries(&requests);
        let load = spawn_load(&client, &ports, &token, &requests, 2);
        let mut moments = Moments::default();
        let mut under_load = 0;
        for k in 0..kills {
            moments.wait(50, 400).await;
            match k % 3 {
                0 => {
                    under_load += usize::from(!load.is_finished());
                    server.process.0.kill().unwrap();
                    server.process.0.wait().unwrap();
                    server = serve(&client, dir, url, "127.0.0.1:0").await;
                    *ports.lock().unwrap() = vec![server.port];
                }
                d => {
                    let victim = &mut dispatchers[d - 1];
                    victim.0.kill().unwrap();
                    victim.0.wait().unwrap();
                    *victim = dispatcher_leasing(dir, url, &format!("d{d}"), 3);
                }
            }
        }
        assert!(
            kills == 0 || under_load > 0,
            "the server was never killed under load"
        );
        assert_eq!(load.await.unwrap(), total, "every request acknowledged");
        assert_eq!(
            db.count("SELECT COUNT(*) FROM decisions").await as usize,
            total,
            "each stored once"
        );
        wait_delivered(&db, &sink, expected.len()).await;
        drop(dispatchers);
        drop(server);
        let repeats = check_deliveries(&sink, &expected);
        eprintln!(
            "crash harness ({url}): {kills} kills of the server and dispatchers ({under_load} of the server under load), {total} requests acknowledged and stored once, {} permitted disclosures delivered, {repeats} sent again after a kill, 0 unpermitted",
            expected.len()
        );
        audit_verify(dir, url);
        db.drop_database().await;
    }
}
