//! What the browser checks the ledger with, for a signed-in role that may read the ledger:
//! `GET /console/checkpoint` (the latest signed checkpoint, as `/v1/audit/checkpoint`) and
//! `GET /console/proof?index=N&size=M` (an inclusion proof, as `/v1/audit/proof`).
//! Errors are JSON, as the API's.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::session::Signed;
use crate::auth::ApiAction;
use crate::http::AppState;
use crate::http::audit::{Proof, inclusion, number, signed_checkpoint};
use crate::http::errors::ApiError;

/// `GET /console/checkpoint`.
pub(crate) async fn checkpoint(State(state): State<AppState>, signed: Signed) -> Response {
    signed_checkpoint(&state, &signed.caller, "/console/checkpoint")
        .await
        .into_response()
}

/// `GET /console/proof?index=N[&size=M]`.
pub(crate) async fn proof(
    State(state): State<AppState>,
    signed: Signed,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<axum::Json<Proof>, ApiError> {
    state.authorize(
        &signed.caller,
        ApiAction::ReadLedger,
        "/console/proof",
        false,
    )?;
    let Query(params) = params?;
    let index = number(&params, "index")?
        .ok_or_else(|| ApiError::input("index", "the leaf index is required (?index=N)"))?;
    let size = number(&params, "size")?;
    Ok(axum::Json(inclusion(&state, index, size).await?))
}
