//! The iProov API surface, mounted once per region under `/{region}/api/v2`.

mod availability;
mod invalidate;
mod oauth;
mod photo_enrol;
mod tokens;
mod users;
mod validate;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::error::ApiError;
use crate::inject::inject_faults;
use crate::json_errors::json_errors;
use crate::region::Region;
use crate::state::AppState;

/// Body limit for the photo-enrol route: above the API's 2 MB image limit,
/// so an oversized image gets the API's own error rather than a 413.
const PHOTO_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Router for one region. Layers, outermost first: region tag, request
/// counting + faults (and the `slow_network` preset), the "service down"
/// switch, JSON errors for axum's rejections, then the handlers.
pub fn region_router(state: Arc<AppState>, region: Region) -> Router {
    Router::new()
        .route("/claim/enrol/token", post(tokens::enrol_token))
        .route("/claim/verify/token", post(tokens::verify_token))
        .route(
            "/claim/enrol/image",
            post(photo_enrol::enrol_image).layer(DefaultBodyLimit::max(PHOTO_BODY_LIMIT)),
        )
        .route("/claim/enrol/validate", post(validate::enrol_validate))
        .route("/claim/verify/validate", post(validate::verify_validate))
        .route("/claim/{token}/invalidate", post(invalidate::invalidate))
        .route(
            "/claim//invalidate",
            post(invalidate::invalidate_without_token),
        )
        .route("/{api_key}/access_token", post(oauth::access_token))
        .route(
            "/users/{user_id}",
            get(users::get_user)
                .put(users::update_user)
                .delete(users::delete_user),
        )
        .route("/users/{user_id}/activate", post(users::activate_user))
        .route("/users/{user_id}/suspend", post(users::suspend_user))
        .route("/availability", get(availability::availability))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(json_errors))
        .layer(from_fn_with_state(Arc::clone(&state), down_guard))
        .layer(from_fn_with_state(Arc::clone(&state), inject_faults))
        .layer(Extension(region))
        .with_state(state)
}

/// While the service is marked down (control API), everything but
/// `/availability` answers 500 `server_error`.
async fn down_guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if state.is_up() || req.uri().path() == "/availability" {
        next.run(req).await
    } else {
        ApiError::server_error("Service unavailable").into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
