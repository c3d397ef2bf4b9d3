//! `POST /claim/{token}/invalidate`: abort a claim so the SDK cannot start
//! or finish it.
//!
//! The sources disagree on auth (none vs OAuth). The emulator accepts a
//! call without `Authorization`, but if a Bearer token is sent it must be
//! valid (and counts as a use), which satisfies both readings.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{authorize_bearer, parse_json};
use crate::region::Region;
use crate::state::{AppState, ClaimStatus};
use crate::syntax::is_valid_reason;

/// `InvalidateClaimRequest`.
#[derive(Debug, Deserialize)]
struct InvalidateRequest {
    reason: Option<String>,
}

/// `POST /claim/{token}/invalidate`.
///
/// A live pending claim is aborted (`claim_aborted: true`); a claim that
/// already finished, expired or was invalidated answers 200 with
/// `claim_aborted: false`. `user_informed` is always false: no device is
/// connected to the emulator.
pub async fn invalidate(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let mut world = state.world();
    if headers.contains_key(header::AUTHORIZATION) {
        authorize_bearer(
            &mut world,
            region,
            &headers,
            None,
            now,
            state.config.access_token_max_uses,
        )?;
    }
    let req: InvalidateRequest = parse_json(&headers, &body)?;
    let reason = req.reason.ok_or_else(|| ApiError::missing_data("reason"))?;
    if !is_valid_reason(&reason) {
        return Err(ApiError::invalid_reason());
    }
    let known = world
        .claims
        .get(&token)
        .is_some_and(|c| world.sp_in_region(&c.api_key, region).is_some());
    if !known {
        return Err(ApiError::invalid_token("Unknown token"));
    }
    let Some(claim) = world.claims.get_mut(&token) else {
        return Err(ApiError::invalid_token("Unknown token"));
    };
    let aborted = claim.status == ClaimStatus::Pending && !claim.is_expired(now);
    if aborted {
        claim.status = ClaimStatus::Invalidated { reason };
    }
    Ok(Json(
        json!({"claim_aborted": aborted, "user_informed": false}),
    ))
}

/// `POST /claim//invalidate` (empty token segment): the spec's
/// `missing_data` for a missing token.
pub async fn invalidate_without_token() -> ApiError {
    ApiError::missing_data("token")
}
