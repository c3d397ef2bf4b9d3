//! `POST /claim/{token}/invalidate`: stop the SDK from starting or continuing with a token.
//!
//! Call it when your service abandons an attempt (the user cancelled, your own fraud rule
//! fired). The spec and the operations page say it needs no auth; one docs page lists it under
//! OAuth, so an access token is added when the caller has one.

use crate::config::Config;
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::{json_request, path_segment};
use crate::validation::{check_reason, check_token};
use serde::Serialize;

/// Input of invalidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidateInput {
    /// The claim token to invalidate.
    pub token: String,
    /// Text shown to the user; 1-800 characters of letters, digits, spaces and `_.:=()’'"/`.
    pub reason: String,
}
json_object! {
    InvalidateInput, deny_unknown_fields;
    req token, req reason,
}

#[derive(Serialize)]
struct WireInvalidate<'a> {
    reason: &'a str,
}

/// Describes the invalidate request. Fails with `invalid_input` on a bad token or reason.
pub fn build_invalidate_claim(config: &Config, input: &InvalidateInput) -> Result<Request, Error> {
    check_token(&input.token)?;
    check_reason(&input.reason)?;
    let path = format!("/claim/{}/invalidate", path_segment("token", &input.token)?);
    json_request(
        config,
        Method::Post,
        &path,
        &WireInvalidate {
            reason: &input.reason,
        },
    )
}

/// The answer to an invalidate (`InvalidateClaimResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidateResult {
    /// Whether the claim was invalidated.
    pub claim_aborted: bool,
    /// Whether the user was told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_informed: Option<bool>,
}
json_object! {
    InvalidateResult, allow_unknown_fields;
    req claim_aborted, opt user_informed,
}

/// Reads the invalidate answer; non-200 answers are errors.
pub fn parse_invalidate_claim(
    config: &Config,
    response: &Response<'_>,
) -> Result<InvalidateResult, Error> {
    parse_json(config, response)
}
