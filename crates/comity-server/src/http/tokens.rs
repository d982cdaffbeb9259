//! `POST /v1/tokens`: an administrator creates a token bound to a role. The token is in the
//! answer once; the store keeps only its SHA-256.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::{AppState, json_body};
use crate::auth::{ApiAction, Caller, Role, TokenError, create_token};

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The role it is bound to.
    #[schema(example = "clerk")]
    pub role: String,
    /// Who holds it; for counsel, the name its subscriptions and notices go by.
    #[schema(example = "intake-desk-3")]
    pub name: String,
}

/// A token created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The bearer token: shown this once, never stored.
    pub token: String,
    /// Its role.
    pub role: Role,
    /// Its holder.
    pub name: String,
}

/// Create a token bound to a role.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewToken,
    responses(
        (status = 201, description = "Created; the token is shown this once", body = CreatedToken),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only an administrator creates tokens; names the access rule", body = super::ErrorBody),
        (status = 422, description = "Bad body, naming the field and value", body = super::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    state.authorize(&caller, ApiAction::ManageTokens, "/v1/tokens", false)?;
    let new: NewToken = json_body(&body?)?;
    let role: Role = new
        .role
        .parse()
        .map_err(|e: crate::auth::UnknownRole| ApiError::input("role", e.to_string()))?;
    let token = create_token(&state.inner.store, role, &new.name)
        .await
        .map_err(|e| match e {
            TokenError::BadName(_) => ApiError::input("name", e.to_string()),
            TokenError::Store(e) => e.into(),
            TokenError::Randomness(_) => ApiError::internal(e.to_string()),
        })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token,
            role,
            name: new.name.trim().to_owned(),
        }),
    ))
}
