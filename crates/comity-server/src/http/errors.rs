//! Every error the API answers, as JSON:
//! `{"error": {"status": 422, "field": "subject.convictions[0].offense", "message": "…"}}`,
//! and a refusal by the access pack also names the rule (`rule`, `citation`).

use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use comity_model::InputError;
use comity_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{AccessRule, Refusal};

/// An error answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The field at fault (a path such as `subject.convictions[0].offense`, a header, a
    /// query parameter), or empty.
    pub field: String,
    /// What is wrong, naming the value.
    pub message: String,
    /// For a refusal by the access pack: the rule that refused.
    pub rule: Option<Box<AccessRule>>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, again.
    #[schema(example = 422)]
    pub status: u16,
    /// The field at fault, or empty.
    #[schema(example = "subject.convictions[0].offense")]
    pub field: String,
    /// What is wrong, naming the value.
    #[schema(example = "`NY PL 999.99` is in no offense catalog")]
    pub message: String,
    /// For a 403: the `@id` of the access rule that refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "counsel-reads-only-assigned-subjects")]
    pub rule: Option<String>,
    /// For a 403: the rule's citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

impl ApiError {
    /// An error of `status` in `field`.
    pub fn new(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            field: field.into(),
            message: message.into(),
            rule: None,
        }
    }

    /// 422: bad input in `field`.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, message)
    }

    /// 404: nothing of that name.
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, field, message)
    }

    /// 409: the request conflicts with what is recorded.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, field, message)
    }

    /// 401: no valid bearer token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "authorization", message)
    }

    /// 500: the service failed; the message says how.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "", message)
    }

    /// The body's JSON.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                field: self.field.clone(),
                message: self.message.clone(),
                rule: self.rule.as_ref().map(|r| r.id.clone()),
                citation: self.rule.as_ref().map(|r| r.citation.clone()),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"comity\""),
            );
        }
        response
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::input(e.field, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ApiError::not_found("", m),
            e @ StoreError::EntryTooLong { .. } => ApiError::input("", e.to_string()),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Denied { role, action, rule } => {
                let message = match &rule {
                    Some(rule) => format!(
                        "{role} may not {action}: refused by rule `{}` ({}): {}",
                        rule.id, rule.citation, rule.summary
                    ),
                    None => format!("{role} may not {action}: no access rule permits it"),
                };
                ApiError {
                    rule: rule.map(Box::new),
                    ..ApiError::new(StatusCode::FORBIDDEN, "", message)
                }
            }
            e @ Refusal::Evaluation { .. } => ApiError::internal(e.to_string()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the body is larger than the server accepts (see --max-body)".to_owned()
        } else {
            r.body_text()
        };
        ApiError::new(status, "", message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::input("", r.body_text())
    }
}

/// 404 for a route the API does not have.
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found("", format!("no route {method} {}", uri.path()))
}

/// 405 for a route the API has, asked with another method.
pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "",
        format!("{} does not accept {method}", uri.path()),
    )
}

/// Largest error body rewritten; a longer one is summarized.
const MAX_ERROR_TEXT: usize = 4096;

/// Makes every error answer JSON, including those written by layers rather than handlers
/// (the body limit's 413): an error response that is not JSON is rewritten as one, its
/// text as the message.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = match (text.is_empty(), status) {
        (_, StatusCode::PAYLOAD_TOO_LARGE) => {
            "the body is larger than the server accepts (see --max-body)".to_owned()
        }
        (true, _) => status.canonical_reason().unwrap_or("error").to_lowercase(),
        (false, _) => text,
    };
    let mut rewritten = ApiError::new(status, "", message).into_response();
    // Keep headers the error carries (e.g. `Allow` on a 405), but not its old length or type.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    rewritten
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
