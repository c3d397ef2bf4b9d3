//! One attempt of a journey: its token, status, timestamps and outcome, as stored in the
//! journey's JSON.

use crate::json_object::json_object;
use crate::ops::validate::{FrameQuality, ValidateResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Token issued, no outcome yet.
    Pending,
    /// Validate said `passed: true`.
    Passed,
    /// Validate said `passed: false` (a biometric failure; `reason` when iProov gave one).
    Failed,
    /// Validate answered with an error (e.g. `invalid_token`); `error_code` says which.
    Error,
    /// The validate may have reached iProov but its answer was lost: inconclusive.
    OutcomeUnknown,
    /// The token expired before a validate.
    Expired,
    /// The token was invalidated (`invalidate_claim`).
    Invalidated,
    /// The user or host gave up on the attempt (SDK error, page closed).
    Abandoned,
}

/// Why an attempt ends without a validate ([`Journey::end_attempt`](super::journey::Journey::end_attempt)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The token expired.
    Expired,
    /// The host invalidated the token.
    Invalidated,
    /// The attempt was abandoned.
    Abandoned,
}

/// The fields of a validate result a journey keeps: everything but the images and the token
/// (the attempt has the token), so the stored journey stays small and holds no biometric data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultSummary {
    /// The authoritative outcome.
    pub passed: bool,
    /// `enrol` or `verify`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether iProov had a frame to return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_available: Option<bool>,
    /// Why it failed, when iProov said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The risk profile applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_profile: Option<String>,
    /// The assurance type used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assurance_type: Option<String>,
    /// The signals, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<Map<String, Value>>,
    /// Frame-quality signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_frame_quality: Option<FrameQuality>,
}
json_object! {
    ResultSummary, deny_unknown_fields;
    req passed, opt kind as "type", opt frame_available, opt reason, opt risk_profile,
    opt assurance_type, opt signals, opt return_frame_quality,
}

impl From<&ValidateResult> for ResultSummary {
    fn from(r: &ValidateResult) -> Self {
        Self {
            passed: r.passed,
            kind: r.kind.clone(),
            frame_available: r.frame_available,
            reason: r.reason.clone(),
            risk_profile: r.risk_profile.clone(),
            assurance_type: r.assurance_type.clone(),
            signals: r.signals.clone(),
            return_frame_quality: r.return_frame_quality.clone(),
        }
    }
}

/// One attempt: its token, when it was issued and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// The claim token of this attempt.
    pub token: String,
    /// When the token was recorded (Unix ms).
    pub issued_at_ms: u64,
    /// Where the attempt stands.
    pub status: AttemptStatus,
    /// When the outcome was recorded (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at_ms: Option<u64>,
    /// iProov's failure reason (`failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error's code (`error`, `outcome_unknown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The validate result without images (`passed`, `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSummary>,
}
json_object! {
    Attempt, deny_unknown_fields;
    req number, req token, req issued_at_ms, req status, opt ended_at_ms, opt reason,
    opt error_code, opt result,
}
