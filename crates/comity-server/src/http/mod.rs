//! The HTTP API (`comity serve`): requests in, decisions and ledger proofs out, each call
//! by a bearer token whose role the access pack ([`crate::auth`]) allows.
//!
//! | route | method | roles |
//! |---|---|---|
//! | `/v1/requests` | POST | clerk, supervisor |
//! | `/v1/requests/{id}` | GET | clerk, supervisor, counsel (assigned subjects) |
//! | `/v1/decisions/{id}` | GET | clerk, supervisor, counsel (assigned subjects) |
//! | `/v1/requests/{id}/deliveries` | GET | clerk, supervisor, counsel (assigned subjects) |
//! | `/v1/requests/{id}/events` | POST | clerk, supervisor |
//! | `/v1/requests/{id}/events` | GET | clerk, supervisor, counsel (assigned subjects) |
//! | `/v1/deliveries/{id}/approval` | POST | supervisor |
//! | `/v1/audit/checkpoint` | GET | supervisor, auditor |
//! | `/v1/audit/proof?index=N[&size=M]` | GET | supervisor, auditor |
//! | `/checkpoint`, `/tile/<L>/<N>[.p/<W>]` (C2SP tlog-tiles) | GET | supervisor, auditor |
//! | `/tile/entries/<N>[.p/<W>]` | GET | supervisor |
//! | `/v1/assignments`, `/v1/assignments/end` | POST | admin |
//! | `/v1/assignments` | GET | counsel (its own), admin |
//! | `/v1/tokens` | POST, GET | admin |
//! | `/v1/tokens/{id}` | DELETE | admin |
//! | `/metrics` | GET | auditor, admin |
//! | `/healthz`, `/openapi.json` | GET | anyone |
//!
//! Every error is JSON (see [`errors`]).

pub mod assignments;
pub mod audit;
pub mod deliveries;
pub mod errors;
pub mod events;
pub mod requests;
pub mod tokens;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use comity_ledger::{NoteSigner, to_hex};
use comity_policy::Engine;
use comity_store::{Integrator, Store};
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::auth::{Access, ApiAction, AuthError, Caller, Role, TokenCache};
use crate::console::session::Sessions;
use crate::console::verification::Verifications;
use crate::feeds::{FLUSH_EVERY, FeedHealth};
use crate::metrics::Metrics;
use errors::{ApiError, ErrorBody, ErrorDetail};

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    pub max_body: usize,
    /// The most decisions recorded in one transaction (the integrator's group commit).
    pub max_batch: usize,
    /// The sources the service expects requests from (`comity.toml`'s `[[feeds]]`).
    pub feeds: Vec<crate::config::Feed>,
    /// The time feeds are judged by.
    pub clock: crate::feeds::Clock,
    /// The statutory reports the console computes (`reports/*.toml`).
    pub reports: Vec<comity_report::Definition>,
    /// Where what-if results (`comity whatif --html FILE`) are kept for the console to show.
    pub whatif_dir: Option<std::path::PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_body: 1 << 20,
            max_batch: 256,
            feeds: Vec::new(),
            clock: crate::feeds::Clock::default(),
            reports: Vec::new(),
            whatif_dir: None,
        }
    }
}

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

/// What the API and the console share.
pub(crate) struct Inner {
    pub(crate) store: Store,
    integrator: Integrator,
    pub(crate) engine: Arc<Engine>,
    access: Access,
    pub(crate) signer: NoteSigner,
    metrics: Metrics,
    tokens: TokenCache,
    sessions: Sessions,
    verifications: Verifications,
    feeds: FeedHealth,
    options: ServerOptions,
    openapi: String,
}

impl AppState {
    /// The state of a server over `store`, deciding with `engine`, signing checkpoints with
    /// `signer` and admitting calls by `access`. Starts the store's integrator, so it must
    /// be called within a Tokio runtime.
    pub fn new(
        store: Store,
        engine: Engine,
        signer: NoteSigner,
        access: Access,
        options: ServerOptions,
    ) -> AppState {
        let integrator = Integrator::start(store.clone(), options.max_batch.max(1));
        let openapi = ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes");
        let feeds = FeedHealth::new(options.feeds.clone(), options.clock.clone());
        let state = AppState {
            inner: Arc::new(Inner {
                store,
                integrator,
                engine: Arc::new(engine),
                access,
                signer,
                metrics: Metrics::default(),
                tokens: TokenCache::default(),
                sessions: Sessions::default(),
                verifications: Verifications::default(),
                feeds,
                options,
                openapi,
            }),
        };
        // What this server heard from each source, written for every server to see; the task
        // ends with the last handle to the state.
        let weak = Arc::downgrade(&state.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_EVERY).await;
                let Some(inner) = weak.upgrade() else { return };
                // A failure is retried at the next flush; what was heard stays in memory only
                // if the write failed before draining, and health reads flush again.
                let _ = inner.feeds.flush(&inner.store).await;
            }
        });
        state
    }

    /// Whether `caller` may do `action` at `endpoint` (a route template); `assigned`:
    /// whether counsel assigned to the subject of the record asked for.
    pub(crate) fn authorize(
        &self,
        caller: &Caller,
        action: ApiAction,
        endpoint: &str,
        assigned: bool,
    ) -> Result<(), ApiError> {
        Ok(self
            .inner
            .access
            .check(caller.role, action, endpoint, assigned)?)
    }

    /// Whether `caller` may do `action` at `endpoint`, as a yes or no (what a page shows).
    pub(crate) fn allows(&self, caller: &Caller, action: ApiAction, endpoint: &str) -> bool {
        self.authorize(caller, action, endpoint, false).is_ok()
    }

    /// The caller whose token this is.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        self.inner
            .tokens
            .authenticate(&self.inner.store, token)
            .await
    }

    /// The caller of the token whose SHA-256 is `digest` (a console session's).
    pub(crate) async fn authenticate_digest(&self, digest: &str) -> Result<Caller, AuthError> {
        self.inner
            .tokens
            .authenticate_digest(&self.inner.store, digest)
            .await
    }

    /// The statutory reports the console computes.
    pub(crate) fn reports(&self) -> &[comity_report::Definition] {
        &self.inner.options.reports
    }

    /// Where the console finds what-if results.
    pub(crate) fn whatif_dir(&self) -> Option<&std::path::Path> {
        self.inner.options.whatif_dir.as_deref()
    }

    /// The console's verification of the whole store.
    pub(crate) fn verifications(&self) -> &Verifications {
        &self.inner.verifications
    }

    /// The console's signed-in sessions.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }
}

/// Where a recorded decision is in the ledger: its leaf, and a tree head that includes it,
/// so that `GET /v1/audit/proof?index={index}&size={tree_size}` proves it against `root`
/// (and `comity audit consistency` links that head to any later checkpoint).
///
/// Answering `POST /v1/requests`, the head is the one the decision's group commit ended,
/// computed from the nodes the append held (no read); a decision recorded before is read
/// back with the head up to it (`tree_size` = its index + 1). Answering
/// `GET /v1/decisions/{id}`, it is the ledger's head when read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerRef {
    /// The leaf index of the decision's entry.
    pub index: u64,
    /// The entry's RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    /// The size of a tree that includes the entry (at least `index + 1`).
    pub tree_size: u64,
    /// That tree's root, hex.
    pub root: String,
}

impl AppState {
    /// The ledger references of the entries at `indices`, in the same order, with the head
    /// of the tree of the first `size` entries (at least the last index + 1): one read.
    pub(crate) async fn ledger_refs(
        &self,
        indices: &[u64],
        size: u64,
    ) -> Result<Vec<LedgerRef>, ApiError> {
        let (root, leaves) = self.inner.store.head_with_leaves(size, indices).await?;
        let root = to_hex(&root);
        Ok(indices
            .iter()
            .map(|i| LedgerRef {
                index: *i,
                leaf_hash: to_hex(&leaves[i]),
                tree_size: size,
                root: root.clone(),
            })
            .collect())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// The caller named by the `Authorization: Bearer <token>` header.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("no bearer token (Authorization: Bearer …)"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
            })?;
        state.authenticate(token).await.map_err(|e| match e {
            AuthError::Store(e) => e.into(),
            other => ApiError::unauthorized(other.to_string()),
        })
    }
}

/// The API's routes, with every error as JSON, the body limit, and metrics; and the web
/// console's pages ([`crate::console`]), whose errors are pages.
pub fn router(state: AppState) -> Router {
    let max_body = state.inner.options.max_body;
    let api = Router::new()
        .route("/v1/requests", post(requests::submit))
        .route("/v1/requests/{id}", get(requests::request))
        .route("/v1/requests/{id}/deliveries", get(deliveries::list))
        .route(
            "/v1/requests/{id}/events",
            post(events::record).get(events::list),
        )
        .route("/v1/decisions/{id}", get(requests::decision))
        .route("/v1/deliveries/{id}/approval", post(deliveries::approve))
        .route("/v1/audit/checkpoint", get(audit::checkpoint))
        .route("/v1/audit/proof", get(audit::proof))
        .route("/checkpoint", get(audit::tlog_checkpoint))
        .route("/tile/{*path}", get(audit::tile))
        .route(
            "/v1/assignments",
            post(assignments::assign).get(assignments::list),
        )
        .route("/v1/assignments/end", post(assignments::end))
        .route("/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/v1/tokens/{id}", delete(tokens::revoke))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(errors::no_route)
        .method_not_allowed_fallback(errors::wrong_method)
        // Bodies are read whole: refuse one over the limit by its length, or as soon as it
        // passes the limit while it streams.
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn(errors::json_errors));
    api.merge(crate::console::routes(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the calls in
/// progress.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Counts each call by route and status, and times it.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state.inner.metrics.observe_call(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Whether the service is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when a source it expects requests from has gone silent.
    pub status: String,
    /// The number of entries in the ledger.
    pub ledger_size: u64,
    /// The expected sources silent longer than they may be (`comity.toml`'s `[[feeds]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub silent_feeds: Vec<String>,
}

/// Is the service up, and can it read its database?
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses(
        (status = 200, description = "Up, and the database answers; `degraded` names the sources gone silent", body = Health),
        (status = 500, description = "The database does not answer", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    let ledger_size = state.inner.store.size().await?;
    let silent_feeds: Vec<String> = state
        .inner
        .feeds
        .status(&state.inner.store)
        .await?
        .into_iter()
        .filter(|f| f.silent)
        .map(|f| f.name)
        .collect();
    Ok(axum::Json(Health {
        status: if silent_feeds.is_empty() {
            "ok"
        } else {
            "degraded"
        }
        .into(),
        ledger_size,
        silent_feeds,
    }))
}

/// The service's metrics, in the Prometheus text format: calls by route, method and status,
/// their latency as a histogram, and acts decided by outcome.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The role may not read metrics", body = ErrorBody),
    )
)]
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    state.authorize(&caller, ApiAction::ReadMetrics, "/metrics", false)?;
    let feeds = state.inner.feeds.status(&state.inner.store).await?;
    let mut response = state.inner.metrics.render(&feeds).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// This document: the API in OpenAPI 3.1, generated from the code.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    let mut response = (StatusCode::OK, state.inner.openapi.clone()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "comity",
        description = "Decide, record and prove what the law lets an agency do when another agency asks it to act on a person. Requests and decisions follow format version 1 (docs/formats.md in the repository)."
    ),
    paths(
        requests::submit,
        requests::request,
        requests::decision,
        deliveries::list,
        deliveries::approve,
        events::record,
        events::list,
        audit::checkpoint,
        audit::proof,
        audit::tlog_checkpoint,
        audit::tile,
        assignments::assign,
        assignments::end,
        assignments::list,
        tokens::create,
        tokens::list,
        tokens::revoke,
        health,
        metrics,
        openapi,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        LedgerRef,
        Health,
        Role,
        audit::Proof,
        requests::RecordedDecision,
        requests::RecordedDecisions,
        requests::Requests,
        deliveries::Deliveries,
        deliveries::DeliveryItem,
        deliveries::NewApprovalBody,
        deliveries::ApprovalDecision,
        deliveries::RecordedApproval,
        events::RecordedEvent,
        events::Events,
        comity_model::Event,
        comity_model::EventKind,
        assignments::AssignmentBody,
        assignments::AssignmentItem,
        assignments::Assignments,
        tokens::NewToken,
        tokens::CreatedToken,
        tokens::TokenItem,
        tokens::Tokens,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "requests", description = "Requests in, decisions out"),
        (name = "audit", description = "The ledger: signed checkpoints and inclusion proofs"),
        (name = "counsel", description = "Counsel's assignments to the people it represents"),
        (name = "admin", description = "API tokens"),
        (name = "service", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme the paths' `security` names.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// A small JSON body (`{"subject_id": …}`, `{"role": …, "name": …}`) read strictly: a 422
/// names the field at fault.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| comity_model::InputError::from_serde(e.path().to_string(), e.inner()).into())
}
