//! Requests in, decisions out: `POST /v1/requests`, `GET /v1/requests/{id}`,
//! `GET /v1/decisions/{id}`.
//!
//! A body is validated and decided whole before anything of it is recorded: one bad
//! request, or one id already recorded with another body, and nothing of the body is
//! stored. Each request is then recorded with its decision, its ledger entry and the
//! deliveries the decision permits, in one transaction, through the store's integrator
//! (group commit for concurrent callers).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use comity_ledger::to_hex;
use comity_model::{Decision, Received, Shape, read_received};
use comity_policy::{DecideError, Engine};
use comity_store::{NewDecision, Receipt, Recorded, sha256_hex};
use futures_util::future::try_join_all;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::errors::{ApiError, json_response};
use super::{AppState, LedgerRef};
use crate::auth::{ApiAction, Caller, Role};
use crate::plan;

/// A recorded decision (docs/formats.md, "Decision") with where it is in the ledger: the shape
/// of each decision the API answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedDecision {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
    /// Where the decision is in the ledger.
    pub ledger: LedgerRef,
}

/// A JSON body of `POST /v1/requests`: one request, or an array of them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Requests {
    /// One request.
    One(Box<comity_model::Request>),
    /// Several.
    Many(Vec<comity_model::Request>),
}

/// What `POST /v1/requests` answers in JSON: one recorded decision for one request, an array
/// for an array.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordedDecisions {
    /// For one request.
    One(RecordedDecision),
    /// For an array.
    Many(Vec<RecordedDecision>),
}

/// Decide and record requests: one JSON object, a JSON array of them, or JSON lines (docs/formats.md
/// "Request"). Idempotent by id: the same body again answers the first decision (200);
/// another body under a recorded id is refused (409) and nothing of the body is recorded.
///
/// The answer has the body's shape (an object, an array, or JSON lines), each decision with
/// a `ledger` object: its leaf index and hash, and a tree size and root that include it.
#[utoipa::path(
    post,
    path = "/v1/requests",
    tag = "requests",
    security(("bearer" = [])),
    request_body(
        description = "One request (docs/formats.md), a JSON array of requests, or JSON lines (`application/x-ndjson`, one request a line)",
        content(
            (Requests = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "Decided and recorded (at least one request was new): the decision for one request, an array of them for an array, JSON lines for JSON lines", content(
            (RecordedDecisions = "application/json"),
            (RecordedDecision = "application/x-ndjson")
        )),
        (status = 200, description = "Every request was recorded before with the same body: the first decisions, shaped as for 201", content(
            (RecordedDecisions = "application/json"),
            (RecordedDecision = "application/x-ndjson")
        )),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not submit; names the access rule", body = super::ErrorBody),
        (status = 409, description = "An id already recorded with another body; nothing recorded", body = super::ErrorBody),
        (status = 413, description = "The body is over the size limit", body = super::ErrorBody),
        (status = 422, description = "Bad input, naming the field and value; nothing recorded", body = super::ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&caller, ApiAction::Submit, "/v1/requests", false)?;
    let body = body?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::input("", format!("the body is not UTF-8: {e}")))?
        .to_owned();
    // Deciding is CPU work: off the async workers.
    let engine = state.inner.engine.clone();
    let (shape, decided) = tokio::task::spawn_blocking(move || decide_all(&engine, &text))
        .await
        .map_err(|e| ApiError::internal(format!("deciding: {e}")))??;
    refuse_conflicts(&state, &decided).await?;

    let items = decided.iter().map(|(received, decision)| NewDecision {
        request_body: received.text.clone(),
        decision: decision.clone(),
        deliveries: plan::deliveries(&received.request, decision),
    });
    let integrator = &state.inner.integrator;
    let receipts = try_join_all(items.map(|i| integrator.record(i))).await?;
    let recorded: Vec<&Recorded> = receipts.iter().map(|r| &r.recorded).collect();
    for (received, _) in &decided {
        let r = &received.request;
        state.inner.feeds.heard(&r.from.agency, &r.to.agency);
    }

    let (decisions, indices, any_new) = answers(&state, decided, &recorded).await?;
    let refs = ledger_refs(&state, &receipts, &indices).await?;
    let values: Vec<Value> = decisions
        .into_iter()
        .zip(refs)
        .map(|(d, r)| with_ledger(d, r))
        .collect();
    let status = if any_new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(respond(shape, status, values))
}

/// What each request of a body is answered with: its decision as recorded now, or as
/// recorded before (read back); with the ledger index of each, and whether any was new.
/// A conflict found in the transaction itself refuses the body.
async fn answers(
    state: &AppState,
    decided: Vec<(Received, Decision)>,
    recorded: &[&Recorded],
) -> Result<(Vec<Decision>, Vec<u64>, bool), ApiError> {
    let mut indices = Vec::with_capacity(recorded.len());
    let mut decisions = Vec::with_capacity(recorded.len());
    let mut any_new = false;
    for ((received, decision), r) in decided.into_iter().zip(recorded.iter().copied()) {
        match r {
            Recorded::New(index) => {
                state.inner.metrics.observe_decision(&decision);
                any_new = true;
                indices.push(*index);
                decisions.push(decision);
            }
            Recorded::Existing(index) => {
                let stored = state
                    .inner
                    .store
                    .decision(&decision.request)
                    .await?
                    .ok_or_else(|| {
                        ApiError::internal(format!(
                            "request `{}` is recorded without its decision",
                            decision.request
                        ))
                    })?;
                indices.push(*index);
                decisions.push(stored_decision(stored.decision())?);
            }
            // A body of one request is checked here, by the integrator, in the transaction
            // itself; in a longer body, another server recorded the id with another body
            // after the check above.
            Recorded::Conflict { id } => {
                let message = if recorded.len() == 1 {
                    format!(
                        "another request was already recorded under `{id}`; nothing was recorded"
                    )
                } else {
                    format!(
                        "another request was recorded under `{id}` at the same time; this one was not (the others in the body were)"
                    )
                };
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    received.position.field("id"),
                    message,
                ));
            }
        }
    }
    Ok((decisions, indices, any_new))
}

/// The ledger reference of each decision answered (by its index): a decision recorded now
/// with the head of the tree its batch ended; one recorded before with its leaf read back;
/// a request repeated in the body as its first copy.
async fn ledger_refs(
    state: &AppState,
    receipts: &[Receipt],
    indices: &[u64],
) -> Result<Vec<LedgerRef>, ApiError> {
    let mut refs: Vec<Option<LedgerRef>> = receipts
        .iter()
        .map(|r| {
            let (Recorded::New(index), Some(leaf)) = (&r.recorded, r.leaf) else {
                return None;
            };
            Some(LedgerRef {
                index: *index,
                leaf_hash: to_hex(&leaf),
                tree_size: r.tree_size,
                root: to_hex(&r.root),
            })
        })
        .collect();
    let recorded_now: HashMap<u64, LedgerRef> = refs
        .iter()
        .flatten()
        .map(|r| (r.index, r.clone()))
        .collect();
    for (slot, index) in refs.iter_mut().zip(indices) {
        if slot.is_none() {
            *slot = recorded_now.get(index).cloned();
        }
    }
    let earlier: Vec<u64> = indices
        .iter()
        .zip(&refs)
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| *i)
        .collect();
    if !earlier.is_empty() {
        let size = earlier.iter().max().map_or(0, |i| i + 1);
        let mut read = state.ledger_refs(&earlier, size).await?.into_iter();
        for slot in refs.iter_mut().filter(|r| r.is_none()) {
            *slot = read.next();
        }
    }
    Ok(refs
        .into_iter()
        .map(|r| r.expect("every index has its reference"))
        .collect())
}

/// The answers in the body's shape: one object, an array, or JSON lines.
fn respond(shape: Shape, status: StatusCode, values: Vec<Value>) -> Response {
    match shape {
        Shape::One => json_response(status, &values[0]),
        Shape::Array => json_response(status, &Value::Array(values)),
        Shape::Lines => {
            let lines: String = values.iter().map(|v| format!("{v}\n")).collect();
            let mut response = Response::new(Body::from(lines));
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            response
        }
    }
}

/// Reads and decides every request of a body; the first bad one fails it all.
fn decide_all(engine: &Engine, text: &str) -> Result<(Shape, Vec<(Received, Decision)>), ApiError> {
    let (shape, received) = read_received(text)?;
    if received.is_empty() {
        return Err(ApiError::input("", "no request given (an empty array)"));
    }
    let decided = received
        .into_iter()
        .map(|r| match engine.decide(&r.request) {
            Ok(decision) => Ok((r, decision)),
            Err(DecideError::Input(e)) => Err(ApiError::from(r.position.locate(e))),
            Err(e @ DecideError::Evaluation { .. }) => Err(ApiError::internal(e.to_string())),
        })
        .collect::<Result<_, _>>()?;
    Ok((shape, decided))
}

/// 409 if some id of a body of several requests is already recorded with another body, or
/// appears twice in it with different bodies. (A body of one request needs no look-up
/// ahead: the integrator refuses it, writing nothing, in the recording transaction.)
async fn refuse_conflicts(
    state: &AppState,
    decided: &[(Received, Decision)],
) -> Result<(), ApiError> {
    if decided.len() < 2 {
        return Ok(());
    }
    let digests: Vec<String> = decided
        .iter()
        .map(|(r, _)| sha256_hex(r.text.as_bytes()))
        .collect();
    let ids: Vec<&str> = decided.iter().map(|(r, _)| r.request.id.as_str()).collect();
    let conflict = |i: usize, message: String| {
        ApiError::new(
            StatusCode::CONFLICT,
            decided[i].0.position.field("id"),
            message,
        )
    };
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let j = *first.entry(id).or_insert(i);
        if digests[j] != digests[i] {
            return Err(conflict(
                i,
                format!("`{id}` names two different requests in this body; nothing was recorded"),
            ));
        }
    }
    let stored = state.inner.store.request_digests(&ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if stored.get(*id).is_some_and(|d| *d != digests[i]) {
            return Err(conflict(
                i,
                format!(
                    "another request was already recorded under `{id}`; nothing in this body was recorded"
                ),
            ));
        }
    }
    Ok(())
}

/// A decision as stored (canonical JSON), read back.
fn stored_decision(text: &str) -> Result<Decision, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::internal(format!("a stored decision does not read back: {e}")))
}

/// A decision's JSON with its `ledger` object.
fn with_ledger(decision: Decision, ledger: LedgerRef) -> Value {
    serde_json::to_value(RecordedDecision { decision, ledger }).expect("decisions serialize")
}

/// Whether `caller` is counsel assigned to the subject of the request `body`.
pub(crate) async fn assigned(
    state: &AppState,
    caller: &Caller,
    body: Option<&str>,
) -> Result<bool, ApiError> {
    if caller.role != Role::Counsel {
        return Ok(false);
    }
    let subject = body
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| {
            v.pointer("/subject/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    // Asked even for an unknown request (of no subject), so that an unknown id and another
    // person's cost the same work and are refused alike.
    let assigned = state
        .inner
        .store
        .is_assigned(&caller.name, subject.as_deref().unwrap_or_default())
        .await?;
    Ok(assigned && subject.is_some())
}

/// The request recorded under `id`, exactly as received, when `caller` may read it at `route`
/// (counsel: only about a subject an authority assigned to it, refused alike whether the id
/// is unknown or about another subject); else 403, or 404 for an unknown id.
pub(crate) async fn readable_request(
    state: &AppState,
    caller: &Caller,
    id: &str,
    route: &str,
) -> Result<String, ApiError> {
    let body = state.inner.store.request(id).await?;
    let assigned = assigned(state, caller, body.as_deref()).await?;
    state.authorize(caller, ApiAction::ReadRequest, route, assigned)?;
    body.ok_or_else(|| ApiError::not_found("id", format!("no request `{id}`")))
}

/// The request recorded under an id, exactly as received.
#[utoipa::path(
    get,
    path = "/v1/requests/{id}",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request as received (docs/formats.md, \"Request\")", body = Object),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read it (counsel: not assigned to its subject); names the access rule", body = super::ErrorBody),
        (status = 404, description = "No request has that id", body = super::ErrorBody),
    )
)]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = readable_request(&state, &caller, &id, "/v1/requests/{id}").await?;
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The decision recorded for a request, with its `ledger` object.
#[utoipa::path(
    get,
    path = "/v1/decisions/{id}",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The decision (docs/formats.md, \"Decision\") with `ledger`", body = RecordedDecision),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read it (counsel: not assigned to its subject); names the access rule", body = super::ErrorBody),
        (status = 404, description = "No decision for that id", body = super::ErrorBody),
    )
)]
pub async fn decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = if caller.role == Role::Counsel {
        state.inner.store.request(&id).await?
    } else {
        None
    };
    let assigned = assigned(&state, &caller, body.as_deref()).await?;
    state.authorize(
        &caller,
        ApiAction::ReadDecision,
        "/v1/decisions/{id}",
        assigned,
    )?;
    let stored = state
        .inner
        .store
        .decision(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("id", format!("no decision for request `{id}`")))?;
    let decision = stored_decision(stored.decision())?;
    let size = state.inner.store.size().await?;
    let refs = state.ledger_refs(&[stored.index], size).await?;
    let ledger = refs.into_iter().next().expect("one index, one reference");
    Ok(json_response(
        StatusCode::OK,
        &with_ledger(decision, ledger),
    ))
}
