//! Named presets: one switch that makes the emulator answer like a common
//! situation (every capture passes, every capture fails, rate limited,
//! outage, keys from another region, slow network), so that an
//! integrator's backend tests need neither a phone nor fault recipes.
//!
//! At most one preset is active; it lives in the world (so reset clears
//! it) and is read by the handlers it affects. The control routes that
//! load it are in `control/presets.rs`.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};

/// iProov's documented capture failure reasons: the Genuine Presence
/// failure codes of the Web SDK v4+ (facts file §7.2, iProov/web README;
/// the native `FailureReason` enums match). The Liveness codes are a
/// subset. The first is the `fail` preset's default.
pub const FAILURE_REASONS: [&str; 11] = [
    "eyes_closed",
    "face_too_far",
    "face_too_close",
    "misaligned_face",
    "multiple_faces",
    "obscured_face",
    "sunglasses",
    "too_bright",
    "too_dark",
    "too_much_movement",
    "unknown",
];

/// Default `Retry-After` of the `rate_limited` preset.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;
/// Largest `retry_after_secs` accepted (a day).
pub const MAX_RETRY_AFTER_SECS: u64 = 86_400;
/// Default delay of the `slow_network` preset.
pub const DEFAULT_DELAY_MS: u64 = 1500;
/// Largest delay accepted by presets and fault rules (ten minutes): longer
/// would only outlive the test that asked for it.
pub const MAX_DELAY_MS: u64 = 600_000;

/// What a preset does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresetKind {
    /// Pending claims pass when their validate arrives.
    Pass,
    /// Pending claims fail with `reason` when their validate arrives.
    Fail {
        /// One of [`FAILURE_REASONS`].
        reason: String,
    },
    /// Token endpoints answer 429 `too_many_requests`.
    RateLimited {
        /// `Retry-After` header value.
        retry_after_secs: u64,
    },
    /// The service is down (like `PUT /__emulator/availability {"up": false}`).
    Outage,
    /// The SP's credentials are answered as if it lived in another region.
    RegionMismatch,
    /// Every API response is delayed.
    SlowNetwork {
        /// Delay before each API request is handled.
        delay_ms: u64,
    },
}

/// An active preset, optionally narrowed to one SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// What it does.
    pub kind: PresetKind,
    /// Only this SP, when given.
    pub api_key: Option<String>,
}

/// The catalogue, in the shape of `GET /__emulator/presets`.
pub fn catalogue() -> Value {
    let api_key = json!({"type": "string", "default": null,
        "description": "narrow the preset to this service provider's api_key (default: every SP)"});
    json!({"presets": [
        {"name": "pass",
         "description": "every claim still pending when its validate arrives is completed as passed first (no phone needed); explicit POST /claims/{token}/complete still wins",
         "options": {"api_key": api_key}},
        {"name": "fail",
         "description": "every claim still pending when its validate arrives is completed as failed with `reason`",
         "options": {"reason": {"type": "string", "default": FAILURE_REASONS[0], "values": FAILURE_REASONS,
                                "description": "one of iProov's documented failure reasons"},
                     "api_key": api_key}},
        {"name": "rate_limited",
         "description": "enrol/verify token requests with valid credentials answer 429 too_many_requests with Retry-After",
         "options": {"retry_after_secs": {"type": "integer", "default": DEFAULT_RETRY_AFTER_SECS, "min": 0, "max": MAX_RETRY_AFTER_SECS,
                                          "description": "value of the Retry-After header"},
                     "api_key": api_key}},
        {"name": "outage",
         "description": "the service is down: GET /availability answers {\"up\": false}, every other API call 500 server_error",
         "options": {}},
        {"name": "region_mismatch",
         "description": "the SP's credentials are answered as if the SP lived in another region: 401 invalid_key \"Invalid Public and/or Private Key\" (access_token: see modes; availability: 400 invalid_key)",
         "options": {"api_key": api_key}},
        {"name": "slow_network",
         "description": "every API response is delayed by delay_ms",
         "options": {"delay_ms": {"type": "integer", "default": DEFAULT_DELAY_MS, "min": 0, "max": MAX_DELAY_MS,
                                  "description": "delay before each API request is handled"}}},
    ]})
}

/// Names `PUT /__emulator/preset` accepts (`none` clears).
pub const NAMES: [&str; 7] = [
    "pass",
    "fail",
    "rate_limited",
    "outage",
    "region_mismatch",
    "slow_network",
    "none",
];

/// Parses `{"name", ...options}`. `Ok(None)` is `none`.
///
/// Unknown names, unknown or ill-typed options and out-of-range numbers
/// are 400 `invalid_request` naming what is accepted.
pub fn parse(body: &Map<String, Value>) -> ApiResult<Option<Preset>> {
    let name = match body.get("name") {
        Some(Value::String(name)) => name.as_str(),
        _ => {
            return Err(ApiError::invalid_request(format!(
                "name must be one of {}",
                NAMES.join(", ")
            )));
        }
    };
    let allowed: &[&str] = match name {
        "pass" | "region_mismatch" => &["api_key"],
        "fail" => &["reason", "api_key"],
        "rate_limited" => &["retry_after_secs", "api_key"],
        "slow_network" => &["delay_ms"],
        "outage" | "none" => &[],
        other => {
            return Err(ApiError::invalid_request(format!(
                "unknown preset {other:?}; known presets: {}",
                NAMES.join(", ")
            )));
        }
    };
    if let Some(extra) = body
        .keys()
        .find(|k| *k != "name" && !allowed.contains(&k.as_str()))
    {
        return Err(ApiError::invalid_request(format!(
            "preset {name} has no option {extra:?} (options: {})",
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        )));
    }
    let api_key = match body.get("api_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => Some(key.clone()),
        Some(_) => return Err(ApiError::invalid_request("api_key must be a string")),
    };
    let kind = match name {
        "pass" => PresetKind::Pass,
        "fail" => PresetKind::Fail {
            reason: reason(body.get("reason"))?,
        },
        "rate_limited" => PresetKind::RateLimited {
            retry_after_secs: whole_number(
                "retry_after_secs",
                body.get("retry_after_secs"),
                DEFAULT_RETRY_AFTER_SECS,
                MAX_RETRY_AFTER_SECS,
            )?,
        },
        "outage" => PresetKind::Outage,
        "region_mismatch" => PresetKind::RegionMismatch,
        "slow_network" => PresetKind::SlowNetwork {
            delay_ms: whole_number(
                "delay_ms",
                body.get("delay_ms"),
                DEFAULT_DELAY_MS,
                MAX_DELAY_MS,
            )?,
        },
        _ => return Ok(None),
    };
    Ok(Some(Preset { kind, api_key }))
}

fn reason(value: Option<&Value>) -> ApiResult<String> {
    match value {
        None | Some(Value::Null) => Ok(FAILURE_REASONS[0].to_owned()),
        Some(Value::String(r)) if FAILURE_REASONS.contains(&r.as_str()) => Ok(r.clone()),
        Some(_) => Err(ApiError::invalid_request(format!(
            "reason must be one of {}",
            FAILURE_REASONS.join(", ")
        ))),
    }
}

/// A whole JSON number in `0..=max`; absent or null means `default`.
/// Fractions, negatives, strings and numbers above `max` are refused.
pub fn whole_number(field: &str, value: Option<&Value>, default: u64, max: u64) -> ApiResult<u64> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().filter(|n| *n <= max).ok_or_else(|| {
            ApiError::invalid_request(format!("{field} must be a whole number from 0 to {max}"))
        }),
    }
}

impl Preset {
    /// Whether the preset concerns the SP `api_key`.
    pub fn applies_to(&self, api_key: &str) -> bool {
        self.api_key.as_deref().is_none_or(|k| k == api_key)
    }

    /// The name used on the control API.
    pub fn name(&self) -> &'static str {
        match self.kind {
            PresetKind::Pass => "pass",
            PresetKind::Fail { .. } => "fail",
            PresetKind::RateLimited { .. } => "rate_limited",
            PresetKind::Outage => "outage",
            PresetKind::RegionMismatch => "region_mismatch",
            PresetKind::SlowNetwork { .. } => "slow_network",
        }
    }

    /// `{"preset": NAME, ...effective options}`.
    pub fn describe(preset: Option<&Self>) -> Value {
        let Some(preset) = preset else {
            return json!({"preset": "none"});
        };
        let mut body = json!({"preset": preset.name()});
        match &preset.kind {
            PresetKind::Fail { reason } => body["reason"] = json!(reason),
            PresetKind::RateLimited { retry_after_secs } => {
                body["retry_after_secs"] = json!(retry_after_secs);
            }
            PresetKind::SlowNetwork { delay_ms } => body["delay_ms"] = json!(delay_ms),
            PresetKind::Pass | PresetKind::Outage | PresetKind::RegionMismatch => {}
        }
        if let Some(key) = &preset.api_key {
            body["api_key"] = json!(key);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_and_refusals() {
        let fail = parse(&body(json!({"name": "fail"}))).unwrap().unwrap();
        assert_eq!(
            fail.kind,
            PresetKind::Fail {
                reason: "eyes_closed".into()
            }
        );
        assert!(parse(&body(json!({"name": "none"}))).unwrap().is_none());
        for bad in [
            json!({"name": "nope"}),
            json!({}),
            json!({"name": "fail", "reason": "bored"}),
            json!({"name": "outage", "api_key": "x"}),
            json!({"name": "slow_network", "delay_ms": 1.5}),
            json!({"name": "slow_network", "delay_ms": -1}),
            json!({"name": "rate_limited", "retry_after_secs": 86401}),
        ] {
            let err = parse(&body(bad.clone())).unwrap_err();
            assert_eq!(err.code, "invalid_request", "{bad}");
        }
    }
}
