//! What was done on a request: `POST /v1/requests/{id}/events` records an action the agency
//! took after the decision (held the person, released or transferred them, answered the
//! request itself), as a ledger entry; an action the decision did not allow is recorded and
//! flagged as a violation. `GET /v1/requests/{id}/events` lists them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::errors::ApiError;
use crate::auth::{ApiAction, Caller};
use comity_model::{Event, InputError};
use comity_store::{EventError, EventRecord, NewEvent};

/// An event as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedEvent {
    /// The request.
    pub request: String,
    /// Its place among the request's events: 1, 2, …
    pub seq: u64,
    /// What was done: `held`, `released`, `transferred`, `hold-expired`,
    /// `custody-disavowed` or `response-sent`.
    pub event: String,
    /// When it was done (RFC 3339), as reported.
    pub at: String,
    /// For `response-sent`, the act carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    /// Who recorded it: the token's holder and role.
    pub by: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// What the decision did not allow (each with the rule that says so); empty when the
    /// action was within the decision.
    pub violations: Vec<String>,
    /// The event's ledger entry.
    pub ledger_index: u64,
}

impl From<EventRecord> for RecordedEvent {
    fn from(r: EventRecord) -> Self {
        RecordedEvent {
            request: r.request,
            seq: r.seq,
            event: r.kind.as_str().to_owned(),
            at: r.at,
            act: r.act.map(|a| a.as_str().to_owned()),
            by: r.by,
            recorded_at: r.recorded_at,
            violations: r.violations,
            ledger_index: r.ledger_index,
        }
    }
}

/// A request's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct Events {
    /// The request.
    pub request: String,
    /// Its events, in the order recorded.
    pub events: Vec<RecordedEvent>,
}

/// Record what the agency did on a request after it was decided. Refused when the request
/// is unknown or the event cannot follow the ones recorded (before the request or the last
/// event, in the future, custody after custody ended, a second hold, a hold ended that was
/// never recorded). An action the decision did not allow is recorded, with its violations.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/events",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body = Event,
    responses(
        (status = 201, description = "Recorded, with any violations of the decision", body = RecordedEvent),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not record events; names the access rule", body = super::ErrorBody),
        (status = 404, description = "No request has that id", body = super::ErrorBody),
        (status = 409, description = "The ledger holds no decision on the request that can be trusted", body = super::ErrorBody),
        (status = 422, description = "Bad body, or an event out of order, naming the field", body = super::ErrorBody),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<RecordedEvent>), ApiError> {
    state.authorize(
        &caller,
        ApiAction::RecordEvent,
        "/v1/requests/{id}/events",
        false,
    )?;
    let body = body?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::from(InputError::new("", format!("not UTF-8: {e}"))))?;
    let event = Event::from_json(text)?;
    let record = record_event(&state, &caller, &id, &event).await?;
    Ok((StatusCode::CREATED, axum::Json(record.into())))
}

/// Records `event` on the request `id` by `caller` (whose role was checked), counting it in
/// the metrics; refused naming the field when the request is unknown, has no decision to
/// trust, or the event cannot follow those recorded.
pub(crate) async fn record_event(
    state: &AppState,
    caller: &Caller,
    id: &str,
    event: &Event,
) -> Result<EventRecord, ApiError> {
    let by = format!("{} ({})", caller.name, caller.role);
    let record = state
        .inner
        .store
        .record_event(NewEvent {
            request: id,
            event,
            by: &by,
        })
        .await
        .map_err(|e| match e {
            EventError::UnknownRequest(_) => ApiError::not_found("id", e.to_string()),
            EventError::NoDecision(_) => ApiError::conflict("id", e.to_string()),
            EventError::OutOfOrder { field, message } => ApiError::input(field, message),
            EventError::Store(e) => e.into(),
        })?;
    state.inner.metrics.observe_event(&record);
    Ok(record)
}

/// The events recorded on a request, in order, each with its violations.
#[utoipa::path(
    get,
    path = "/v1/requests/{id}/events",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request's events", body = Events),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the request (counsel: not assigned to its subject); names the access rule", body = super::ErrorBody),
        (status = 404, description = "No request has that id", body = super::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Events>, ApiError> {
    super::requests::readable_request(&state, &caller, &id, "/v1/requests/{id}/events").await?;
    let events = state.inner.store.events(&id).await?;
    Ok(axum::Json(Events {
        request: id,
        events: events.into_iter().map(RecordedEvent::from).collect(),
    }))
}
