//! Retry advice: whether and when to repeat a request that failed.
//!
//! Call [`RetryPolicy::advise`] after every attempt of a request that did not give a usable
//! answer: a transport failure or a response. The advisor never sleeps; it says when.
//!
//! The rules:
//!
//! - A failure **before sending** (DNS, connect, TLS: [`Observed::FailedBeforeSending`]) is
//!   retryable for every operation: iProov never saw the request.
//! - **408, 429 and 5xx** responses, and failures **after sending** (timeout, reset:
//!   [`Observed::MayHaveReachedServer`]), are retryable only for the operations that are safe
//!   to repeat ([`Operation::is_idempotent`]: enrol/verify token, access token, get user,
//!   availability).
//! - The other operations are never repeated once the request may have reached iProov:
//!   - **validate** (enrol or verify): a failure after sending, a 408 or a 5xx gives
//!     [`Advice::OutcomeUnknown`] with the `outcome_unknown` error, whose message says not to
//!     call validate again for that token and to treat the attempt as inconclusive. A 429 is
//!     an explicit refusal: [`Advice::GiveUp`] (parse it: `too_many_requests`).
//!   - **enrol image, invalidate, activate, suspend, update, delete**: a failure after
//!     sending gives [`Advice::OutcomeUnknown`] (the message says to check the resource's
//!     state before repeating); a 408, 429 or 5xx gives [`Advice::GiveUp`] with
//!     [`GiveUpReason::NotIdempotent`]: parse the response to get iProov's error.
//! - Any other response (200, or a 4xx other than 408/429) gives [`Advice::GiveUp`] with
//!   [`GiveUpReason::FinalResponse`]: parse it; it is the result or the error. So does a
//!   408/429/5xx whose iProov error body names a code no retry can fix (anything but
//!   `server_error`, `too_many_requests` and RFC 6749's `temporarily_unavailable`): iProov's
//!   reference answers a bad key on the token endpoint with 500 `invalid_key`. A 5xx without
//!   an iProov body (a proxy's HTML page) stays retryable.
//! - At most [`RetryPolicy::max_retries`] retries (default 2, so 3 attempts in all).
//! - The delay before retry `n` (attempt `n` just failed) is `d = min(base · 2^(n−1), cap)`
//!   (0.5 s doubling, capped at 8 s), jittered to `floor(d/2) + floor((d − floor(d/2)) ·
//!   jitter)` with the caller's `jitter` in [0, 1): between 50 % and 100 % of `d`.
//! - `Retry-After` (delay-seconds or an HTTP date read against `now`) is honoured: the retry
//!   is at `now + max(Retry-After, jittered delay)`. Above
//!   [`RetryPolicy::max_retry_after_ms`] (default 60 s) the advice is to give up. An
//!   unreadable `Retry-After` is ignored.
//!
//! An OAuth rejection (401 `invalid_oauth`, `token_quota_exceeded`) is the token manager's
//! business (`flows::token_manager`), not a retry: it is a final response here.

use crate::decode::{error_body, retry_after_seconds_ms};
use crate::error::Error;
use crate::http::Response;
use crate::json_object::json_object;
use crate::operation::Operation;
use serde::Serialize;
use serde_json::{Value, json};

/// What happened to the attempt that just ended.
#[derive(Debug, Clone, Copy)]
pub enum Observed<'a> {
    /// A response arrived (any status).
    Response(Response<'a>),
    /// The request was never sent: DNS failure, connection refused, TLS handshake failure.
    FailedBeforeSending,
    /// The request may have reached iProov but no complete answer came back: a timeout or a
    /// connection reset after (part of) the request was written.
    MayHaveReachedServer,
}

/// Why not to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// A final answer (200, or a 4xx other than 408/429): parse it.
    FinalResponse,
    /// A 408/429/5xx for an operation that is not repeated once it may have reached iProov:
    /// parse the response to get iProov's error.
    NotIdempotent,
    /// The policy's retries are used up: surface the last error.
    RetriesExhausted,
    /// iProov asked to wait longer than the policy allows: surface the error.
    RetryAfterTooLong,
}

impl GiveUpReason {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FinalResponse => "final_response",
            Self::NotIdempotent => "not_idempotent",
            Self::RetriesExhausted => "retries_exhausted",
            Self::RetryAfterTooLong => "retry_after_too_long",
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advice {
    /// Send the same request again at `at_ms` (Unix ms); `delay_ms` is `at_ms - now`.
    RetryAt {
        /// When to send the retry.
        at_ms: u64,
        /// How long from `now` that is.
        delay_ms: u64,
    },
    /// Do not repeat the request. Parse the response if there is one, else surface the
    /// transport error.
    GiveUp {
        /// Why.
        reason: GiveUpReason,
    },
    /// The request may have taken effect but its answer is lost. Never repeat it; record the
    /// error (a validate's attempt is inconclusive: see the journey).
    OutcomeUnknown(Error),
}

impl Advice {
    /// The canonical JSON of the advice: `{"action": "retry_at", "at_ms", "delay_ms"}`,
    /// `{"action": "give_up", "reason"}` or `{"action": "outcome_unknown", "error"}`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::RetryAt { at_ms, delay_ms } => {
                json!({"action": "retry_at", "at_ms": at_ms, "delay_ms": delay_ms})
            }
            Self::GiveUp { reason } => json!({"action": "give_up", "reason": reason.as_str()}),
            Self::OutcomeUnknown(error) => {
                json!({"action": "outcome_unknown", "error": error.to_json()})
            }
        }
    }
}

/// The retry limits. The defaults follow the issue: 2 retries, 0.5 s doubling to 8 s,
/// `Retry-After` up to 60 s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// The delay before the first retry, before jitter.
    pub base_delay_ms: u64,
    /// The largest delay before jitter.
    pub max_delay_ms: u64,
    /// The longest `Retry-After` honoured; a longer one means give up.
    pub max_retry_after_ms: u64,
}
json_object! {
    RetryPolicy, deny_unknown_fields;
    dflt max_retries, dflt base_delay_ms, dflt max_delay_ms, dflt max_retry_after_ms,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            max_retry_after_ms: 60_000,
        }
    }
}

/// What the rules make of an attempt, before the retry budget and delays.
enum Verdict {
    Retryable,
    Final(GiveUpReason),
    Unknown(&'static str),
}

fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// iProov error codes that describe a passing condition, which a later attempt may not
/// meet: a server failure, a rate limit (and OAuth's RFC 6749 `temporarily_unavailable`).
/// Any other code in an error body says what is wrong with the request or its credentials,
/// which no retry can fix (iProov's reference documents a bad key on the token endpoint as
/// HTTP 500 `invalid_key`).
const TRANSIENT_CODES: [&str; 3] = [
    "server_error",
    "too_many_requests",
    "temporarily_unavailable",
];

/// True when the response carries an iProov error body whose code no retry can fix.
fn is_permanent_error(response: &Response<'_>) -> bool {
    error_body(response.body).is_some_and(|body| {
        !body.error.is_empty() && !TRANSIENT_CODES.contains(&body.error.as_str())
    })
}

fn verdict(operation: Operation, observed: &Observed<'_>) -> Verdict {
    match observed {
        Observed::FailedBeforeSending => Verdict::Retryable,
        Observed::MayHaveReachedServer if operation.is_idempotent() => Verdict::Retryable,
        Observed::MayHaveReachedServer => {
            Verdict::Unknown("the request may have reached iProov but no answer came back")
        }
        Observed::Response(r) if !is_retryable_status(r.status) || is_permanent_error(r) => {
            Verdict::Final(GiveUpReason::FinalResponse)
        }
        Observed::Response(_) if operation.is_idempotent() => Verdict::Retryable,
        Observed::Response(r) if operation.is_one_shot() && r.status != 429 => {
            Verdict::Unknown(if r.status == 408 {
                "iProov answered 408 to a validate"
            } else {
                "iProov answered a validate with a server error"
            })
        }
        Observed::Response(_) => Verdict::Final(GiveUpReason::NotIdempotent),
    }
}

impl RetryPolicy {
    /// Call after attempt number `attempt` (1 for the first send) of `operation` ended with
    /// `observed`, at `now` (Unix ms), with `jitter` drawn by the host uniformly from [0, 1).
    /// Returns the advice (see the module docs for the rules).
    ///
    /// Fails with `invalid_input` (field `attempt` or `jitter`) for attempt 0 or a jitter
    /// outside [0, 1).
    pub fn advise(
        &self,
        operation: Operation,
        attempt: u32,
        observed: Observed<'_>,
        now: u64,
        jitter: f64,
    ) -> Result<Advice, Error> {
        if attempt == 0 {
            return Err(Error::invalid_input(
                "attempt",
                "is 1-based; 0 is not an attempt",
            ));
        }
        if !(0.0..1.0).contains(&jitter) {
            return Err(Error::invalid_input("jitter", "must be in [0, 1)"));
        }
        match verdict(operation, &observed) {
            Verdict::Final(reason) => return Ok(Advice::GiveUp { reason }),
            Verdict::Unknown(cause) => {
                return Ok(Advice::OutcomeUnknown(Error::outcome_unknown(
                    operation.name(),
                    cause,
                )));
            }
            Verdict::Retryable => {}
        }
        if attempt > self.max_retries {
            return Ok(Advice::GiveUp {
                reason: GiveUpReason::RetriesExhausted,
            });
        }
        let backoff = self.jittered_delay_ms(attempt, jitter);
        let retry_after = match observed {
            Observed::Response(r) => r
                .header("retry-after")
                .and_then(|value| retry_after_ms(value, now)),
            _ => None,
        };
        if retry_after.is_some_and(|wait| wait > self.max_retry_after_ms) {
            return Ok(Advice::GiveUp {
                reason: GiveUpReason::RetryAfterTooLong,
            });
        }
        let delay_ms = backoff.max(retry_after.unwrap_or(0));
        Ok(Advice::RetryAt {
            at_ms: now.saturating_add(delay_ms),
            delay_ms,
        })
    }

    /// The backoff before retrying after attempt `attempt`, before `Retry-After`:
    /// `d = min(base · 2^(attempt−1), max)`, then `floor(d/2) + floor((d − floor(d/2)) · jitter)`.
    pub fn jittered_delay_ms(&self, attempt: u32, jitter: f64) -> u64 {
        let doublings = attempt.saturating_sub(1).min(63);
        let raw = self
            .base_delay_ms
            .saturating_mul(1u64.checked_shl(doublings).unwrap_or(u64::MAX));
        let delay = raw.min(self.max_delay_ms);
        let floor = delay / 2;
        let span = delay - floor;
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // `span` is at most `max_delay_ms`; any realistic value is exact in an f64.
        let extra = ((span as f64) * jitter).floor() as u64;
        floor.saturating_add(extra.min(span))
    }
}

/// `Retry-After` in milliseconds from `now`: delay-seconds, or an HTTP date (a date in the
/// past gives 0). `None` when the value is neither.
pub fn retry_after_ms(value: &str, now: u64) -> Option<u64> {
    let value = value.trim();
    if let Some(ms) = retry_after_seconds_ms(value) {
        return Some(ms);
    }
    let date_ms = crate::http_date::parse_http_date(value)?.checked_mul(1_000)?;
    Some(date_ms.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(String, String)]) -> Observed<'_> {
        Observed::Response(Response::new(status, headers, b""))
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let full: Vec<u64> = (1..=7).map(|n| p.jittered_delay_ms(n, 0.999_999)).collect();
        assert_eq!(full, vec![499, 999, 1999, 3999, 7999, 7999, 7999]);
        assert_eq!(p.jittered_delay_ms(1, 0.0), 250);
        assert_eq!(p.jittered_delay_ms(40, 0.0), 4_000);
    }

    #[test]
    fn validate_is_never_retried_after_sending() {
        let p = RetryPolicy::default();
        let op = Operation::VerifyValidate;
        let a = p
            .advise(op, 1, Observed::MayHaveReachedServer, 0, 0.5)
            .unwrap();
        assert!(
            matches!(a, Advice::OutcomeUnknown(ref e) if e.message().contains("do not call validate again"))
        );
        assert!(matches!(
            p.advise(op, 1, response(503, &[]), 0, 0.5).unwrap(),
            Advice::OutcomeUnknown(_)
        ));
        assert!(matches!(
            p.advise(op, 1, Observed::FailedBeforeSending, 0, 0.5)
                .unwrap(),
            Advice::RetryAt { .. }
        ));
    }

    #[test]
    fn retry_after_date_is_read_against_now() {
        let p = RetryPolicy::default();
        let headers = vec![(
            "Retry-After".to_owned(),
            "Thu, 01 Jan 1970 00:00:30 GMT".to_owned(),
        )];
        let a = p
            .advise(
                Operation::VerifyToken,
                1,
                response(429, &headers),
                10_000,
                0.0,
            )
            .unwrap();
        assert_eq!(
            a,
            Advice::RetryAt {
                at_ms: 30_000,
                delay_ms: 20_000
            }
        );
        let a = p
            .advise(Operation::VerifyToken, 1, response(429, &headers), 0, 0.0)
            .unwrap();
        assert_eq!(
            a,
            Advice::RetryAt {
                at_ms: 30_000,
                delay_ms: 30_000
            }
        );
        let far = vec![("retry-after".to_owned(), "61".to_owned())];
        assert_eq!(
            p.advise(Operation::VerifyToken, 1, response(503, &far), 0, 0.0)
                .unwrap(),
            Advice::GiveUp {
                reason: GiveUpReason::RetryAfterTooLong
            }
        );
    }
}
