//! `POST /claim/enrol/token` and `POST /claim/verify/token`: a claim token for one attempt.
//!
//! Call a build function when a user starts an attempt; hand the token to the front-end SDK.
//! A token is good for one attempt and (per spec 2.13) 2 minutes: never cache or reuse it.

use crate::config::Config;
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::json_request;
use crate::tolerant::{Fallback, fallbacks};
use crate::validation::{check_required_text, check_risk_profile, check_user_id};
use serde::{Deserialize, Serialize};

/// Which biometric check the claim asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssuranceType {
    /// Genuine Presence Assurance (GPA), iProov's default.
    GenuinePresence,
    /// Liveness Assurance (LA).
    Liveness,
}

impl AssuranceType {
    /// Every assurance type.
    pub const ALL: [AssuranceType; 2] = [Self::GenuinePresence, Self::Liveness];

    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GenuinePresence => "genuine_presence",
            Self::Liveness => "liveness",
        }
    }
}

/// What a claim (token) request needs besides the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimInput {
    /// What is being accessed, e.g. "User onboarding". Required and non-blank.
    pub resource: String,
    /// The generated, non-identifying user ID. Required (the docs make it mandatory).
    pub user_id: String,
    /// GPA or LA; iProov applies GPA when absent.
    pub assurance_type: Option<AssuranceType>,
    /// A risk profile provisioned for the service provider; empty counts as absent.
    pub risk_profile: Option<String>,
}
json_object! {
    ClaimInput, deny_unknown_fields;
    req resource, req user_id, opt assurance_type, opt risk_profile,
}

#[derive(Serialize)]
struct WireClaim<'a> {
    api_key: &'a str,
    secret: &'a str,
    resource: &'a str,
    user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    assurance_type: Option<AssuranceType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_profile: Option<&'a str>,
}

fn build(config: &Config, input: &ClaimInput, path: &str) -> Result<Request, Error> {
    check_required_text("resource", &input.resource)?;
    check_user_id("user_id", &input.user_id)?;
    let risk_profile = check_risk_profile(input.risk_profile.as_deref())?;
    let api_key = config.require_api_key()?;
    let secret = config.require_secret()?;
    let body = WireClaim {
        api_key,
        secret: secret.expose(),
        resource: &input.resource,
        user_id: &input.user_id,
        assurance_type: input.assurance_type,
        risk_profile,
    };
    Ok(json_request(config, Method::Post, path, &body)?.holding_secret(secret))
}

/// Describes `POST /claim/enrol/token` for a user who is not enrolled yet.
/// Fails with `invalid_input` on a bad user_id, resource or risk_profile, or missing credentials.
pub fn build_enrol_token(config: &Config, input: &ClaimInput) -> Result<Request, Error> {
    build(config, input, "/claim/enrol/token")
}

/// Describes `POST /claim/verify/token` for an enrolled, active user.
/// Fails like [`build_enrol_token`].
pub fn build_verify_token(config: &Config, input: &ClaimInput) -> Result<Request, Error> {
    build(config, input, "/claim/verify/token")
}

/// A claim token and what iProov says about it (`ClaimResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimToken {
    /// The claim token (also the transaction id) for the SDK.
    pub token: String,
    /// User-facing fallback information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Vec<Fallback>>,
    /// Undocumented by iProov; kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// The user the token is tied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The pod serving the claim, e.g. `edge02.eu4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The risk profile applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_profile: Option<String>,
    /// Deprecated in 2.13; kept when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_domain: Option<String>,
}
json_object! {
    ClaimToken, allow_unknown_fields;
    req token, opt fallback with fallbacks: Option<Vec<Fallback>>, opt primary, opt user_id,
    opt pod, opt risk_profile, opt redirect_domain,
}

/// Reads the answer to either token request. A 200 without a usable `token` is a
/// `decode_error`; 400 `already_enrolled`, `no_user`, `inactive_user`, 403
/// `invalid_assurance_type`, 429 `too_many_requests` and the rest are API errors.
pub fn parse_claim_token(config: &Config, response: &Response<'_>) -> Result<ClaimToken, Error> {
    let claim: ClaimToken = parse_json(config, response)?;
    if claim.token.is_empty() {
        return Err(Error::decode(
            response.status,
            "the claim token is empty",
            Some("token".to_owned()),
        ));
    }
    Ok(claim)
}
