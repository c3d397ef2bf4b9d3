//! `POST /{api_key}/access_token`: an OAuth access token for the management (users) API.
//!
//! Prefer the token manager (`flows::token_manager`), which calls these and reuses the token
//! within iProov's limits (1 hour or 50 requests). Call them directly only to manage tokens
//! yourself.

use crate::config::{Config, check_bearer_token};
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::{bare_request, path_segment};
use crate::secret::Secret;
use crate::tolerant::{scopes, u64_or_string};
use base64::Engine;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The management API's OAuth scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read users (`GET /users/{id}`).
    #[serde(rename = "user-read")]
    UserRead,
    /// Update or delete users.
    #[serde(rename = "user-write")]
    UserWrite,
    /// Activate or suspend users.
    #[serde(rename = "user-write-status")]
    UserWriteStatus,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Self::UserRead, Self::UserWrite, Self::UserWriteStatus];

    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRead => "user-read",
            Self::UserWrite => "user-write",
            Self::UserWriteStatus => "user-write-status",
        }
    }
}

/// What an access-token request may ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessTokenInput {
    /// The scopes to ask for; `None` asks for every scope the credentials allow.
    pub scope: Option<Vec<Scope>>,
}
json_object! {
    AccessTokenInput, deny_unknown_fields;
    opt scope,
}

/// Describes the token request: `Authorization: Basic` with the OAuth username and password,
/// a form body `grant_type=client_credentials` and, when asked, `scope`. Several scopes go in
/// one comma-separated `scope` field (Swagger 2.0's default `csv` format for the spec's
/// array). Fails with `invalid_input` when the api_key or OAuth credentials are missing.
pub fn build_access_token(config: &Config, input: &AccessTokenInput) -> Result<Request, Error> {
    let api_key = config.require_api_key()?;
    let oauth = config.require_oauth()?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(requested) = &input.scope {
        let mut unique: Vec<&str> = Vec::new();
        for scope in requested {
            if !unique.contains(&scope.as_str()) {
                unique.push(scope.as_str());
            }
        }
        if !unique.is_empty() {
            form.append_pair("scope", &unique.join(","));
        }
    }
    let path = path_segment("api_key", api_key)?;
    let credentials = Secret::new(format!("{}:{}", oauth.username, oauth.password.expose()));
    let encoded =
        Secret::new(base64::engine::general_purpose::STANDARD.encode(credentials.expose()));
    let mut request = bare_request(config, Method::Post, &["/", &path, "/access_token"])
        .with_body(
            "application/x-www-form-urlencoded",
            form.finish().into_bytes(),
        )
        .holding_secret(&oauth.password);
    request.set_authorization(format!("Basic {}", encoded.expose()), &encoded);
    Ok(request)
}

/// An OAuth access token (`AuthTokenResponse`). The token is a [`Secret`]: `Debug` redacts it;
/// canonical JSON shows it, because it is this operation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub access_token: Secret,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Seconds the token lives (iProov: 3600), sent as a number or numeric string.
    pub expires_in: Option<u64>,
    /// The granted scopes (sent as an array or a space-separated string).
    pub scope: Option<Vec<String>>,
}
json_object! {
    AccessToken, allow_unknown_fields;
    req access_token, opt token_type, opt expires_in with u64_or_string: Option<u64>,
    opt scope with scopes: Option<Vec<String>>,
}

impl Serialize for AccessToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("access_token", self.access_token.expose())?;
        if let Some(kind) = &self.token_type {
            map.serialize_entry("token_type", kind)?;
        }
        if let Some(seconds) = self.expires_in {
            map.serialize_entry("expires_in", &seconds)?;
        }
        if let Some(scope) = &self.scope {
            map.serialize_entry("scope", scope)?;
        }
        map.end()
    }
}

/// Reads the token answer. 400 `invalid_client`, `invalid_grant`, `invalid_scope`,
/// `unsupported_grant_type`, `invalid_request` and 500 `invalid_key` are errors; a 200 without
/// a non-empty `access_token` is a `decode_error`.
pub fn parse_access_token(config: &Config, response: &Response<'_>) -> Result<AccessToken, Error> {
    let token: AccessToken = parse_json(config, response)?;
    if token.access_token.is_empty() {
        return Err(Error::decode(
            response.status,
            "the access token is empty",
            Some("access_token".to_owned()),
        ));
    }
    // It goes in `Authorization: Bearer` next: a CR or LF in it would add a header.
    if check_bearer_token("access_token", &token.access_token).is_err() {
        return Err(Error::decode(
            response.status,
            "the access token holds a character that cannot go in an HTTP header \
             (only visible ASCII can)",
            Some("access_token".to_owned()),
        ));
    }
    Ok(token)
}
