//! `GET/PUT /__emulator/modes`: the answers where public sources disagree
//! (see `modes.rs`). Reset restores the configured modes.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::extract::ApiJson;
use crate::modes::ModesPatch;
use crate::state::AppState;

/// `GET /__emulator/modes`: the modes in force.
pub async fn get_modes(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(serde_json::to_value(state.world().modes).unwrap_or(Value::Null))
}

/// `PUT /__emulator/modes`: changes the modes the body names (unknown
/// names or values are 400 `invalid_request`) and answers all of them.
pub async fn set_modes(
    State(state): State<Arc<AppState>>,
    ApiJson(patch): ApiJson<ModesPatch>,
) -> Json<Value> {
    let mut world = state.world();
    world.modes.apply(patch);
    Json(serde_json::to_value(world.modes).unwrap_or(Value::Null))
}
