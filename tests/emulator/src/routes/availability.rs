//! `GET /availability?api_key=...`: the service's up/down flag.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::region::Region;
use crate::state::AppState;

/// `GET /availability`. The spec lists only 400 for this endpoint, and
/// `invalid_key` is in its 400 `ClientErrorResponse` enum, so a missing,
/// unknown or other-region key is 400 `invalid_key` here (401 elsewhere).
pub async fn availability(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let known = query
        .get("api_key")
        .is_some_and(|key| state.world().sp_in_region(key, region).is_some());
    if !known {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_key",
            "Invalid Public and/or Private Key",
        ));
    }
    Ok(Json(json!({"up": state.is_up()})))
}
