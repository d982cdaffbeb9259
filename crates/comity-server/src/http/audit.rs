//! The ledger for those who check it: `GET /v1/audit/checkpoint` (the latest signed tree
//! head, a C2SP checkpoint in a signed note), `GET /v1/audit/proof` (an inclusion proof, as
//! `comity audit prove` prints it), and the log as C2SP tlog-tiles serves it, for clients
//! and witnesses that are not comity's: `GET /checkpoint` and `GET /tile/…`.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use comity_ledger::{TileAddress, TileContent, to_hex};
use serde::{Deserialize, Serialize};
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
    signed_checkpoint(&state, &caller, "/v1/audit/checkpoint").await
}

/// The latest signed checkpoint where C2SP tlog-tiles puts it, beside the tiles.
#[utoipa::path(
    get,
    path = "/checkpoint",
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest signed checkpoint, as `/v1/audit/checkpoint` answers it", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the ledger; names the access rule", body = super::ErrorBody),
    )
)]
pub async fn tlog_checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    signed_checkpoint(&state, &caller, "/checkpoint").await
}

/// Signs a checkpoint of the ledger as it stands (unless the latest covers it) and answers
/// the latest, for a caller that may read the ledger at `route`.
pub(crate) async fn signed_checkpoint(
    state: &AppState,
    caller: &Caller,
    route: &str,
) -> Result<Response, ApiError> {
    state.authorize(caller, ApiAction::ReadLedger, route, false)?;
    let note = state
        .inner
        .store
        .sign_checkpoint(&state.inner.signer)
        .await?
        .note;
    Ok(with_type(
        note.into_response(),
        "text/plain; charset=utf-8",
        false,
    ))
}

/// One tile of the log (C2SP tlog-tiles): `<L>/<N>[.p/<W>]`, `W` node hashes of 32 bytes at
/// tree level `8·L`, or `entries/<N>[.p/<W>]`, an entry bundle (each entry after its length,
/// a big-endian `uint16`). A tile's bytes never change, so it may be cached for good.
#[utoipa::path(
    get,
    path = "/tile/{path}",
    tag = "audit",
    security(("bearer" = [])),
    params(
        ("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in three-digit groups (`x001/234`)"),
    ),
    responses(
        (status = 200, description = "The tile's bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 401, description = "No valid token", body = super::ErrorBody),
        (status = 403, description = "The role may not read the ledger (hash tiles) or its entries (entry bundles); names the access rule", body = super::ErrorBody),
        (status = 404, description = "Not a tile path, or a tile the ledger does not hold yet", body = super::ErrorBody),
    )
)]
pub async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let path = format!("tile/{path}");
    let address = TileAddress::parse(&path);
    let action = match address {
        Ok(TileAddress {
            content: TileContent::Entries,
            ..
        }) => ApiAction::ReadEntries,
        _ => ApiAction::ReadLedger,
    };
    state.authorize(&caller, action, "/tile/{path}", false)?;
    let address = address.map_err(|e| ApiError::not_found("path", e.to_string()))?;
    match state.inner.store.tile(&address).await? {
        Some(bytes) => Ok(with_type(
            bytes.into_response(),
            "application/octet-stream",
            true,
        )),
        None => Err(ApiError::not_found(
            "path",
            format!(
                "the ledger holds {} entries, not all that `{path}` covers",
                state.inner.store.size().await?
            ),
        )),
    }
}

/// `response` with its content type, and for what never changes, a cache lifetime of a year
/// (private: every read needs a token).
fn with_type(mut response: Response, kind: &'static str, immutable: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if immutable {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        );
    }
    response
}

/// An inclusion proof (RFC 9162 §2.1.3), hashes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
pub(crate) fn number(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<u64>, ApiError> {
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
    Ok(axum::Json(inclusion(&state, index, size).await?))
}

/// The inclusion proof of leaf `index` in the tree of `size` entries (the ledger as it
/// stands when `None`): 404 naming `size` or `index` when the ledger has no such tree or leaf.
pub(crate) async fn inclusion(
    state: &AppState,
    index: u64,
    size: Option<u64>,
) -> Result<Proof, ApiError> {
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
    Ok(Proof {
        leaf_index: p.leaf_index,
        tree_size: p.tree_size,
        leaf_hash: to_hex(&p.leaf_hash),
        hashes: p.hashes.iter().map(to_hex).collect(),
        root: to_hex(&p.root),
    })
}
