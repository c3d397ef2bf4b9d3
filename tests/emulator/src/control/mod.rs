//! The control API under `/__emulator/`: what a test uses instead of a
//! phone and an iPortal (complete claims, seed users, change SP settings,
//! inject faults, move the clock, inspect and reset state). Every route is
//! listed in README.md.

mod claims;
mod clock;
mod faults;
mod journal;
mod modes;
mod presets;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::format_rfc3339;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::{AppState, User, UserStatus};
use crate::syntax::is_valid_user_id;

pub use claims::PLACEHOLDER_PNG;

/// The control router (mounted at `/__emulator`).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/config", get(config))
        .route("/state", get(world_state))
        .route("/reset", post(reset))
        .route("/clock", get(clock::clock))
        .route("/clock/advance", post(clock::advance_clock))
        .route("/availability", put(set_availability))
        .route(
            "/service-providers/{api_key}/rate-limit",
            put(set_rate_limit),
        )
        .route("/users", post(seed_user))
        .route("/access-tokens", delete(revoke_access_tokens))
        .route("/claims/{token}", get(claims::get_claim))
        .route("/claims/{token}/complete", post(claims::complete))
        .route(
            "/faults",
            post(faults::add_fault)
                .get(faults::list_faults)
                .delete(faults::clear_faults),
        )
        .route("/faults/release", post(faults::release_held))
        .route("/faults/{id}", delete(faults::remove_fault))
        .route(
            "/requests",
            get(faults::request_counts).delete(faults::clear_counts),
        )
        .route("/journal", get(journal::journal))
        .route("/modes", get(modes::get_modes).put(modes::set_modes))
        .route("/presets", get(presets::list_presets))
        .route("/preset", get(presets::get_preset).put(presets::set_preset))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn(crate::json_errors::json_errors))
        .with_state(state)
}

/// The effective configuration, with the current rate limits.
pub fn effective_config(state: &AppState) -> Config {
    let mut config = state.config.clone();
    let world = state.world();
    for sp in &mut config.service_providers {
        if let Some(runtime) = world.sps.get(&sp.api_key) {
            sp.rate_limit_per_second = runtime.config.rate_limit_per_second;
        }
    }
    config
}

/// `GET /__emulator/config`.
async fn config(State(state): State<Arc<AppState>>) -> Json<Config> {
    Json(effective_config(&state))
}

/// `GET /__emulator/state`: users, claims and access tokens.
async fn world_state(State(state): State<Arc<AppState>>) -> Json<Value> {
    let now = state.clock.now();
    // Before the world lock: `is_up` takes it too (for the outage preset).
    let up = state.is_up();
    let mut world = state.world();
    for user in world.users.values_mut() {
        user.refresh(now);
    }
    let users: Vec<Value> = world
        .users
        .iter()
        .map(|((api_key, _), user)| {
            let mut body = user.to_response();
            body["api_key"] = Value::String(api_key.clone());
            body
        })
        .collect();
    let claims: Vec<&crate::state::Claim> = world.claims.values().collect();
    let tokens: Vec<Value> = world
        .access_tokens
        .iter()
        .map(|(token, t)| json!({"access_token": token, "api_key": t.api_key, "scope": t.scopes, "uses": t.uses, "expires_at": format_rfc3339(t.expires_at)}))
        .collect();
    Json(json!({
        "now": format_rfc3339(now),
        "up": up,
        "preset": crate::presets::Preset::describe(world.preset.as_ref())["preset"],
        "modes": world.modes,
        "users": users,
        "claims": claims,
        "access_tokens": tokens,
    }))
}

/// `POST /__emulator/reset`: back to the configuration, clock offset 0,
/// no faults, counters zero.
async fn reset(State(state): State<Arc<AppState>>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

/// `DELETE /__emulator/access-tokens`: iProov drops every OAuth access token it issued (a
/// key rotation, a restart): the next use of any of them is `invalid_oauth`. Answers
/// `{"revoked": n}`.
async fn revoke_access_tokens(State(state): State<Arc<AppState>>) -> Json<Value> {
    let mut world = state.world();
    let revoked = world.access_tokens.len();
    world.access_tokens.clear();
    Json(json!({ "revoked": revoked }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailabilityRequest {
    up: bool,
}

/// `PUT /__emulator/availability {"up": bool}`.
async fn set_availability(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> Json<Value> {
    state.up.store(req.up, Ordering::Relaxed);
    Json(json!({"up": req.up}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitRequest {
    /// Checked by hand so that every bad number gets the same message.
    per_second: Value,
}

/// `PUT /__emulator/service-providers/{api_key}/rate-limit
/// {"per_second": N | null}`: N a whole number from 1 to 2^32-1 (null: no
/// limit); anything else is 400 `invalid_request`.
async fn set_rate_limit(
    State(state): State<Arc<AppState>>,
    Path(api_key): Path<String>,
    ApiJson(req): ApiJson<RateLimitRequest>,
) -> ApiResult<Json<Value>> {
    let per_second = match &req.per_second {
        Value::Null => None,
        n => Some(
            n.as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::invalid_request(format!(
                        "per_second must be null or a whole number from 1 to {}",
                        u32::MAX
                    ))
                })?,
        ),
    };
    let mut world = state.world();
    let sp = world.sps.get_mut(&api_key).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_service_provider",
            "No such api_key",
        )
    })?;
    sp.config.rate_limit_per_second = per_second;
    sp.recent_token_requests.clear();
    Ok(Json(json!({"api_key": api_key, "per_second": per_second})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedUserRequest {
    api_key: String,
    user_id: String,
    name: Option<String>,
    status: Option<String>,
}

/// `POST /__emulator/users`: creates (or replaces) a user directly, e.g.
/// an `Inactive` one, without going through a claim.
async fn seed_user(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<SeedUserRequest>,
) -> ApiResult<Json<Value>> {
    if !is_valid_user_id(&req.user_id) {
        return Err(ApiError::invalid_user_id("Malformed user_id"));
    }
    let status = match req
        .status
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("active") => UserStatus::Active,
        Some("inactive") => UserStatus::Inactive,
        Some("suspended") => UserStatus::Suspended,
        Some("deleted") => UserStatus::Deleted,
        Some(_) => return Err(ApiError::invalid_request("Unknown status")),
    };
    let now = state.clock.now();
    let mut world = state.world();
    if !world.sps.contains_key(&req.api_key) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_service_provider",
            "No such api_key",
        ));
    }
    let mut user = User::new(&req.user_id, status, now);
    if let Some(name) = req.name {
        user.name = name;
    }
    let body = user.to_response();
    world.users.insert((req.api_key, req.user_id), user);
    Ok(Json(body))
}
