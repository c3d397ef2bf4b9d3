//! `POST /claim/enrol/token` and `POST /claim/verify/token`: issuing claim
//! tokens, with the checks the spec lists for `ServerClaimRequest`.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{AssuranceType, ServiceProviderConfig};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, authenticate_sp, non_empty};
use crate::presets::PresetKind;
use crate::region::Region;
use crate::state::{AppState, Claim, ClaimKind, ClaimStatus, UserStatus, World};
use crate::syntax::{is_valid_risk_profile, is_valid_user_id, new_claim_token};

/// `ServerClaimRequest`. Unknown fields (e.g. the demo clients' `client`)
/// are ignored, as the real service evidently does.
#[derive(Debug, Deserialize)]
pub struct ClaimRequest {
    api_key: Option<String>,
    secret: Option<String>,
    resource: Option<String>,
    user_id: Option<String>,
    assurance_type: Option<String>,
    risk_profile: Option<String>,
}

/// `POST /claim/enrol/token`.
pub async fn enrol_token(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<Json<Value>> {
    issue(&state, region, req, ClaimKind::Enrol)
}

/// `POST /claim/verify/token`.
pub async fn verify_token(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<Json<Value>> {
    issue(&state, region, req, ClaimKind::Verify)
}

/// Check order: credentials (401), rate limit (the `rate_limited` preset,
/// then the SP's configured limit: 429), resource, user_id,
/// assurance type (403), risk profile, then the user's state.
fn issue(
    state: &AppState,
    region: Region,
    req: ClaimRequest,
    kind: ClaimKind,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let mut world = state.world();
    let sp = authenticate_sp(
        &world,
        region,
        req.api_key.as_deref(),
        req.secret.as_deref(),
    )?;
    if let Some(preset) = &world.preset
        && let PresetKind::RateLimited { retry_after_secs } = preset.kind
        && preset.applies_to(&sp.api_key)
    {
        return Err(ApiError::too_many_requests(retry_after_secs));
    }
    if let Some(runtime) = world.sps.get_mut(&sp.api_key) {
        runtime.admit_token_request(now)?;
    }
    let resource = non_empty(req.resource).ok_or_else(|| ApiError::missing_data("resource"))?;
    let user_id = req
        .user_id
        .ok_or_else(|| ApiError::invalid_user_id("Missing user_id"))?;
    if !is_valid_user_id(&user_id) {
        return Err(ApiError::invalid_user_id(
            "Malformed user_id or illegal characters in it",
        ));
    }
    let assurance_type = check_assurance_type(&sp, req.assurance_type.as_deref())?;
    let risk_profile = check_risk_profile(&sp, non_empty(req.risk_profile))?;
    check_user(&mut world, &sp, &user_id, kind, now)?;

    let token = new_claim_token();
    let lifetime_ms = state.config.claim_token_lifetime_secs.saturating_mul(1000);
    world.claims.insert(
        token.clone(),
        Claim {
            token: token.clone(),
            kind,
            api_key: sp.api_key.clone(),
            user_id: user_id.clone(),
            resource,
            assurance_type,
            risk_profile: risk_profile.clone(),
            created_at: now,
            expires_at: now.saturating_add(lifetime_ms),
            status: ClaimStatus::Pending,
            client: None,
        },
    );
    let mut body = json!({
        "token": token,
        "fallback": [],
        "primary": "iproov",
        "user_id": user_id,
        "pod": format!("emulator.{region}"),
    });
    if let Some(profile) = risk_profile {
        body["risk_profile"] = Value::String(profile);
    }
    Ok(Json(body))
}

/// No value means `genuine_presence` (the API default); anything the SP
/// does not allow, including unknown values, is 403.
fn check_assurance_type(
    sp: &ServiceProviderConfig,
    requested: Option<&str>,
) -> ApiResult<AssuranceType> {
    let wanted = match requested {
        None => AssuranceType::GenuinePresence,
        Some(value) => AssuranceType::parse(value).ok_or_else(ApiError::invalid_assurance_type)?,
    };
    if sp.assurance_types.contains(&wanted) {
        Ok(wanted)
    } else {
        Err(ApiError::invalid_assurance_type())
    }
}

/// Implements every `invalid_risk_appetite` case of the spec: malformed,
/// unknown, missing while profiles are provisioned, or given while none are.
fn check_risk_profile(
    sp: &ServiceProviderConfig,
    requested: Option<String>,
) -> ApiResult<Option<String>> {
    match requested {
        Some(profile) if !is_valid_risk_profile(&profile) => {
            Err(ApiError::invalid_risk_appetite("Malformed risk_profile"))
        }
        Some(_) if sp.risk_profiles.is_empty() => Err(ApiError::invalid_risk_appetite(
            "Risk profiles are not enabled for this service provider",
        )),
        Some(profile) if !sp.risk_profiles.contains(&profile) => {
            Err(ApiError::invalid_risk_appetite("Unknown risk_profile"))
        }
        None if !sp.risk_profiles.is_empty() => Err(ApiError::invalid_risk_appetite(
            "risk_profile is required for this service provider",
        )),
        other => Ok(other),
    }
}

/// Enrol needs a user that does not exist yet (deleted users may re-enrol);
/// verify needs an existing, Active one.
fn check_user(
    world: &mut World,
    sp: &ServiceProviderConfig,
    user_id: &str,
    kind: ClaimKind,
    now: u64,
) -> ApiResult<()> {
    let user = world.live_user(&sp.api_key, user_id, now);
    match (kind, user) {
        (ClaimKind::Enrol, Some(_)) => Err(ApiError::already_enrolled()),
        (ClaimKind::Enrol, None) => Ok(()),
        (ClaimKind::Verify, None) => Err(ApiError::no_user()),
        (ClaimKind::Verify, Some(user)) if user.status != UserStatus::Active => {
            Err(ApiError::inactive_user())
        }
        (ClaimKind::Verify, Some(_)) => Ok(()),
    }
}
