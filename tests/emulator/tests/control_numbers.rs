//! Every numeric field of the control API, fed huge, negative, fractional
//! and non-numeric values: each is saturated (clock) or refused with 400
//! `invalid_request`, and the emulator keeps answering (issue 18: a huge
//! clock advance used to drop the connection and break every later
//! `GET /__emulator/clock`).

mod common;

use common::{EU, Env, start};
use iproov_emulator::Region;
use reqwest::Method;

/// Values no numeric control field accepts. Written as raw JSON because
/// serde_json cannot build 2^64 as an integer or 1e999 at all.
const ALWAYS_BAD: [&str; 9] = [
    "-1",
    "-0.5",
    r#""10""#,
    "true",
    "[]",
    "{}",
    "1e999",
    "-18446744073709551616",
    r#""NaN""#,
];

/// Huge values: saturated by the clock, refused by every bounded field.
const HUGE: [&str; 4] = [
    "18446744073709551615",
    "18446744073709551616",
    "1e300",
    "340282366920938463463374607431768211456",
];

async fn clock_still_works(env: &Env) {
    let clock = env.control(Method::GET, "/clock", None).await.ok();
    assert!(clock["now"].as_str().unwrap().ends_with('Z'), "{clock}");
}

/// PUT/POST `body` (with `{N}` replaced) and expect 400 `invalid_request`.
async fn refused(env: &Env, method: Method, path: &str, template: &str, value: &str) {
    let body = template.replace("{N}", value);
    let reply = env.control_raw(method, path, &body).await;
    assert_eq!(reply.status.as_u16(), 400, "{path} {body}: {}", reply.body);
    reply.assert_error(400, "invalid_request");
    clock_still_works(env).await;
}

#[tokio::test]
async fn clock_advance_saturates_huge_and_accepts_fractions() {
    let env = start().await;
    let reply = env
        .control_raw(Method::POST, "/clock/advance", r#"{"seconds": 1.5}"#)
        .await
        .ok();
    assert_eq!(reply["offset_secs"], 1.5);
    for value in HUGE {
        let body = format!(r#"{{"seconds": {value}}}"#);
        let reply = env
            .control_raw(Method::POST, "/clock/advance", &body)
            .await
            .ok();
        assert_eq!(reply["now"], "9999-12-31T23:59:59Z", "{body}");
        assert_eq!(reply["now_ms"], 253_402_300_799_999_u64);
        clock_still_works(&env).await;
    }
    // Everything that prints a date still works at the end of time.
    env.enrol_user(EU, "late").await;
    let bearer = env.access_token(EU, None).await;
    let user = env
        .user_call(Region::Eu, Method::GET, "/users/late", &bearer, None)
        .await
        .ok();
    assert_eq!(user["activation_date"], "9999-12-31T23:59:59Z");
    env.control(Method::GET, "/state", None).await.ok();
    for value in ALWAYS_BAD {
        refused(
            &env,
            Method::POST,
            "/clock/advance",
            r#"{"seconds": {N}}"#,
            value,
        )
        .await;
    }
    refused(
        &env,
        Method::POST,
        "/clock/advance",
        r#"{"seconds": null}"#,
        "",
    )
    .await;
    refused(&env, Method::POST, "/clock/advance", r"{}", "").await;
    env.control(Method::POST, "/reset", None).await;
    let clock = env.control(Method::GET, "/clock", None).await.ok();
    assert_eq!(clock["offset_secs"], 0.0);
}

#[tokio::test]
async fn rate_limit_per_second_is_bounded() {
    let env = start().await;
    let path = format!("/service-providers/{}/rate-limit", EU.key);
    let template = r#"{"per_second": {N}}"#;
    for value in ALWAYS_BAD
        .iter()
        .chain(&HUGE)
        .chain(&["0", "1.5", "4294967296"])
    {
        refused(&env, Method::PUT, &path, template, value).await;
    }
    let reply = env
        .control_raw(Method::PUT, &path, r#"{"per_second": 4294967295}"#)
        .await
        .ok();
    assert_eq!(reply["per_second"], 4_294_967_295_u64);
    env.token(EU, "enrol", "rl").await;
    let reply = env
        .control_raw(Method::PUT, &path, r#"{"per_second": null}"#)
        .await
        .ok();
    assert!(reply["per_second"].is_null());
}

#[tokio::test]
async fn fault_numbers_are_bounded() {
    let env = start().await;
    let cases = [
        (
            r#"{"path": "/x", "kind": "delay", "times": {N}}"#,
            "4294967296",
        ),
        (
            r#"{"path": "/x", "kind": "delay", "delay_ms": {N}}"#,
            "600001",
        ),
        (r#"{"path": "/x", "kind": "status", "status": {N}}"#, "1000"),
        (r#"{"path": "/x", "kind": "cut", "status": {N}}"#, "99"),
        (r#"{"path": "/x", "kind": "cut", "send_bytes": {N}}"#, "1.5"),
        (
            r#"{"path": "/x", "kind": "delay", "hold": true, "hold_ms": {N}}"#,
            "60001",
        ),
    ];
    for (template, extra) in cases {
        for value in ALWAYS_BAD.iter().chain(&["1.5", extra]) {
            refused(&env, Method::POST, "/faults", template, value).await;
        }
        for value in &HUGE[1..] {
            refused(&env, Method::POST, "/faults", template, value).await;
        }
    }
    // 2^64-1 fits send_bytes (it sends the whole body) but no other field.
    for template in [cases[0].0, cases[1].0, cases[2].0, cases[5].0] {
        refused(&env, Method::POST, "/faults", template, HUGE[0]).await;
    }
    env.control_raw(
        Method::POST,
        "/faults",
        r#"{"path": "/claim/enrol/token", "kind": "cut", "send_bytes": 18446744073709551615}"#,
    )
    .await
    .ok();
    let cut = env
        .http
        .post(env.url(Region::Eu, "/claim/enrol/token"))
        .json(&Env::claim_body(EU, "cut"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await;
    assert!(cut.is_err(), "the body must end early");
    // Bad header names or values are refused too.
    for headers in [r#"{"Bad Name": "1"}"#, r#"{"Retry-After": "a\nb"}"#] {
        let body =
            format!(r#"{{"path": "/x", "kind": "status", "status": 503, "headers": {headers}}}"#);
        refused(&env, Method::POST, "/faults", &body, "").await;
    }
    let faults = env.control(Method::GET, "/faults", None).await.ok();
    assert!(faults["faults"].as_array().unwrap().is_empty(), "{faults}");
}

#[tokio::test]
async fn fault_ids_in_the_path_are_json_errors() {
    let env = start().await;
    for id in ["abc", "-1", "1.5", "99999999999999999999999"] {
        let reply = env
            .control(Method::DELETE, &format!("/faults/{id}"), None)
            .await;
        reply.assert_error(400, "invalid_request");
    }
    env.control(Method::DELETE, "/faults/18446744073709551615", None)
        .await
        .assert_error(404, "unknown_fault");
}

#[tokio::test]
async fn preset_numbers_are_bounded() {
    let env = start().await;
    let cases = [
        (
            r#"{"name": "rate_limited", "retry_after_secs": {N}}"#,
            "86401",
        ),
        (r#"{"name": "slow_network", "delay_ms": {N}}"#, "600001"),
    ];
    for (template, extra) in cases {
        for value in ALWAYS_BAD.iter().chain(&HUGE).chain(&["1.5", extra]) {
            refused(&env, Method::PUT, "/preset", template, value).await;
        }
    }
    let preset = env.control(Method::GET, "/preset", None).await.ok();
    assert_eq!(preset["preset"], "none");
    let reply = env
        .control_raw(
            Method::PUT,
            "/preset",
            r#"{"name": "rate_limited", "retry_after_secs": 0}"#,
        )
        .await
        .ok();
    assert_eq!(reply["retry_after_secs"], 0);
}
