//! The API's error body `{"error", "error_description"}` and one constructor
//! per documented code, so every handler picks status and code from one
//! place and the README table can be checked against this file.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API error as the real service reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine code (`error`).
    pub code: &'static str,
    /// Human text (`error_description`).
    pub description: String,
    /// Seconds for a `Retry-After` header (only on 429).
    pub retry_after: Option<u64>,
}

/// Result type of every API handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Any status/code pair.
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    /// 401 `invalid_key`: wrong/missing key or secret, or the key's SP lives
    /// in another region. The text is the one the real service uses for a
    /// region mismatch.
    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_key",
            "Invalid Public and/or Private Key",
        )
    }

    /// 401 `invalid_oauth`: missing, unknown or expired access token.
    pub fn invalid_oauth(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_oauth", description)
    }

    /// 403 `invalid_oauth`: the token is valid but lacks the scope. The spec
    /// only says 403 is an `InvalidCredentialErrorResponse`; of its three
    /// codes, `invalid_oauth` is the one about the access token.
    pub fn missing_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_oauth",
            format!("Access token does not grant the scope {scope}"),
        )
    }

    /// 401 `token_quota_exceeded`: the access token's 50 uses are spent.
    pub fn token_quota_exceeded() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "token_quota_exceeded",
            "50/50 OAuth user requests used; request a new access token",
        )
    }

    /// 403 `invalid_assurance_type`.
    pub fn invalid_assurance_type() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_assurance_type",
            "This assurance_type is not enabled for your service provider",
        )
    }

    /// 429 `too_many_requests` with a `Retry-After` header.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Rate limit exceeded for this service provider",
        );
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 500 `server_error`.
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            description,
        )
    }

    /// 400 `missing_data` (resource, reason or token missing).
    pub fn missing_data(field: &str) -> Self {
        Self::bad_request("missing_data", format!("Missing required field: {field}"))
    }

    /// 400 `invalid_request` (bad content type, unparsable body, bad `ip`,
    /// missing `grant_type`, ...).
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_request", description)
    }

    /// 400 `invalid_user_id`.
    pub fn invalid_user_id(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_user_id", description)
    }

    /// 400 `invalid_risk_appetite`.
    pub fn invalid_risk_appetite(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_risk_appetite", description)
    }

    /// 400 `invalid_token`.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_token", description)
    }

    /// 400 `invalid_validation` (user_id or risk_profile differ from the claim).
    pub fn invalid_validation(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_validation", description)
    }

    /// 400 `already_enrolled`.
    pub fn already_enrolled() -> Self {
        Self::bad_request("already_enrolled", "User is already enrolled")
    }

    /// 400 `no_user`: unknown or deleted user.
    pub fn no_user() -> Self {
        Self::bad_request("no_user", "User does not exist")
    }

    /// 400 `inactive_user`: the user exists but is not Active.
    pub fn inactive_user() -> Self {
        Self::bad_request("inactive_user", "User is not active")
    }

    /// 400 `invalid_enrol_image`.
    pub fn invalid_enrol_image(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_enrol_image", description)
    }

    /// 400 `invalid_source`.
    pub fn invalid_source() -> Self {
        Self::bad_request("invalid_source", "source must be one of eid, oid or selfie")
    }

    /// 400 `invalid_reason`.
    pub fn invalid_reason() -> Self {
        Self::bad_request(
            "invalid_reason",
            "Malformed or illegal characters in reason",
        )
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant() -> Self {
        Self::bad_request("invalid_grant", "Malformed grant_type")
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type() -> Self {
        Self::bad_request(
            "unsupported_grant_type",
            "Only client_credentials is supported",
        )
    }

    /// 400 `invalid_client`: bad Basic credentials for the API key.
    pub fn invalid_client() -> Self {
        Self::bad_request(
            "invalid_client",
            "Invalid or missing basic auth credentials for this API key",
        )
    }

    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::bad_request("invalid_scope", description)
    }

    /// 405 for a method a path does not have.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed on this endpoint",
        )
    }

    /// 404 for paths the API does not have.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "error_description": self.description});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
