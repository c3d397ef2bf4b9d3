//! Control API for fault injection and request counts.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::faults::{FaultAction, FaultSpec};
use crate::state::AppState;

/// `POST /__emulator/faults`: registers a rule, answers `{"id": n}`.
pub async fn add_fault(
    State(state): State<Arc<AppState>>,
    ApiJson(spec): ApiJson<FaultSpec>,
) -> ApiResult<Json<Value>> {
    if spec.path.is_empty() {
        return Err(ApiError::invalid_request("path must not be empty"));
    }
    if let FaultAction::Status { status, .. } = &spec.action
        && StatusCode::from_u16(*status).is_err()
    {
        return Err(ApiError::invalid_request("status must be 100..=999"));
    }
    let id = state.faults.add(spec);
    Ok(Json(json!({"id": id})))
}

/// `GET /__emulator/faults`: rules still pending, with uses left.
pub async fn list_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"faults": state.faults.list()}))
}

/// `DELETE /__emulator/faults`: drops every rule.
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

/// `DELETE /__emulator/requests`: zeroes the counters.
pub async fn clear_counts(State(state): State<Arc<AppState>>) -> StatusCode {
    state.faults.clear_counts();
    StatusCode::NO_CONTENT
}
