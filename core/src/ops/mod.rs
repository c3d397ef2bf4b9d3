//! One module per API resource, each holding the build function(s) that describe its request
//! and the parse function(s) that read its response.
//!
//! Every build function checks its input first and fails with `invalid_input` before anything
//! is built. Every parse function turns a 200 into the typed result and anything else into the
//! typed [`Error`]; a biometric failure (`passed: false`) is a result.

pub mod availability;
pub mod claim;
pub mod enrol_image;
pub mod invalidate;
pub mod oauth;
pub mod users;
pub mod validate;

use crate::config::Config;
use crate::error::Error;
use crate::http::{Method, Request, percent_encode};
use serde::Serialize;
use std::borrow::Cow;

pub(crate) const JSON: &str = "application/json";

/// A request with a JSON body, to `{base}{path}`.
pub(crate) fn json_request<T: Serialize>(
    config: &Config,
    method: Method,
    path: &str,
    body: &T,
) -> Result<Request, Error> {
    let bytes =
        serde_json::to_vec(body).map_err(|e| Error::invalid_input("body", e.to_string()))?;
    Ok(bare_request(config, method, &[path]).with_body(JSON, bytes))
}

/// `value` as one URL path segment, or `invalid_input` naming `field`.
///
/// `.` and `..` are refused: every URL parser on the way (httpx, requests, the WHATWG URL
/// parser behind `fetch`, a proxy) resolves them as dot segments (RFC 3986 §5.2.4), so
/// `DELETE …/users/..` would reach `DELETE …/api/v2`. Every byte outside the unreserved
/// set (`A-Z a-z 0-9 - . _ ~`) and the three `user_id` characters that carry no meaning in a
/// path (`'`, `+`, `@`) is percent-encoded, so that no value can add a segment, a query or a
/// path parameter (`;` for Java servlets).
pub(crate) fn path_segment<'v>(field: &str, value: &'v str) -> Result<Cow<'v, str>, Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_input(
            field,
            "is a dot segment ('.' or '..'): URL parsers would resolve it and send the request \
             to another path",
        ));
    }
    let keep = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'\'' | b'+' | b'@')
    };
    if value.bytes().all(keep) {
        return Ok(Cow::Borrowed(value));
    }
    let out = percent_encode(value.as_bytes(), keep);
    Ok(Cow::Owned(out))
}

/// A request without a body, to the base URL followed by the pieces of `path`.
pub(crate) fn bare_request(config: &Config, method: Method, path: &[&str]) -> Request {
    let base = config.base_url();
    let mut url = String::with_capacity(base.len() + path.iter().map(|p| p.len()).sum::<usize>());
    url.push_str(base);
    for piece in path {
        url.push_str(piece);
    }
    Request::new(method, url, config.user_agent())
}
