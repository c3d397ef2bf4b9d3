//! The preset routes. The contract (kept for the Python and Node test
//! helpers, which only call these routes):
//!
//! - `GET /__emulator/presets` -> `{"presets": [{"name", "description", "options"}]}`
//! - `PUT /__emulator/preset {"name", ...options}` -> `{"preset": NAME, ...effective options}`;
//!   an unknown name is 400 `invalid_request` naming the known ones;
//!   `{"name": "none"}` (or `POST /__emulator/reset`) clears it.
//! - `GET /__emulator/preset` -> the same shape as the PUT's answer.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::presets::{self, Preset};
use crate::state::AppState;

/// `GET /__emulator/presets`.
pub async fn list_presets() -> Json<Value> {
    Json(presets::catalogue())
}

/// `GET /__emulator/preset`: the active preset (`"none"` when there is none).
pub async fn get_preset(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(Preset::describe(state.world().preset.as_ref()))
}

/// `PUT /__emulator/preset`: replaces the active preset. A narrowing
/// `api_key` must name a configured SP (404 `unknown_service_provider`,
/// like the other SP routes).
pub async fn set_preset(
    State(state): State<Arc<AppState>>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let preset = presets::parse(&body)?;
    let mut world = state.world();
    if let Some(key) = preset.as_ref().and_then(|p| p.api_key.as_deref())
        && !world.sps.contains_key(key)
    {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_service_provider",
            "No such api_key",
        ));
    }
    world.preset = preset;
    Ok(Json(Preset::describe(world.preset.as_ref())))
}
