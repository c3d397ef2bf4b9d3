//! Control API for the request journal (see `journal.rs`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::Value;

use crate::journal::Filter;
use crate::state::AppState;

/// `GET /__emulator/journal[?path=SUFFIX][&method=M][&since=SEQ][&limit=N]`:
/// `{"requests": [entry, oldest first], "last_seq", "dropped"}`, the
/// requests whose (masked) full path ends with `path`, of `method`, newer
/// than `since` (a `seq` or `last_seq` seen before), the first `limit` of
/// them. A `since` or `limit` that is not a whole number is 400
/// `invalid_request`.
pub async fn journal(
    State(state): State<Arc<AppState>>,
    Query(filter): Query<Filter>,
) -> Json<Value> {
    Json(state.journal.answer(&filter))
}
