//! The outermost middleware of the API (every path but `/__emulator`):
//! reads each request's body, records the request in the journal
//! (`journal.rs`) and hands the request on with the very same bytes.
//!
//! The body is read before anything else runs, so the journal holds what
//! arrived even when a fault or a refusal answers without reading it. Up
//! to 16 MiB is read (more than any route accepts); the rest of a larger
//! body is handed on unread, after those bytes, and the entry says
//! `body_truncated`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body::Frame;
use http_body_util::BodyExt;

use crate::state::AppState;

/// The most of a body read before the request goes on.
const READ_LIMIT: usize = 16 * 1024 * 1024;

/// Journals every request outside the control API.
pub async fn record_requests(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path == "/__emulator" || path.starts_with("/__emulator/") {
        return next.run(req).await;
    }
    let (parts, mut body) = req.into_parts();
    let mut read = BytesMut::new();
    let mut failed = false;
    while read.len() <= READ_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    read.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => {
                failed = true;
                break;
            }
            None => {
                let bytes = read.freeze();
                crate::journal::record(&state, &parts, &bytes, true).await;
                return next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
            }
        }
    }
    let bytes = read.freeze();
    crate::journal::record(&state, &parts, &bytes, false).await;
    let replay = Replay {
        prefix: Some(bytes).filter(|b| !b.is_empty()),
        failed,
        rest: Some(body).filter(|_| !failed),
    };
    next.run(Request::from_parts(parts, Body::new(replay)))
        .await
}

/// The bytes already read, then the rest of the body (or the read error
/// again, so the handler sees the body fail as it did).
struct Replay {
    prefix: Option<Bytes>,
    failed: bool,
    rest: Option<Body>,
}

impl http_body::Body for Replay {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        if this.failed {
            this.failed = false;
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "request body cut short",
            )))));
        }
        match this.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}
