//! Answers on which public sources disagree. The default of each mode is
//! what the live service was observed to do, or, lacking an observation,
//! the reading the README's "Errors" table defends; the other answer stays
//! available so that a client can be tested against both.
//!
//! Modes come from the configuration (`"modes": {...}`), can be switched at
//! runtime (`PUT /__emulator/modes`) and go back to the configuration on
//! `POST /__emulator/reset`.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// The code for a user that does not exist on the management API's user
/// endpoints (`GET/PUT/DELETE /users/{id}`, `/activate`, `/suspend`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnknownUser {
    /// 400 `invalid_user_id`: what the live service answers to
    /// `GET /users/{unknown}`. A production integration (Wultra's
    /// enrollment-server, `IProovRestApiService.doesUserExists`) has relied
    /// on it since 2023; the OpenAPI 2.13.0 text of `invalid_user_id`
    /// includes "non-existent user_id given".
    #[default]
    InvalidUserId,
    /// 400 `no_user`: the OpenAPI 2.13.0 text of `no_user` ("The given
    /// user_id or username doesn't exist"); the emulator's answer before
    /// issue 18.
    NoUser,
}

/// Which status carries `invalid_key` for an API key that
/// `POST /{api_key}/access_token` does not know in its region. Written as
/// a JSON number (`500`); a numeric string is accepted too.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "Value", into = "u16")]
pub enum AccessTokenKeyStatus {
    /// 500 (`OAuthServerErrorResponse`, example "Invalid API Key"): the
    /// only place the OpenAPI 2.13.0 lists `invalid_key` for this endpoint,
    /// which documents 400, 404 and 500 but no 401.
    #[default]
    Status500,
    /// 401 "Invalid Public and/or Private Key": docs.iproov.com's "prepare
    /// environment" page states it for any key used against the wrong
    /// platform; the emulator's answer before issue 18.
    Status401,
}

/// Which status carries `invalid_key` on `POST /claim/verify/validate`
/// (a JSON number, like [`AccessTokenKeyStatus`]).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "Value", into = "u16")]
pub enum VerifyValidateKeyStatus {
    /// 401 "Invalid Public and/or Private Key", as docs.iproov.com's
    /// "prepare environment" page states for a key problem and as the
    /// OpenAPI lists for the sibling `/claim/enrol/validate`.
    #[default]
    Status401,
    /// 400: the OpenAPI 2.13.0 lists no 401 for `/claim/verify/validate`
    /// (only 400, 404, 500), and its 400 `ClientErrorResponse` enum has
    /// `invalid_key`.
    Status400,
}

/// A status given as a JSON number or a numeric string.
fn status_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl TryFrom<Value> for AccessTokenKeyStatus {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, String> {
        match status_of(&value) {
            Some(500) => Ok(Self::Status500),
            Some(401) => Ok(Self::Status401),
            _ => Err(format!("expected 500 or 401, got {value}")),
        }
    }
}

impl From<AccessTokenKeyStatus> for u16 {
    fn from(mode: AccessTokenKeyStatus) -> Self {
        match mode {
            AccessTokenKeyStatus::Status500 => 500,
            AccessTokenKeyStatus::Status401 => 401,
        }
    }
}

impl TryFrom<Value> for VerifyValidateKeyStatus {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, String> {
        match status_of(&value) {
            Some(401) => Ok(Self::Status401),
            Some(400) => Ok(Self::Status400),
            _ => Err(format!("expected 401 or 400, got {value}")),
        }
    }
}

impl From<VerifyValidateKeyStatus> for u16 {
    fn from(mode: VerifyValidateKeyStatus) -> Self {
        match mode {
            VerifyValidateKeyStatus::Status401 => 401,
            VerifyValidateKeyStatus::Status400 => 400,
        }
    }
}

/// All modes. Every field is optional in JSON; a partial object given to
/// `PUT /__emulator/modes` changes only the fields it names.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Modes {
    /// See [`UnknownUser`].
    pub unknown_user: UnknownUser,
    /// See [`AccessTokenKeyStatus`].
    pub access_token_invalid_key_status: AccessTokenKeyStatus,
    /// See [`VerifyValidateKeyStatus`].
    pub verify_validate_invalid_key_status: VerifyValidateKeyStatus,
}

/// `PUT /__emulator/modes` body: only the named modes change.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModesPatch {
    unknown_user: Option<UnknownUser>,
    access_token_invalid_key_status: Option<AccessTokenKeyStatus>,
    verify_validate_invalid_key_status: Option<VerifyValidateKeyStatus>,
}

impl Modes {
    /// Applies the fields `patch` names.
    pub fn apply(&mut self, patch: ModesPatch) {
        if let Some(mode) = patch.unknown_user {
            self.unknown_user = mode;
        }
        if let Some(mode) = patch.access_token_invalid_key_status {
            self.access_token_invalid_key_status = mode;
        }
        if let Some(mode) = patch.verify_validate_invalid_key_status {
            self.verify_validate_invalid_key_status = mode;
        }
    }

    /// The error for a user that does not exist (or was deleted) on a user
    /// endpoint.
    pub fn unknown_user_error(self) -> ApiError {
        match self.unknown_user {
            UnknownUser::InvalidUserId => {
                ApiError::invalid_user_id("The given user_id does not exist")
            }
            UnknownUser::NoUser => ApiError::no_user(),
        }
    }

    /// The error for an API key the access-token endpoint does not know in
    /// its region (unknown, or the SP lives on another platform).
    pub fn access_token_key_error(self) -> ApiError {
        match self.access_token_invalid_key_status {
            AccessTokenKeyStatus::Status500 => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "invalid_key",
                "Invalid API Key",
            ),
            AccessTokenKeyStatus::Status401 => ApiError::invalid_key(),
        }
    }

    /// Re-statuses a credential error of `/claim/verify/validate`.
    pub fn verify_validate_key_error(self, error: ApiError) -> ApiError {
        match self.verify_validate_invalid_key_status {
            VerifyValidateKeyStatus::Status401 => error,
            VerifyValidateKeyStatus::Status400 => ApiError {
                status: StatusCode::BAD_REQUEST,
                ..error
            },
        }
    }
}
