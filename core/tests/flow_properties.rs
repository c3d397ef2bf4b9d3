//! Property tests of the flows: for any sequence of calls,
//! - the token manager never authorizes with a spent token, and never asks for a new token
//!   twice in a row without surfacing the error;
//! - the retry advisor never advises repeating a validate that may have reached iProov (nor any
//!   other non-idempotent request);
//! - with the defaults a journey never allows a 4th attempt, and a refused event never changes it;
//! - no serialized state, `Debug` output or audit record contains a secret.

use iproov_core::flows::{
    Advice, AttemptStatus, AuditContext, AuditRecord, EndReason, Flow, Journey, JourneyPolicy,
    Next, Observed, ResponseCheck, RetryPolicy, TokenManager, TokenPolicy, TokenStep,
};
use iproov_core::ops::users::{UserInput, build_get_user};
use iproov_core::ops::validate::parse_validate;
use iproov_core::{Config, Error, Operation, Region, Response, Secret};
use proptest::prelude::*;

const API_KEY: &str = "32xzb27rikdppxmr3cwa5i8j6leebcrz8awz2o0j";

fn oauth_config(password: &str) -> Config {
    Config::for_region(Region::Eu)
        .with_api_key(API_KEY)
        .with_oauth("oauth-client", Secret::new(password))
        .unwrap()
}

fn error_body(code: &str) -> Vec<u8> {
    format!(r#"{{"error":"{code}","error_description":"x"}}"#).into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Token manager

#[derive(Debug, Clone)]
enum TmEvent {
    Prepare { now: u64 },
    Accept { now: u64, expires_in: Option<u64> },
    Respond { kind: u8 },
    Forget,
    RoundTrip { include_token: bool },
}

fn tm_event() -> impl Strategy<Value = TmEvent> {
    prop_oneof![
        4 => (0u64..8_000_000).prop_map(|now| TmEvent::Prepare { now }),
        2 => (0u64..8_000_000, prop::option::of(0u64..5_000))
            .prop_map(|(now, expires_in)| TmEvent::Accept { now, expires_in }),
        2 => (0u8..5).prop_map(|kind| TmEvent::Respond { kind }),
        1 => Just(TmEvent::Forget),
        1 => any::<bool>().prop_map(|include_token| TmEvent::RoundTrip { include_token }),
    ]
}

/// The model's view of the held token: value, issued, expires, uses.
#[derive(Debug, Clone)]
struct ModelToken {
    value: String,
    issued: u64,
    expires: u64,
    uses: u32,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn token_manager_never_authorizes_with_a_spent_token(
        margin_ms in 0u64..400_000,
        max_uses in 1u32..60,
        events in prop::collection::vec(tm_event(), 1..80),
    ) {
        let config = oauth_config("oauth-password-1");
        let policy = TokenPolicy { margin_ms, max_uses, ..TokenPolicy::default() };
        let mut manager = TokenManager::new(policy).unwrap();
        let mut model: Option<ModelToken> = None;
        let mut counter = 0u32;
        let mut retry_armed = true;
        for event in events {
            match event {
                TmEvent::Prepare { now } => {
                    let mut request = build_get_user(&config, &UserInput { user_id: "u-1".into() }).unwrap();
                    match manager.prepare(&config, Operation::GetUser, &mut request, now).unwrap() {
                        TokenStep::Authorized { uses } => {
                            let token = model.as_mut().expect("authorized without any token");
                            let lifetime = token.expires - token.issued;
                            let spent_at = token.expires - margin_ms.min(lifetime / 2);
                            prop_assert!(now < spent_at, "authorized at {now}, spent from {spent_at}");
                            prop_assert!(token.uses < max_uses, "authorized use {} of {max_uses}", token.uses + 1);
                            token.uses += 1;
                            prop_assert_eq!(uses, token.uses);
                            let expected = format!("Bearer {}", token.value);
                            prop_assert_eq!(request.header("authorization"), Some(expected.as_str()));
                        }
                        TokenStep::NeedToken(token_request) => {
                            prop_assert!(request.header("authorization").is_none());
                            prop_assert!(token_request.url.ends_with("/access_token"));
                            model = None;
                        }
                    }
                }
                TmEvent::Accept { now, expires_in } => {
                    counter += 1;
                    let value = format!("at-token-{counter}");
                    let body = match expires_in {
                        Some(s) => format!(r#"{{"access_token":"{value}","expires_in":{s}}}"#),
                        None => format!(r#"{{"access_token":"{value}"}}"#),
                    };
                    let accepted = manager.accept_token(&config, &Response::new(200, &[], body.as_bytes()), now);
                    let seconds = expires_in.unwrap_or(3_600);
                    if seconds == 0 {
                        prop_assert!(accepted.is_err());
                    } else {
                        prop_assert!(accepted.is_ok());
                        model = Some(ModelToken { value, issued: now, expires: now + seconds * 1_000, uses: 0 });
                    }
                }
                TmEvent::Respond { kind } => {
                    let (status, body) = match kind {
                        0 => (200, b"{}".to_vec()),
                        1 => (401, error_body("invalid_oauth")),
                        2 => (401, error_body("token_quota_exceeded")),
                        3 => (400, error_body("no_user")),
                        _ => (403, error_body("token_quota_exceeded")),
                    };
                    let rejection = kind == 1 || kind == 2 || kind == 4;
                    match manager.on_response(&config, &Response::new(status, &[], &body)) {
                        ResponseCheck::Parse => {
                            prop_assert!(!rejection);
                            retry_armed = true;
                        }
                        ResponseCheck::RetryWithNewToken => {
                            prop_assert!(rejection && retry_armed, "a second retry in a row");
                            retry_armed = false;
                            model = None;
                        }
                        ResponseCheck::Fail(error) => {
                            prop_assert!(rejection && !retry_armed);
                            prop_assert_eq!(error.kind().as_str(), "oauth");
                            retry_armed = true;
                            model = None;
                        }
                    }
                }
                TmEvent::Forget => {
                    manager.forget_token();
                    model = None;
                }
                TmEvent::RoundTrip { include_token } => {
                    manager = TokenManager::from_json(&manager.to_json(include_token)).unwrap();
                    if !include_token {
                        model = None;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Retry advisor

fn observed_after_sending() -> impl Strategy<Value = (Option<(u16, Option<String>)>,)> {
    prop_oneof![
        Just((None,)),
        (
            prop_oneof![
                prop::sample::select(vec![200u16, 400, 401, 404, 408, 429, 500, 502, 503, 504]),
                100u16..600,
            ],
            prop::option::of(prop_oneof![
                (0u64..100_000).prop_map(|s| s.to_string()),
                Just("Wed, 01 May 2024 12:30:10 GMT".to_owned()),
                "[ -~]{0,20}",
            ])
        )
            .prop_map(|(status, retry_after)| (Some((status, retry_after)),)),
    ]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (0u32..6, 0u64..2_000, 0u64..20_000, 0u64..120_000).prop_map(
        |(max_retries, base_delay_ms, max_delay_ms, max_retry_after_ms)| RetryPolicy {
            max_retries,
            base_delay_ms,
            max_delay_ms,
            max_retry_after_ms,
        },
    )
}

fn observed_view<'h>(
    observed: &Option<(u16, Option<String>)>,
    headers: &'h mut Vec<(String, String)>,
) -> Observed<'h> {
    *headers = observed
        .as_ref()
        .and_then(|(_, ra)| ra.clone())
        .map(|v| vec![("Retry-After".to_owned(), v)])
        .unwrap_or_default();
    match observed {
        None => Observed::MayHaveReachedServer,
        Some((status, _)) => Observed::Response(Response::new(*status, headers, b"")),
    }
}

fn not_idempotent() -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|op| !op.is_idempotent())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn advisor_never_repeats_a_request_that_may_have_taken_effect(
        policy in policy(),
        op in prop::sample::select(not_idempotent()),
        attempt in 1u32..4,
        (observed,) in observed_after_sending(),
        now in 0u64..4_000_000_000_000,
        jitter in 0.0f64..1.0,
    ) {
        let mut headers = Vec::new();
        let obs = observed_view(&observed, &mut headers);
        let advice = policy.advise(op, attempt, obs, now, jitter).unwrap();
        prop_assert!(!matches!(advice, Advice::RetryAt { .. }), "{op} retried: {advice:?}");
        if op.is_one_shot() && observed.is_none() {
            match &advice {
                Advice::OutcomeUnknown(e) => {
                    prop_assert!(e.message().contains("do not call validate again"));
                }
                other => prop_assert!(false, "validate after sending gave {other:?}"),
            }
        }
    }

    #[test]
    fn retries_respect_the_budget_and_the_delays(
        policy in policy(),
        op in prop::sample::select(Operation::ALL.to_vec()),
        attempt in 1u32..12,
        (observed,) in observed_after_sending(),
        now in 0u64..4_000_000_000_000,
        jitter in 0.0f64..1.0,
    ) {
        let mut headers = Vec::new();
        let obs = observed_view(&observed, &mut headers);
        let advice = policy.advise(op, attempt, obs, now, jitter).unwrap();
        if let Advice::RetryAt { at_ms, delay_ms } = advice {
            prop_assert!(op.is_idempotent());
            prop_assert!(attempt <= policy.max_retries);
            prop_assert_eq!(at_ms, now + delay_ms);
            prop_assert!(delay_ms <= policy.max_delay_ms.max(policy.max_retry_after_ms));
        }
    }

    #[test]
    fn failures_before_sending_are_retried_while_retries_remain(
        op in prop::sample::select(Operation::ALL.to_vec()),
        attempt in 1u32..5,
        now in 0u64..4_000_000_000_000,
        jitter in 0.0f64..1.0,
    ) {
        let policy = RetryPolicy::default();
        let advice = policy.advise(op, attempt, Observed::FailedBeforeSending, now, jitter).unwrap();
        if attempt <= 2 {
            let base = 500u64 << (attempt - 1);
            match advice {
                Advice::RetryAt { delay_ms, .. } => {
                    prop_assert!(delay_ms >= base / 2 && delay_ms < base, "{delay_ms} for {base}");
                }
                other => prop_assert!(false, "{other:?}"),
            }
        } else {
            prop_assert!(matches!(advice, Advice::GiveUp { .. }), "{:?}", advice);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Journey

#[derive(Debug, Clone)]
enum JEvent {
    Issue { token: u8, dt: u64 },
    Validate { token: u8, passed: bool, dt: u64 },
    Fail { token: u8, unknown: bool, dt: u64 },
    End { token: u8, reason: u8, dt: u64 },
    RoundTrip,
}

fn j_event() -> impl Strategy<Value = JEvent> {
    let dt = prop_oneof![0u64..1_000, 100_000u64..200_000];
    prop_oneof![
        3 => (0u8..8, dt.clone()).prop_map(|(token, dt)| JEvent::Issue { token, dt }),
        3 => (0u8..8, any::<bool>(), dt.clone())
            .prop_map(|(token, passed, dt)| JEvent::Validate { token, passed, dt }),
        1 => (0u8..8, any::<bool>(), dt.clone())
            .prop_map(|(token, unknown, dt)| JEvent::Fail { token, unknown, dt }),
        1 => (0u8..8, 0u8..3, dt).prop_map(|(token, reason, dt)| JEvent::End { token, reason, dt }),
        1 => Just(JEvent::RoundTrip),
    ]
}

fn token_name(n: u8) -> String {
    format!("tok{n:02}")
}

fn validate_result(passed: bool) -> iproov_core::ops::validate::ValidateResult {
    let body = format!(r#"{{"passed":{passed},"frame":"AAAA","reason":"r"}}"#);
    let config = Config::for_region(Region::Eu);
    parse_validate(&config, &Response::new(200, &[], body.as_bytes())).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_default_journey_never_allows_a_fourth_attempt(
        flow in prop_oneof![Just(Flow::Enrol), Just(Flow::Verify)],
        events in prop::collection::vec(j_event(), 1..60),
    ) {
        let mut journey = Journey::new("u-1", flow, None, JourneyPolicy::default()).unwrap();
        let mut now = 1_714_566_600_000u64;
        for event in events {
            let before = journey.clone();
            let outcome: Option<Result<Next, Error>> = match event {
                JEvent::Issue { token, dt } => {
                    now += dt;
                    let result = journey.token_issued(&token_name(token), now);
                    if before.attempts().len() >= 3 {
                        prop_assert!(result.is_err(), "a 4th token was accepted");
                    }
                    Some(result)
                }
                JEvent::Validate { token, passed, dt } => {
                    now += dt;
                    Some(journey.validated(&token_name(token), &validate_result(passed), now))
                }
                JEvent::Fail { token, unknown, dt } => {
                    now += dt;
                    let error = if unknown {
                        Error::outcome_unknown(flow.validate_operation().name(), "lost")
                    } else {
                        Error::api("invalid_token", 400, None)
                    };
                    Some(journey.validate_failed(&token_name(token), &error, now))
                }
                JEvent::End { token, reason, dt } => {
                    now += dt;
                    let reason = [EndReason::Expired, EndReason::Invalidated, EndReason::Abandoned][usize::from(reason)];
                    Some(journey.end_attempt(&token_name(token), reason, now))
                }
                JEvent::RoundTrip => {
                    let json = journey.to_json();
                    prop_assert!(!json.to_string().contains("AAAA"), "an image in the journey state");
                    journey = Journey::from_json(&json).unwrap();
                    prop_assert_eq!(&journey, &before);
                    None
                }
            };
            if let Some(Err(error)) = &outcome {
                prop_assert_eq!(&journey, &before, "a refused event changed the journey: {}", error);
            }
            prop_assert!(journey.attempts().len() <= 3);
            let passed = journey.attempts().iter().filter(|a| a.status == AttemptStatus::Passed).count();
            prop_assert!(passed <= 1);
            if journey.attempts().len() == 3 && passed == 0 {
                let next = journey.next(now + 200_000);
                prop_assert!(!matches!(next, Next::StartAttempt { .. }), "{:?}", next);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

fn secret_text(prefix: &'static str) -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,40}".prop_map(move |s| format!("{prefix}{s}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_state_or_record_contains_a_secret(
        api_secret in secret_text("sec-"),
        password in secret_text("pw-"),
        access_token in secret_text("at-"),
        echo in any::<bool>(),
        include_frame in any::<bool>(),
        now in 0u64..4_000_000_000_000,
    ) {
        let config = Config::for_region(Region::Eu)
            .with_service_credentials(API_KEY, Secret::new(api_secret.clone()))
            .with_oauth("oauth-client", Secret::new(password.clone()))
            .unwrap();
        let held = Secret::new(access_token.clone());
        let secrets = [api_secret.as_str(), password.as_str(), access_token.as_str()];
        let leaks = |text: &str| secrets.iter().find(|s| text.contains(**s)).map(|s| s.to_string());

        // Token manager: JSON without the token, and Debug.
        let mut manager = TokenManager::default();
        let body = format!(r#"{{"access_token":"{access_token}","expires_in":3600,"scope":"user-read"}}"#);
        manager.accept_token(&config, &Response::new(200, &[], body.as_bytes()), now).unwrap();
        let mut request = build_get_user(&config, &UserInput { user_id: "u-1".into() }).unwrap();
        manager.prepare(&config, Operation::GetUser, &mut request, now).unwrap();
        for text in [
            manager.to_json(false).to_string(),
            format!("{manager:?}"),
            format!("{request:?}"),
            serde_json::to_string(&manager.status(now)).unwrap(),
        ] {
            prop_assert_eq!(leaks(&text), None, "{}", text);
        }

        // Audit records of the access token, of errors and of a validate.
        let context = AuditContext { token: Some(access_token.clone()), include_frame, ..AuditContext::default() };
        let token = iproov_core::ops::oauth::parse_access_token(&config, &Response::new(200, &[], body.as_bytes())).unwrap();
        let mut records = vec![
            AuditRecord::success(Operation::AccessToken, &context, &token, now),
            AuditRecord::failure(Operation::AccessToken, &context, &Error::outcome_unknown("access_token", "lost"), now),
        ];
        let described = if echo { format!("bad {api_secret} / {password}") } else { "bad".to_owned() };
        let error_json = format!(r#"{{"error":"invalid_key","error_description":"{described}"}}"#);
        let garbage = format!(r#"{{"secret":"{api_secret}","access_token":"{access_token}","x":"#);
        for (op, status, body) in [
            (Operation::EnrolToken, 401u16, error_json.as_bytes()),
            (Operation::AccessToken, 200, garbage.as_bytes()),
            (Operation::VerifyValidate, 200, br#"{"passed":true,"frame":"AAAA","signals":{"secret":"s"}}"#.as_slice()),
        ] {
            let json_config = iproov_core::operation::JsonConfig { config: config.clone().with_access_token(held.clone()).unwrap() };
            let ctx = AuditContext { include_frame, ..AuditContext::default() };
            records.push(match iproov_core::operation::parse(op, &json_config, &Response::new(status, &[], body)) {
                Ok(result) => AuditRecord::success(op, &ctx, &result, now),
                Err(error) => AuditRecord::failure(op, &ctx, &error, now),
            });
        }
        let all = config.redactor().with(&[&held]);
        for record in records {
            let structural = record.to_json().to_string();
            let redacted = record.redact(&all).to_json().to_string();
            prop_assert_eq!(leaks(&redacted), None, "{}", redacted);
            if !echo {
                prop_assert_eq!(leaks(&structural), None, "{}", structural);
            }
        }

        // Journey and retry advice carry no credentials at all.
        let mut journey = Journey::new("u-1", Flow::Verify, None, JourneyPolicy::default()).unwrap();
        journey.token_issued("tok01", now).unwrap();
        journey.validated("tok01", &validate_result(true), now).unwrap();
        let advice = RetryPolicy::default()
            .advise(Operation::VerifyValidate, 1, Observed::MayHaveReachedServer, now, 0.5)
            .unwrap();
        for text in [journey.to_json().to_string(), format!("{journey:?}"), advice.to_json().to_string()] {
            prop_assert_eq!(leaks(&text), None, "{}", text);
        }
    }
}
