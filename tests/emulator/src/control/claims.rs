//! Control API for claims: plays the part of the phone by completing a
//! claim with a chosen outcome.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::{AppState, ClaimKind, ClaimStatus, Outcome, User, UserStatus};

/// A 1x1 grey PNG, returned as the frame when a test asks for `frame: true`.
pub const PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0xda, 0x45, 0x08, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Body of `POST /__emulator/claims/{token}/complete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    passed: bool,
    reason: Option<String>,
    /// `true` for the placeholder PNG, or a base64 PNG.
    frame: Option<Value>,
    signals: Option<Value>,
    return_frame_quality: Option<Value>,
}

fn conflict(code: &'static str, description: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, description)
}

/// `POST /__emulator/claims/{token}/complete`: the capture finished. A
/// passed enrol capture creates the user as `Inactive` (until validate).
/// 404 for an unknown token, 409 when the claim is not pending or expired.
pub async fn complete(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> ApiResult<Json<Value>> {
    let frame = match req.frame {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(STANDARD.encode(PLACEHOLDER_PNG)),
        Some(Value::String(b64)) => {
            STANDARD
                .decode(&b64)
                .map_err(|_| ApiError::invalid_request("frame is not valid base64"))?;
            Some(b64)
        }
        Some(_) => return Err(ApiError::invalid_request("frame must be a bool or base64")),
    };
    let now = state.clock.now();
    let mut world = state.world();
    let claim = world
        .claims
        .get_mut(&token)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_claim", "No such claim"))?;
    if claim.is_expired(now) {
        return Err(conflict("claim_expired", "The claim token has expired"));
    }
    if claim.status != ClaimStatus::Pending {
        return Err(conflict("claim_not_pending", "The claim is not pending"));
    }
    claim.status = ClaimStatus::Completed(Outcome {
        passed: req.passed,
        reason: req.reason,
        frame,
        signals: req.signals,
        return_frame_quality: req.return_frame_quality,
    });
    let body = serde_json::to_value(&*claim).unwrap_or(Value::Null);
    let (kind, api_key, user_id) = (claim.kind, claim.api_key.clone(), claim.user_id.clone());
    if kind == ClaimKind::Enrol && req.passed && world.live_user(&api_key, &user_id, now).is_none()
    {
        let user = User::new(&user_id, UserStatus::Inactive, now);
        world.users.insert((api_key, user_id), user);
    }
    Ok(Json(body))
}

/// `GET /__emulator/claims/{token}`.
pub async fn get_claim(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> ApiResult<Json<Value>> {
    let world = state.world();
    let claim = world
        .claims
        .get(&token)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_claim", "No such claim"))?;
    Ok(Json(serde_json::to_value(claim).unwrap_or(Value::Null)))
}
