//! API tokens: an administrator creates a token bound to a role (`POST /v1/tokens`; the token
//! is in the answer once, the store keeps only its SHA-256), lists them (`GET /v1/tokens`)
//! and revokes one (`DELETE /v1/tokens/{id}`). A token works until it expires or is revoked;
//! a revocation holds at once on the server that made it and within
//! [`crate::auth::TOKEN_TTL`] on every other.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use comity_store::StoredToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::{AppState, json_body};
use crate::auth::{ApiAction, Caller, DEFAULT_TOKEN_DAYS, Role, TokenError, create_token};

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The role it is bound to.
    pub role: Role,
    /// Who holds it; for counsel, the name its assignments and notices go by.
    #[schema(example = "intake-desk-3")]
    pub name: String,
    /// How many days it works, 1 to 366 (default 90).
    #[serde(default)]
    #[schema(example = 90)]
    pub expires_in_days: Option<u32>,
}

/// A token created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The bearer token: shown this once, never stored.
    pub token: String,
    /// Its public id, to list and revoke it by.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Its holder.
    pub name: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
}

/// A token as listed: never the token itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenItem {
    /// Its public id.
    pub id: String,
    /// Its role.
    pub role: String,
    /// Its holder.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it stops working; absent only for a token made before tokens expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Who revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
}

impl From<StoredToken> for TokenItem {
    fn from(t: StoredToken) -> Self {
        let (revoked_at, revoked_by) = t.revoked.unzip();
        TokenItem {
            id: t.id,
            role: t.role,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at.map(|e| e.to_string()),
            revoked_at,
            revoked_by,
        }
    }
}

/// Every token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tokens {
    /// The tokens, newest first.
    pub tokens: Vec<TokenItem>,
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
    let days = new.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS);
    let issued = create_token(&state.inner.store, new.role, &new.name, days)
        .await
        .map_err(|e| match e {
            TokenError::BadName(_) => ApiError::input("name", e.to_string()),
            TokenError::BadLifetime(_) => ApiError::input("expires_in_days", e.to_string()),
            TokenError::Store(e) => e.into(),
            TokenError::Randomness(_) => ApiError::internal(e.to_string()),
        })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token: issued.token,
            id: issued.id,
            role: new.role,
            name: new.name.trim().to_owned(),
            expires_at: issued.expires_at.to_string(),
        }),
    ))
}

/// List every token (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/v1/tokens",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tokens", body = Tokens),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only an administrator lists tokens; names the access rule", body = super::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Tokens>, ApiError> {
    state.authorize(&caller, ApiAction::ManageTokens, "/v1/tokens", false)?;
    let tokens = state.inner.store.tokens().await?;
    Ok(axum::Json(Tokens {
        tokens: tokens.into_iter().map(TokenItem::from).collect(),
    }))
}

/// Revoke a token: it stops working at once here, and within the token cache's bound (2 s)
/// on every other server.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The token's public id")),
    responses(
        (status = 200, description = "Revoked (or already revoked): the token as it stands", body = TokenItem),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "Only an administrator revokes tokens; names the access rule", body = super::ErrorBody),
        (status = 404, description = "No token has that id", body = super::ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<TokenItem>, ApiError> {
    state.authorize(&caller, ApiAction::ManageTokens, "/v1/tokens/{id}", false)?;
    let by = format!("{} ({})", caller.name, caller.role);
    let revoked = state
        .inner
        .store
        .revoke_token(&id, &by)
        .await?
        .ok_or_else(|| ApiError::not_found("id", format!("no token `{id}`")))?;
    state.inner.tokens.forget(&id);
    Ok(axum::Json(revoked.into()))
}
