//! The ledger for those who check it: `GET /v1/audit/checkpoint` (the latest signed tree
//! head, a C2SP checkpoint in a signed note) and `GET /v1/audit/proof` (an inclusion proof,
//! as `comity audit prove` prints it).

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use comity_ledger::to_hex;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::errors::ApiError;
use crate::auth::{ApiAction, Caller};

/// Signs a checkpoint of the ledger as it stands (unless the latest already covers it) and
/// answers the latest signed checkpoint.
#[utoipa::path(
    get,
    path = "/v1/audit/checkpoint",
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A signed note: origin, tree size and base64 root, a blank line, and the signature line", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the ledger; names the access rule", body = super::ErrorBody),
    )
)]
pub async fn checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    state.authorize(
        &caller,
        ApiAction::ReadLedger,
        "/v1/audit/checkpoint",
        false,
    )?;
    let note = state
        .inner
        .store
        .sign_checkpoint(&state.inner.signer)
        .await?;
    let mut response = note.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

/// An inclusion proof (RFC 9162 §2.1.3), hashes in hex.
#[derive(Debug, Serialize, ToSchema)]
pub struct Proof {
    /// The leaf's index.
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The leaf's hash.
    pub leaf_hash: String,
    /// The audit path, from the leaf up.
    pub hashes: Vec<String>,
    /// The root of the tree of that size.
    pub root: String,
}

/// A query parameter as a count.
fn number(params: &BTreeMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::input(name, format!("`{v}` is not a non-negative integer")))
        })
        .transpose()
}

/// The proof that entry `index` is in the tree of `size` entries (default: the whole
/// ledger).
#[utoipa::path(
    get,
    path = "/v1/audit/proof",
    tag = "audit",
    security(("bearer" = [])),
    params(
        ("index" = u64, Query, description = "The leaf index"),
        ("size" = Option<u64>, Query, description = "The tree size the proof is for [default: the whole ledger]"),
    ),
    responses(
        (status = 200, description = "The proof", body = Proof),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the ledger; names the access rule", body = super::ErrorBody),
        (status = 404, description = "No such entry, or the ledger is smaller than `size`", body = super::ErrorBody),
        (status = 422, description = "A parameter missing, unknown or not a number", body = super::ErrorBody),
    )
)]
pub async fn proof(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<axum::Json<Proof>, ApiError> {
    state.authorize(&caller, ApiAction::ReadLedger, "/v1/audit/proof", false)?;
    let Query(params) = params?;
    if let Some(unknown) = params.keys().find(|k| *k != "index" && *k != "size") {
        return Err(ApiError::input(
            unknown.as_str(),
            format!("unknown parameter `{unknown}` (known: index, size)"),
        ));
    }
    let index = number(&params, "index")?
        .ok_or_else(|| ApiError::input("index", "the leaf index is required (?index=N)"))?;
    let size = number(&params, "size")?;
    let current = state.inner.store.size().await?;
    let size = match size {
        Some(size) if size > current => {
            return Err(ApiError::not_found(
                "size",
                format!("the ledger has {current} entries, not {size}"),
            ));
        }
        Some(size) => size,
        None => current,
    };
    if index >= size {
        return Err(ApiError::not_found(
            "index",
            format!("no entry {index} in a tree of {size} entries"),
        ));
    }
    let p = state.inner.store.inclusion_proof(index, Some(size)).await?;
    Ok(axum::Json(Proof {
        leaf_index: p.leaf_index,
        tree_size: p.tree_size,
        leaf_hash: to_hex(&p.leaf_hash),
        hashes: p.hashes.iter().map(to_hex).collect(),
        root: to_hex(&p.root),
    }))
}
