//! Presets over HTTP: the catalogue, loading/clearing, and what each one
//! does to the API.

mod common;

use tokio::time::Instant;

use common::{EU, Env, US, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::{Value, json};

async fn load(env: &Env, body: Value) -> common::Reply {
    env.control(Method::PUT, "/preset", Some(body)).await
}

#[tokio::test]
async fn catalogue_lists_every_preset_with_options() {
    let env = start().await;
    let body = env.control(Method::GET, "/presets", None).await.ok();
    let presets = body["presets"].as_array().unwrap();
    let names: Vec<&str> = presets
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "pass",
            "fail",
            "rate_limited",
            "outage",
            "region_mismatch",
            "slow_network"
        ]
    );
    for preset in presets {
        assert!(preset["description"].as_str().unwrap().len() > 10);
        assert!(preset["options"].is_object());
    }
    let fail = &presets[1]["options"]["reason"];
    assert_eq!(fail["default"], "eyes_closed");
    assert_eq!(fail["values"].as_array().unwrap().len(), 11);
    assert_eq!(presets[5]["options"]["delay_ms"]["default"], 1500);
}

#[tokio::test]
async fn load_answers_effective_options_and_none_or_reset_clear() {
    let env = start().await;
    let body = load(&env, json!({"name": "fail"})).await.ok();
    assert_eq!(body, json!({"preset": "fail", "reason": "eyes_closed"}));
    let body = load(&env, json!({"name": "rate_limited", "api_key": EU.key}))
        .await
        .ok();
    assert_eq!(
        body,
        json!({"preset": "rate_limited", "retry_after_secs": 1, "api_key": EU.key})
    );
    let body = load(&env, json!({"name": "slow_network"})).await.ok();
    assert_eq!(body, json!({"preset": "slow_network", "delay_ms": 1500}));
    assert_eq!(
        env.control(Method::GET, "/preset", None).await.ok()["preset"],
        "slow_network"
    );
    let body = load(&env, json!({"name": "none"})).await.ok();
    assert_eq!(body, json!({"preset": "none"}));
    load(&env, json!({"name": "outage"})).await.ok();
    assert_eq!(
        env.control(Method::POST, "/reset", None)
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(
        env.control(Method::GET, "/preset", None).await.ok(),
        json!({"preset": "none"})
    );
}

#[tokio::test]
async fn bad_preset_requests_are_invalid_request() {
    let env = start().await;
    let reply = load(&env, json!({"name": "sunny"})).await;
    reply.assert_error(400, "invalid_request");
    let text = reply.body["error_description"].as_str().unwrap();
    for name in [
        "pass",
        "fail",
        "rate_limited",
        "outage",
        "region_mismatch",
        "slow_network",
    ] {
        assert!(text.contains(name), "{text}");
    }
    for body in [
        json!({}),
        json!({"name": 3}),
        json!({"name": "fail", "reason": "bored"}),
        json!({"name": "fail", "reason": 1}),
        json!({"name": "pass", "colour": "red"}),
        json!({"name": "outage", "api_key": EU.key}),
        json!({"name": "pass", "api_key": 12}),
    ] {
        load(&env, body).await.assert_error(400, "invalid_request");
    }
    load(&env, json!({"name": "pass", "api_key": "nope"}))
        .await
        .assert_error(404, "unknown_service_provider");
    // A refused load leaves no preset behind.
    assert_eq!(
        env.control(Method::GET, "/preset", None).await.ok()["preset"],
        "none"
    );
}

#[tokio::test]
async fn pass_completes_pending_claims_at_validate_but_explicit_completion_wins() {
    let env = start().await;
    load(&env, json!({"name": "pass"})).await.ok();
    let token = env.token(EU, "enrol", "pat").await;
    let body = env.validate(EU, "enrol", &token, "pat").await.ok();
    assert_eq!(body["passed"], true);
    assert_eq!(body["type"], "enrol");
    // The user is enrolled and Active: a verify works the same way.
    let token = env.token(EU, "verify", "pat").await;
    assert_eq!(
        env.validate(EU, "verify", &token, "pat").await.ok()["passed"],
        true
    );
    // The token is used up like any other.
    env.validate(EU, "verify", &token, "pat")
        .await
        .assert_error(400, "invalid_token");
    let token = env.token(EU, "verify", "pat").await;
    env.complete(&token, json!({"passed": false, "reason": "too_dark"}))
        .await
        .ok();
    let body = env.validate(EU, "verify", &token, "pat").await.ok();
    assert_eq!(body["passed"], false);
    assert_eq!(body["reason"], "too_dark");
}

#[tokio::test]
async fn pass_leaves_expired_claims_expired() {
    let env = start().await;
    load(&env, json!({"name": "pass"})).await.ok();
    let token = env.token(EU, "enrol", "late").await;
    env.advance(121).await;
    env.validate(EU, "enrol", &token, "late")
        .await
        .assert_error(400, "invalid_token");
}

#[tokio::test]
async fn fail_completes_with_the_reason_and_can_be_narrowed() {
    let env = start().await;
    env.enrol_user(EU, "fern").await;
    env.enrol_user(US, "fern").await;
    load(
        &env,
        json!({"name": "fail", "reason": "sunglasses", "api_key": EU.key}),
    )
    .await
    .ok();
    let token = env.token(EU, "verify", "fern").await;
    let body = env.validate(EU, "verify", &token, "fern").await.ok();
    assert_eq!(body["passed"], false);
    assert_eq!(body["reason"], "sunglasses");
    // Another SP's claims are not touched: still pending at validate.
    let token = env.token(US, "verify", "fern").await;
    env.validate(US, "verify", &token, "fern")
        .await
        .assert_error(400, "invalid_token");
    // Default reason.
    load(&env, json!({"name": "fail"})).await.ok();
    let token = env.token(EU, "enrol", "fred").await;
    let body = env.validate(EU, "enrol", &token, "fred").await.ok();
    assert_eq!(body["reason"], "eyes_closed");
    // A failed enrol creates no user.
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "fred"),
    )
    .await
    .assert_error(400, "no_user");
}

#[tokio::test]
async fn rate_limited_answers_429_with_retry_after_after_credentials() {
    let env = start().await;
    load(&env, json!({"name": "rate_limited", "retry_after_secs": 7}))
        .await
        .ok();
    for kind in ["enrol", "verify"] {
        let reply = env
            .post(
                Region::Eu,
                &format!("/claim/{kind}/token"),
                &Env::claim_body(EU, "rl"),
            )
            .await;
        reply.assert_error(429, "too_many_requests");
        assert_eq!(reply.headers["retry-after"], "7");
    }
    // Bad credentials are still 401 first.
    let mut body = Env::claim_body(EU, "rl");
    body["secret"] = json!("wrong");
    env.post(Region::Eu, "/claim/enrol/token", &body)
        .await
        .assert_error(401, "invalid_key");
    // Narrowed to US: EU is served.
    load(&env, json!({"name": "rate_limited", "api_key": US.key}))
        .await
        .ok();
    env.token(EU, "enrol", "rl").await;
    env.post(Region::Us, "/claim/enrol/token", &Env::claim_body(US, "rl"))
        .await
        .assert_error(429, "too_many_requests");
}

#[tokio::test]
async fn outage_is_like_availability_down_until_cleared() {
    let env = start().await;
    load(&env, json!({"name": "outage"})).await.ok();
    let reply = env
        .http
        .get(env.url(Region::Eu, &format!("/availability?api_key={}", EU.key)))
        .send()
        .await
        .unwrap();
    assert_eq!(common::into_reply(reply).await.ok(), json!({"up": false}));
    env.post(Region::Eu, "/claim/enrol/token", &Env::claim_body(EU, "o"))
        .await
        .assert_error(500, "server_error");
    load(&env, json!({"name": "none"})).await.ok();
    env.token(EU, "enrol", "o").await;
}

#[tokio::test]
async fn region_mismatch_answers_the_sps_credentials_as_from_elsewhere() {
    let env = start().await;
    env.enrol_user(EU, "rm").await;
    let bearer = env.access_token(EU, None).await;
    load(&env, json!({"name": "region_mismatch", "api_key": EU.key}))
        .await
        .ok();
    let reply = env
        .post(
            Region::Eu,
            "/claim/verify/token",
            &Env::claim_body(EU, "rm"),
        )
        .await;
    reply.assert_error(401, "invalid_key");
    assert_eq!(
        reply.body["error_description"],
        "Invalid Public and/or Private Key"
    );
    env.validate(EU, "verify", &"ab".repeat(32), "rm")
        .await
        .assert_error(401, "invalid_key");
    env.access_token_reply(EU, "grant_type=client_credentials")
        .await
        .assert_error(500, "invalid_key");
    env.user_call(Region::Eu, Method::GET, "/users/rm", &bearer, None)
        .await
        .assert_error(401, "invalid_oauth");
    // Other SPs are unaffected.
    env.token(US, "enrol", "rm").await;
    // Without api_key, every SP.
    load(&env, json!({"name": "region_mismatch"})).await.ok();
    env.post(
        Region::Us,
        "/claim/enrol/token",
        &Env::claim_body(US, "rm2"),
    )
    .await
    .assert_error(401, "invalid_key");
    load(&env, json!({"name": "none"})).await.ok();
    env.token(EU, "verify", "rm").await;
}

#[tokio::test]
async fn slow_network_delays_api_responses_not_the_control_api() {
    let env = start().await;
    load(&env, json!({"name": "slow_network", "delay_ms": 300}))
        .await
        .ok();
    let started = Instant::now();
    env.token(EU, "enrol", "slow").await;
    assert!(started.elapsed().as_millis() >= 300);
    // An API call held for ten minutes, and a control call made after it: the control call
    // answers while the API call is still held. An order, not a duration, so no machine is
    // too slow for it (a delayed control API would answer after the held call, or never).
    load(&env, json!({"name": "slow_network", "delay_ms": 600_000}))
        .await
        .ok();
    let held = env.token(EU, "enrol", "held");
    tokio::pin!(held);
    tokio::select! {
        biased;
        _ = &mut held => panic!("the held API call answered before the control call"),
        clock = env.control(Method::GET, "/clock", None) => { clock.ok(); }
    }
}
