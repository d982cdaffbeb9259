//! The web console over HTTP, as a browser without JavaScript meets it: signing in and out,
//! sessions and CSRF, what each role's pages show and refuse, the queue's filter and pages.
//! (The browser tests in `tests/browser/` drive the same pages in Chromium.)

use std::path::Path;

use comity_ledger::{NoteSigner, NoteVerifier};
use comity_policy::Engine;
use comity_server::auth::{Access, Role, create_token};
use comity_server::http::{AppState, ServerOptions, serve};
use comity_server::receipt::{Receipt, ReceiptError};
use comity_store::Store;
use comity_testdb::TestDb;
use reqwest::{StatusCode, header};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../examples/nyc-doc-detainer.json");

/// A console served for one test, with a token per role.
struct Console {
    base: String,
    http: reqwest::Client,
    store: Store,
    verifier: NoteVerifier,
    tokens: Vec<(&'static str, String)>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    db: TestDb,
    _whatif: tempfile::TempDir,
}

/// What a page answered.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    headers: header::HeaderMap,
    body: String,
}

impl Console {
    async fn start(db: TestDb) -> Console {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let engine = Engine::load(&root.join("packs"), &root.join("catalog")).unwrap();
        let store = Store::open(db.url()).await.unwrap();
        let mut tokens = Vec::new();
        for (holder, role) in [
            ("clerk", Role::Clerk),
            ("supervisor", Role::Supervisor),
            ("auditor", Role::Auditor),
            ("admin", Role::Admin),
            ("aid-1", Role::Counsel),
        ] {
            tokens.push((
                holder,
                create_token(&store, role, holder, 1).await.unwrap().token,
            ));
        }
        let signer = NoteSigner::generate("comity.test/ledger").unwrap();
        let verifier = signer.verifier();
        // A what-if result kept for the console, and a file that is not one.
        let whatif = tempfile::tempdir().unwrap();
        std::fs::write(
            whatif.path().join("nyc-2017-amendment.html"),
            "<!DOCTYPE html><title>what-if</title><p>3 changed cases</p>",
        )
        .unwrap();
        std::fs::write(whatif.path().join("notes.txt"), "not a result").unwrap();
        let reports_dir = root.join("reports");
        let reports = comity_report::kinds(&reports_dir)
            .unwrap()
            .iter()
            .map(|k| comity_report::Definition::load(&reports_dir, k).unwrap())
            .collect();
        let state = AppState::new(
            store.clone(),
            engine,
            signer,
            Access::builtin().unwrap(),
            ServerOptions {
                reports,
                whatif_dir: Some(whatif.path().to_owned()),
                ..ServerOptions::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Console {
            base,
            http,
            store,
            verifier,
            tokens,
            stop,
            task,
            db,
            _whatif: whatif,
        }
    }

    async fn finish(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        self.store.close().await;
        self.db.drop_database().await;
    }

    fn token(&self, holder: &str) -> &str {
        &self.tokens.iter().find(|(h, _)| *h == holder).unwrap().1
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let headers = response.headers().clone();
        Answer {
            status: response.status(),
            location: headers
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
            cookies: headers
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|c| c.to_str().unwrap().to_owned())
                .collect(),
            body: response.text().await.unwrap(),
            headers,
        }
    }

    /// `GET path` with `cookie` (a `name=value`), if any.
    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        Console::answer(request.send().await.unwrap()).await
    }

    /// `POST path` of a form, with `cookie`.
    async fn post_form(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(form).unwrap();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        Console::answer(request.send().await.unwrap()).await
    }

    /// Shows the sign-in form and submits `token` from it: the answer.
    async fn sign_in_answer(&self, token: &str) -> Answer {
        let form = self.get("/signin", None).await;
        let presession =
            cookie_named(&form.cookies, "__Host-comity_signin").expect("a pre-session");
        let csrf = hidden_csrf(&form.body);
        self.post_form(
            "/signin",
            Some(&format!("__Host-comity_signin={presession}")),
            &[("token", token), ("csrf", &csrf)],
        )
        .await
    }

    /// Signs `holder` in: the session cookie, as a `Cookie` header value.
    async fn sign_in(&self, holder: &str) -> String {
        let answer = self.sign_in_answer(self.token(holder)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let session = cookie_named(&answer.cookies, "__Host-comity_session").expect("a session");
        format!("__Host-comity_session={session}")
    }

    /// Records a request about `subject` through the API: its ledger index.
    async fn submit(&self, id: &str, subject: &str) -> u64 {
        let mut v: Value = serde_json::from_str(EXAMPLE).unwrap();
        v["id"] = id.into();
        v["subject"]["id"] = subject.into();
        self.submit_value(&v).await
    }

    /// Records `v` through the API: its ledger index.
    async fn submit_value(&self, v: &Value) -> u64 {
        let answer: Value = self
            .http
            .post(format!("{}/v1/requests", self.base))
            .bearer_auth(self.token("clerk"))
            .json(v)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["ledger"]["index"].as_u64().expect("recorded")
    }
}

/// The value of the cookie `name` set by `cookies` (`Set-Cookie` values).
fn cookie_named(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
    })
}

/// The `csrf` field's value in a page's form.
fn hidden_csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..at + 64].to_owned()
}

/// The text of the page's alert.
fn alert(body: &str) -> &str {
    let start = body.find("role=\"alert\"").expect("an alert");
    let end = body[start..].find("</p>").unwrap();
    &body[start..start + end]
}

#[tokio::test]
async fn signing_in_sets_a_strict_session_and_refuses_every_bad_token_alike() {
    let console = Console::start(TestDb::sqlite()).await;

    // Pages need a session.
    let answer = console.get("/queue", None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/signin"));
    let answer = console
        .get("/queue", Some("__Host-comity_session=forged"))
        .await;
    assert_eq!(answer.location.as_deref(), Some("/signin?ended=1"));

    // The form comes with a pre-session; a submission without it is refused, and no
    // session is set.
    let answer = console
        .post_form(
            "/signin",
            None,
            &[("token", console.token("clerk")), ("csrf", "x")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(alert(&answer.body).contains("csrf"));
    assert!(cookie_named(&answer.cookies, "__Host-comity_session").is_none());

    // An empty token is named; unknown, malformed and revoked tokens get one answer.
    let answer = console.sign_in_answer("  ").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert(&answer.body).contains("<strong>token</strong>"));
    let unknown = console
        .sign_in_answer(&format!("comity_{}", "0".repeat(64)))
        .await;
    let malformed = console.sign_in_answer("not a token").await;
    let revoked_token = create_token(&console.store, Role::Clerk, "gone", 1)
        .await
        .unwrap();
    console
        .store
        .revoke_token(&revoked_token.id, "test")
        .await
        .unwrap();
    let revoked = console.sign_in_answer(&revoked_token.token).await;
    for answer in [&unknown, &malformed, &revoked] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(alert(&answer.body), alert(&unknown.body));
        assert!(cookie_named(&answer.cookies, "__Host-comity_session").is_none());
    }

    // A good token: a session cookie that is Secure, HttpOnly and SameSite=Strict, and the
    // role's first page.
    let answer = console.sign_in_answer(console.token("clerk")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let set = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("__Host-comity_session="))
        .unwrap();
    for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    let session = format!(
        "__Host-comity_session={}",
        cookie_named(&answer.cookies, "__Host-comity_session").unwrap()
    );
    assert_eq!(
        console.get("/", Some(&session)).await.location.as_deref(),
        Some("/queue")
    );
    let queue = console.get("/queue", Some(&session)).await;
    assert_eq!(queue.status, StatusCode::OK);
    let csp = queue.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(queue.headers[header::CACHE_CONTROL], "no-store");

    // Sign-out needs the session's own CSRF value.
    let refused = console
        .post_form("/signout", Some(&session), &[("csrf", &"0".repeat(64))])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        console.get("/queue", Some(&session)).await.status,
        StatusCode::OK
    );
    let csrf = hidden_csrf(&queue.body);
    let out = console
        .post_form("/signout", Some(&session), &[("csrf", &csrf)])
        .await;
    assert_eq!(out.location.as_deref(), Some("/signin?ended=1"));
    let after = console.get("/queue", Some(&session)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/signin?ended=1"));

    // A session ends when its token is revoked.
    let temp = create_token(&console.store, Role::Clerk, "temp", 1)
        .await
        .unwrap();
    let answer = console.sign_in_answer(&temp.token).await;
    let session = format!(
        "__Host-comity_session={}",
        cookie_named(&answer.cookies, "__Host-comity_session").unwrap()
    );
    assert_eq!(
        console.get("/queue", Some(&session)).await.status,
        StatusCode::OK
    );
    console.store.revoke_token(&temp.id, "test").await.unwrap();
    // The token cache forgets a revoked token within its refresh interval.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let answer = console.get("/queue", Some(&session)).await;
    assert_eq!(answer.location.as_deref(), Some("/signin?ended=1"));
    console.finish().await;
}

#[tokio::test]
async fn each_role_sees_what_the_access_pack_grants_and_refusals_name_the_rule() {
    let console = Console::start(TestDb::sqlite()).await;
    let mine = console.submit("console-a", "person-a").await;
    console.submit("console-b", "person-b").await;
    console
        .store
        .assign("aid-1", "person-a", "test")
        .await
        .unwrap();

    // The desk reads the request in words, with the law's answer and its citations; a clerk
    // does not read the ledger, so has no check to run.
    let clerk = console.sign_in("clerk").await;
    let page = console.get("/requests/console-a", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "What was asked",
        "asks <strong>NYC-DOC</strong>",
        "What the law allows",
        "§ 9-131",
        "Forbidden",
        "What was sent and done",
    ] {
        assert!(page.body.contains(text), "the page lacks {text}");
    }
    assert!(!page.body.contains("id=\"verify\""));
    let proof = console
        .get(&format!("/console/proof?index={mine}"), Some(&clerk))
        .await;
    assert_eq!(proof.status, StatusCode::FORBIDDEN);
    assert!(
        proof
            .body
            .contains("ledger-reads-need-supervisor-or-auditor")
    );

    // A supervisor checks the entry: the page offers it, the proof and checkpoint are served.
    let supervisor = console.sign_in("supervisor").await;
    let page = console.get("/requests/console-a", Some(&supervisor)).await;
    assert!(page.body.contains("id=\"verify\""));
    assert!(page.body.contains(&format!("data-index=\"{mine}\"")));
    let proof = console
        .get(&format!("/console/proof?index={mine}"), Some(&supervisor))
        .await;
    assert_eq!(proof.status, StatusCode::OK);
    let proof: Value = serde_json::from_str(&proof.body).unwrap();
    assert_eq!(proof["leaf_index"], mine);
    let note = console.get("/console/checkpoint", Some(&supervisor)).await;
    assert!(note.body.starts_with("comity.test/ledger\n"));

    // An auditor reads the ledger but no one's records.
    let auditor = console.sign_in("auditor").await;
    assert_eq!(
        console.get("/", Some(&auditor)).await.location.as_deref(),
        Some("/audit")
    );
    let audit = console.get("/audit", Some(&auditor)).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("comity.test/ledger+"));
    let refused = console.get("/requests/console-a", Some(&auditor)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("personal-records-need-a-case-role"));
    assert!(!refused.body.contains("person-a"));

    // The statutory reports, for those who read the ledger: computed, with their charts; a bad
    // field named on the form.
    let report = console
        .get(
            "/reports/view?kind=nyc-doc&from=2017-07-01&to=2018-06-30",
            Some(&auditor),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.contains("9-131(f)") && report.body.contains("<svg"));
    for (query, field) in [
        ("kind=nyc-nowhere&from=2017-07-01&to=2018-06-30", "kind"),
        ("kind=nyc-doc&from=2017-07-01&to=2018-06-31", "to"),
    ] {
        let bad = console
            .get(&format!("/reports/view?{query}"), Some(&auditor))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(alert(&bad.body).contains(&format!("<strong>{field}</strong>")));
    }
    // What-if results kept on the server: listed, shown, and nothing else of the directory.
    let reports = console.get("/reports", Some(&auditor)).await;
    assert!(
        reports
            .body
            .contains("href=\"/reports/whatif/nyc-2017-amendment.html\"")
    );
    assert!(!reports.body.contains("notes.txt"));
    let shown = console
        .get("/reports/whatif/nyc-2017-amendment.html", Some(&auditor))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("3 changed cases"));
    for path in ["notes.txt", "..%2Fnotes.txt", ".html", "nope.html"] {
        let missing = console
            .get(&format!("/reports/whatif/{path}"), Some(&auditor))
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
    }
    let refused = console.get("/reports", Some(&clerk)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("ledger-reads-need-supervisor-or-auditor")
    );

    // Counsel reads only about the people assigned to it, and has no queue.
    let counsel = console.sign_in("aid-1").await;
    assert_eq!(
        console
            .get("/requests/console-a", Some(&counsel))
            .await
            .status,
        StatusCode::OK
    );
    let other = console.get("/requests/console-b", Some(&counsel)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(other.body.contains("counsel-reads-only-assigned-subjects"));
    assert!(!other.body.contains("person-b"));
    let unknown = console.get("/requests/nobody", Some(&counsel)).await;
    assert_eq!(
        unknown.status,
        StatusCode::FORBIDDEN,
        "unknown ids are refused alike"
    );
    assert_eq!(
        console.get("/queue", Some(&counsel)).await.status,
        StatusCode::FORBIDDEN
    );

    // The law in force is open to every role, a version page standing alone.
    let admin = console.sign_in("admin").await;
    let packs = console.get("/packs", Some(&admin)).await;
    assert_eq!(packs.status, StatusCode::OK);
    let href = packs
        .body
        .split("href=\"/packs/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let version = console.get(&format!("/packs/{href}"), Some(&admin)).await;
    assert_eq!(version.status, StatusCode::OK);
    assert!(version.body.contains("Test cases") || version.body.contains("Sources"));
    console.finish().await;
}

#[tokio::test]
async fn the_queue_filters_pages_and_names_a_bad_field_on_sqlite() {
    the_queue_filters_pages_and_names_a_bad_field(TestDb::sqlite()).await;
}

#[tokio::test]
async fn the_queue_filters_pages_and_names_a_bad_field_on_postgres() {
    the_queue_filters_pages_and_names_a_bad_field(TestDb::postgres().await).await;
}

async fn the_queue_filters_pages_and_names_a_bad_field(db: TestDb) {
    let console = Console::start(db).await;
    for i in 0..27 {
        console
            .submit(&format!("queue-{i:02}"), &format!("person-{i}"))
            .await;
    }
    let clerk = console.sign_in("clerk").await;
    let first = console.get("/queue", Some(&clerk)).await;
    assert_eq!(first.body.matches("href=\"/requests/").count(), 25);
    assert!(
        first.body.contains("href=\"/requests/queue-26\""),
        "newest first"
    );
    assert!(!first.body.contains("href=\"/requests/queue-01\""));
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let second = console.get(&next, Some(&clerk)).await;
    assert_eq!(second.body.matches("href=\"/requests/").count(), 2);
    assert!(second.body.contains("href=\"/requests/queue-00\""));
    assert!(!second.body.contains("rel=\"next\""));

    // Filters: an act not asked matches nothing; the act asked matches all.
    let none = console.get("/queue?act=office-space", Some(&clerk)).await;
    assert!(none.body.contains("No request matches."));
    let held = console
        .get(
            "/queue?act=hold&agency=NYC-DOC&from=2017-01-01",
            Some(&clerk),
        )
        .await;
    assert_eq!(held.body.matches("href=\"/requests/").count(), 25);

    // A bad field is named on the page, the form kept.
    for (query, field) in [
        ("from=2017-02-30", "from"),
        ("act=deport", "act"),
        ("outcome=maybe", "outcome"),
        ("before=x", "before"),
    ] {
        let bad = console.get(&format!("/queue?{query}"), Some(&clerk)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(
            alert(&bad.body).contains(&format!("<strong>{field}</strong>")),
            "{query}: {}",
            alert(&bad.body)
        );
        assert!(bad.body.contains("role=\"search\""));
    }
    console.finish().await;
}

/// A request whose decision permits telling ICE the release date, with the privacy
/// officer's approval: a disclosure about `subject` waits in the outbox.
fn release_notice(id: &str, subject: &str) -> Value {
    let mut r: Value = serde_json::from_str(EXAMPLE).unwrap();
    r["id"] = id.into();
    r["subject"]["id"] = subject.into();
    r["received_at"] = "2019-03-02T14:05:00-05:00".into();
    r["warrant"] = serde_json::json!({ "kind": "judicial" });
    r["acts"] = serde_json::json!(["notify-release"]);
    r["subject"]["convictions"][0]["date"] = "2016-05-01".into();
    r["subject"]["pending_charges"] = serde_json::json!([]);
    r["custody"] = serde_json::json!({ "status": "in-custody", "arrested_at": "2019-02-28T22:10:00-05:00",
                           "release_at": "2019-03-04T10:00:00-05:00" });
    r
}

#[tokio::test]
async fn counsel_sees_every_disclosure_about_its_clients_with_receipts_that_check_offline() {
    let console = Console::start(TestDb::sqlite()).await;
    let index = console
        .submit_value(&release_notice("notice-a", "client-a"))
        .await;
    console
        .submit_value(&release_notice("notice-b", "stranger-b"))
        .await;
    console
        .store
        .assign("aid-1", "client-a", "test")
        .await
        .unwrap();
    let counsel = console.sign_in("aid-1").await;
    assert_eq!(
        console.get("/", Some(&counsel)).await.location.as_deref(),
        Some("/counsel")
    );
    let page = console.get("/counsel", Some(&counsel)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("client-a"));
    assert!(!page.body.contains("stranger-b"), "only its own clients");
    assert!(page.body.contains("notify-release"));
    let href = page
        .body
        .split("class=\"receipt\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a receipt link")
        .replace("&amp;", "&");

    // The receipt is a file, and it holds against the ledger's key.
    let answer = console.get(&href, Some(&counsel)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"receipt-")
    );
    let receipt = Receipt::from_json(&answer.body).unwrap();
    assert_eq!(receipt.entry.index, index);
    assert_eq!(receipt.delivery.request, "notice-a");
    let checked = receipt.check(&console.verifier).unwrap();
    assert_eq!(checked.act, comity_model::Act::NotifyRelease);

    // Edited anywhere, it is refused, naming what failed.
    let mut forged = receipt.clone();
    forged.entry.text = forged.entry.text.replace("\"permitted\"", "\"required\"");
    assert!(matches!(
        forged.check(&console.verifier),
        Err(ReceiptError::Proof(_))
    ));
    let mut other_act = receipt.clone();
    other_act.delivery.act = comity_model::Act::Transfer;
    assert!(matches!(
        other_act.check(&console.verifier),
        Err(ReceiptError::Format(_))
    ));
    other_act.delivery.id = comity_store::delivery_id(
        &other_act.delivery.request,
        "transfer",
        &other_act.delivery.recipient,
    );
    assert!(matches!(
        other_act.check(&console.verifier),
        Err(ReceiptError::Entry(_))
    ));
    let mut stated = receipt.clone();
    stated.proof.root = "00".repeat(32);
    assert!(matches!(
        stated.check(&console.verifier),
        Err(ReceiptError::Proof(_))
    ));
    let mut other_key = receipt.clone();
    other_key.checkpoint = other_key
        .checkpoint
        .replace("comity.test/ledger", "comity.test/other");
    assert!(matches!(
        other_key.check(&console.verifier),
        Err(ReceiptError::Checkpoint(_))
    ));
    let stranger_key = NoteSigner::generate("comity.test/ledger")
        .unwrap()
        .verifier();
    assert!(matches!(
        receipt.check(&stranger_key),
        Err(ReceiptError::Checkpoint(_))
    ));

    // Another person's receipt, and an unknown one, are refused alike.
    for id in ["notice-b/notify-release/DHS-ICE-ERO", "nobody/hold/x"] {
        let path = format!("/counsel/receipt?delivery={}", id.replace('/', "%2F"));
        let refused = console.get(&path, Some(&counsel)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{id}");
        assert!(
            refused
                .body
                .contains("counsel-reads-only-assigned-subjects")
        );
    }
    // Other roles have no counsel page.
    let clerk = console.sign_in("clerk").await;
    assert_eq!(
        console.get("/counsel", Some(&clerk)).await.status,
        StatusCode::FORBIDDEN
    );
    console.finish().await;
}

/// Waits for the verification started from the Audit page to end: its JSON state.
async fn verification_ended(console: &Console, session: &str) -> Value {
    for _ in 0..200 {
        let answer = console.get("/console/verification", Some(session)).await;
        let v: Value = serde_json::from_str(&answer.body).unwrap();
        if v["state"] == "ended" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the verification did not end");
}

#[tokio::test]
async fn a_full_verification_runs_from_the_audit_page_and_finds_tampering() {
    let console = Console::start(TestDb::sqlite()).await;
    for i in 0..3 {
        console.submit(&format!("v-{i}"), &format!("p-{i}")).await;
    }
    let supervisor = console.sign_in("supervisor").await;
    let audit = console.get("/audit", Some(&supervisor)).await;
    assert!(audit.body.contains("Not run since the server started."));
    let csrf = hidden_csrf(&audit.body[audit.body.find("/audit/verify").unwrap()..]);

    // Only a form of the session starts it, and only for a role that reads the ledger.
    let forged = console
        .post_form(
            "/audit/verify",
            Some(&supervisor),
            &[("csrf", &"0".repeat(64))],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let clerk = console.sign_in("clerk").await;
    let clerk_csrf = hidden_csrf(&console.get("/queue", Some(&clerk)).await.body);
    let refused = console
        .post_form("/audit/verify", Some(&clerk), &[("csrf", &clerk_csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        console
            .get("/console/verification", Some(&supervisor))
            .await
            .body,
        r#"{"state":"never"}"#
    );

    let started = console
        .post_form("/audit/verify", Some(&supervisor), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.location.as_deref(), Some("/audit#verification"));
    let ended = verification_ended(&console, &supervisor).await;
    assert_eq!(ended["ok"], true, "{ended}");
    assert!(ended["summary"].as_str().unwrap().contains("3 decisions"));
    let page = console.get("/audit", Some(&supervisor)).await;
    assert!(page.body.contains("Verified: "));

    // An entry changed in the database: the next run names it.
    let pool = console.db.pool().await;
    sqlx::query("UPDATE ledger_entries SET body = replace(body, 'forbidden', 'permitted') WHERE idx = (SELECT MIN(idx) FROM ledger_entries WHERE kind = 'decision')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    console
        .post_form("/audit/verify", Some(&supervisor), &[("csrf", &csrf)])
        .await;
    let ended = verification_ended(&console, &supervisor).await;
    assert_eq!(ended["ok"], false, "{ended}");
    assert!(ended["summary"].as_str().unwrap().starts_with("TAMPERED"));
    assert!(
        console
            .get("/audit", Some(&supervisor))
            .await
            .body
            .contains("FAILED: TAMPERED")
    );
    // An auditor, who reads no one's records, sees the fault by its ledger index only.
    let auditor = console.sign_in("auditor").await;
    let seen = verification_ended(&console, &auditor).await;
    let summary = seen["summary"].as_str().unwrap();
    assert!(summary.starts_with("TAMPERED: ledger entry "), "{summary}");
    assert!(
        !summary.contains("v-0") && !summary.contains("p-0"),
        "{summary}"
    );
    assert_eq!(seen["index"], ended["index"]);
    console.finish().await;
}

/// A Texas county jail's detainer (synthetic): Texas law requires the hold.
const TX_HOLD: &str = include_str!("../../../testdata/requests/tx-harris-hold.json");

#[tokio::test]
async fn the_desk_records_what_was_done_bad_input_stores_nothing_and_a_hold_counts_down() {
    let console = Console::start(TestDb::sqlite()).await;
    let request: Value = serde_json::from_str(TX_HOLD).unwrap();
    console.submit_value(&request).await;
    let clerk = console.sign_in("clerk").await;
    let path = "/requests/console-tx-hold";
    let page = console.get(path, Some(&clerk)).await;
    assert!(page.body.contains("Record what was done"));
    let csrf = hidden_csrf(&page.body[page.body.find("/events").unwrap()..]);
    let post = |fields: Vec<(&'static str, String)>| {
        let cookie = clerk.clone();
        let console = &console;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            console
                .post_form(&format!("{path}/events"), Some(&cookie), &pairs)
                .await
        }
    };

    // Bad input is named on the page, and nothing is recorded.
    for (kind, at, field) in [
        ("held", "yesterday", "at"),
        ("flown", "2018-07-04T10:52:00-05:00", "kind"),
        ("held", "2018-06-01T10:00:00-05:00", "at"),
    ] {
        let answer = post(vec![
            ("kind", kind.into()),
            ("at", at.into()),
            ("csrf", csrf.clone()),
        ])
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {at}"
        );
        assert!(
            alert(&answer.body).contains(&format!("<strong>{field}</strong>")),
            "{kind} {at}: {}",
            alert(&answer.body)
        );
        assert!(
            answer.body.contains(&format!("value=\"{at}\"")),
            "the form keeps what was typed"
        );
    }
    assert!(
        console
            .store
            .events("console-tx-hold")
            .await
            .unwrap()
            .is_empty()
    );
    let forged = post(vec![
        ("kind", "held".into()),
        ("at", "2018-07-04T10:52:00-05:00".into()),
        ("csrf", "0".repeat(64)),
    ])
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        console
            .store
            .events("console-tx-hold")
            .await
            .unwrap()
            .is_empty()
    );

    // Held: recorded, and the queue shows the hold's deadline counting down.
    let held = post(vec![
        ("kind", "held".into()),
        ("at", "2018-07-04T10:52:00-05:00".into()),
        ("csrf", csrf.clone()),
    ])
    .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER);
    assert_eq!(
        held.location.as_deref(),
        Some("/requests/console-tx-hold#done")
    );
    assert_eq!(
        console.store.events("console-tx-hold").await.unwrap().len(),
        1
    );
    let queue = console.get("/queue", Some(&clerk)).await;
    assert!(
        queue.body.contains("Held until <time class=\"countdown\""),
        "{}",
        queue.body
    );
    let page = console.get(path, Some(&clerk)).await;
    assert!(
        page.body
            .contains("The person is held on this request. Held until")
    );

    // Released: the hold no longer counts down.
    let released = post(vec![
        ("kind", "released".into()),
        ("at", "2018-07-05T09:00:00-05:00".into()),
        ("csrf", csrf.clone()),
    ])
    .await;
    assert_eq!(released.status, StatusCode::SEE_OTHER);
    assert!(
        !console
            .get("/queue", Some(&clerk))
            .await
            .body
            .contains("Held until")
    );

    // A hold the decision forbids (New York City, an administrative warrant), done anyway:
    // recorded, and shown as held without authority.
    console.submit("nyc-held", "nyc-person").await;
    let nyc = console.get("/requests/nyc-held", Some(&clerk)).await;
    let nyc_csrf = hidden_csrf(&nyc.body[nyc.body.find("/events").unwrap()..]);
    let held = console
        .post_form(
            "/requests/nyc-held/events",
            Some(&clerk),
            &[
                ("kind", "held"),
                ("at", "2018-03-04T10:00:00-05:00"),
                ("csrf", &nyc_csrf),
            ],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER);
    let queue = console.get("/queue", Some(&clerk)).await;
    assert!(
        queue.body.contains("Held without authority"),
        "{}",
        queue.body
    );

    // An auditor records nothing, and is not offered the form.
    let auditor = console.sign_in("auditor").await;
    let auditor_csrf = hidden_csrf(&console.get("/audit", Some(&auditor)).await.body);
    let refused = console
        .post_form(
            &format!("{path}/events"),
            Some(&auditor),
            &[
                ("kind", "transferred"),
                ("at", "2018-07-06T09:00:00-05:00"),
                ("csrf", &auditor_csrf),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        console.store.events("console-tx-hold").await.unwrap().len(),
        2
    );
    console.finish().await;
}
