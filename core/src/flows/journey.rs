//! A user's attempts at one flow (enrol or verify, GPA or LA), as state the host keeps
//! between HTTP requests.
//!
//! Each attempt has its own claim token; iProov accepts one validate per token and recommends
//! at most 3 attempts per journey. The host:
//!
//! 1. asks [`Journey::next`] what to do;
//! 2. on [`Next::StartAttempt`] gets a token (`ops::claim`) and calls [`Journey::token_issued`];
//! 3. when the SDK says the capture ended, validates once and calls [`Journey::validated`]
//!    with the result, or [`Journey::validate_failed`] with the error (including the retry
//!    advisor's `outcome_unknown`); or ends the attempt without a validate
//!    ([`Journey::end_attempt`]: token expired, invalidated, abandoned);
//! 4. stores [`Journey::to_json`] and restores it with [`Journey::from_json`] when the user's
//!    browser comes back.
//!
//! Every token issued counts as an attempt, whatever its outcome. Events out of order
//! (validate before a token, a second validate of a token, a new token after success, a new
//! token while one is pending, a token beyond the limit) fail with `invalid_state` and leave
//! the journey unchanged.
//!
//! A pending token counts as expired `token_ttl_ms` after it was issued (default 2 minutes,
//! iProov's spec; the Web SDK changelog speaks of 10 minutes): [`Journey::next`] then offers a
//! new attempt and [`Journey::token_issued`] records the old one as expired. A validate result
//! for it is still accepted until then, because iProov's answer is authoritative.

use crate::error::{Error, ErrorKind};
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::operation::Operation;
use crate::operation::from_json_value as from_value;
use crate::ops::claim::{AssuranceType, ClaimInput, ClaimToken};
use crate::ops::validate::ValidateResult;
use crate::validation::{check_token, check_user_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::attempt::{Attempt, AttemptStatus, EndReason, ResultSummary};

/// Attempts per journey by default (iProov's recommendation; contracts may differ).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// How long a pending token lives by default (iProov spec 2.13: 2 minutes).
pub const DEFAULT_TOKEN_TTL_MS: u64 = 120_000;

/// Which claim flow the journey is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Capture enrol: `/claim/enrol/token` then `/claim/enrol/validate`.
    Enrol,
    /// Verify: `/claim/verify/token` then `/claim/verify/validate`.
    Verify,
}

impl Flow {
    /// `enrol` or `verify` (also the validate result's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrol => "enrol",
            Self::Verify => "verify",
        }
    }

    /// The operation that issues this flow's tokens.
    pub fn token_operation(self) -> Operation {
        match self {
            Self::Enrol => Operation::EnrolToken,
            Self::Verify => Operation::VerifyToken,
        }
    }

    /// The operation that validates this flow's tokens.
    pub fn validate_operation(self) -> Operation {
        match self {
            Self::Enrol => Operation::EnrolValidate,
            Self::Verify => Operation::VerifyValidate,
        }
    }
}

/// The journey's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JourneyPolicy {
    /// Attempts (tokens) allowed, at least 1.
    pub max_attempts: u32,
    /// After this long a pending token counts as expired (at least 1 ms).
    pub token_ttl_ms: u64,
}
json_object! {
    JourneyPolicy, deny_unknown_fields;
    dflt max_attempts, dflt token_ttl_ms,
}

impl Default for JourneyPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            token_ttl_ms: DEFAULT_TOKEN_TTL_MS,
        }
    }
}

/// What the host should do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "next", rename_all = "snake_case")]
pub enum Next {
    /// Get a new token (enrol/verify token) and call [`Journey::token_issued`].
    StartAttempt {
        /// The number the new attempt will have.
        attempt: u32,
        /// Attempts still allowed, this one included.
        attempts_left: u32,
    },
    /// A token is pending: let the SDK run, then validate it once.
    AwaitValidate {
        /// The pending token.
        token: String,
        /// Its attempt number.
        attempt: u32,
        /// When it counts as expired (Unix ms).
        expires_at_ms: u64,
    },
    /// Every allowed attempt was used without success.
    Exhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// An attempt passed: the journey is over.
    Done {
        /// The attempt that passed.
        attempt: u32,
        /// Its result (no images).
        result: ResultSummary,
    },
}

impl Next {
    /// The canonical JSON: `{"next": "start_attempt" | "await_validate" | "exhausted" |
    /// "done", ...fields}`.
    pub fn to_json(&self) -> Value {
        to_json_value(self)
    }
}

/// Refuses a token answer that names another user than the journey's: iProov's answer says
/// whom the token is tied to, and a journey is one user's attempts (field case C2: iProov's
/// verify page asks for the enrolment's user_id). An answer without `user_id` states
/// nothing to the contrary. Fails with `invalid_input` (field `user_id`).
pub fn check_claim_user(user_id: &str, claim: &ClaimToken) -> Result<(), Error> {
    match claim.user_id.as_deref() {
        Some(named) if named != user_id => Err(Error::invalid_input(
            "user_id",
            "the token answer names another user than this journey's",
        )),
        _ => Ok(()),
    }
}

/// Refuses a validate result at a weaker assurance than the journey asked for: a journey set
/// up for `genuine_presence` does not end on a pass at `liveness` (field case C1, a
/// downgrade-closed integrator). A journey that asked for nothing takes what iProov used (its
/// default is genuine presence); a stronger assurance than asked is accepted. An answer
/// without `assurance_type` is accepted: the token was issued for the assurance asked (iProov
/// refuses one that is not enabled with 403 `invalid_assurance_type`), and such an answer
/// does not state another. Fails with `invalid_input` (field `assurance_type`).
pub fn check_assurance(asked: Option<AssuranceType>, result: &ValidateResult) -> Result<(), Error> {
    let (Some(AssuranceType::GenuinePresence), Some(used)) =
        (asked, result.assurance_type.as_deref())
    else {
        return Ok(());
    };
    if used == AssuranceType::GenuinePresence.as_str() {
        return Ok(());
    }
    Err(Error::invalid_input(
        "assurance_type",
        "the result is not at the genuine_presence assurance this journey asked for",
    ))
}

/// One user's attempts at one flow. See the module docs for when to call each method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Journey {
    user_id: String,
    flow: Flow,
    #[serde(skip_serializing_if = "Option::is_none")]
    assurance_type: Option<AssuranceType>,
    policy: JourneyPolicy,
    attempts: Vec<Attempt>,
}
json_object! {
    Journey, deny_unknown_fields;
    req user_id, req flow, opt assurance_type, opt policy, opt attempts,
}

impl Journey {
    /// A journey with no attempt yet. Fails with `invalid_input` for a `user_id` iProov would
    /// refuse, or a policy with 0 attempts or a 0 ms token lifetime.
    pub fn new(
        user_id: impl Into<String>,
        flow: Flow,
        assurance_type: Option<AssuranceType>,
        policy: JourneyPolicy,
    ) -> Result<Self, Error> {
        let journey = Self {
            user_id: user_id.into(),
            flow,
            assurance_type,
            policy,
            attempts: Vec::new(),
        };
        journey.check_setup()?;
        Ok(journey)
    }

    fn check_setup(&self) -> Result<(), Error> {
        check_user_id("user_id", &self.user_id)?;
        if self.policy.max_attempts == 0 {
            return Err(Error::invalid_input("max_attempts", "must be at least 1"));
        }
        if self.policy.token_ttl_ms == 0 {
            return Err(Error::invalid_input("token_ttl_ms", "must be at least 1"));
        }
        Ok(())
    }

    /// The user.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Enrol or verify.
    pub fn flow(&self) -> Flow {
        self.flow
    }

    /// GPA or LA, when chosen (iProov applies GPA when absent).
    pub fn assurance_type(&self) -> Option<AssuranceType> {
        self.assurance_type
    }

    /// The limits.
    pub fn policy(&self) -> &JourneyPolicy {
        &self.policy
    }

    /// Every attempt so far, oldest first.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// The input of the token request for the next attempt (`ops::claim::build_*_token`).
    pub fn claim_input(&self, resource: impl Into<String>) -> ClaimInput {
        ClaimInput {
            resource: resource.into(),
            user_id: self.user_id.clone(),
            assurance_type: self.assurance_type,
            risk_profile: None,
        }
    }

    fn passed(&self) -> Option<&Attempt> {
        self.attempts
            .iter()
            .find(|a| a.status == AttemptStatus::Passed)
    }

    fn pending(&self) -> Option<&Attempt> {
        self.attempts
            .last()
            .filter(|a| a.status == AttemptStatus::Pending)
    }

    fn expires_at(&self, attempt: &Attempt) -> u64 {
        attempt
            .issued_at_ms
            .saturating_add(self.policy.token_ttl_ms)
    }

    fn attempt_count(&self) -> u32 {
        u32::try_from(self.attempts.len()).unwrap_or(u32::MAX)
    }

    /// What to do next at `now`. A pending token older than `token_ttl_ms` counts as expired.
    pub fn next(&self, now: u64) -> Next {
        if let Some(passed) = self.passed() {
            return Next::Done {
                attempt: passed.number,
                result: passed.result.clone().unwrap_or(ResultSummary {
                    passed: true,
                    ..ResultSummary::default()
                }),
            };
        }
        if let Some(pending) = self.pending() {
            let expires_at_ms = self.expires_at(pending);
            if now < expires_at_ms {
                return Next::AwaitValidate {
                    token: pending.token.clone(),
                    attempt: pending.number,
                    expires_at_ms,
                };
            }
        }
        let used = self.attempt_count();
        if used >= self.policy.max_attempts {
            Next::Exhausted { attempts: used }
        } else {
            Next::StartAttempt {
                attempt: used + 1,
                attempts_left: self.policy.max_attempts - used,
            }
        }
    }

    /// Call when iProov issued a token for this journey's user, at `now`. Records a new
    /// pending attempt and returns [`Next::AwaitValidate`]. A pending token past its lifetime
    /// is recorded as expired first.
    ///
    /// Fails with `invalid_input` for a malformed token, and with `invalid_state` (journey
    /// unchanged) after a success, for a token seen before, while another token is pending,
    /// or when every allowed attempt was used.
    pub fn token_issued(&mut self, token: &str, now: u64) -> Result<Next, Error> {
        check_token(token)?;
        if let Some(passed) = self.passed() {
            return Err(Error::invalid_state(format!(
                "attempt {} already passed: the journey is done, no new token is needed",
                passed.number
            )));
        }
        if let Some(seen) = self.attempts.iter().find(|a| a.token == token) {
            return Err(Error::invalid_state(format!(
                "token {token} already belongs to attempt {}: every attempt needs a new token",
                seen.number
            )));
        }
        let expire_pending = match self.pending() {
            Some(pending) if now < self.expires_at(pending) => {
                return Err(Error::invalid_state(format!(
                    "attempt {} (token {}) is still pending: validate it or end it first",
                    pending.number, pending.token
                )));
            }
            Some(pending) => Some(self.expires_at(pending)),
            None => None,
        };
        let used = self.attempt_count();
        if used >= self.policy.max_attempts {
            return Err(Error::invalid_state(format!(
                "all {} allowed attempts were used: the journey is exhausted",
                self.policy.max_attempts
            )));
        }
        if let (Some(expired_at), Some(last)) = (expire_pending, self.attempts.last_mut()) {
            last.status = AttemptStatus::Expired;
            last.ended_at_ms = Some(expired_at);
        }
        self.attempts.push(Attempt {
            number: used + 1,
            token: token.to_owned(),
            issued_at_ms: now,
            status: AttemptStatus::Pending,
            ended_at_ms: None,
            reason: None,
            error_code: None,
            result: None,
        });
        Ok(self.next(now))
    }

    /// [`Journey::token_issued`] with iProov's token answer: also refuses (`invalid_input`,
    /// field `user_id`, journey unchanged) an answer that names another user.
    pub fn claim_issued(&mut self, claim: &ClaimToken, now: u64) -> Result<Next, Error> {
        check_claim_user(&self.user_id, claim)?;
        self.token_issued(&claim.token, now)
    }

    /// Finds the pending attempt holding `token`, or explains why there is none.
    fn pending_index(&self, token: &str) -> Result<usize, Error> {
        let Some(index) = self.attempts.iter().position(|a| a.token == token) else {
            return Err(Error::invalid_state(format!(
                "no attempt has token {token}: record the token (token_issued) before validating it"
            )));
        };
        match self.attempts.get(index) {
            Some(a) if a.status == AttemptStatus::Pending => Ok(index),
            Some(a) => Err(Error::invalid_state(format!(
                "attempt {} (token {token}) already ended as {}: iProov accepts one validate \
                 per token; start a new attempt instead",
                a.number,
                status_name(a.status)
            ))),
            None => Err(Error::invalid_state("attempt list changed")),
        }
    }

    fn finish(&mut self, index: usize, now: u64, update: impl FnOnce(&mut Attempt)) -> Next {
        if let Some(attempt) = self.attempts.get_mut(index) {
            update(attempt);
            attempt.ended_at_ms = Some(now);
        }
        self.next(now)
    }

    /// Call with the validate result of `token` (enrol or verify validate, parsed), at `now`.
    /// Records `passed` or `failed` (with iProov's reason) and returns what is next:
    /// [`Next::Done`] after a pass, else a new attempt or [`Next::Exhausted`].
    ///
    /// Fails with `invalid_state` (journey unchanged) when no attempt has that token (validate
    /// before a token) or its attempt already ended (a second validate), and with
    /// `invalid_input` (field `token` or `type`) when the result names another token or flow.
    pub fn validated(
        &mut self,
        token: &str,
        result: &ValidateResult,
        now: u64,
    ) -> Result<Next, Error> {
        let index = self.pending_index(token)?;
        if let Some(echoed) = result.token.as_deref().filter(|t| *t != token) {
            return Err(Error::invalid_input(
                "token",
                format!("the validate result is for token {echoed}, not {token}"),
            ));
        }
        if let Some(kind) = result.kind.as_deref().filter(|k| *k != self.flow.as_str()) {
            return Err(Error::invalid_input(
                "type",
                format!(
                    "the validate result is of type {kind}; this is a {} journey",
                    self.flow.as_str()
                ),
            ));
        }
        check_assurance(self.assurance_type, result)?;
        let summary = ResultSummary::from(result);
        Ok(self.finish(index, now, |a| {
            a.status = if result.passed {
                AttemptStatus::Passed
            } else {
                AttemptStatus::Failed
            };
            a.reason = if result.passed {
                None
            } else {
                result.reason.clone()
            };
            a.result = Some(summary);
        }))
    }

    /// Call when the validate of `token` gave an error instead of a result, at `now`: an
    /// iProov error from parsing (`invalid_token`, `invalid_validation`, ...) is recorded as
    /// `error` with its code; `outcome_unknown` (from the retry advisor) as `outcome_unknown`.
    /// Either way the attempt is over: never validate that token again.
    ///
    /// Fails with `invalid_state` like [`Journey::validated`], and with `invalid_input`
    /// (field `error`) for an `invalid_input` or `connection` error: such a validate was never
    /// sent, so the token may still be validated.
    pub fn validate_failed(&mut self, token: &str, error: &Error, now: u64) -> Result<Next, Error> {
        let index = self.pending_index(token)?;
        if matches!(
            error.kind(),
            ErrorKind::InvalidInput | ErrorKind::Connection
        ) {
            return Err(Error::invalid_input(
                "error",
                format!(
                    "{} means the validate was never sent; fix it and validate the token, or end the attempt",
                    error.code()
                ),
            ));
        }
        let status = if error.kind() == ErrorKind::OutcomeUnknown {
            AttemptStatus::OutcomeUnknown
        } else {
            AttemptStatus::Error
        };
        let code = error.code().to_owned();
        Ok(self.finish(index, now, |a| {
            a.status = status;
            a.error_code = Some(code);
        }))
    }

    /// Call when the attempt of `token` ends without a validate, at `now`: the token expired,
    /// the host invalidated it, or the user abandoned the capture.
    ///
    /// Fails with `invalid_state` (journey unchanged) when no attempt has that token or its
    /// attempt already ended.
    pub fn end_attempt(&mut self, token: &str, reason: EndReason, now: u64) -> Result<Next, Error> {
        let index = self.pending_index(token)?;
        Ok(self.finish(index, now, |a| {
            a.status = match reason {
                EndReason::Expired => AttemptStatus::Expired,
                EndReason::Invalidated => AttemptStatus::Invalidated,
                EndReason::Abandoned => AttemptStatus::Abandoned,
            };
        }))
    }

    /// The journey as JSON, to store between requests: `{"user_id", "flow",
    /// "assurance_type"?, "policy": {"max_attempts", "token_ttl_ms"}, "attempts": [...]}`.
    /// It holds no secret and no image.
    pub fn to_json(&self) -> Value {
        to_json_value(self)
    }

    /// Restores a journey saved by [`Journey::to_json`]. Fails with `invalid_input` (field
    /// named, or `attempts` for an inconsistent attempt list: wrong numbering, a pending or
    /// passed attempt that is not the last, more attempts than allowed).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let journey: Self = from_value("state", value)?;
        journey.check_setup()?;
        journey.check_attempts()?;
        Ok(journey)
    }

    fn check_attempts(&self) -> Result<(), Error> {
        let last = self.attempts.len();
        if self.attempt_count() > self.policy.max_attempts {
            return Err(Error::invalid_input(
                "attempts",
                "more attempts than max_attempts",
            ));
        }
        for (i, attempt) in self.attempts.iter().enumerate() {
            if usize::try_from(attempt.number).ok() != Some(i + 1) {
                return Err(Error::invalid_input(
                    "attempts",
                    "attempts must be numbered 1, 2, ...",
                ));
            }
            let open = matches!(
                attempt.status,
                AttemptStatus::Pending | AttemptStatus::Passed
            );
            if open && i + 1 != last {
                return Err(Error::invalid_input(
                    "attempts",
                    "only the last attempt may be pending or passed",
                ));
            }
            if self
                .attempts
                .iter()
                .skip(i + 1)
                .any(|b| b.token == attempt.token)
            {
                return Err(Error::invalid_input("attempts", "a token appears twice"));
            }
        }
        Ok(())
    }
}

fn status_name(status: AttemptStatus) -> &'static str {
    match status {
        AttemptStatus::Pending => "pending",
        AttemptStatus::Passed => "passed",
        AttemptStatus::Failed => "failed",
        AttemptStatus::Error => "error",
        AttemptStatus::OutcomeUnknown => "outcome_unknown",
        AttemptStatus::Expired => "expired",
        AttemptStatus::Invalidated => "invalidated",
        AttemptStatus::Abandoned => "abandoned",
    }
}
