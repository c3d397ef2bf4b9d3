//! The call driver on a simulated clock: every behaviour the hosts rely on, deterministic.

use iproov_core::driver::{
    Action, CallContext, CallId, Driver, DriverOptions, Poll, TransportFailure,
};
use iproov_core::telemetry::Level;
use iproov_core::{Config, ErrorKind, Operation, Region, Response, Secret};
use serde_json::{Value, json};

const KEY: &str = "d7r4v5e9r2k8e1y6q3w0z5x7c9v2b4n6m8l1k3j5";
const SECRET: &str = "sec-driver-Qm7Zr2Wx9";
const PASSWORD: &str = "pw-driver-Hd4Lk8Ns1";
const USER: &str = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19";
const T0: u64 = 1_751_270_400_000;

fn config() -> Config {
    Config::for_region(Region::Eu)
        .with_service_credentials(KEY, Secret::new(SECRET))
        .with_oauth("oauth-driver", Secret::new(PASSWORD))
        .unwrap()
}

fn driver() -> Driver {
    Driver::new(config(), DriverOptions::default(), 42).unwrap()
}

fn input(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

fn json_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

fn respond(d: &mut Driver, id: CallId, status: u16, body: &str, now: u64) {
    let headers = json_headers();
    d.on_response(id, &Response::new(status, &headers, body.as_bytes()), now);
}

fn sent(poll: &Poll) -> (String, String, u64) {
    match &poll.action {
        Action::Send {
            request,
            timeout_ms,
        } => (request.method.to_string(), request.url.clone(), *timeout_ms),
        other => panic!("expected a send, got {other:?}"),
    }
}

fn authorization(poll: &Poll) -> Option<String> {
    match &poll.action {
        Action::Send { request, .. } => request.header("authorization").map(str::to_owned),
        _ => None,
    }
}

fn done(poll: Poll) -> Value {
    match poll.action {
        Action::Done { result } => result,
        other => panic!("expected done, got {other:?}"),
    }
}

fn failed(poll: Poll) -> iproov_core::Error {
    match poll.action {
        Action::Failed { error } => error,
        other => panic!("expected failed, got {other:?}"),
    }
}

const CLAIM: &str =
    r#"{"token":"1f2e3d4c5b6a7980a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718","user_id":"u"}"#;
const TOKEN: &str =
    r#"{"access_token":"at-driver-Vb6Jc3Tp5Fy0","token_type":"Bearer","expires_in":3600}"#;
const USER_BODY: &str = r#"{"user_id":"8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19","status":"Active"}"#;

#[test]
fn a_service_call_sends_once_and_is_done() {
    let mut d = driver();
    let id = d.start(
        Operation::EnrolToken,
        &input(json!({"resource": "Onboarding", "user_id": USER})),
        CallContext {
            attempt: Some(2),
            ..CallContext::default()
        },
        T0,
    );
    let poll = d.poll(id, T0);
    let (method, url, timeout_ms) = sent(&poll);
    assert_eq!(method, "POST");
    assert!(url.ends_with("/claim/enrol/token"));
    assert_eq!(timeout_ms, 10_000);
    assert!(poll.audit.is_empty());
    respond(&mut d, id, 200, CLAIM, T0 + 5);
    let poll = d.poll(id, T0 + 5);
    assert_eq!(poll.audit.len(), 1);
    assert_eq!(poll.audit[0]["outcome"], "token_issued");
    assert_eq!(poll.audit[0]["attempt"], 2);
    assert_eq!(poll.audit[0]["user_id"], USER);
    let result = done(poll);
    assert_eq!(result["user_id"], "u");
    assert_eq!(d.open_calls(), 0);
    assert_eq!(failed(d.poll(id, T0)).code(), "invalid_state");
}

#[test]
fn a_bad_input_fails_before_anything_is_sent() {
    let mut d = driver();
    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": ".."})),
        CallContext::default(),
        T0,
    );
    let poll = d.poll(id, T0);
    assert_eq!(poll.audit.len(), 1);
    let error = failed(poll);
    assert_eq!(error.code(), "invalid_input");
    assert_eq!(error.field(), Some("user_id"));
    assert_eq!(error.kind().class_name(), "InvalidInputError");
}

#[test]
fn a_quiet_call_makes_no_audit_record_and_ends_alike() {
    // The host has no consumer for the records: the same requests, result and errors, no record.
    let quiet = CallContext {
        quiet: true,
        ..CallContext::default()
    };
    let mut d = driver();
    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        quiet,
        T0,
    );
    let token = d.poll(id, T0);
    assert!(token.audit.is_empty());
    assert!(sent(&token).1.ends_with("/access_token"));
    respond(&mut d, id, 200, TOKEN, T0 + 1);
    let poll = d.poll(id, T0 + 2);
    assert!(poll.audit.is_empty());
    assert!(authorization(&poll).is_some());
    respond(&mut d, id, 503, "", T0 + 3);
    let poll = d.poll(id, T0 + 4);
    assert!(poll.audit.is_empty());
    assert!(matches!(poll.action, Action::SleepUntil { .. }));
    let poll = d.poll(id, T0 + 60_000);
    respond(&mut d, id, 200, USER_BODY, T0 + 60_001);
    assert!(poll.audit.is_empty());
    let poll = d.poll(id, T0 + 60_002);
    assert!(poll.audit.is_empty());
    assert_eq!(done(poll)["status"], "active");

    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": ".."})),
        quiet,
        T0,
    );
    let poll = d.poll(id, T0);
    assert!(poll.audit.is_empty());
    assert_eq!(failed(poll).field(), Some("user_id"));
}

#[test]
fn every_send_has_its_whole_time_however_late_the_host_polls() {
    // The driver hands a send its time, never a point in time: a host that polls long after a
    // backoff ended or a token arrived (a blocked event loop, a slow audit hook) still gets the
    // operation's whole deadline, the same in every host, and nothing it could find passed.
    let options = DriverOptions {
        timeout_ms: Some(1_500),
        ..DriverOptions::default()
    };
    let mut d = Driver::new(config(), options, 42).unwrap();
    let late = 3_600_000;
    let id = d.start(
        Operation::DeleteUser,
        &input(json!({"user_id": USER})),
        CallContext::default(),
        T0,
    );
    let token = d.poll(id, T0 + late);
    assert!(sent(&token).1.ends_with("/access_token"));
    assert_eq!(sent(&token).2, 1_500);
    respond(&mut d, id, 200, TOKEN, T0 + late + 1);
    // The poll that hands the token record (to a hook that may block) emits the send: its
    // time starts when the host starts it.
    let poll = d.poll(id, T0 + 2 * late);
    assert_eq!(poll.audit.len(), 1);
    assert_eq!(sent(&poll).2, 1_500);
    d.cancel(id);

    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    respond(&mut d, id, 503, "", T0 + 1);
    let Action::SleepUntil { at_ms } = d.poll(id, T0 + 1).action else {
        panic!("a retry")
    };
    // Polled an hour after the backoff ended: the retry goes with its whole time.
    let (_, url, timeout_ms) = sent(&d.poll(id, at_ms + late));
    assert!(url.ends_with(USER));
    assert_eq!(timeout_ms, 1_500);
}

#[test]
fn a_503_on_a_token_call_is_retried_after_the_backoff() {
    let mut d = driver();
    let id = d.start(
        Operation::VerifyToken,
        &input(json!({"resource": "Login", "user_id": USER})),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    respond(
        &mut d,
        id,
        503,
        r#"{"error":"server_error","error_description":"busy"}"#,
        T0 + 1,
    );
    let poll = d.poll(id, T0 + 1);
    assert_eq!(poll.audit[0]["outcome"], "error");
    let Action::SleepUntil { at_ms } = poll.action else {
        panic!("{:?}", poll.action)
    };
    assert!((T0 + 251..=T0 + 501).contains(&at_ms), "{at_ms}");
    assert!(matches!(
        d.poll(id, at_ms - 1).action,
        Action::SleepUntil { .. }
    ));
    let _ = sent(&d.poll(id, at_ms));
    respond(&mut d, id, 200, CLAIM, at_ms + 3);
    let _ = done(d.poll(id, at_ms + 3));
}

#[test]
fn validate_is_never_sent_twice_once_it_may_have_reached_iproov() {
    let body = json!({"user_id": USER, "token": "a".repeat(64), "client": "web"});
    type Answer = Box<dyn Fn(&mut Driver, CallId)>;
    let cases: Vec<(&str, Answer)> = vec![
        (
            "503",
            Box::new(|d, id| respond(d, id, 503, r#"{"error":"server_error"}"#, T0 + 1)),
        ),
        (
            "html 502",
            Box::new(|d, id| respond(d, id, 502, "<html>bad gateway</html>", T0 + 1)),
        ),
        (
            "reset after writing",
            Box::new(|d, id| d.on_failure(id, TransportFailure::AfterWritten, "reset", T0 + 1)),
        ),
        (
            "deadline",
            Box::new(|d, id| d.on_failure(id, TransportFailure::Timeout, "deadline", T0 + 1)),
        ),
        (
            "caller abort",
            Box::new(|d, id| d.on_failure(id, TransportFailure::Aborted, "AbortError", T0 + 1)),
        ),
        (
            "undecodable 200",
            Box::new(|d, id| respond(d, id, 200, r#"{"passed":"maybe"}"#, T0 + 1)),
        ),
    ];
    for (what, answer) in cases {
        let mut d = driver();
        let id = d.start(
            Operation::VerifyValidate,
            &input(body.clone()),
            CallContext {
                attempt: Some(1),
                ..CallContext::default()
            },
            T0,
        );
        let _ = sent(&d.poll(id, T0));
        answer(&mut d, id);
        let poll = d.poll(id, T0 + 1);
        assert_eq!(poll.audit.len(), 1, "{what}");
        assert_eq!(poll.audit[0]["outcome"], "outcome_unknown", "{what}");
        let error = failed(poll);
        assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{what}");
        assert!(
            error.message().contains("do not call validate again"),
            "{what}: {}",
            error.message()
        );
    }
    // Before sending: retried.
    let mut d = driver();
    let id = d.start(
        Operation::VerifyValidate,
        &input(body),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    d.on_failure(id, TransportFailure::ConnectionRefused, "refused", T0 + 1);
    let Action::SleepUntil { at_ms } = d.poll(id, T0 + 1).action else {
        panic!()
    };
    let _ = sent(&d.poll(id, at_ms));
}

#[test]
fn a_bad_key_on_the_token_endpoint_is_not_retried() {
    let mut d = driver();
    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        CallContext::default(),
        T0,
    );
    let (_, url, _) = sent(&d.poll(id, T0));
    assert!(url.ends_with("/access_token"));
    respond(
        &mut d,
        id,
        500,
        r#"{"error":"invalid_key","error_description":"Invalid API Key"}"#,
        T0 + 1,
    );
    let error = failed(d.poll(id, T0 + 1));
    assert_eq!(error.code(), "invalid_key");
    assert_eq!(error.kind().class_name(), "InvalidKeyError");
    assert_eq!(error.region(), Some("eu"));
}

/// Starts `n` get_user calls and polls each once.
fn start_users(d: &mut Driver, n: usize, now: u64) -> (Vec<CallId>, Vec<Poll>) {
    let ids: Vec<CallId> = (0..n)
        .map(|_| {
            d.start(
                Operation::GetUser,
                &input(json!({"user_id": USER})),
                CallContext::default(),
                now,
            )
        })
        .collect();
    let polls = ids.iter().map(|id| d.poll(*id, now)).collect();
    (ids, polls)
}

#[test]
fn concurrent_users_calls_share_one_token_request_and_one_refetch() {
    let mut d = driver();
    let (ids, polls) = start_users(&mut d, 20, T0);
    let fetchers: Vec<usize> = (0..20)
        .filter(|i| matches!(polls[*i].action, Action::Send { .. }))
        .collect();
    assert_eq!(fetchers, vec![0], "one call fetches the token");
    assert!(
        polls[1..]
            .iter()
            .all(|p| matches!(p.action, Action::WaitForToken { .. }))
    );
    respond(&mut d, ids[0], 200, TOKEN, T0 + 1);
    let first = d.poll(ids[0], T0 + 1);
    assert!(first.wake, "the others are woken");
    assert_eq!(first.audit[0]["outcome"], "token_obtained");
    assert_eq!(
        authorization(&first).as_deref(),
        Some("Bearer at-driver-Vb6Jc3Tp5Fy0")
    );
    for id in &ids[1..] {
        let poll = d.poll(*id, T0 + 2);
        assert!(authorization(&poll).is_some(), "{:?}", poll.action);
    }
    // iProov drops the token: every call is rejected with it.
    let rejected = r#"{"error":"invalid_oauth","error_description":"token at-driver-Vb6Jc3Tp5Fy0 is not valid"}"#;
    for id in &ids {
        respond(&mut d, *id, 401, rejected, T0 + 3);
    }
    let polls: Vec<Poll> = ids.iter().map(|id| d.poll(*id, T0 + 3)).collect();
    let refetchers: Vec<&Poll> = polls
        .iter()
        .filter(|p| matches!(&p.action, Action::Send { request, .. } if request.url.ends_with("/access_token")))
        .collect();
    assert_eq!(refetchers.len(), 1, "one refetch serves all");
    for poll in &polls {
        let text = serde_json::to_string(&poll.audit).unwrap();
        assert!(!text.contains("at-driver-Vb6Jc3Tp5Fy0"), "{text}");
    }
    let fetcher = ids[polls
        .iter()
        .position(|p| matches!(p.action, Action::Send { .. }))
        .unwrap()];
    respond(
        &mut d,
        fetcher,
        200,
        r#"{"access_token":"at-driver-Second-Kq2Wm7","expires_in":3600}"#,
        T0 + 4,
    );
    let mut results = 0;
    for id in &ids {
        let poll = d.poll(*id, T0 + 5);
        assert_eq!(
            authorization(&poll).as_deref(),
            Some("Bearer at-driver-Second-Kq2Wm7")
        );
        respond(&mut d, *id, 200, USER_BODY, T0 + 6);
        let _ = done(d.poll(*id, T0 + 6));
        results += 1;
    }
    assert_eq!(results, 20);
    assert_eq!(d.open_calls(), 0);
}

#[test]
fn a_second_rejection_in_a_row_fails_redacted() {
    let mut d = driver();
    let (ids, _) = start_users(&mut d, 1, T0);
    let id = ids[0];
    respond(&mut d, id, 200, TOKEN, T0 + 1);
    let _ = sent(&d.poll(id, T0 + 1));
    let echo = format!(
        r#"{{"error":"invalid_oauth","error_description":"at-driver-Vb6Jc3Tp5Fy0 / {PASSWORD} / {SECRET}"}}"#
    );
    respond(&mut d, id, 401, &echo, T0 + 2);
    let (_, url, _) = sent(&d.poll(id, T0 + 2));
    assert!(url.ends_with("/access_token"));
    respond(
        &mut d,
        id,
        200,
        r#"{"access_token":"at-driver-Second-Kq2Wm7","expires_in":3600}"#,
        T0 + 3,
    );
    let _ = sent(&d.poll(id, T0 + 3));
    let echo2 = echo.replace("/ ", "/ at-driver-Second-Kq2Wm7 ");
    respond(&mut d, id, 401, &echo2, T0 + 4);
    let poll = d.poll(id, T0 + 4);
    let records = serde_json::to_string(&poll.audit).unwrap();
    let error = failed(poll);
    assert_eq!(error.kind(), ErrorKind::OAuth);
    let shown = serde_json::to_string(&error.to_json()).unwrap() + &records;
    for leak in [
        "at-driver-Vb6Jc3Tp5Fy0",
        "at-driver-Second-Kq2Wm7",
        PASSWORD,
        SECRET,
    ] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
}

#[test]
fn a_failed_token_request_fails_every_call_waiting_for_it() {
    let mut d = driver();
    let (ids, polls) = start_users(&mut d, 5, T0);
    assert!(matches!(polls[0].action, Action::Send { .. }));
    respond(
        &mut d,
        ids[0],
        400,
        r#"{"error":"invalid_client","error_description":"bad credentials"}"#,
        T0 + 1,
    );
    let poll = d.poll(ids[0], T0 + 1);
    assert!(poll.wake);
    assert_eq!(failed(poll).code(), "invalid_client");
    for id in &ids[1..] {
        let error = failed(d.poll(*id, T0 + 2));
        assert_eq!(error.code(), "invalid_client");
    }
    // A call starting a moment later gets the same answer without a new request...
    let (_, polls) = start_users(&mut d, 1, T0 + 1_500);
    assert!(
        matches!(&polls[0].action, Action::Failed { error } if error.code() == "invalid_client")
    );
    // ... and asks again once the moment has passed.
    let (_, polls) = start_users(&mut d, 1, T0 + 2_001);
    assert!(
        matches!(&polls[0].action, Action::Send { request, .. } if request.url.ends_with("/access_token"))
    );
}

#[test]
fn a_vanished_fetcher_is_taken_over_after_its_deadline() {
    let mut d = driver();
    let (ids, polls) = start_users(&mut d, 2, T0);
    let Action::WaitForToken { until_ms } = polls[1].action else {
        panic!()
    };
    assert_eq!(until_ms, T0 + 10_000 + 1_000);
    let (_, url, _) = sent(&d.poll(ids[1], until_ms));
    assert!(url.ends_with("/access_token"));
    d.cancel(ids[0]);
    respond(&mut d, ids[1], 200, TOKEN, until_ms + 1);
    assert!(authorization(&d.poll(ids[1], until_ms + 1)).is_some());
}

#[test]
fn retry_after_as_a_date_is_honoured() {
    let mut d = driver();
    let id = d.start(
        Operation::EnrolToken,
        &input(json!({"resource": "Onboarding", "user_id": USER})),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    // T0 is 2025-06-30T08:00:00Z; ask for 08:00:05.
    let headers = vec![(
        "Retry-After".to_owned(),
        "Mon, 30 Jun 2025 08:00:05 GMT".to_owned(),
    )];
    d.on_response(
        id,
        &Response::new(429, &headers, br#"{"error":"too_many_requests"}"#),
        T0,
    );
    let Action::SleepUntil { at_ms } = d.poll(id, T0).action else {
        panic!()
    };
    assert_eq!(at_ms, T0 + 5_000);
}

#[test]
fn options_are_checked_when_the_driver_is_made() {
    for bad in [
        r#"{"timeout_ms": 0}"#,
        r#"{"timeout_ms": 600001}"#,
        r#"{"token": {"max_uses": 0}}"#,
        r#"{"retries": 1}"#,
    ] {
        let error = DriverOptions::from_json_text(bad.as_bytes()).unwrap_err();
        assert_eq!(error.code(), "invalid_input", "{bad}");
    }
    let options = DriverOptions::from_json_text(br#"{"timeout_ms": 1500}"#).unwrap();
    assert_eq!(options.timeout_ms(Operation::VerifyValidate), 1_500);
    assert_eq!(
        DriverOptions::default().timeout_ms(Operation::VerifyValidate),
        20_000
    );
}

#[test]
fn an_aborted_token_call_is_not_retried() {
    let mut d = driver();
    let id = d.start(
        Operation::EnrolToken,
        &input(json!({"resource": "Onboarding", "user_id": USER})),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    d.on_failure(id, TransportFailure::Aborted, "the caller's signal", T0 + 1);
    let poll = d.poll(id, T0 + 1);
    assert_eq!(poll.audit.len(), 1);
    let error = failed(poll);
    assert_eq!(error.code(), "aborted");
    assert_eq!(error.kind().class_name(), "AbortedError");
}

#[test]
fn a_caller_abort_while_sleeping_or_waiting_ends_the_call_as_aborted() {
    // Sleeping in a backoff: the abort ends the call at once, with its record.
    let mut d = driver();
    let id = d.start(
        Operation::EnrolToken,
        &input(json!({"resource": "Onboarding", "user_id": USER})),
        CallContext::default(),
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    respond(&mut d, id, 503, r#"{"error":"server_error"}"#, T0 + 1);
    let poll = d.poll(id, T0 + 1);
    assert!(matches!(poll.action, Action::SleepUntil { .. }));
    assert_eq!(poll.audit.len(), 1);
    d.on_failure(
        id,
        TransportFailure::AbortedBeforeSending,
        "gave up",
        T0 + 2,
    );
    let poll = d.poll(id, T0 + 2);
    assert_eq!(poll.audit.len(), 1);
    assert_eq!(poll.audit[0]["outcome"], "error");
    let error = failed(poll);
    assert_eq!(error.code(), "aborted");
    assert_eq!(d.open_calls(), 0);

    // The call fetching the shared token sleeps before its retry: its abort hands the token
    // request to a call waiting for it, which sends it at once.
    let mut d = driver();
    let (ids, polls) = start_users(&mut d, 2, T0);
    assert!(matches!(polls[1].action, Action::WaitForToken { .. }));
    respond(&mut d, ids[0], 503, r#"{"error":"server_error"}"#, T0 + 1);
    assert!(matches!(
        d.poll(ids[0], T0 + 1).action,
        Action::SleepUntil { .. }
    ));
    d.on_failure(ids[0], TransportFailure::Aborted, "gave up", T0 + 2);
    let poll = d.poll(ids[0], T0 + 2);
    assert!(poll.wake, "the waiting call is woken");
    assert_eq!(failed(poll).code(), "aborted");
    let (_, url, _) = sent(&d.poll(ids[1], T0 + 2));
    assert!(url.ends_with("/access_token"));

    // Waiting for the token: the waiting call ends; the fetch goes on for the others.
    let mut d = driver();
    let (ids, _) = start_users(&mut d, 2, T0);
    d.on_failure(
        ids[1],
        TransportFailure::AbortedBeforeSending,
        "gave up",
        T0 + 1,
    );
    assert_eq!(failed(d.poll(ids[1], T0 + 1)).code(), "aborted");
    respond(&mut d, ids[0], 200, TOKEN, T0 + 2);
    assert!(authorization(&d.poll(ids[0], T0 + 2)).is_some());

    // A failure other than an abort while nothing is in flight is still ignored.
    let mut d = driver();
    let id = d.start(
        Operation::EnrolToken,
        &input(json!({"resource": "Onboarding", "user_id": USER})),
        CallContext::default(),
        T0,
    );
    d.on_failure(id, TransportFailure::Timeout, "stray", T0);
    let _ = sent(&d.poll(id, T0));
}

fn respond_with(d: &mut Driver, id: CallId, status: u16, headers: &[(&str, &str)], now: u64) {
    let mut all = json_headers();
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let body = r#"{"error":"too_many_requests","error_description":"slow down"}"#;
    d.on_response(id, &Response::new(status, &all, body.as_bytes()), now);
}

#[test]
fn a_bounded_call_does_not_sleep_through_a_long_retry_after() {
    // A browser-facing call (issue 22): iProov's Retry-After: 30 is not slept on; the call
    // fails at once and its error keeps when to try again.
    let bounded = CallContext {
        max_wait_ms: Some(iproov_core::driver::INTERACTIVE_MAX_WAIT_MS),
        ..CallContext::default()
    };
    let mut d = driver();
    let body = input(json!({"resource": "Onboarding", "user_id": USER}));
    let id = d.start(Operation::EnrolToken, &body, bounded, T0);
    let _ = sent(&d.poll(id, T0));
    respond_with(&mut d, id, 429, &[("retry-after", "30")], T0 + 5);
    let error = failed(d.poll(id, T0 + 5));
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after_ms(), Some(30_000));

    // Unbounded, the same answer is slept on and the request sent again.
    let id = d.start(Operation::EnrolToken, &body, CallContext::default(), T0);
    let _ = sent(&d.poll(id, T0));
    respond_with(&mut d, id, 429, &[("retry-after", "30")], T0 + 5);
    match d.poll(id, T0 + 5).action {
        Action::SleepUntil { at_ms } => assert_eq!(at_ms, T0 + 30_005),
        other => panic!("expected a sleep, got {other:?}"),
    }

    // A short backoff still fits the bound: a 503 without Retry-After is retried.
    let id = d.start(Operation::EnrolToken, &body, bounded, T0);
    let _ = sent(&d.poll(id, T0));
    respond_with(&mut d, id, 503, &[], T0 + 5);
    assert!(matches!(
        d.poll(id, T0 + 5).action,
        Action::SleepUntil { .. }
    ));
}

#[test]
fn a_retry_after_date_reaches_the_error() {
    // Retry-After as an HTTP date (issue 22 item 3): 40 s after T0 (a whole second).
    let now = 1_751_270_400_000; // Mon, 30 Jun 2025 08:00:00 GMT
    let mut d = Driver::new(
        config(),
        DriverOptions::from_json_text(br#"{"retry": {"max_retries": 0}}"#).unwrap(),
        7,
    )
    .unwrap();
    let body = input(json!({"resource": "Onboarding", "user_id": USER}));
    let id = d.start(Operation::VerifyToken, &body, CallContext::default(), now);
    let _ = sent(&d.poll(id, now));
    respond_with(
        &mut d,
        id,
        429,
        &[("retry-after", "Mon, 30 Jun 2025 08:00:40 GMT")],
        now,
    );
    let error = failed(d.poll(id, now));
    assert_eq!(error.retry_after_ms(), Some(40_000));
    assert_eq!(error.to_json()["retry_after_ms"], 40_000);
}

#[test]
fn a_call_with_telemetry_tells_each_send_retry_and_its_end_without_a_secret() {
    let with = CallContext {
        telemetry: Some(Level::Debug),
        attempt: Some(1),
        ..CallContext::default()
    };
    let mut d = driver();
    let body = input(json!({"resource": "Onboarding", "user_id": USER}));
    let id = d.start(Operation::VerifyToken, &body, with, T0);
    let first = d.poll(id, T0);
    assert!(first.events.is_empty());
    let _ = sent(&first);
    respond_with(&mut d, id, 503, &[], T0 + 40);
    let slept = d.poll(id, T0 + 40);
    let at = match slept.action {
        Action::SleepUntil { at_ms } => at_ms,
        ref other => panic!("{other:?}"),
    };
    let names: Vec<&str> = slept
        .events
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["iproov.send", "iproov.retry"]);
    let send = &slept.events[0];
    assert_eq!(send["attributes"]["http.response.status_code"], 503);
    assert_eq!(send["attributes"]["error.type"], "503");
    assert_eq!(send["attributes"]["url.template"], "/claim/verify/token");
    assert_eq!(
        send["attributes"]["server.address"],
        "eu.rp.secure.iproov.me"
    );
    assert_eq!(send["attributes"]["iproov.region"], "eu");
    assert_eq!(
        (send["start_ms"].as_u64(), send["end_ms"].as_u64()),
        (Some(T0), Some(T0 + 40))
    );
    assert_eq!(slept.events[1]["level"], "info");
    // The failed send's record says what happened to it.
    assert_eq!(slept.audit[0]["status"], 503);
    assert_eq!(slept.audit[0]["duration_ms"], 40);
    assert_eq!(slept.audit[0]["sends"], 1);
    let _ = sent(&d.poll(id, at));
    respond(&mut d, id, 200, CLAIM, at + 10);
    let last = d.poll(id, at + 10);
    assert_eq!(last.audit[0]["sends"], 2);
    let names: Vec<&str> = last
        .events
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["iproov.send", "iproov.call"]);
    let call = &last.events[1];
    assert_eq!(call["attributes"]["iproov.outcome"], "token_issued");
    assert_eq!(call["attributes"]["iproov.sends"], 2);
    assert_eq!(call["metrics"][0]["name"], "iproov.client.calls");
    assert_eq!(call["metrics"][1]["value"], at + 10 - T0);
    let all = serde_json::to_string(&last.events).unwrap()
        + &serde_json::to_string(&slept.events).unwrap();
    for hidden in [SECRET, KEY, USER, "1f2e3d4c5b6a7980"] {
        assert!(!all.contains(hidden), "{hidden} in {all}");
    }
    // Without telemetry, no event is built.
    let id = d.start(Operation::VerifyToken, &body, CallContext::default(), T0);
    let _ = sent(&d.poll(id, T0));
    respond(&mut d, id, 200, CLAIM, T0 + 1);
    assert!(d.poll(id, T0 + 1).events.is_empty());
}

#[test]
fn a_host_that_maps_only_higher_levels_gets_only_their_events() {
    // A logger at INFO or WARNING (the default) still hears of retries and unknown outcomes,
    // and no call builds the debug events (a send, a call that succeeded) nobody maps.
    let names = |poll: &Poll| -> Vec<String> {
        poll.events
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["name"].as_str().unwrap(),
                    e["level"].as_str().unwrap()
                )
            })
            .collect()
    };
    let none: Vec<&str> = Vec::new();
    for (lowest, retry, ok, unknown) in [
        (
            Level::Info,
            vec!["iproov.retry info"],
            none.clone(),
            vec!["iproov.call warning"],
        ),
        (
            Level::Warning,
            none.clone(),
            none.clone(),
            vec!["iproov.call warning"],
        ),
        (Level::Error, none.clone(), none.clone(), none.clone()),
    ] {
        let with = CallContext {
            telemetry: Some(lowest),
            ..CallContext::default()
        };
        let mut d = driver();
        let body = input(json!({"resource": "Onboarding", "user_id": USER}));
        let id = d.start(Operation::VerifyToken, &body, with, T0);
        let _ = sent(&d.poll(id, T0));
        respond(&mut d, id, 503, r#"{"error":"server_error"}"#, T0 + 5);
        let slept = d.poll(id, T0 + 5);
        assert_eq!(names(&slept), retry, "{lowest:?}");
        if let Some(retry) = slept.events.first() {
            assert_eq!(retry["attributes"]["error.type"], "server_error");
            assert_eq!(retry["attributes"]["iproov.operation"], "verify_token");
            assert!(
                retry["attributes"]["iproov.retry.delay_ms"]
                    .as_u64()
                    .is_some()
            );
        }
        let Action::SleepUntil { at_ms } = slept.action else {
            panic!("{:?}", slept.action)
        };
        let _ = sent(&d.poll(id, at_ms));
        respond(&mut d, id, 200, CLAIM, at_ms + 5);
        let last = d.poll(id, at_ms + 5);
        assert_eq!(names(&last), ok, "{lowest:?}");
        let body = input(json!({"user_id": USER, "token": "a".repeat(64), "client": "web"}));
        let id = d.start(Operation::VerifyValidate, &body, with, T0);
        let _ = sent(&d.poll(id, T0));
        d.on_failure(id, TransportFailure::AfterWritten, "reset", T0 + 1);
        let poll = d.poll(id, T0 + 1);
        assert_eq!(names(&poll), unknown, "{lowest:?}");
        if let Some(call) = poll.events.first() {
            assert_eq!(call["attributes"]["iproov.outcome"], "outcome_unknown");
            assert_eq!(call["metrics"][0]["name"], "iproov.client.calls");
        }
    }
}

#[test]
fn the_users_api_token_fetch_is_told_and_its_key_never_shown() {
    let with = CallContext {
        telemetry: Some(Level::Debug),
        ..CallContext::default()
    };
    let mut d = driver();
    let id = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        with,
        T0,
    );
    let _ = sent(&d.poll(id, T0));
    respond(&mut d, id, 200, TOKEN, T0 + 5);
    let fetched = d.poll(id, T0 + 5);
    let names: Vec<&str> = fetched
        .events
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["iproov.send", "iproov.token"]);
    assert_eq!(
        fetched.events[0]["attributes"]["url.template"],
        "/{api_key}/access_token"
    );
    let text = serde_json::to_string(&fetched.events).unwrap();
    assert!(
        !text.contains(KEY) && !text.contains("at-driver-Vb6Jc3Tp5Fy0") && !text.contains(PASSWORD)
    );
    // Its first use (this poll's send) was its fetch: no reuse is told. The next call reuses
    // it, and says so once.
    let _ = sent(&fetched);
    respond(&mut d, id, 200, USER_BODY, T0 + 6);
    let _ = done(d.poll(id, T0 + 6));
    let next = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        with,
        T0 + 7,
    );
    let reused = d.poll(next, T0 + 7);
    let _ = sent(&reused);
    assert_eq!(reused.events.len(), 1, "{:?}", reused.events);
    let event = &reused.events[0];
    assert_eq!(
        (event["name"].as_str(), event["level"].as_str()),
        (Some("iproov.token"), Some("debug"))
    );
    assert_eq!(event["attributes"]["iproov.token.uses"], 2);
    assert_eq!(event["attributes"]["iproov.operation"], "get_user");
    let text = serde_json::to_string(&reused.events).unwrap();
    assert!(!text.contains("at-driver-Vb6Jc3Tp5Fy0") && !text.contains(KEY));
    // A host mapping INFO and above gets no reuse event.
    respond(&mut d, next, 200, USER_BODY, T0 + 8);
    let _ = done(d.poll(next, T0 + 8));
    let info = CallContext {
        telemetry: Some(Level::Info),
        ..CallContext::default()
    };
    let quiet = d.start(
        Operation::GetUser,
        &input(json!({"user_id": USER})),
        info,
        T0 + 9,
    );
    assert!(d.poll(quiet, T0 + 9).events.is_empty());
}

#[test]
fn a_call_the_host_built_tells_its_sends_when_asked() {
    // Enrol image: the host builds the request from raw bytes (no JSON round trip of the
    // frame); its call tells what any other call tells, only when asked.
    let built = || {
        let input = iproov_core::ops::enrol_image::EnrolImageInput {
            token: "1f2e3d4c5b6a79801f2e3d4c5b6a7980".into(),
            source: iproov_core::ops::enrol_image::ImageSource::Selfie,
            rotation: None,
            image: vec![0xff, 0xd8, 0xff, 0xe0],
        };
        iproov_core::ops::enrol_image::build_enrol_image(&config(), &input)
    };
    let mut d = driver();
    let context = iproov_core::flows::AuditContext::default();
    for telemetry in [Some(Level::Debug), None] {
        let id = d.start_built(
            Operation::EnrolImage,
            built(),
            context.clone(),
            telemetry,
            T0,
        );
        let _ = sent(&d.poll(id, T0));
        respond(&mut d, id, 200, r#"{"success": true}"#, T0 + 3);
        let last = d.poll(id, T0 + 3);
        let names: Vec<&str> = last
            .events
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        if telemetry.is_some() {
            assert_eq!(names, ["iproov.send", "iproov.call"]);
            assert_eq!(
                last.events[0]["attributes"]["url.template"],
                "/claim/enrol/image"
            );
            assert_eq!(last.events[1]["attributes"]["iproov.outcome"], "ok");
        } else {
            assert!(names.is_empty(), "{names:?}");
        }
    }
}
