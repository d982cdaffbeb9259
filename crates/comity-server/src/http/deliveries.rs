//! Where a request's deliveries stand, and approvals: `GET /v1/requests/{id}/deliveries`
//! lists every disclosure and notice a decision planned, with its status;
//! `POST /v1/deliveries/{id}/approval` records the approval (or refusal) a permit names
//! before its act may be carried out (NYC Admin. Code § 23-1202(c), the privacy officer).
//! A delivery's id holds `/`: in a path it is percent-encoded (`%2F`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::{AppState, json_body};
use crate::auth::{ApiAction, Caller};
use comity_store::{ApprovalError, NewApproval, Verdict};

/// A delivery and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryItem {
    /// Its id: `<request>/<act>/<recipient>`, also the receiver's idempotency key.
    pub id: String,
    /// The act it carries out.
    pub act: String,
    /// `disclosure` or `notice`.
    pub kind: String,
    /// Who receives it.
    pub recipient: String,
    /// `awaiting-approval`, `pending`, `delivered`, `dead` or `refused`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: u64,
    /// The last error, or why it was refused; empty if none.
    pub last_error: String,
}

/// A request's deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deliveries {
    /// The request.
    pub request: String,
    /// Every delivery its decision planned, in id order.
    pub deliveries: Vec<DeliveryItem>,
}

/// What an approver decides.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalDecision {
    /// The act may be carried out.
    Approved,
    /// It may not: its deliveries are refused.
    Refused,
}

/// An approval to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApprovalBody {
    /// Approved or refused.
    pub decision: ApprovalDecision,
    /// Whose approval this is, as the permit names it (e.g. `privacy-officer`); may be left
    /// out when the act needs exactly one.
    #[serde(default)]
    #[schema(example = "privacy-officer")]
    pub approval: Option<String>,
}

/// An approval as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedApproval {
    /// The request.
    pub request: String,
    /// The act approved or refused.
    pub act: String,
    /// Whose approval.
    pub approval: String,
    /// `approved` or `refused`.
    pub decision: String,
    /// Who recorded it: the token's holder and role.
    pub by: String,
    /// When (RFC 3339).
    pub recorded_at: String,
    /// The approval's ledger entry.
    pub ledger_index: u64,
    /// The act's deliveries released to the dispatcher (or refused) by it.
    pub deliveries: u64,
}

/// Every delivery planned for a request, with its status.
#[utoipa::path(
    get,
    path = "/v1/requests/{id}/deliveries",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request's deliveries", body = Deliveries),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the request (counsel: not assigned to its subject); names the access rule", body = super::ErrorBody),
        (status = 404, description = "No request has that id", body = super::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Deliveries>, ApiError> {
    super::requests::readable_request(&state, &caller, &id, "/v1/requests/{id}/deliveries").await?;
    let deliveries = state
        .inner
        .store
        .deliveries_of(&id)
        .await?
        .into_iter()
        .map(|d| DeliveryItem {
            id: d.id,
            act: d.act,
            kind: d.kind,
            recipient: d.recipient,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
        })
        .collect();
    Ok(axum::Json(Deliveries {
        request: id,
        deliveries,
    }))
}

/// Approve or refuse the act a delivery carries out, as the approval its permit names.
/// Approved (and every approval the act needs given), the act's waiting deliveries go to the
/// dispatcher; refused, they are refused and never sent. Each approval is decided once, and
/// is a ledger entry the dispatcher checks before sending.
#[utoipa::path(
    post,
    path = "/v1/deliveries/{id}/approval",
    tag = "requests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The delivery's id, percent-encoded (`/` as `%2F`)")),
    request_body = NewApprovalBody,
    responses(
        (status = 200, description = "Recorded", body = RecordedApproval),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not approve; names the access rule", body = super::ErrorBody),
        (status = 404, description = "No delivery has that id", body = super::ErrorBody),
        (status = 409, description = "The act needs no approval, is not permitted, or the approval was already decided", body = super::ErrorBody),
        (status = 422, description = "Bad body, naming the field", body = super::ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<RecordedApproval>, ApiError> {
    state.authorize(
        &caller,
        ApiAction::Approve,
        "/v1/deliveries/{id}/approval",
        false,
    )?;
    let new: NewApprovalBody = json_body(&body?)?;
    let by = format!("{} ({})", caller.name, caller.role);
    let record = state
        .inner
        .store
        .decide_approval(NewApproval {
            delivery: &id,
            approval: new.approval.as_deref(),
            verdict: match new.decision {
                ApprovalDecision::Approved => Verdict::Approved,
                ApprovalDecision::Refused => Verdict::Refused,
            },
            by: &by,
        })
        .await
        .map_err(|e| match e {
            ApprovalError::UnknownDelivery(_) => ApiError::not_found("id", e.to_string()),
            ApprovalError::NotAsked { .. } => ApiError::input("approval", e.to_string()),
            ApprovalError::NotPermitted(_)
            | ApprovalError::NotNeeded { .. }
            | ApprovalError::AlreadyDecided { .. } => ApiError::conflict("id", e.to_string()),
            ApprovalError::Store(e) => e.into(),
        })?;
    Ok(axum::Json(RecordedApproval {
        request: record.request_id,
        act: record.act,
        approval: record.approval,
        decision: record.verdict.as_str().to_owned(),
        by: record.by,
        recorded_at: record.recorded_at,
        ledger_index: record.ledger_index,
        deliveries: record.deliveries,
    }))
}
