//! `GET /__emulator/clock` and `POST /__emulator/clock/advance`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::format_rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

fn clock_body(state: &AppState) -> Value {
    let now = state.clock.now();
    json!({
        "now": format_rfc3339(now),
        "now_ms": now,
        "offset_secs": state.clock.offset().as_secs_f64(),
    })
}

/// `GET /__emulator/clock`.
pub async fn clock(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(clock_body(&state))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    /// Checked by hand: any JSON number, fractions included, is accepted.
    seconds: Value,
}

/// `POST /__emulator/clock/advance {"seconds": N}`.
///
/// N is any non-negative JSON number; fractions count to the millisecond
/// (rounded down). The clock saturates at 9999-12-31T23:59:59.999Z (see
/// `clock::MAX_MILLIS`), so a huge N is accepted and ends up there.
/// Negative (the clock never goes back) or non-numeric N is 400
/// `invalid_request`.
pub async fn advance_clock(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<AdvanceRequest>,
) -> ApiResult<Json<Value>> {
    let ms = seconds_to_ms(&req.seconds)
        .ok_or_else(|| ApiError::invalid_request("seconds must be a non-negative number"))?;
    state.clock.advance_ms(ms);
    Ok(Json(clock_body(&state)))
}

/// Milliseconds in a non-negative JSON number, saturating at `u64::MAX`.
fn seconds_to_ms(value: &Value) -> Option<u64> {
    if let Some(whole) = value.as_u64() {
        return Some(whole.saturating_mul(1000));
    }
    let seconds = value.as_f64().filter(|s| *s >= 0.0 && s.is_finite())?;
    // `as` saturates for floats beyond u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((seconds * 1000.0) as u64)
}
