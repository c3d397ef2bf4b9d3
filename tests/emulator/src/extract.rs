//! Request plumbing shared by the API handlers: strict JSON bodies, the
//! region of the prefix a request came in on, and the two credential checks
//! (api_key/secret in the body, OAuth Bearer in the header).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::clock::Millis;
use crate::config::ServiceProviderConfig;
use crate::error::{ApiError, ApiResult};
use crate::region::Region;
use crate::state::World;

/// A JSON body, accepted only with a JSON content type and as an object.
///
/// axum's own `Json` answers with plain-text 415/422 errors; the API answers
/// with its error body and 400 `invalid_request`, so this replaces it.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid_request(format!("Could not read body: {e}")))?;
        parse_json(&headers, &bytes).map(ApiJson)
    }
}

/// The checks of [`ApiJson`], for handlers that must authenticate before
/// they look at the body.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<T> {
    if !has_content_type(headers, "application/json") {
        return Err(ApiError::invalid_request(
            "Content-Type must be application/json",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid_request(format!("Body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid_request("Body must be a JSON object"));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::invalid_request(format!("Malformed field: {e}")))
}

/// Whether the request's media type (ignoring parameters such as charset)
/// is `expected`.
pub fn has_content_type(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// Treats `""` like an absent field: clients send empty strings for
/// "no risk profile" (see the facts file, §4.5).
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Checks `api_key` + `secret` and that the SP lives in `region`. All
/// failures are 401 `invalid_key` "Invalid Public and/or Private Key": the
/// text docs.iproov.com ("prepare environment") gives for a region
/// mismatch, which the real service reports like a wrong key.
pub fn authenticate_sp(
    world: &World,
    region: Region,
    api_key: Option<&str>,
    secret: Option<&str>,
) -> ApiResult<ServiceProviderConfig> {
    let (Some(api_key), Some(secret)) = (api_key, secret) else {
        return Err(ApiError::invalid_key());
    };
    match world.sp_in_region(api_key, region) {
        Some(sp) if sp.config.secret == secret => Ok(sp.config.clone()),
        _ => Err(ApiError::invalid_key()),
    }
}

/// The OAuth scopes of the management API.
pub const SCOPES: [&str; 3] = ["user-read", "user-write", "user-write-status"];

/// Validates `Authorization: Bearer ...`, counts the use, and checks the
/// scope (if any). Returns the SP's API key.
///
/// Order: unknown/expired token (401 `invalid_oauth`), quota (401
/// `token_quota_exceeded`), scope (403). A request refused for its scope
/// still used the token, so it counts.
pub fn authorize_bearer(
    world: &mut World,
    region: Region,
    headers: &HeaderMap,
    scope: Option<&str>,
    now: Millis,
    max_uses: u32,
) -> ApiResult<String> {
    let token = bearer_token(headers)
        .ok_or_else(|| ApiError::invalid_oauth("Missing or malformed Bearer access token"))?;
    let known = world
        .access_tokens
        .get(token)
        .map(|t| (t.api_key.clone(), t.expires_at));
    let Some((api_key, expires_at)) = known else {
        return Err(ApiError::invalid_oauth("Unknown access token"));
    };
    if world.sp_in_region(&api_key, region).is_none() {
        return Err(ApiError::invalid_oauth("Unknown access token"));
    }
    if now >= expires_at {
        return Err(ApiError::invalid_oauth("Access token expired"));
    }
    let Some(entry) = world.access_tokens.get_mut(token) else {
        return Err(ApiError::invalid_oauth("Unknown access token"));
    };
    if entry.uses >= max_uses {
        return Err(ApiError::token_quota_exceeded());
    }
    entry.uses += 1;
    if let Some(scope) = scope
        && !entry.scopes.iter().any(|s| s == scope)
    {
        return Err(ApiError::missing_scope(scope));
    }
    Ok(api_key)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
