//! Safety net: every error the emulator produces is the API's JSON error
//! body. axum's own extractor rejections (a path segment that is not valid
//! UTF-8 or not a number, a body over the size limit) answer `text/plain`;
//! this layer turns them into 400 `invalid_request` (the status and code
//! the OpenAPI's `ClientErrorResponse` gives a malformed request) or 500
//! `server_error`. It sits inside the fault layer, so deliberately
//! non-JSON injected responses (`"html"` faults) pass untouched.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest rejection text kept in `error_description`.
const MAX_TEXT: usize = 500;

/// Rewrites non-JSON error responses as API errors.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), MAX_TEXT * 4)
        .await
        .map(|b| String::from_utf8_lossy(&b).chars().take(MAX_TEXT).collect())
        .unwrap_or_default();
    let text: String = text;
    let description = if text.is_empty() {
        status.to_string()
    } else {
        text
    };
    if status.is_server_error() {
        ApiError::server_error(description).into_response()
    } else {
        ApiError::invalid_request(description).into_response()
    }
}
