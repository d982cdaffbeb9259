//! The web console, served by `comity serve` beside the API: what a desk officer, counsel
//! and an auditor see. Pages are rendered on the server (maud, escaped by construction),
//! with a little plain JavaScript (a hold deadline counting down; the ledger proof checked
//! in the browser). The same tokens and the same access pack as the API decide what each
//! role may see: a page refused names the access rule that refused it.
//!
//! | page | who |
//! |---|---|
//! | `/signin`, `/signout` | anyone with a token; sign-out by a form of the session |
//! | `/queue` | clerk, supervisor: recent requests, filtered and paged |
//! | `/requests/{id}` | clerk, supervisor, counsel (assigned subjects); clerk and supervisor record what was done there (`POST /requests/{id}/events`) |
//! | `/counsel` | counsel: the people assigned to it and every disclosure about them |
//! | `/counsel/receipt?delivery=ID` | counsel (assigned subjects), clerk, supervisor: a receipt file |
//! | `/audit` | supervisor, auditor: the latest checkpoint, the public key to pin, a full verification with its progress (`POST /audit/verify`, `GET /console/verification`) |
//! | `/reports`, `/reports/view`, `/reports/whatif/{file}` | supervisor, auditor: the statutory reports and what-if results, with charts |
//! | `/packs`, `/packs/{path}` | every role: the law in force, rule by rule with citations |
//! | `/console/proof`, `/console/checkpoint` | what the browser checks (roles reading the ledger) |
//!
//! Every page is sent with a content security policy allowing only the console's own
//! scripts and styles, and is not cached.

mod assets;
mod audit;
mod counsel;
mod ledger;
mod packs;
mod queue;
mod reports;
mod request;
pub mod session;
mod signin;
pub mod verification;
mod words;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use crate::auth::{ApiAction, Role};
use crate::http::AppState;
use crate::http::errors::ApiError;
use session::Signed;

/// The console's routes.
pub(crate) fn routes(max_body: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::signout))
        .route("/queue", get(queue::page))
        .route("/requests/{id}", get(request::page))
        .route("/requests/{id}/events", post(request::record))
        .route("/audit", get(audit::page))
        .route("/audit/verify", post(verification::start))
        .route("/console/verification", get(verification::status))
        .route("/counsel", get(counsel::page))
        .route("/counsel/receipt", get(counsel::receipt))
        .route("/reports", get(reports::page))
        .route("/reports/view", get(reports::view))
        .route("/reports/whatif/{file}", get(reports::whatif))
        .route("/packs", get(packs::page))
        .route("/packs/{*path}", get(packs::version))
        .route("/console/proof", get(ledger::proof))
        .route("/console/checkpoint", get(ledger::checkpoint))
        .route("/console/static/{name}", get(assets::asset))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(map_response(guarded))
}

/// The headers every console answer carries: only the console's own scripts and styles,
/// no framing, no sniffing, no referrer, no caching of pages.
async fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// `/`: each role's first page.
async fn home(signed: Signed) -> Response {
    let to = match signed.caller.role {
        Role::Clerk | Role::Supervisor => "/queue",
        Role::Counsel => "/counsel",
        Role::Auditor => "/audit",
        Role::Admin => "/packs",
    };
    axum::response::Redirect::to(to).into_response()
}

/// A page of the console, whole: head, the navigation the role may use, sign-out, content.
pub(crate) fn layout(
    state: &AppState,
    title: &str,
    signed: Option<&Signed>,
    content: Markup,
) -> Html<String> {
    let nav = signed.map(|s| navigation(state, s));
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · comity" }
                    link rel="icon" href="data:,";
                    link rel="stylesheet" href="/console/static/console.css";
                    script src="/console/static/verify.js" defer {}
                    script src="/console/static/console.js" defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        span.brand { "comity" }
                        @if let Some(nav) = nav { (nav) }
                    }
                    main #main tabindex="-1" {
                        h1 { (title) }
                        (content)
                    }
                }
            }
        }
        .into_string(),
    )
}

/// The pages the signed-in role may open, and the sign-out form.
fn navigation(state: &AppState, signed: &Signed) -> Markup {
    let caller = &signed.caller;
    let links: Vec<(&str, &str)> = [
        (
            "/queue",
            "Queue",
            state.allows(caller, ApiAction::ReadRequest, "/queue"),
        ),
        ("/counsel", "Counsel", caller.role == Role::Counsel),
        (
            "/reports",
            "Reports",
            state.allows(caller, ApiAction::ReadLedger, "/reports"),
        ),
        (
            "/audit",
            "Audit",
            state.allows(caller, ApiAction::ReadLedger, "/audit"),
        ),
        ("/packs", "Law in force", true),
    ]
    .into_iter()
    .filter(|(_, _, shown)| *shown)
    .map(|(href, text, _)| (href, text))
    .collect();
    html! {
        nav aria-label="Console" {
            ul {
                @for (href, text) in links { li { a href=(href) { (text) } } }
            }
        }
        form.signout method="post" action="/signout" {
            input type="hidden" name="csrf" value=(signed.csrf);
            span.who { (caller.name) " (" (caller.role) ")" }
            button type="submit" { "Sign out" }
        }
    }
}

/// A page that could not be shown: why, as a page (a refusal names the access rule).
pub(crate) struct PageError {
    state: AppState,
    signed: Option<Signed>,
    error: ApiError,
}

impl PageError {
    /// `error`, shown to `signed`.
    pub(crate) fn new(state: &AppState, signed: &Signed, error: ApiError) -> PageError {
        PageError {
            state: state.clone(),
            signed: Some(signed.clone()),
            error,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = &self.error;
        let title = match e.status {
            StatusCode::FORBIDDEN => "Not yours to see",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "Not accepted",
            _ => "Something failed",
        };
        let content = html! {
            p.error role="alert" {
                @if !e.field.is_empty() { strong { (e.field) } ": " }
                (e.message)
            }
            @if let Some(rule) = &e.rule {
                p { "Access rule " code { (rule.id) } ": " (rule.summary) }
                p.citation { (rule.citation) }
            }
        };
        (
            e.status,
            layout(&self.state, title, self.signed.as_ref(), content),
        )
            .into_response()
    }
}
