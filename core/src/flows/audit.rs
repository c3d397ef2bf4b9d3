//! Audit records: one JSON object per operation for the host to store.
//!
//! Build one with [`AuditRecord::success`] right after parsing a result, or
//! [`AuditRecord::failure`] after an error (including the retry advisor's `outcome_unknown`),
//! and store [`AuditRecord::to_json`]. A record is
//!
//! ```json
//! {"operation": "verify_validate", "user_id": "...", "token": "...", "attempt": 1,
//!  "at_ms": 1714566600000, "at": "2024-05-01T12:30:00.000Z",
//!  "outcome": "passed", "result": {...}}
//! ```
//!
//! with `outcome` one of `passed`, `failed` (validate; an image enrol answered `success: false`), `token_issued` (enrol/verify token),
//! `token_obtained` (access token), `ok` (any other success), `error` or `outcome_unknown`,
//! and `error` holding the error's canonical JSON on failure.
//!
//! A record never holds the API secret, the OAuth password or an access token: the access
//! token operation's record keeps only `token_type`, `expires_in` and `scope`, every
//! `access_token`, `refresh_token`, `secret`, `password` and `authorization` key is removed at
//! any depth, and [`AuditRecord::redact`] replaces every credential (in every form) found in a value.
//! The validate frames (`frame`, `frame_jpeg`, `iso_19794_5`) are kept only when asked.

use crate::error::{Error, ErrorKind};
use crate::json_value::to_json_value;
use crate::operation::Operation;
use crate::redact::Redactor;
use serde::Serialize;
use serde_json::{Map, Value};

/// Keys removed from every record, at any depth.
const SENSITIVE_KEYS: [&str; 8] = [
    "access_token",
    "refresh_token",
    "secret",
    "api_secret",
    "client_secret",
    "password",
    "oauth_password",
    "authorization",
];

/// The validate result's image fields, kept only on request.
const IMAGE_KEYS: [&str; 3] = ["frame", "frame_jpeg", "iso_19794_5"];

/// Who and what the record is about, as the host knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditContext {
    /// The user; taken from the result's `user_id` when not given.
    pub user_id: Option<String>,
    /// The claim token; taken from a claim or validate result's `token` when not given.
    /// Ignored for `access_token` (an access token never goes in a record).
    pub token: Option<String>,
    /// The journey's attempt number.
    pub attempt: Option<u32>,
    /// Keep the validate frames (base64 images) in the record.
    pub include_frame: bool,
}

/// How the operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Validate: `passed: true`.
    Passed,
    /// Validate: `passed: false`; image enrol: `success: false`.
    Failed,
    /// Enrol or verify token: a claim token was issued.
    TokenIssued,
    /// Access token: a token was obtained (the record does not hold it).
    TokenObtained,
    /// Any other success.
    Ok,
    /// An error (the record's `error`).
    Error,
    /// The request may have taken effect but its answer was lost.
    OutcomeUnknown,
}

impl AuditOutcome {
    /// Every outcome.
    pub const ALL: [AuditOutcome; 7] = [
        Self::Passed,
        Self::Failed,
        Self::TokenIssued,
        Self::TokenObtained,
        Self::Ok,
        Self::Error,
        Self::OutcomeUnknown,
    ];

    /// The snake_case name, as in a record's `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::TokenIssued => "token_issued",
            Self::TokenObtained => "token_obtained",
            Self::Ok => "ok",
            Self::Error => "error",
            Self::OutcomeUnknown => "outcome_unknown",
        }
    }
}

/// One operation's audit record. See the module docs for the JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// The operation's name.
    pub operation: &'static str,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The claim token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The journey's attempt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// When (the `now` given), Unix ms.
    pub at_ms: u64,
    /// The same instant as RFC 3339 UTC with milliseconds.
    pub at: String,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The result's fields, scrubbed (success only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Map<String, Value>>,
    /// The error's canonical JSON (failure only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The HTTP status of the answer this record ends with, when one came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the send this record ends took (ms), from leaving to its answer or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// How many times the request was sent so far (1 for the first send; retries add one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sends: Option<u32>,
}

impl AuditRecord {
    /// Call after `operation` gave `result` (its typed result or canonical JSON) at `now`.
    /// Never fails: a result that does not serialize to an object is recorded without fields.
    pub fn success<T: Serialize + ?Sized>(
        operation: Operation,
        context: &AuditContext,
        result: &T,
        now: u64,
    ) -> Self {
        Self::success_value(operation, context, to_json_value(result), now)
    }

    /// [`AuditRecord::success`] with the result's canonical JSON already at hand (the call
    /// driver's case): no conversion.
    pub fn success_value(
        operation: Operation,
        context: &AuditContext,
        result: Value,
        now: u64,
    ) -> Self {
        let mut fields = match result {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        scrub(&mut fields);
        if operation.is_one_shot() && !context.include_frame {
            for key in IMAGE_KEYS {
                fields.remove(key);
            }
        }
        let outcome = match operation {
            _ if operation.is_one_shot() => match fields.get("passed") {
                Some(Value::Bool(true)) => AuditOutcome::Passed,
                Some(Value::Bool(false)) => AuditOutcome::Failed,
                _ => AuditOutcome::Ok,
            },
            Operation::EnrolToken | Operation::VerifyToken => AuditOutcome::TokenIssued,
            Operation::AccessToken => AuditOutcome::TokenObtained,
            // An image enrol answered `success: false` enrolled nobody (field case C10).
            Operation::EnrolImage if fields.get("success") == Some(&Value::Bool(false)) => {
                AuditOutcome::Failed
            }
            _ => AuditOutcome::Ok,
        };
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
        let user_id = context.user_id.clone().or_else(|| text("user_id"));
        let token = match operation {
            Operation::AccessToken => None,
            Operation::EnrolToken
            | Operation::VerifyToken
            | Operation::EnrolValidate
            | Operation::VerifyValidate
            | Operation::EnrolImage => context.token.clone().or_else(|| text("token")),
            _ => context.token.clone(),
        };
        Self {
            operation: operation.name(),
            user_id,
            token,
            attempt: context.attempt,
            at_ms: now,
            at: rfc3339_utc(now),
            outcome,
            result: Some(fields),
            error: None,
            status: None,
            duration_ms: None,
            sends: None,
        }
    }

    /// Call after `operation` failed with `error` at `now` (a parse error, a transport error
    /// the host gave up on, or the retry advisor's `outcome_unknown`). Never fails.
    pub fn failure(operation: Operation, context: &AuditContext, error: &Error, now: u64) -> Self {
        let mut error_json = error.to_json();
        if let Value::Object(map) = &mut error_json {
            scrub(map);
        }
        let outcome = if error.kind() == ErrorKind::OutcomeUnknown {
            AuditOutcome::OutcomeUnknown
        } else {
            AuditOutcome::Error
        };
        Self {
            operation: operation.name(),
            user_id: context.user_id.clone(),
            token: if operation == Operation::AccessToken {
                None
            } else {
                context.token.clone()
            },
            attempt: context.attempt,
            at_ms: now,
            at: rfc3339_utc(now),
            outcome,
            result: None,
            error: Some(error_json),
            status: None,
            duration_ms: None,
            sends: None,
        }
    }

    /// The record with the facts of the send it ends: the answer's status (if one came), the
    /// send's duration (ms) and how many sends the request has had.
    #[must_use]
    pub fn with_send(mut self, status: Option<u16>, duration_ms: u64, sends: u32) -> Self {
        self.status = status;
        self.duration_ms = Some(duration_ms);
        self.sends = Some(sends);
        self
    }

    /// Replaces every credential `redactor` knows, in every form it travels in, in every text
    /// of the record by `[REDACTED]`. Pass [`crate::Config::redactor`] (extended with any
    /// access token you hold) so that nothing a server echoed into a free-text field leaks.
    pub fn redact(mut self, redactor: &Redactor) -> Self {
        let fix = |s: &mut Option<String>| {
            if let Some(text) = s.as_mut() {
                *text = redactor.redact(text).into_owned();
            }
        };
        fix(&mut self.user_id);
        fix(&mut self.token);
        if let Some(result) = self.result.take() {
            let mut value = Value::Object(result);
            redact_value(&mut value, redactor);
            if let Value::Object(result) = value {
                self.result = Some(result);
            }
        }
        if let Some(error) = self.error.as_mut() {
            redact_value(error, redactor);
        }
        self
    }

    /// The record as JSON, to store.
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// The record as JSON, built field by field (no round trip through text: the driver makes
    /// one per request).
    pub fn into_json(self) -> Value {
        let mut map = Map::new();
        map.insert("operation".into(), Value::from(self.operation));
        if let Some(user_id) = self.user_id {
            map.insert("user_id".into(), Value::from(user_id));
        }
        if let Some(token) = self.token {
            map.insert("token".into(), Value::from(token));
        }
        if let Some(attempt) = self.attempt {
            map.insert("attempt".into(), Value::from(attempt));
        }
        map.insert("at_ms".into(), Value::from(self.at_ms));
        map.insert("at".into(), Value::from(self.at));
        map.insert("outcome".into(), Value::from(self.outcome.as_str()));
        if let Some(result) = self.result {
            map.insert("result".into(), Value::Object(result));
        }
        if let Some(error) = self.error {
            map.insert("error".into(), error);
        }
        if let Some(status) = self.status {
            map.insert("status".into(), Value::from(status));
        }
        if let Some(duration) = self.duration_ms {
            map.insert("duration_ms".into(), Value::from(duration));
        }
        if let Some(sends) = self.sends {
            map.insert("sends".into(), Value::from(sends));
        }
        Value::Object(map)
    }
}

fn scrub(map: &mut Map<String, Value>) {
    map.retain(|key, _| !SENSITIVE_KEYS.contains(&key.to_ascii_lowercase().as_str()));
    for value in map.values_mut() {
        scrub_value(value);
    }
}

fn scrub_value(value: &mut Value) {
    match value {
        Value::Object(map) => scrub(map),
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        _ => {}
    }
}

fn redact_value(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(clean) = redactor.redact(text) {
                *text = clean;
            }
        }
        Value::Object(map) => {
            map.values_mut().for_each(|v| redact_value(v, redactor));
            // Keys are texts of the record too: `signals` is kept verbatim, so iProov (or a
            // caller's result) can name a key after a credential.
            if map
                .keys()
                .any(|key| matches!(redactor.redact(key), std::borrow::Cow::Owned(_)))
            {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(key, v)| (redactor.redact(&key).into_owned(), v))
                    .collect();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, redactor)),
        _ => {}
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`, computed
/// by hand (proleptic Gregorian calendar; no clock, no time zone database).
pub fn rfc3339_utc(ms: u64) -> String {
    let millis = ms % 1_000;
    let seconds = ms / 1_000;
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    let (hour, minute, second) = (in_day / 3_600, in_day % 3_600 / 60, in_day % 60);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_714_566_600_123), "2024-05-01T12:30:00.123Z");
        assert_eq!(rfc3339_utc(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn access_token_record_has_no_token() {
        let result =
            json!({"access_token": "at-abc123", "token_type": "Bearer", "expires_in": 3600});
        let ctx = AuditContext {
            token: Some("at-abc123".into()),
            ..AuditContext::default()
        };
        let record = AuditRecord::success(Operation::AccessToken, &ctx, &result, 0).to_json();
        assert!(!record.to_string().contains("at-abc123"), "{record}");
        assert_eq!(record["outcome"], "token_obtained");
        assert_eq!(record["result"]["expires_in"], 3600);
    }

    #[test]
    fn a_credential_as_a_key_is_redacted_too() {
        let secret = crate::Secret::new("sec-as-a-key-0123");
        let redactor = Redactor::new(&[&secret]);
        let result = json!({"passed": true, "sec-as-a-key-0123": 1,
                            "signals": {"sec-as-a-key-0123": {"x": "sec-as-a-key-0123"}}});
        let record = AuditRecord::success(
            Operation::VerifyValidate,
            &AuditContext::default(),
            &result,
            0,
        )
        .redact(&redactor)
        .to_json();
        assert!(!record.to_string().contains("sec-as-a-key"), "{record}");
        assert_eq!(record["result"]["signals"]["[REDACTED]"]["x"], "[REDACTED]");
        assert_eq!(record["outcome"], "passed");
    }

    #[test]
    fn frames_only_when_asked() {
        let result = json!({"passed": true, "token": "t1", "frame": "AAAA"});
        let plain = AuditRecord::success(
            Operation::VerifyValidate,
            &AuditContext::default(),
            &result,
            0,
        );
        assert!(plain.result.as_ref().unwrap().get("frame").is_none());
        assert_eq!(plain.token.as_deref(), Some("t1"));
        assert_eq!(plain.outcome, AuditOutcome::Passed);
        let ctx = AuditContext {
            include_frame: true,
            ..AuditContext::default()
        };
        let full = AuditRecord::success(Operation::VerifyValidate, &ctx, &result, 0);
        assert_eq!(full.result.unwrap()["frame"], "AAAA");
    }
}
