//! `POST /{api_key}/access_token`: OAuth2 client-credentials grant for the
//! management API.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{SCOPES, has_content_type};
use crate::region::Region;
use crate::state::{AccessToken, AppState};
use crate::syntax::{is_valid_grant_type, is_valid_scope, new_access_token};

/// `POST /{api_key}/access_token`.
///
/// Check order: API key and region, content type,
/// Basic credentials (`invalid_client`), `grant_type` (missing ->
/// `invalid_request`, malformed -> `invalid_grant`, other ->
/// `unsupported_grant_type`), scopes (`invalid_scope`).
///
/// A key this region does not know, whether unknown everywhere or an SP
/// of another platform, is `invalid_key` with status 500: the OpenAPI
/// 2.13.0 documents only 400, 404 and 500 here, and lists `invalid_key`
/// only in the 500 `OAuthServerErrorResponse` (example "Invalid API Key").
/// A platform does not know another platform's SPs, so a region mismatch
/// is the same unknown key. Mode `access_token_invalid_key_status: "401"`
/// gives the general 401 of the docs' "prepare environment" page instead.
pub async fn access_token(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    Path(api_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let mut world = state.world();
    let modes = world.modes;
    let sp = world
        .sp_in_region(&api_key, region)
        .map(|sp| sp.config.clone())
        .ok_or_else(|| modes.access_token_key_error())?;
    if !has_content_type(&headers, "application/x-www-form-urlencoded") {
        return Err(ApiError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    match basic_credentials(&headers) {
        Some((user, pass)) if user == sp.oauth_username && pass == sp.oauth_password => {}
        _ => return Err(ApiError::invalid_client()),
    }

    let mut grant_type = None;
    let mut scopes: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "grant_type" => grant_type = Some(value.into_owned()),
            // One value, space- or comma-separated values, or repeated keys.
            "scope" => scopes.extend(
                value
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    let grant_type = grant_type.ok_or_else(|| ApiError::invalid_request("Missing grant_type"))?;
    if !is_valid_grant_type(&grant_type) {
        return Err(ApiError::invalid_grant());
    }
    if grant_type != "client_credentials" {
        return Err(ApiError::unsupported_grant_type());
    }
    if let Some(bad) = scopes.iter().find(|s| !is_valid_scope(s)) {
        return Err(ApiError::invalid_scope(format!("Malformed scope {bad:?}")));
    }
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::invalid_scope(format!(
            "Unknown scope {unknown:?}"
        )));
    }
    // No scope asked for means every scope the SP may have.
    if scopes.is_empty() {
        scopes = SCOPES.iter().map(|s| (*s).to_owned()).collect();
    }
    let mut unique: Vec<String> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    let scopes = unique;

    let token = new_access_token();
    let lifetime = state.config.access_token_lifetime_secs;
    world.access_tokens.insert(
        token.clone(),
        AccessToken {
            api_key: sp.api_key.clone(),
            scopes: scopes.clone(),
            expires_at: now.saturating_add(lifetime.saturating_mul(1000)),
            uses: 0,
        },
    );
    Ok(Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes,
    })))
}

/// Decodes `Authorization: Basic base64(user:pass)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}
