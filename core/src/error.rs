//! The one error type: every failure is data with a stable `code`.
//!
//! Hosts map [`Error::kind`] to their own typed errors (a Python exception class, a JS `Error`
//! subclass) by [`ErrorKind::class_name`], so the mapping is decided here once, not per binding.
//! A biometric failure (`passed: false`) is never an error: it is a validate result.

use crate::redact::Redactor;
use serde::Serialize;
use std::fmt;

/// Stable codes of the errors this library raises itself (API errors keep iProov's own code).
pub mod codes {
    /// An input was rejected before any request was built.
    pub const INVALID_INPUT: &str = "invalid_input";
    /// The response body is not what the operation returns.
    pub const DECODE_ERROR: &str = "decode_error";
    /// A status the operation does not define, without an iProov error body.
    pub const UNEXPECTED_STATUS: &str = "unexpected_status";
    /// The response body is larger than [`crate::http::MAX_BODY_BYTES`].
    pub const BODY_TOO_LARGE: &str = "body_too_large";
    /// A one-shot request (validate) may have reached the server but no answer came back.
    pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";
    /// A flow was driven out of order (validate before a token, a second validate, ...).
    pub const INVALID_STATE: &str = "invalid_state";
    /// The request could not be sent (DNS, connect, TLS).
    pub const CONNECTION_ERROR: &str = "connection_error";
    /// No complete response arrived in time.
    pub const TIMEOUT: &str = "timeout";
    /// The caller aborted the call.
    pub const ABORTED: &str = "aborted";
    /// iProov: the API key or secret is wrong, or was used against another region.
    pub const INVALID_KEY: &str = "invalid_key";
    /// iProov: the rate limit of the token endpoints was exceeded.
    pub const TOO_MANY_REQUESTS: &str = "too_many_requests";
    /// iProov: the claim token is wrong, reused, or validated before streaming finished.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// iProov: a generic server error.
    pub const SERVER_ERROR: &str = "server_error";
    /// The journey service: a limit of its policy (attempts, token requests) is reached.
    pub const LIMIT_EXCEEDED: &str = "limit_exceeded";
    /// The journey service: the store failed (a database down, locked, full, read-only).
    pub const STORE_UNAVAILABLE: &str = "store_unavailable";
}

/// The family an error belongs to; each host has one typed error per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An input failed a check before anything was built. Fix the input; never retry as is.
    InvalidInput,
    /// 401/500 `invalid_key`: wrong key or secret, usually a key used against the wrong region.
    InvalidKey,
    /// 429 `too_many_requests`.
    RateLimited,
    /// `invalid_token`: the claim token is wrong, expired, reused or not yet streamed.
    InvalidToken,
    /// The OAuth step failed: `invalid_oauth`, `token_quota_exceeded`, `invalid_client`, ...
    OAuth,
    /// iProov reported a server error (5xx with an iProov error body).
    Server,
    /// Any other error iProov reported in its error body.
    Api,
    /// The response could not be understood: not JSON, wrong shape, too large, odd status.
    Decode,
    /// A one-shot request may have reached iProov but its answer was lost.
    OutcomeUnknown,
    /// The request could not be sent.
    Connection,
    /// No complete answer in time.
    Timeout,
    /// The caller aborted the call (an `AbortSignal`, a cancelled task).
    Aborted,
    /// A flow (journey, token manager) was driven out of order.
    InvalidState,
    /// A limit of the journey service's policy is reached: try again after `retry_after_ms`.
    LimitExceeded,
    /// The journey service's store failed; a validated outcome travels with the error.
    StoreUnavailable,
}

impl ErrorKind {
    /// Every family, each with its own host class.
    pub const ALL: [ErrorKind; 15] = [
        Self::InvalidInput,
        Self::InvalidKey,
        Self::RateLimited,
        Self::InvalidToken,
        Self::OAuth,
        Self::Server,
        Self::Api,
        Self::Decode,
        Self::OutcomeUnknown,
        Self::Connection,
        Self::Timeout,
        Self::Aborted,
        Self::InvalidState,
        Self::LimitExceeded,
        Self::StoreUnavailable,
    ];

    /// Snake-case name of the family, as in canonical JSON's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::InvalidKey => "invalid_key",
            Self::RateLimited => "rate_limited",
            Self::InvalidToken => "invalid_token",
            Self::OAuth => "oauth",
            Self::Server => "server",
            Self::Api => "api",
            Self::Decode => "decode",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Connection => "connection",
            Self::Timeout => "timeout",
            Self::Aborted => "aborted",
            Self::InvalidState => "invalid_state",
            Self::LimitExceeded => "limit_exceeded",
            Self::StoreUnavailable => "store_unavailable",
        }
    }

    /// The family of a snake-case name ([`ErrorKind::as_str`]), if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The family every host gives canonical error JSON whose `kind` it does not know (a
    /// newer core's, a hand-made dict's, or none at all): `api`, so the class is `ApiError`.
    /// Why: core's families are fixed by the error's origin, and the only errors whose
    /// families grow without core's say are iProov's own codes, which core already reads as
    /// `api` when it has no family for them ([`Error::api`]). One rule, here, for Python's
    /// and JavaScript's error classes (generated from it) and core's web decision alike.
    pub const UNKNOWN: ErrorKind = ErrorKind::Api;

    /// The family of a `kind` name as a host reads it: [`ErrorKind::parse`], else
    /// [`ErrorKind::UNKNOWN`].
    pub fn of_name(name: &str) -> Self {
        Self::parse(name).unwrap_or(Self::UNKNOWN)
    }

    /// The host-side class name, identical in Python and JavaScript.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInputError",
            Self::InvalidKey => "InvalidKeyError",
            Self::RateLimited => "RateLimitedError",
            Self::InvalidToken => "InvalidTokenError",
            Self::OAuth => "OAuthError",
            Self::Server => "ServerError",
            Self::Api => "ApiError",
            Self::Decode => "DecodeError",
            Self::OutcomeUnknown => "OutcomeUnknownError",
            Self::Connection => "ConnectionError",
            Self::Timeout => "TimeoutError",
            Self::Aborted => "AbortedError",
            Self::InvalidState => "InvalidStateError",
            Self::LimitExceeded => "LimitExceededError",
            Self::StoreUnavailable => "StoreUnavailableError",
        }
    }

    /// The class this family's class extends in every host: `ApiError` for the families of
    /// errors iProov reported, `TransportError` for the ones of a send that failed, and
    /// `IProovError` (the root) for the rest.
    pub fn parent_class_name(self) -> &'static str {
        match self {
            Self::InvalidKey
            | Self::RateLimited
            | Self::InvalidToken
            | Self::OAuth
            | Self::Server => "ApiError",
            Self::Connection | Self::Timeout | Self::Aborted => "TransportError",
            _ => "IProovError",
        }
    }

    /// True for the families that carry an error reported by iProov itself.
    pub fn is_api(self) -> bool {
        matches!(
            self,
            Self::InvalidKey
                | Self::RateLimited
                | Self::InvalidToken
                | Self::OAuth
                | Self::Server
                | Self::Api
        )
    }
}

pub(crate) const OAUTH_CODES: &[&str] = &[
    "invalid_oauth",
    "token_quota_exceeded",
    "invalid_client",
    "invalid_grant",
    "invalid_scope",
    "unsupported_grant_type",
    "insufficient_scope",
];

/// Every failure of this library. Its canonical JSON (`serde::Serialize`) is what the vectors
/// compare and what hosts store: `{"code", "status"?, "kind", "message", ...fields}`.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Error(pub(crate) Box<ErrorData>);

#[derive(Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorData {
    pub(crate) code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body_excerpt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) operation: Option<&'static str>,
    /// Which limit of the journey service's policy (`limit_exceeded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) limit: Option<String>,
    /// The store call that failed (`store_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) store_operation: Option<String>,
    /// The journey concerned (`store_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) journey_id: Option<String>,
    /// The validated outcome the store could not take (`store_unavailable` after a validate):
    /// what the caller would have got, `{journey_id, passed, reason?, attempt, state,
    /// attempts_left, next}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<serde_json::Value>,
}

impl Error {
    fn bare(code: &str, status: Option<u16>, kind: ErrorKind, message: String) -> Self {
        Self(Box::new(ErrorData {
            code: code.to_owned(),
            status,
            kind: kind.as_str(),
            message,
            description: None,
            field: None,
            region: None,
            base_url: None,
            retry_after_ms: None,
            path: None,
            body_excerpt: None,
            operation: None,
            limit: None,
            store_operation: None,
            journey_id: None,
            result: None,
        }))
    }

    /// An error of iProov's own family that the journey service concluded from iProov's
    /// answers (no HTTP status of its own): `code` is iProov's, `message` says what to do.
    pub fn derived_api(code: &str, message: impl Into<String>) -> Self {
        Self::bare(code, None, ErrorKind::Api, message.into())
    }

    /// A limit of the journey service's policy is reached (`limit`: `attempts`,
    /// `user_token_requests` or `service_token_requests`); `retry_after_ms`: when the limit's
    /// window lets the next request through, from now.
    pub fn limit_exceeded(
        limit: &str,
        retry_after_ms: Option<u64>,
        problem: impl fmt::Display,
    ) -> Self {
        let mut error = Self::bare(
            codes::LIMIT_EXCEEDED,
            None,
            ErrorKind::LimitExceeded,
            problem.to_string(),
        );
        error.0.limit = Some(limit.to_owned());
        error.0.retry_after_ms = retry_after_ms;
        error
    }

    /// The journey service's store failed at `store_operation` (`get`, `insert`, `update`,
    /// `append_audit`, ...) for journey `journey_id`; `result`: the validated outcome it could
    /// not store, if there is one (the caller still gets it). The store's own error (which
    /// may quote a connection string) never goes in: hosts chain it as the cause.
    pub fn store_unavailable(
        store_operation: &str,
        journey_id: Option<&str>,
        result: Option<serde_json::Value>,
    ) -> Self {
        let message = match &result {
            Some(_) => format!(
                "the journey store failed ({store_operation}) after iProov answered: the \
                 validated outcome is in this error (result); a service with a spool keeps it \
                 there until the store is back"
            ),
            None => {
                format!("the journey store failed ({store_operation}); nothing was sent to iProov")
            }
        };
        let mut error = Self::bare(
            codes::STORE_UNAVAILABLE,
            None,
            ErrorKind::StoreUnavailable,
            message,
        );
        error.0.store_operation = Some(store_operation.to_owned());
        error.0.journey_id = journey_id.map(str::to_owned);
        error.0.result = result;
        error
    }

    /// An input that failed a check; `field` names it, `problem` says what is wrong.
    pub fn invalid_input(field: &str, problem: impl fmt::Display) -> Self {
        let mut error = Self::bare(
            codes::INVALID_INPUT,
            None,
            ErrorKind::InvalidInput,
            format!("invalid {field}: {problem}"),
        );
        error.0.field = Some(field.to_owned());
        error
    }

    /// An error iProov reported in its `{"error", "error_description"}` body.
    pub fn api(code: &str, status: u16, description: Option<String>) -> Self {
        let kind = Self::api_kind(code, status);
        let message = match &description {
            Some(text) => format!("iProov returned {status} {code}: {text}"),
            None => format!("iProov returned {status} {code}"),
        };
        let mut error = Self::bare(code, Some(status), kind, message);
        error.0.description = description;
        error
    }

    fn api_kind(code: &str, status: u16) -> ErrorKind {
        match code {
            codes::INVALID_KEY => ErrorKind::InvalidKey,
            codes::TOO_MANY_REQUESTS => ErrorKind::RateLimited,
            codes::INVALID_TOKEN => ErrorKind::InvalidToken,
            c if OAUTH_CODES.contains(&c) => ErrorKind::OAuth,
            codes::SERVER_ERROR => ErrorKind::Server,
            _ if status >= 500 => ErrorKind::Server,
            _ => ErrorKind::Api,
        }
    }

    /// A body that is not what the operation returns. `path` is where decoding stopped.
    pub fn decode(status: u16, problem: impl fmt::Display, path: Option<String>) -> Self {
        let mut error = Self::bare(
            codes::DECODE_ERROR,
            Some(status),
            ErrorKind::Decode,
            format!("could not decode the {status} response: {problem}"),
        );
        error.0.path = path.filter(|p| !p.is_empty() && p != ".");
        error
    }

    /// A status the operation does not define, with no iProov error body.
    pub fn unexpected_status(status: u16) -> Self {
        Self::bare(
            codes::UNEXPECTED_STATUS,
            Some(status),
            ErrorKind::Decode,
            format!("iProov does not define HTTP {status} for this operation"),
        )
    }

    /// A body over the size cap; nothing of it was decoded.
    pub fn body_too_large(status: u16, size: usize, limit: usize) -> Self {
        Self::bare(
            codes::BODY_TOO_LARGE,
            Some(status),
            ErrorKind::Decode,
            format!("the {status} response body has {size} bytes, over the {limit}-byte limit"),
        )
    }

    /// The request may have reached iProov but no answer came back, so its effect is unknown.
    pub fn outcome_unknown(operation: &'static str, cause: impl fmt::Display) -> Self {
        let advice = if operation.ends_with("validate") {
            "do not call validate again for this token (iProov accepts one validate per token); \
             treat this attempt as inconclusive and start a new attempt with a new token"
        } else {
            "check the resource's state before repeating the request"
        };
        let mut error = Self::bare(
            codes::OUTCOME_UNKNOWN,
            None,
            ErrorKind::OutcomeUnknown,
            format!("{operation}: the outcome is unknown ({cause}); {advice}"),
        );
        error.0.operation = Some(operation);
        error
    }

    /// A flow driven out of order: the event is refused and the state is unchanged.
    pub fn invalid_state(problem: impl fmt::Display) -> Self {
        Self::bare(
            codes::INVALID_STATE,
            None,
            ErrorKind::InvalidState,
            problem.to_string(),
        )
    }

    /// The request could not be sent (DNS, connect, TLS). Hosts raise this from their HTTP client.
    pub fn connection(cause: impl fmt::Display) -> Self {
        Self::bare(
            codes::CONNECTION_ERROR,
            None,
            ErrorKind::Connection,
            format!("could not reach iProov: {cause}"),
        )
    }

    /// No complete response in time. Hosts raise this from their HTTP client.
    pub fn timeout(cause: impl fmt::Display) -> Self {
        Self::bare(
            codes::TIMEOUT,
            None,
            ErrorKind::Timeout,
            format!("no complete answer from iProov in time: {cause}"),
        )
    }

    /// The connection failed after the request was sent, before a complete answer.
    pub fn connection_after_sending(cause: impl fmt::Display) -> Self {
        Self::bare(
            codes::CONNECTION_ERROR,
            None,
            ErrorKind::Connection,
            format!(
                "the connection failed after the request was sent, before a complete answer: {cause}"
            ),
        )
    }

    /// The caller aborted the call.
    pub fn aborted(cause: impl fmt::Display) -> Self {
        Self::bare(
            codes::ABORTED,
            None,
            ErrorKind::Aborted,
            format!("the caller aborted the call: {cause}"),
        )
    }

    /// This error with every credential `redactor` knows replaced in every text it holds.
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        let data = &mut *self.0;
        for text in [
            Some(&mut data.code),
            Some(&mut data.message),
            data.description.as_mut(),
            data.field.as_mut(),
            data.base_url.as_mut(),
            data.path.as_mut(),
            data.body_excerpt.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if let std::borrow::Cow::Owned(clean) = redactor.redact(text) {
                *text = clean;
            }
        }
        self
    }

    pub(crate) fn with_body_excerpt(mut self, excerpt: Option<String>) -> Self {
        self.0.body_excerpt = excerpt;
        self
    }

    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.0.operation = Some(operation);
        self
    }

    /// The stable code: iProov's `error` value for API errors, else one of [`codes`].
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// The HTTP status, for errors that come from a response.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The family, which decides the host's error class.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of_name(self.0.kind)
    }

    /// A readable sentence, free of secrets.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// iProov's `error_description`, when it gave one.
    pub fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The input field at fault (`invalid_input`).
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// The region the client was configured for (`invalid_key`).
    pub fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }

    /// The base URL the client was configured with (`invalid_key`).
    pub fn base_url(&self) -> Option<&str> {
        self.0.base_url.as_deref()
    }

    /// How long iProov asked to wait, in milliseconds (`too_many_requests`, or a 503 that
    /// said so).
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.0.retry_after_ms
    }

    /// Takes `Retry-After` from the answer that gave this error, in either of its forms
    /// (delay-seconds or an HTTP date, read against `now`), for a 429 or 503 (the statuses
    /// RFC 9110 gives it meaning for) when the error does not hold one yet. The error a
    /// caller gets then says when to try again, whichever form iProov (or a proxy) used.
    #[must_use]
    pub fn with_retry_after(mut self, response: &crate::http::Response<'_>, now: u64) -> Self {
        if self.0.retry_after_ms.is_none() && matches!(response.status, 429 | 503) {
            self.0.retry_after_ms = response
                .header("retry-after")
                .and_then(|value| crate::flows::retry::retry_after_ms(value, now));
        }
        self
    }

    /// Which limit was reached (`limit_exceeded`).
    pub fn limit(&self) -> Option<&str> {
        self.0.limit.as_deref()
    }

    /// The validated outcome a failed store could not take (`store_unavailable`).
    pub fn result(&self) -> Option<&serde_json::Value> {
        self.0.result.as_ref()
    }

    /// The same error with another message (the journey service names an operator's action).
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }

    /// Where in the body decoding stopped (`decode_error`).
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// A bounded excerpt of the body with secrets redacted (decode errors).
    pub fn body_excerpt(&self) -> Option<&str> {
        self.0.body_excerpt.as_deref()
    }

    /// The canonical JSON of this error (what vectors compare and hosts store).
    pub fn to_json(&self) -> serde_json::Value {
        crate::json_value::to_json_value(self)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.0.code)
            .field("status", &self.0.status)
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_codes_map_to_families() {
        assert_eq!(
            Error::api("invalid_key", 401, None).kind(),
            ErrorKind::InvalidKey
        );
        assert_eq!(
            Error::api("token_quota_exceeded", 401, None).kind(),
            ErrorKind::OAuth
        );
        assert_eq!(Error::api("weird", 503, None).kind(), ErrorKind::Server);
        assert_eq!(Error::api("no_user", 400, None).kind(), ErrorKind::Api);
        assert_eq!(
            Error::unexpected_status(418).kind().class_name(),
            "DecodeError"
        );
    }

    #[test]
    fn outcome_unknown_for_validate_says_not_to_validate_again() {
        let e = Error::outcome_unknown("verify_validate", "timed out after sending");
        assert!(e.message().contains("do not call validate again"));
        assert_eq!(e.to_json()["operation"], "verify_validate");
    }
}
