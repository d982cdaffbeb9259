//! Counsel's subscriptions: `POST /v1/subscriptions` subscribes the calling counsel (the
//! token's holder) to a subject; `GET /v1/subscriptions` lists them. Counsel reads requests
//! and decisions only about subjects it subscribed to; the dispatcher adds a notice to it for
//! each disclosure delivered about such a subject.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::{AppState, json_body};
use crate::auth::{ApiAction, Caller};

/// A subscription to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// The subject's id, as requests state it (`subject.id`).
    #[schema(example = "local-person-881")]
    pub subject_id: String,
}

/// A subject subscribed to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionItem {
    /// The subject's id.
    pub subject_id: String,
    /// When counsel subscribed (RFC 3339).
    pub created_at: String,
}

/// Counsel's subscriptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscriptions {
    /// The counsel (the token's holder).
    pub counsel: String,
    /// Its subjects, in id order.
    pub subscriptions: Vec<SubscriptionItem>,
}

/// The longest subject id accepted.
const MAX_SUBJECT_ID: usize = 200;

/// Subscribe the calling counsel to a subject.
#[utoipa::path(
    post,
    path = "/v1/subscriptions",
    tag = "counsel",
    security(("bearer" = [])),
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Subscribed", body = Subscriptions),
        (status = 200, description = "Already subscribed", body = Subscriptions),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only counsel subscribes; names the access rule", body = super::ErrorBody),
        (status = 422, description = "Bad body, naming the field", body = super::ErrorBody),
    )
)]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<Subscriptions>), ApiError> {
    state.authorize(&caller, ApiAction::Subscribe, "/v1/subscriptions", false)?;
    let new: NewSubscription = json_body(&body?)?;
    let subject = new.subject_id.trim();
    if subject.is_empty() || subject.len() > MAX_SUBJECT_ID || subject.chars().any(char::is_control)
    {
        return Err(ApiError::input(
            "subject_id",
            format!(
                "`{}` is not a subject id (one line, 1 to {MAX_SUBJECT_ID} bytes)",
                new.subject_id
            ),
        ));
    }
    let created = state.inner.store.subscribe(&caller.name, subject).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(listing(&state, &caller).await?)))
}

/// The calling counsel's subscriptions.
#[utoipa::path(
    get,
    path = "/v1/subscriptions",
    tag = "counsel",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscriptions", body = Subscriptions),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only counsel has subscriptions; names the access rule", body = super::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Subscriptions>, ApiError> {
    state.authorize(
        &caller,
        ApiAction::ReadSubscriptions,
        "/v1/subscriptions",
        false,
    )?;
    Ok(axum::Json(listing(&state, &caller).await?))
}

async fn listing(state: &AppState, caller: &Caller) -> Result<Subscriptions, ApiError> {
    let subscriptions = state
        .inner
        .store
        .subscriptions(&caller.name)
        .await?
        .into_iter()
        .map(|s| SubscriptionItem {
            subject_id: s.subject_id,
            created_at: s.created_at,
        })
        .collect();
    Ok(Subscriptions {
        counsel: caller.name.clone(),
        subscriptions,
    })
}
