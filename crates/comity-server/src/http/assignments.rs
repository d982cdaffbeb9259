//! Counsel's assignments, made by an authority, never by counsel's own word:
//! `POST /v1/assignments` assigns a counsel to a person and `POST /v1/assignments/end` ends
//! it (administrators); `GET /v1/assignments` lists them (counsel: its own; administrators:
//! all). Counsel reads requests and decisions only about the people assigned to it now, and
//! the dispatcher sends it a notice of each disclosure about them.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::{AppState, json_body};
use crate::auth::{ApiAction, Caller, Role};

/// An assignment to make or end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    /// The counsel, by the name its token is issued to.
    #[schema(example = "legal-aid-1")]
    pub counsel: String,
    /// The person, by the id requests give (`subject.id`).
    #[schema(example = "local-person-881")]
    pub subject_id: String,
}

/// An assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentItem {
    /// The counsel.
    pub counsel: String,
    /// The person.
    pub subject_id: String,
    /// Who assigned it.
    pub assigned_by: String,
    /// When (RFC 3339).
    pub assigned_at: String,
    /// When it ended, if it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Who ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

/// Assignments, standing and ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignments {
    /// By counsel, person and time.
    pub assignments: Vec<AssignmentItem>,
}

/// The longest counsel name or subject id accepted.
const MAX_NAME: usize = 200;

fn checked(body: &AssignmentBody) -> Result<(&str, &str), ApiError> {
    let one = |field: &str, value: &str| {
        let v = value.trim();
        if v.is_empty() || v.chars().count() > MAX_NAME || v.chars().any(char::is_control) {
            return Err(ApiError::input(
                field,
                format!("`{value}` is not one line of 1 to {MAX_NAME} characters"),
            ));
        }
        Ok(())
    };
    one("counsel", &body.counsel)?;
    one("subject_id", &body.subject_id)?;
    Ok((body.counsel.trim(), body.subject_id.trim()))
}

/// Assign a counsel to a person.
#[utoipa::path(
    post,
    path = "/v1/assignments",
    tag = "counsel",
    security(("bearer" = [])),
    request_body = AssignmentBody,
    responses(
        (status = 201, description = "Assigned", body = Assignments),
        (status = 200, description = "The assignment stands already", body = Assignments),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only an administrator assigns counsel; names the access rule", body = super::ErrorBody),
        (status = 422, description = "Bad body, naming the field", body = super::ErrorBody),
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<Assignments>), ApiError> {
    state.authorize(&caller, ApiAction::AssignCounsel, "/v1/assignments", false)?;
    let body: AssignmentBody = json_body(&body?)?;
    let (counsel, subject) = checked(&body)?;
    let by = format!("{} ({})", caller.name, caller.role);
    let created = state.inner.store.assign(counsel, subject, &by).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(listing(&state, Some(counsel)).await?)))
}

/// End a counsel's assignment to a person: from then on counsel reads nothing more about them
/// and is sent no more notices.
#[utoipa::path(
    post,
    path = "/v1/assignments/end",
    tag = "counsel",
    security(("bearer" = [])),
    request_body = AssignmentBody,
    responses(
        (status = 200, description = "Ended", body = Assignments),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only an administrator ends assignments; names the access rule", body = super::ErrorBody),
        (status = 404, description = "No such assignment stands", body = super::ErrorBody),
        (status = 422, description = "Bad body, naming the field", body = super::ErrorBody),
    )
)]
pub async fn end(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Assignments>, ApiError> {
    state.authorize(
        &caller,
        ApiAction::AssignCounsel,
        "/v1/assignments/end",
        false,
    )?;
    let body: AssignmentBody = json_body(&body?)?;
    let (counsel, subject) = checked(&body)?;
    let by = format!("{} ({})", caller.name, caller.role);
    if !state
        .inner
        .store
        .end_assignment(counsel, subject, &by)
        .await?
    {
        return Err(ApiError::not_found(
            "counsel",
            format!("`{counsel}` is not assigned to `{subject}`"),
        ));
    }
    Ok(axum::Json(listing(&state, Some(counsel)).await?))
}

/// The assignments: counsel's own, or every one for an administrator.
#[utoipa::path(
    get,
    path = "/v1/assignments",
    tag = "counsel",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assignments", body = Assignments),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only counsel and administrators read assignments; names the access rule", body = super::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Assignments>, ApiError> {
    state.authorize(
        &caller,
        ApiAction::ReadAssignments,
        "/v1/assignments",
        false,
    )?;
    let whose = (caller.role == Role::Counsel).then_some(caller.name.as_str());
    Ok(axum::Json(listing(&state, whose).await?))
}

async fn listing(state: &AppState, counsel: Option<&str>) -> Result<Assignments, ApiError> {
    let assignments = state
        .inner
        .store
        .assignments(counsel)
        .await?
        .into_iter()
        .map(|a| {
            let (ended_at, ended_by) = a.ended.unzip();
            AssignmentItem {
                counsel: a.counsel,
                subject_id: a.subject_id,
                assigned_by: a.assigned_by,
                assigned_at: a.assigned_at,
                ended_at,
                ended_by,
            }
        })
        .collect();
    Ok(Assignments { assignments })
}
