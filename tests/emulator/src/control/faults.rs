//! Control API for fault injection and request counts.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::faults::{FaultAction, FaultSpec};
use crate::holds::MAX_HOLD_MS;
use crate::presets::MAX_DELAY_MS;
use crate::state::AppState;

/// `POST /__emulator/faults`: registers a rule, answers `{"id": n}`.
///
/// Numbers are refused (400 `invalid_request`) rather than clamped when
/// out of range: `times` 0..=2^32-1, `delay_ms` 0..=600000, `status`
/// 100..=999, `hold_ms` 0..=60000, `send_bytes` a whole number (larger than
/// the body sends it all); fractions, negatives and strings fail the JSON
/// schema.
pub async fn add_fault(
    State(state): State<Arc<AppState>>,
    ApiJson(spec): ApiJson<FaultSpec>,
) -> ApiResult<Json<Value>> {
    if spec.path.is_empty() {
        return Err(ApiError::invalid_request("path must not be empty"));
    }
    if spec.delay_ms > MAX_DELAY_MS {
        return Err(ApiError::invalid_request(format!(
            "delay_ms must be a whole number from 0 to {MAX_DELAY_MS}"
        )));
    }
    if spec.hold_ms > MAX_HOLD_MS {
        return Err(ApiError::invalid_request(format!(
            "hold_ms must be a whole number from 0 to {MAX_HOLD_MS}"
        )));
    }
    let status = match &spec.action {
        FaultAction::Status { status, .. } => Some(*status),
        FaultAction::Cut { status, .. } => *status,
        FaultAction::Delay | FaultAction::Reset { .. } => None,
    };
    if status.is_some_and(|s| StatusCode::from_u16(s).is_err()) {
        return Err(ApiError::invalid_request(
            "status must be a whole number from 100 to 999",
        ));
    }
    if let FaultAction::Status { headers, .. } = &spec.action
        && let Some((name, _)) = headers.iter().find(|(name, value)| {
            HeaderName::try_from(name.as_str()).is_err()
                || HeaderValue::try_from(value.as_str()).is_err()
        })
    {
        return Err(ApiError::invalid_request(format!(
            "header {name:?} is not a valid HTTP header"
        )));
    }
    let id = state.faults.add(spec);
    Ok(Json(json!({"id": id})))
}

/// `GET /__emulator/faults`: rules still pending, with uses left, and how
/// many requests a `hold` rule keeps waiting now (`held`).
pub async fn list_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"faults": state.faults.list(), "held": state.faults.holds.held()}))
}

/// `POST /__emulator/faults/release`: lets every held request go on,
/// answers `{"released": n}` (how many were held).
pub async fn release_held(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"released": state.faults.holds.release()}))
}

/// `DELETE /__emulator/faults`: drops every rule, releases held requests.
pub async fn clear_faults(State(state): State<Arc<AppState>>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

/// `DELETE /__emulator/faults/{id}`.
pub async fn remove_fault(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    if state.faults.remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_fault",
            "No such fault rule",
        ))
    }
}

/// Query of `GET /__emulator/requests`.
#[derive(Debug, Deserialize)]
pub struct CountQuery {
    path: Option<String>,
    method: Option<String>,
}

/// `GET /__emulator/requests[?path=SUFFIX[&method=M]]`: all counters, or
/// `{"path", "method", "count"}` for the requests whose full path ends with
/// `path`.
pub async fn request_counts(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CountQuery>,
) -> Json<Value> {
    match query.path {
        Some(path) => {
            let count = state.faults.count_matching(&path, query.method.as_deref());
            Json(json!({"path": path, "method": query.method, "count": count}))
        }
        None => Json(serde_json::to_value(state.faults.counts()).unwrap_or(Value::Null)),
    }
}

/// `DELETE /__emulator/requests`: zeroes the counters and empties the
/// journal.
pub async fn clear_counts(State(state): State<Arc<AppState>>) -> StatusCode {
    state.faults.clear_counts();
    state.journal.clear();
    StatusCode::NO_CONTENT
}
