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
use crate::http::{Method, Request};
use serde::Serialize;

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
