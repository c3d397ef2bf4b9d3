//! Backing off a token endpoint iProov told this service to leave alone for a while.
//!
//! When iProov answers a token request with its rate limit (429 `too_many_requests`) or with a
//! 503 that carries `Retry-After`, every other token request of the same operation until then
//! would get the same answer: each one is a billable-looking call, four store writes and a
//! server thread or event-loop turn spent on a refusal known in advance, and under a flood of
//! browsers (issue 22: 45 at once) they delay the validates of everyone else. RFC 9110
//! §10.2.3 says what `Retry-After` asks for: not to send the request again before then. So
//! the service remembers it (per operation, e.g. `verify_token`), and a start that would ask
//! iProov for a token before then fails at once with `too_many_requests` and the time left,
//! after the user's own record was read (an open token is still given back, a reload still
//! resumes) and before anything is written or sent. Validates are never held back: a token
//! already issued is worth its one validate.
//!
//! The host keeps this as it keeps nothing else: an opaque JSON object (`{"verify_token":
//! <Unix ms>, ...}`) it hands to each pump's request as `"backoff"` and replaces with the
//! `"backoff"` a final action carries (core's `host::pump_next` adds it when the pump learned
//! a new one). It lives in one process: another instance learns from its own first refusal.

use crate::error::{Error, ErrorKind};
use serde_json::{Map, Value};

/// The longest a `Retry-After` holds token requests back (ms): a later time (a proxy's date
/// from a wrong clock, a value of hours) lets the next request after 10 minutes through to
/// ask again.
pub const MAX_BACKOFF_MS: u64 = 600_000;

/// Per operation, the Unix ms before which no request of it is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    /// (operation, Unix ms): a handful at most (the token operations).
    until: Vec<(String, u64)>,
    learned: bool,
}

impl Backoff {
    /// The request's `"backoff"` (absent or `null`: none), read leniently: what is not an
    /// operation's time is left out (at worst one token request more is asked).
    pub fn from_json(value: Option<&Value>) -> Self {
        let mut backoff = Self::default();
        if let Some(map) = value.and_then(Value::as_object) {
            for (operation, until) in map {
                if let Some(until) = until.as_u64() {
                    backoff.until.push((operation.clone(), until));
                }
            }
        }
        backoff
    }

    /// How long from `now` requests of `operation` are still held back (ms), if they are.
    pub fn left(&self, operation: &str, now: u64) -> Option<u64> {
        self.until
            .iter()
            .find(|(name, until)| name == operation && *until > now)
            .map(|(_, until)| until - now)
    }

    /// Takes the error a request of `operation` ended with: iProov's rate limit, or a 503
    /// with `Retry-After`, holds the operation back until then (at most
    /// [`MAX_BACKOFF_MS`]); any other error changes nothing.
    pub fn learn(&mut self, operation: &str, error: &Error, now: u64) {
        let asked = matches!(error.kind(), ErrorKind::RateLimited)
            || (error.status() == Some(503) && error.retry_after_ms().is_some());
        let Some(wait) = error.retry_after_ms().filter(|&ms| asked && ms > 0) else {
            return;
        };
        let until = now.saturating_add(wait.min(MAX_BACKOFF_MS));
        if let Some((_, known)) = self.until.iter_mut().find(|(name, _)| name == operation) {
            if *known >= until {
                return;
            }
            *known = until;
        } else {
            self.until.push((operation.to_owned(), until));
        }
        self.learned = true;
    }

    /// The object the host keeps, when this pump learned something new (times already past
    /// included: they hold nothing back, and there are two token operations at most).
    pub fn learned_json(&self) -> Option<Value> {
        self.learned.then(|| {
            let map: Map<String, Value> = self
                .until
                .iter()
                .map(|(operation, until)| (operation.clone(), Value::from(*until)))
                .collect();
            Value::Object(map)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limited(retry_after_ms: Option<u64>) -> Error {
        let mut error = Error::api("too_many_requests", 429, None);
        error.0.retry_after_ms = retry_after_ms;
        error
    }

    #[test]
    fn a_rate_limit_holds_its_operation_until_retry_after() {
        let mut b = Backoff::from_json(None);
        b.learn("verify_token", &limited(Some(30_000)), 1_000);
        assert_eq!(b.left("verify_token", 1_000), Some(30_000));
        assert_eq!(b.left("verify_token", 30_999), Some(1));
        assert_eq!(b.left("verify_token", 31_000), None);
        assert_eq!(b.left("enrol_token", 1_000), None);
        assert_eq!(b.learned_json(), Some(json!({"verify_token": 31_000})));
        let refused = Error::backing_off(29_000);
        assert_eq!(refused.code(), "too_many_requests");
        assert_eq!(refused.kind(), ErrorKind::RateLimited);
        assert_eq!(
            (refused.status(), refused.retry_after_ms()),
            (None, Some(29_000))
        );
    }

    #[test]
    fn only_a_rate_limit_or_a_503_with_retry_after_holds() {
        let mut b = Backoff::default();
        b.learn("enrol_token", &limited(None), 0);
        let mut busy = Error::api("server_error", 503, None);
        b.learn("enrol_token", &busy, 0);
        b.learn("enrol_token", &Error::api("server_error", 500, None), 0);
        assert_eq!(b.learned_json(), None);
        busy.0.retry_after_ms = Some(5_000);
        b.learn("enrol_token", &busy, 0);
        assert_eq!(b.left("enrol_token", 0), Some(5_000));
    }

    #[test]
    fn the_hold_is_capped_and_never_shortened() {
        let mut b = Backoff::from_json(Some(&json!({"verify_token": 50_000})));
        b.learn("verify_token", &limited(Some(10_000)), 0);
        assert_eq!(
            (b.left("verify_token", 0), b.learned_json()),
            (Some(50_000), None)
        );
        b.learn("verify_token", &limited(Some(86_400_000)), 0);
        assert_eq!(b.left("verify_token", 0), Some(MAX_BACKOFF_MS));
    }

    #[test]
    fn what_is_not_a_time_is_left_out() {
        let read = Backoff::from_json(Some(&json!({"verify_token": 5, "x": "1", "y": -1})));
        assert_eq!(
            (read.left("verify_token", 0), read.left("x", 0)),
            (Some(5), None)
        );
        assert_eq!(Backoff::from_json(Some(&json!([1]))), Backoff::default());
        assert_eq!(Backoff::from_json(Some(&Value::Null)), Backoff::default());
    }
}
