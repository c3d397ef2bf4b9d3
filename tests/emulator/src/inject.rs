//! Middleware that counts every API request and applies the fault rules of
//! `faults.rs`: holds (`holds.rs`), synthetic statuses, delays, connection
//! resets and responses cut off mid-body.
//!
//! Resets and cuts have to happen below HTTP: a reset flags the
//! connection (see `server.rs`), which then fails its next socket operation
//! and is closed with `SO_LINGER=0` (a TCP RST, no response bytes); a cut
//! sends a `Content-Length` larger than the body it then delivers, and ends
//! with a body error so hyper closes the connection.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Frame;
use serde_json::Value;
use tokio::time::Sleep;

use crate::error::ApiError;
use crate::faults::{FaultAction, FaultSpec, RequestInfo};
use crate::region::Region;
use crate::server::ConnControl;
use crate::state::AppState;

/// The most of a request body read to match a rule's `body_fields`: above
/// every route's own limit, which the handler still applies to the body it
/// is given back.
const MATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Counts the request, waits out the `slow_network` preset, then applies
/// the first matching fault, if any. The body is read first (and handed on
/// whole) only while a rule of the request's route has `body_fields`.
pub async fn inject_faults(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let region = req.extensions().get::<Region>().copied();
    let full_path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let method = req.method().clone();
    let relative_path = req.uri().path().to_owned();
    let info = |region, body| RequestInfo {
        method: method.as_str(),
        region,
        relative_path: &relative_path,
        full_path: &full_path,
        body,
    };
    let mut req = req;
    let mut json = None;
    if let Some(region) = region
        && state.faults.wants_body(&info(region, None))
    {
        let (parts, body) = req.into_parts();
        // A body over the limit (or cut short) goes on empty: the handler refuses it.
        let bytes = axum::body::to_bytes(body, MATCH_BODY_LIMIT)
            .await
            .unwrap_or_default();
        json = serde_json::from_slice::<Value>(&bytes).ok();
        req = Request::from_parts(parts, Body::from(bytes));
    }
    let fault = region.and_then(|region| state.faults.on_request(&info(region, json.as_ref())));
    if let Some(delay_ms) = state.network_delay_ms() {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    if fault.hold {
        state.faults.holds.hold(fault.hold_ms).await;
    }
    apply(fault, req, next).await
}

async fn apply(fault: FaultSpec, req: Request, next: Next) -> Response {
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    let conn = req.extensions().get::<Arc<ConnControl>>().cloned();
    match fault.action {
        FaultAction::Delay => next.run(req).await,
        FaultAction::Status {
            status,
            json,
            html,
            headers,
        } => {
            drain(req).await;
            synthetic(status, json, html, &headers)
        }
        FaultAction::Reset { after_handler } => {
            if after_handler {
                drop(next.run(req).await);
            }
            reset(conn)
        }
        FaultAction::Cut {
            send_bytes,
            status,
            json,
            html,
        } => {
            let response = if json.is_some() || html.is_some() {
                drain(req).await;
                synthetic(status.unwrap_or(200), json, html, &BTreeMap::new())
            } else {
                next.run(req).await
            };
            cut(response, send_bytes).await
        }
    }
}

/// Reads the request body to its end before a made-up answer, as a server
/// does that parses the request first. Answered with the body unread (its
/// bytes still on their way), hyper cannot reuse the connection and closes
/// it after the response without saying so (no `Connection: close`): the
/// client pools it, and its next request on it races that close, failing
/// with no answer although the emulator never saw it (a validate would then
/// end `outcome_unknown` without reaching iProov).
async fn drain(req: Request) {
    let _ = axum::body::to_bytes(req.into_body(), MATCH_BODY_LIMIT).await;
}

/// A made-up response; without a body, an API error body that fits the
/// status.
fn synthetic(
    status: u16,
    json: Option<Value>,
    html: Option<String>,
    headers: &BTreeMap<String, String>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match (json, html) {
        (Some(json), _) => (status, axum::Json(json)).into_response(),
        (None, Some(html)) => (status, axum::response::Html(html)).into_response(),
        (None, None) => {
            let code = match status.as_u16() {
                429 => "too_many_requests",
                401 => "invalid_key",
                400 => "invalid_request",
                _ => "server_error",
            };
            ApiError::new(status, code, "Injected fault").into_response()
        }
    };
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Flags the connection for a reset. The response returned here is never
/// written: the connection's next write fails first.
fn reset(conn: Option<Arc<ConnControl>>) -> Response {
    if let Some(conn) = conn {
        conn.request_reset();
    }
    Response::new(Body::new(CutBody {
        chunk: None,
        stall: Box::pin(tokio::time::sleep(Duration::ZERO)),
    }))
}

/// Keeps status and headers, declares the full length, sends a prefix.
async fn cut(response: Response, send_bytes: Option<usize>) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let keep = send_bytes.unwrap_or(full.len() / 2).min(full.len());
    // The declared length must exceed what is sent, even for tiny bodies.
    let declared = full.len().max(keep + 1);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    let body = CutBody {
        chunk: Some(full.slice(..keep)).filter(|c| !c.is_empty()),
        // Give hyper time to flush the prefix before the body fails.
        stall: Box::pin(tokio::time::sleep(Duration::from_millis(50))),
    };
    Response::from_parts(parts, Body::new(body))
}

/// A body that yields one chunk, waits, then fails.
struct CutBody {
    chunk: Option<Bytes>,
    stall: Pin<Box<Sleep>>,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if let Some(chunk) = this.chunk.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match this.stall.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "emulated truncated response",
            )))),
        }
    }
}
