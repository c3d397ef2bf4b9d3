//! `POST /claim/enrol/validate` and `POST /claim/verify/validate`: the
//! one-time server-side read of a claim's result.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, authenticate_sp, non_empty};
use crate::presets::{Preset, PresetKind};
use crate::region::Region;
use crate::state::{AppState, Claim, ClaimKind, ClaimStatus, Outcome, User, UserStatus};
use crate::syntax::{is_valid_ipv4, is_valid_user_id};

/// `ClaimValidateRequest` (+ `activate` for enrol). `client` is required by
/// the spec but its absence has no documented error, so it is accepted.
#[derive(Debug, Deserialize)]
pub struct ValidateRequest {
    api_key: Option<String>,
    secret: Option<String>,
    user_id: Option<String>,
    token: Option<String>,
    risk_profile: Option<String>,
    ip: Option<String>,
    activate: Option<bool>,
    client: Option<String>,
}

/// `POST /claim/enrol/validate`.
pub async fn enrol_validate(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    ApiJson(req): ApiJson<ValidateRequest>,
) -> ApiResult<Json<Value>> {
    validate(&state, region, req, ClaimKind::Enrol)
}

/// `POST /claim/verify/validate`.
pub async fn verify_validate(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    ApiJson(req): ApiJson<ValidateRequest>,
) -> ApiResult<Json<Value>> {
    validate(&state, region, req, ClaimKind::Verify)
}

/// Check order: credentials (401 `invalid_key`; on verify, 400 in mode
/// `verify_validate_invalid_key_status: "400"`), token presence, user_id syntax, `ip`, then
/// the claim (exists, right kind and SP, completed, not yet validated),
/// then that user_id/risk_profile match. Only a successful call consumes
/// the token.
fn validate(
    state: &AppState,
    region: Region,
    req: ValidateRequest,
    kind: ClaimKind,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let mut world = state.world();
    let sp = authenticate_sp(
        &world,
        region,
        req.api_key.as_deref(),
        req.secret.as_deref(),
    )
    .map_err(|e| match kind {
        ClaimKind::Verify => world.modes.verify_validate_key_error(e),
        ClaimKind::Enrol => e,
    })?;
    let token = non_empty(req.token).ok_or_else(|| ApiError::missing_data("token"))?;
    let user_id = req
        .user_id
        .ok_or_else(|| ApiError::invalid_user_id("Missing user_id"))?;
    if !is_valid_user_id(&user_id) {
        return Err(ApiError::invalid_user_id(
            "Malformed user_id or illegal characters in it",
        ));
    }
    if let Some(ip) = &req.ip
        && !is_valid_ipv4(ip)
    {
        return Err(ApiError::invalid_request("Malformed IPv4 address in ip"));
    }

    let preset_outcome = preset_outcome(world.preset.as_ref(), &sp.api_key);
    let claim = world
        .claims
        .get_mut(&token)
        .filter(|c| c.api_key == sp.api_key && c.kind == kind)
        .ok_or_else(|| ApiError::invalid_token("Unknown token"))?;
    if let Some(outcome) = preset_outcome
        && claim.status == ClaimStatus::Pending
        && !claim.is_expired(now)
    {
        claim.status = ClaimStatus::Completed(outcome);
    }
    let outcome = completed_outcome(claim, now)?;
    if claim.user_id != user_id {
        return Err(ApiError::invalid_validation(
            "user_id does not match the claim",
        ));
    }
    if claim.risk_profile != non_empty(req.risk_profile) {
        return Err(ApiError::invalid_validation(
            "risk_profile does not match the claim",
        ));
    }
    claim.status = ClaimStatus::Validated(outcome.clone());
    claim.client = req.client;
    let body = response_body(claim, &outcome);

    if kind == ClaimKind::Enrol && outcome.passed {
        // Capture enrol: the user becomes usable only now (suspended when the
        // integrator asked not to activate).
        let status = if req.activate.unwrap_or(true) {
            UserStatus::Active
        } else {
            UserStatus::Suspended
        };
        match world.live_user(&sp.api_key, &user_id, now) {
            Some(user) => user.set_status(status, now),
            None => {
                let user = User::new(&user_id, status, now);
                world.users.insert((sp.api_key.clone(), user_id), user);
            }
        }
    }
    Ok(Json(body))
}

/// What the `pass`/`fail` preset completes a still-pending claim of the SP
/// with when its validate arrives: the phone an integrator's backend tests
/// do not have. A claim completed through the control API is no longer
/// pending, so an explicit completion wins.
fn preset_outcome(preset: Option<&Preset>, api_key: &str) -> Option<Outcome> {
    let preset = preset.filter(|p| p.applies_to(api_key))?;
    let (passed, reason) = match &preset.kind {
        PresetKind::Pass => (true, None),
        PresetKind::Fail { reason } => (false, Some(reason.clone())),
        _ => return None,
    };
    Some(Outcome {
        passed,
        reason,
        frame: None,
        signals: None,
        return_frame_quality: None,
    })
}

/// The outcome of a claim that may be validated now, or why not.
fn completed_outcome(claim: &Claim, now: u64) -> ApiResult<Outcome> {
    match &claim.status {
        ClaimStatus::Completed(outcome) => Ok(outcome.clone()),
        ClaimStatus::Pending if claim.is_expired(now) => {
            Err(ApiError::invalid_token("Token has expired"))
        }
        ClaimStatus::Pending => Err(ApiError::invalid_token(
            "Claim has not finished streaming yet",
        )),
        ClaimStatus::Validated(_) => {
            Err(ApiError::invalid_token("Token has already been validated"))
        }
        ClaimStatus::ImageEnrolled => Err(ApiError::invalid_token(
            "Token was used for a photo enrolment",
        )),
        ClaimStatus::Invalidated { .. } => {
            Err(ApiError::invalid_token("Token has been invalidated"))
        }
    }
}

/// `ClaimValidateResponse`. `frame_available` is sent as a JSON boolean,
/// which is how the official clients read it (the spec types it string).
fn response_body(claim: &Claim, outcome: &Outcome) -> Value {
    let mut body = json!({
        "passed": outcome.passed,
        "token": claim.token,
        "type": claim.kind.as_str(),
        "frame_available": outcome.frame.is_some(),
        "assurance_type": claim.assurance_type.as_str(),
    });
    if !outcome.passed
        && let Some(reason) = &outcome.reason
    {
        body["reason"] = Value::String(reason.clone());
    }
    if let Some(frame) = &outcome.frame {
        body["frame"] = Value::String(frame.clone());
    }
    if let Some(signals) = &outcome.signals {
        body["signals"] = signals.clone();
    }
    if let Some(quality) = &outcome.return_frame_quality {
        body["return_frame_quality"] = quality.clone();
    }
    if let Some(profile) = &claim.risk_profile {
        body["risk_profile"] = Value::String(profile.clone());
    }
    body
}
