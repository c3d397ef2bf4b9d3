//! Multi-step logic as plain state the host advances: OAuth token reuse, retry advice,
//! a user's attempts (journey) and audit records. Nothing here reads a clock: every method
//! that needs time takes `now` in Unix milliseconds, and randomness (retry jitter) is an
//! argument too.
//!
//! - [`token_manager`]: [`TokenManager`] reuses one OAuth access token within iProov's limits
//!   (1 hour or 50 requests) and asks for a new one once after a rejection, never in a loop.
//! - [`retry`]: [`RetryPolicy::advise`] says whether and when to repeat a failed request, and
//!   never repeats a validate that may have reached iProov.
//! - [`journey`]: [`Journey`] counts one user's attempts at enrol or verify (3 by default) and
//!   refuses events out of order.
//! - [`audit`]: [`AuditRecord`] is the JSON record to store for every operation, free of
//!   secrets.
//! - [`json`]: the same over JSON ([`json::new_state`], [`json::run_step`]), for bindings and
//!   the flow vectors.
//!
//! # A verify journey
//!
//! The host sends each request with its own HTTP client; here the answers are made up.
//!
//! ```
//! use iproov_core::flows::{AuditContext, AuditRecord, Flow, Journey, JourneyPolicy, Next};
//! use iproov_core::flows::{Advice, Observed, RetryPolicy};
//! use iproov_core::ops::{claim, validate};
//! use iproov_core::{Config, Region, Response, Secret};
//!
//! let config = Config::for_region(Region::Eu)
//!     .with_service_credentials("0123456789abcdefghij0123456789abcdefghij", Secret::new("sec-x"));
//! let now = 1_714_566_600_000;
//! let mut journey = Journey::new("8f14e45f-ea1b", Flow::Verify, None, JourneyPolicy::default())?;
//!
//! // 1. Start an attempt: get a verify token.
//! assert!(matches!(journey.next(now), Next::StartAttempt { attempt: 1, .. }));
//! let request = claim::build_verify_token(&config, &journey.claim_input("Login"))?;
//! // ... send `request`; on a transport error or 429/5xx ask the retry advisor:
//! let advice = RetryPolicy::default().advise(
//!     journey.flow().token_operation(), 1, Observed::FailedBeforeSending, now, 0.42)?;
//! assert!(matches!(advice, Advice::RetryAt { .. }));
//! let body = br#"{"token":"3170a1c2","user_id":"8f14e45f-ea1b"}"#;
//! let claim = claim::parse_claim_token(&config, &Response::new(200, &[], body))?;
//! journey.token_issued(&claim.token, now + 400)?;
//! // Store `journey.to_json()`; hand `claim.token` to the front-end SDK.
//!
//! // 2. The SDK finished: validate exactly once.
//! let input = validate::ValidateInput {
//!     user_id: journey.user_id().to_owned(),
//!     token: claim.token.clone(),
//!     client: "Mozilla/5.0".to_owned(),
//!     risk_profile: None,
//!     activate: None,
//! };
//! let request = validate::build_verify_validate(&config, &input)?;
//! // ... send it. A timeout after sending would give `Advice::OutcomeUnknown`: then call
//! // `journey.validate_failed(token, &error, now)` and never validate that token again.
//! let body = br#"{"passed":false,"token":"3170a1c2","type":"verify","reason":"too_much_movement"}"#;
//! let result = validate::parse_validate(&config, &Response::new(200, &[], body))?;
//! let next = journey.validated(&claim.token, &result, now + 30_000)?;
//! assert!(matches!(next, Next::StartAttempt { attempt: 2, attempts_left: 2 }));
//!
//! // 3. Keep an audit record of the validate.
//! let context = AuditContext { attempt: Some(1), ..AuditContext::default() };
//! let record = AuditRecord::success(journey.flow().validate_operation(), &context, &result, now + 30_000);
//! assert_eq!(record.to_json()["outcome"], "failed");
//! # Ok::<(), iproov_core::Error>(())
//! ```

mod attempt;
pub mod audit;
pub mod journey;
pub mod json;
pub mod retry;
pub mod token_manager;

pub use audit::{AuditContext, AuditOutcome, AuditRecord, rfc3339_utc};
pub use journey::{
    Attempt, AttemptStatus, EndReason, Flow, Journey, JourneyPolicy, Next, ResultSummary,
};
pub use json::{StepOutput, new_state, run_step};
pub use retry::{Advice, GiveUpReason, Observed, RetryPolicy};
pub use token_manager::{ResponseCheck, TokenManager, TokenPolicy, TokenStatus, TokenStep};
