//! The journey service's policy: its limits, their defaults and why, and what core derives
//! from the client's call options (how long a validate or a token request can take).

use crate::driver::{DriverOptions, INTERACTIVE_MAX_WAIT_MS};
use crate::error::Error;
use crate::json_object::json_object;
use crate::operation::{Operation, from_json_value as from_value};
use serde::Serialize;
use serde_json::Value;

/// How long an instance's claim on a journey's next token request, or on its outcome write,
/// outlives the calls it covers before another instance may take over: 10 s.
pub const CLAIM_MARGIN_MS: u64 = 10_000;

/// How long the outcome of a validate is written again while the store fails, before it goes
/// to the spool: 3 s (backing off 100, 200, 400, 800, 1600 ms). Long enough for a database
/// failover's first seconds or a SQLite write lock, short enough for the browser waiting.
pub const STORE_RETRY_MS: u64 = 3_000;

/// The service's limits, as the host gives them. JSON: every field optional, core's defaults
/// below. [`ServicePolicy::resolve`] checks them against the client and derives the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePolicy {
    /// Attempts a user has at one flow within `attempt_window_ms` (iProov recommends at most
    /// 3 per journey; a journey here is one user's attempts at one flow in that window, so a
    /// reload, a new journey or a second tab does not reset the count). Attempts whose
    /// outcome is unknown, or that failed on iProov's side, are not counted. Default 3.
    pub max_attempts: u32,
    /// How long a user's attempts at a flow count, from the first one: 1 hour. After it (or
    /// after a pass), the next start opens a new journey with every attempt.
    pub attempt_window_ms: u64,
    /// Token requests (each billable) one user may cause in `token_window_ms`, whatever they
    /// end with: 10 (3 attempts, and room for token requests that iProov refused or that a
    /// fault lost). A bot behind one account cannot run up the bill beyond it. Counted per
    /// request the service starts: the client may send one again after a 5xx or a failed
    /// connection (its retry policy, 2 retries by default), answers iProov does not bill.
    pub user_token_requests: u32,
    /// The window of `user_token_requests`: 1 hour.
    pub token_window_ms: u64,
    /// Token requests the whole service may make in `service_window_ms`, over every user
    /// (`None`: no such budget, the default). A cap on the bill, checked across instances.
    pub service_token_requests: Option<u32>,
    /// The window of `service_token_requests`: 1 day.
    pub service_window_ms: u64,
    /// A token not validated this long after it was issued is expired (iProov: 2 minutes).
    pub token_ttl_ms: u64,
    /// A validate begun this long ago whose outcome was never written is presumed lost (its
    /// instance died) and settled `outcome_unknown`. `None` (the default): derived from the
    /// client, its validate's longest possible run plus [`CLAIM_MARGIN_MS`]; a value shorter
    /// than that is refused, since a slow pass would be settled unknown while iProov answers.
    pub stale_validate_ms: Option<u64>,
    /// How long a journey is kept after its last change: 30 days.
    pub retention_ms: u64,
    /// The `resource` sent with every token request.
    pub resource: String,
}
json_object! {
    ServicePolicy, deny_unknown_fields;
    dflt max_attempts, dflt attempt_window_ms, dflt user_token_requests, dflt token_window_ms,
    opt service_token_requests, dflt service_window_ms, dflt token_ttl_ms, opt stale_validate_ms,
    dflt retention_ms, dflt resource,
}

impl Default for ServicePolicy {
    fn default() -> Self {
        Self {
            max_attempts: crate::flows::journey::DEFAULT_MAX_ATTEMPTS,
            attempt_window_ms: 3_600_000,
            user_token_requests: 10,
            token_window_ms: 3_600_000,
            service_token_requests: None,
            service_window_ms: 86_400_000,
            token_ttl_ms: crate::flows::journey::DEFAULT_TOKEN_TTL_MS,
            stale_validate_ms: None,
            retention_ms: 30 * 24 * 3_600_000,
            resource: "iproov-sansio journey".to_owned(),
        }
    }
}

/// The longest a call of `operation` can take through a driver with `options`, every retry
/// included: each send runs to its deadline, and each wait before a retry is the longest the
/// policy allows (a bounded call waits at most `max_wait_ms`).
pub fn longest_call_ms(
    options: &DriverOptions,
    operation: Operation,
    max_wait_ms: Option<u64>,
) -> u64 {
    let retry = &options.retry;
    let sends = u64::from(retry.max_retries).saturating_add(1);
    let mut wait = retry.max_delay_ms.max(retry.max_retry_after_ms);
    if operation.is_one_shot() {
        // A validate is sent again only when it never left (no Retry-After applies).
        wait = retry.max_delay_ms;
    }
    if let Some(max) = max_wait_ms {
        wait = wait.min(max);
    }
    let mut total = sends
        .saturating_mul(options.timeout_ms(operation))
        .saturating_add(u64::from(retry.max_retries).saturating_mul(wait));
    if operation.needs_access_token() && options.timeout_ms.is_none() {
        // The users API may first fetch the OAuth token, with its own retries.
        total = total.saturating_add(longest_call_ms(
            options,
            Operation::AccessToken,
            max_wait_ms,
        ));
    }
    total
}

/// A checked policy with what core derived from the client: what a pump starts with. JSON
/// (the host keeps it as it is): `{"policy": {...}, "token_claim_ms",
/// "token_claim_interactive_ms"}`, the policy with `stale_validate_ms` filled in and how long
/// a token request's claim holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// The policy, `stale_validate_ms` set.
    pub policy: ServicePolicy,
    /// The claim on a token request lasts this long (an unbounded call).
    pub token_claim_ms: u64,
    /// The claim on a browser-facing token request lasts this long.
    pub token_claim_interactive_ms: u64,
}
json_object! {
    Resolved, deny_unknown_fields;
    req policy, req token_claim_ms, req token_claim_interactive_ms,
}

impl ServicePolicy {
    /// The policy as JSON.
    pub fn to_json(&self) -> Value {
        crate::json_value::to_json_value(self)
    }

    /// Reads a policy (`invalid_input` naming the field).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        from_value("policy", value)
    }

    /// Checks the policy against the client's call options (`client`: the driver options it
    /// was made with) and derives what depends on them. Fails with `invalid_input` naming
    /// the field: a zero limit or window, or a `stale_validate_ms` shorter than the
    /// client's longest validate plus [`CLAIM_MARGIN_MS`].
    pub fn resolve(&self, client: &DriverOptions) -> Result<Resolved, Error> {
        let positive = [
            ("max_attempts", u64::from(self.max_attempts)),
            ("attempt_window_ms", self.attempt_window_ms),
            ("user_token_requests", u64::from(self.user_token_requests)),
            ("token_window_ms", self.token_window_ms),
            ("service_window_ms", self.service_window_ms),
            ("token_ttl_ms", self.token_ttl_ms),
            ("retention_ms", self.retention_ms),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(Error::invalid_input(field, "must be at least 1"));
            }
        }
        if self.service_token_requests == Some(0) {
            return Err(Error::invalid_input(
                "service_token_requests",
                "must be at least 1 (or absent)",
            ));
        }
        if self.user_token_requests < self.max_attempts {
            return Err(Error::invalid_input(
                "user_token_requests",
                "must be at least max_attempts: every attempt needs a token request",
            ));
        }
        crate::validation::check_required_text("resource", &self.resource)?;
        let validate = longest_call_ms(client, Operation::EnrolValidate, None);
        let needed = validate.saturating_add(CLAIM_MARGIN_MS);
        let stale = match self.stale_validate_ms {
            None => needed,
            Some(ms) if ms < needed => {
                return Err(Error::invalid_input(
                    "stale_validate_ms",
                    format!(
                        "is {ms} ms, but the client's validate may run for {validate} ms (its \
                         deadline and retries before sending); give at least {needed} ms or \
                         leave it out (core then derives it)"
                    ),
                ));
            }
            Some(ms) => ms,
        };
        let claim = |max_wait| {
            longest_call_ms(client, Operation::EnrolToken, max_wait).saturating_add(CLAIM_MARGIN_MS)
        };
        Ok(Resolved {
            policy: Self {
                stale_validate_ms: Some(stale),
                ..self.clone()
            },
            token_claim_ms: claim(None),
            token_claim_interactive_ms: claim(Some(INTERACTIVE_MAX_WAIT_MS)),
        })
    }
}

impl Resolved {
    /// `stale_validate_ms`, always set once resolved.
    pub fn stale_validate_ms(&self) -> u64 {
        self.policy.stale_validate_ms.unwrap_or(u64::MAX)
    }

    /// The resolved policy as JSON (what hosts keep and hand to every pump).
    pub fn to_json(&self) -> Value {
        crate::json_value::to_json_value(self)
    }

    /// Reads what [`Resolved::to_json`] gave (`invalid_input`, field `setup`).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        from_value("setup", value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_defaults_fit_the_default_client() {
        let resolved = ServicePolicy::default()
            .resolve(&DriverOptions::default())
            .unwrap();
        // 3 sends of 20 s and 2 backoffs of at most 8 s, plus the margin.
        assert_eq!(
            resolved.stale_validate_ms(),
            3 * 20_000 + 2 * 8_000 + CLAIM_MARGIN_MS
        );
        // 3 sends of 10 s; 2 waits of at most 60 s, or 2 s for a browser's request.
        assert_eq!(resolved.token_claim_ms, 30_000 + 120_000 + CLAIM_MARGIN_MS);
        assert_eq!(
            resolved.token_claim_interactive_ms,
            30_000 + 4_000 + CLAIM_MARGIN_MS
        );
    }

    #[test]
    fn a_stale_limit_shorter_than_the_clients_validate_is_refused() {
        let slow = DriverOptions::from_json_text(br#"{"timeout_ms": 600000}"#).unwrap();
        let policy = ServicePolicy {
            stale_validate_ms: Some(90_000),
            ..ServicePolicy::default()
        };
        let error = policy.resolve(&slow).unwrap_err();
        assert_eq!(error.field(), Some("stale_validate_ms"));
        assert!(policy.resolve(&DriverOptions::default()).is_ok());
        // Left out, it is derived from the slow client.
        let derived = ServicePolicy::default().resolve(&slow).unwrap();
        assert!(derived.stale_validate_ms() > 3 * 600_000);
    }

    #[test]
    fn zero_limits_are_refused_by_name() {
        for (field, value) in [
            ("max_attempts", json!({"max_attempts": 0})),
            ("attempt_window_ms", json!({"attempt_window_ms": 0})),
            ("user_token_requests", json!({"user_token_requests": 2})),
            (
                "service_token_requests",
                json!({"service_token_requests": 0}),
            ),
        ] {
            let policy = ServicePolicy::from_json(&value).unwrap();
            let error = policy.resolve(&DriverOptions::default()).unwrap_err();
            assert_eq!(error.field(), Some(field), "{value}");
        }
        let unknown = ServicePolicy::from_json(&json!({"max_attempt": 3})).unwrap_err();
        assert_eq!(unknown.code(), "invalid_input");
    }
}
