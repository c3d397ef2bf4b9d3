//! The management API's user endpoints (Bearer auth with scopes):
//! `GET/PUT/DELETE /users/{user_id}`, `POST /users/{user_id}/activate` and
//! `POST /users/{user_id}/suspend`.
//!
//! A user that does not exist (or was deleted) is 400 `invalid_user_id` by
//! default, as the live service answers `GET /users/{unknown}`; mode
//! `unknown_user: "no_user"` gives the OpenAPI's `no_user` (see `modes.rs`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use crate::clock::{Millis, parse_rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{authorize_bearer, parse_json};
use crate::region::Region;
use crate::state::{AppState, UserStatus, World};
use crate::syntax::is_valid_user_id;

/// `ChangeStateRequest`.
#[derive(Debug, Deserialize)]
struct ChangeStateRequest {
    date_time: Option<String>,
}

/// `UpdateUserRequest`.
#[derive(Debug, Deserialize)]
struct UpdateUserRequest {
    user_id: Option<String>,
    name: Option<String>,
}

/// The path's user_id; one axum cannot decode (not UTF-8 after percent
/// decoding) becomes `""`, which the prologue refuses as a malformed
/// user_id after the Bearer check, like any other bad user_id.
fn path_user_id(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(user_id)| user_id).unwrap_or_default()
}

/// Common prologue: Bearer token with `scope`, then the path's user_id
/// syntax. Returns the world lock, the SP's key and the current time.
fn prologue<'a>(
    state: &'a AppState,
    region: Region,
    headers: &HeaderMap,
    scope: &str,
    user_id: &str,
) -> ApiResult<(std::sync::MutexGuard<'a, World>, String, Millis)> {
    let now = state.clock.now();
    let mut world = state.world();
    let api_key = authorize_bearer(
        &mut world,
        region,
        headers,
        Some(scope),
        now,
        state.config.access_token_max_uses,
    )?;
    if !is_valid_user_id(user_id) {
        return Err(ApiError::invalid_user_id(
            "Malformed user_id or illegal characters in it",
        ));
    }
    Ok((world, api_key, now))
}

/// `GET /users/{user_id}` (scope `user-read`).
pub async fn get_user(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    user_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let user_id = path_user_id(user_id);
    let (mut world, api_key, now) = prologue(&state, region, &headers, "user-read", &user_id)?;
    let unknown = world.modes.unknown_user_error();
    let user = world.live_user(&api_key, &user_id, now).ok_or(unknown)?;
    Ok(Json(user.to_response()))
}

/// `DELETE /users/{user_id}` (scope `user-write`). The record stays with
/// status `Deleted`, and counts as unknown from then on.
pub async fn delete_user(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    user_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let user_id = path_user_id(user_id);
    let (mut world, api_key, now) = prologue(&state, region, &headers, "user-write", &user_id)?;
    let unknown = world.modes.unknown_user_error();
    let user = world.live_user(&api_key, &user_id, now).ok_or(unknown)?;
    user.set_status(UserStatus::Deleted, now);
    user.scheduled = None;
    Ok(Json(user.to_response()))
}

/// `PUT /users/{user_id}` (scope `user-write`): rename and/or set the name.
pub async fn update_user(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    user_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let user_id = path_user_id(user_id);
    let (mut world, api_key, now) = prologue(&state, region, &headers, "user-write", &user_id)?;
    let req: UpdateUserRequest = parse_json(&headers, &body)?;
    if req.user_id.is_none() && req.name.is_none() {
        return Err(ApiError::invalid_request(
            "At least one of user_id and name is required",
        ));
    }
    if req.name.as_deref() == Some("") {
        return Err(ApiError::invalid_request("name must not be empty"));
    }
    if let Some(new_id) = &req.user_id {
        if !is_valid_user_id(new_id) {
            return Err(ApiError::invalid_user_id(
                "Malformed new user_id or illegal characters in it",
            ));
        }
        if *new_id != user_id && world.live_user(&api_key, new_id, now).is_some() {
            return Err(ApiError::invalid_user_id(
                "The new user_id is already in use",
            ));
        }
    }
    let unknown = world.modes.unknown_user_error();
    world
        .live_user(&api_key, &user_id, now)
        .ok_or_else(|| unknown.clone())?;
    let mut user = world
        .users
        .remove(&(api_key.clone(), user_id))
        .ok_or(unknown)?;
    if let Some(name) = req.name {
        user.name = name;
    }
    if let Some(new_id) = req.user_id {
        user.user_id = new_id;
    }
    let body = user.to_response();
    world.users.insert((api_key, user.user_id.clone()), user);
    Ok(Json(body))
}

/// `POST /users/{user_id}/activate` (scope `user-write-status`).
pub async fn activate_user(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    user_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let user_id = path_user_id(user_id);
    change_status(
        &state,
        region,
        &user_id,
        &headers,
        &body,
        UserStatus::Active,
    )
}

/// `POST /users/{user_id}/suspend` (scope `user-write-status`).
pub async fn suspend_user(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    user_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let user_id = path_user_id(user_id);
    change_status(
        &state,
        region,
        &user_id,
        &headers,
        &body,
        UserStatus::Suspended,
    )
}

/// Applies the change now, or schedules it when `date_time` is in the
/// future (the spec: "the state change takes effect from then").
fn change_status(
    state: &AppState,
    region: Region,
    user_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    status: UserStatus,
) -> ApiResult<Json<Value>> {
    let (mut world, api_key, now) = prologue(state, region, headers, "user-write-status", user_id)?;
    let req: ChangeStateRequest = parse_json(headers, body)?;
    let at = match req.date_time.as_deref() {
        None => now,
        Some(text) => parse_rfc3339(text).ok_or_else(|| {
            ApiError::invalid_request("date_time must look like yyyy-MM-ddTHH:mm:ss.SSSZ")
        })?,
    };
    let unknown = world.modes.unknown_user_error();
    let user = world.live_user(&api_key, user_id, now).ok_or(unknown)?;
    if at > now {
        user.scheduled = Some((status, at));
    } else {
        user.scheduled = None;
        user.set_status(status, at);
    }
    Ok(Json(user.to_response()))
}
