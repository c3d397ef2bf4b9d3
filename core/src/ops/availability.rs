//! `GET /availability?api_key=...`: whether iProov's service is up for this key.
//!
//! Call it for health checks; it needs only the api_key and costs no claim.

use crate::config::Config;
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::bare_request;
use serde::Serialize;

/// Describes the availability request. Fails with `invalid_input` when the api_key is missing.
pub fn build_availability(config: &Config) -> Result<Request, Error> {
    let api_key = config.require_api_key()?;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("api_key", api_key)
        .finish();
    Ok(bare_request(
        config,
        Method::Get,
        &["/availability?", &query],
    ))
}

/// The answer to availability (`AvailabilityResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Whether the service is up.
    pub up: bool,
}
json_object! {
    Availability, allow_unknown_fields;
    req up,
}

/// Reads the availability answer.
pub fn parse_availability(config: &Config, response: &Response<'_>) -> Result<Availability, Error> {
    parse_json(config, response)
}
