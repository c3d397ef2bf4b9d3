//! `POST /claim/enrol/validate` and `POST /claim/verify/validate`: the authoritative outcome.
//!
//! Call exactly once per token, server-side, after the SDK reports the capture finished. iProov
//! answers a second call with `invalid_token`, so the first answer is the only one: store it.
//! Never retry a validate whose request may have reached the server (see `flows::retry`).

use crate::config::Config;
use crate::decode::{decode_body, parse_with};
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::ops::json_request;
use crate::tolerant::{bool_or_string, unescape_json_string};
use crate::validation::{check_required_text, check_risk_profile, check_token, check_user_id};
use serde::Serialize;
use serde_json::value::RawValue;

/// What a validate needs besides the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateInput {
    /// The user the token was issued for.
    pub user_id: String,
    /// The claim token the SDK used.
    pub token: String,
    /// An identifier of the end user's device, e.g. its browser's User-Agent. Required.
    pub client: String,
    /// The risk profile of the claim, if it had one; empty counts as absent.
    pub risk_profile: Option<String>,
    /// Enrol only: `false` leaves the new user suspended. Omitted (iProov: `true`) when `None`.
    pub activate: Option<bool>,
}
json_object! {
    ValidateInput, deny_unknown_fields;
    req user_id, req token, req client, opt risk_profile, opt activate,
}

#[derive(Serialize)]
struct WireValidate<'a> {
    api_key: &'a str,
    secret: &'a str,
    user_id: &'a str,
    token: &'a str,
    client: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_profile: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activate: Option<bool>,
}

fn build(config: &Config, input: &ValidateInput, path: &str) -> Result<Request, Error> {
    check_user_id("user_id", &input.user_id)?;
    check_token(&input.token)?;
    check_required_text("client", &input.client)?;
    let risk_profile = check_risk_profile(input.risk_profile.as_deref())?;
    let api_key = config.require_api_key()?;
    let secret = config.require_secret()?;
    let body = WireValidate {
        api_key,
        secret: secret.expose(),
        user_id: &input.user_id,
        token: &input.token,
        client: &input.client,
        risk_profile,
        activate: input.activate,
    };
    Ok(json_request(config, Method::Post, path, &body)?.holding_secret(secret))
}

/// Describes `POST /claim/enrol/validate`. Fails with `invalid_input` on a bad user_id, token,
/// client or risk_profile, or missing credentials.
pub fn build_enrol_validate(config: &Config, input: &ValidateInput) -> Result<Request, Error> {
    build(config, input, "/claim/enrol/validate")
}

/// Describes `POST /claim/verify/validate`. Fails like [`build_enrol_validate`], and with
/// `invalid_input` (field `activate`) when `activate` is given, which only enrol accepts.
pub fn build_verify_validate(config: &Config, input: &ValidateInput) -> Result<Request, Error> {
    if input.activate.is_some() {
        return Err(Error::invalid_input(
            "activate",
            "only enrol validate accepts activate",
        ));
    }
    build(config, input, "/claim/verify/validate")
}

/// The image-quality signals of a validate (`return_frame_quality`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameQuality {
    /// `not_available`, `Good`, `Acceptable` or `Poor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blur: Option<String>,
    /// Same scale as `blur`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pose: Option<String>,
    /// Same scale as `blur`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lighting: Option<String>,
}
json_object! {
    FrameQuality, allow_unknown_fields;
    opt blur, opt pose, opt lighting,
}

/// The outcome of a validate (`ClaimValidateResponse`). `passed: false` is a genuine
/// biometric failure, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidateResult {
    /// The authoritative outcome.
    pub passed: bool,
    /// The token, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `enrol` or `verify`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether a frame can be returned (sent as a bool or a string; always a bool here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_available: Option<bool>,
    /// The captured frame, base64 PNG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
    /// The captured frame, base64 JPEG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_jpeg: Option<String>,
    /// API 2.11 only: the ISO 19794-5 image, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_19794_5: Option<String>,
    /// Why it failed, when enabled for the service provider (top-level or older `result.reason`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The risk profile applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_profile: Option<String>,
    /// The assurance type actually used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assurance_type: Option<String>,
    /// The signals object, verbatim (its shape differs between spec and docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<serde_json::Map<String, serde_json::Value>>,
    /// Frame-quality signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_frame_quality: Option<FrameQuality>,
}

struct WireResult<'a> {
    passed: bool,
    token: Option<String>,
    kind: Option<String>,
    frame_available: Option<bool>,
    frame: Option<&'a RawValue>,
    frame_jpeg: Option<&'a RawValue>,
    iso_19794_5: Option<&'a RawValue>,
    reason: Option<String>,
    /// The pre-2024 shape put the failure reason in `result.reason`; any other `result` is
    /// ignored.
    result: Option<serde_json::Value>,
    risk_profile: Option<String>,
    assurance_type: Option<String>,
    signals: Option<serde_json::Map<String, serde_json::Value>>,
    return_frame_quality: Option<FrameQuality>,
}
json_object! {
    WireResult<'a>, allow_unknown_fields;
    req passed, opt token, opt kind as "type", opt frame_available with bool_or_string: Option<bool>,
    opt frame, opt frame_jpeg, opt iso_19794_5, opt reason, opt result, opt risk_profile,
    opt assurance_type, opt signals, opt return_frame_quality,
}

fn image_field(
    name: &str,
    raw: Option<&RawValue>,
) -> Result<Option<String>, (String, Option<String>)> {
    match raw.map(RawValue::get) {
        None | Some("null") => Ok(None),
        Some(text) => unescape_json_string(text)
            .map(Some)
            .map_err(|problem| (format!("{name}: {problem}"), Some(name.to_owned()))),
    }
}

fn decode_validate(body: &[u8]) -> Result<ValidateResult, (String, Option<String>)> {
    let wire: WireResult<'_> = decode_body(body)?;
    let old_reason = wire
        .result
        .as_ref()
        .and_then(|result| result.get("reason")?.as_str());
    Ok(ValidateResult {
        passed: wire.passed,
        token: wire.token,
        kind: wire.kind,
        frame_available: wire.frame_available,
        frame: image_field("frame", wire.frame)?,
        frame_jpeg: image_field("frame_jpeg", wire.frame_jpeg)?,
        iso_19794_5: image_field("iso_19794_5", wire.iso_19794_5)?,
        reason: wire.reason.or_else(|| old_reason.map(str::to_owned)),
        risk_profile: wire.risk_profile,
        assurance_type: wire.assurance_type,
        signals: wire.signals,
        return_frame_quality: wire.return_frame_quality,
    })
}

/// Reads a validate answer (enrol or verify). `passed: false` is `Ok`; 400 `invalid_token`
/// (second validate, or before streaming ended), `invalid_validation` and the rest are errors.
/// A large frame is copied exactly once, from the body into the result.
pub fn parse_validate(config: &Config, response: &Response<'_>) -> Result<ValidateResult, Error> {
    parse_with(config, response, decode_validate)
}
