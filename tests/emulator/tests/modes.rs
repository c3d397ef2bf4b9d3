//! Modes: the answers where public sources disagree, from the config or
//! switched at runtime, and back to the config on reset.

mod common;

use common::{EU, Env, US, start, start_with};
use iproov_emulator::{AccessTokenKeyStatus, Config, Region, UnknownUser};
use reqwest::Method;
use serde_json::json;

const USER_CALLS: [(&str, &str); 5] = [
    ("GET", ""),
    ("PUT", ""),
    ("DELETE", ""),
    ("POST", "/activate"),
    ("POST", "/suspend"),
];

async fn user_call(env: &Env, method: &str, path: &str, bearer: &str) -> common::Reply {
    let body = match method {
        "PUT" => Some(json!({"name": "N"})),
        "POST" => Some(json!({})),
        _ => None,
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    env.user_call(Region::Eu, method, path, bearer, body).await
}

#[tokio::test]
async fn defaults_are_the_observed_and_documented_answers() {
    let env = start().await;
    let modes = env.control(Method::GET, "/modes", None).await.ok();
    assert_eq!(
        modes,
        json!({"unknown_user": "invalid_user_id", "access_token_invalid_key_status": 500,
               "verify_validate_invalid_key_status": 401})
    );
}

#[tokio::test]
async fn unknown_user_mode_switches_every_user_endpoint_and_reset_restores() {
    let env = start().await;
    let reply = env
        .control(
            Method::PUT,
            "/modes",
            Some(json!({"unknown_user": "no_user"})),
        )
        .await
        .ok();
    assert_eq!(reply["unknown_user"], "no_user");
    assert_eq!(reply["access_token_invalid_key_status"], 500);
    let bearer = env.access_token(EU, None).await;
    for (method, suffix) in USER_CALLS {
        user_call(&env, method, &format!("/users/ghost{suffix}"), &bearer)
            .await
            .assert_error(400, "no_user");
    }
    env.control(Method::POST, "/reset", None).await;
    let bearer = env.access_token(EU, None).await;
    for (method, suffix) in USER_CALLS {
        user_call(&env, method, &format!("/users/ghost{suffix}"), &bearer)
            .await
            .assert_error(400, "invalid_user_id");
    }
}

#[tokio::test]
async fn modes_come_from_the_config_and_reset_returns_to_it() {
    let mut config = Config::default();
    config.modes.unknown_user = UnknownUser::NoUser;
    config.modes.access_token_invalid_key_status = AccessTokenKeyStatus::Status401;
    // The JSON form of the same configuration parses to the same modes.
    let text = serde_json::to_string(&config).unwrap();
    assert!(
        text.contains(r#""access_token_invalid_key_status":401"#),
        "{text}"
    );
    assert_eq!(Config::from_json(&text).unwrap(), config);
    let env = start_with(config).await;
    let bearer = env.access_token(EU, None).await;
    user_call(&env, "GET", "/users/ghost", &bearer)
        .await
        .assert_error(400, "no_user");
    env.control(
        Method::PUT,
        "/modes",
        Some(json!({"unknown_user": "invalid_user_id"})),
    )
    .await
    .ok();
    user_call(&env, "GET", "/users/ghost", &bearer)
        .await
        .assert_error(400, "invalid_user_id");
    env.control(Method::POST, "/reset", None).await;
    let modes = env.control(Method::GET, "/modes", None).await.ok();
    assert_eq!(modes["unknown_user"], "no_user");
    assert_eq!(modes["access_token_invalid_key_status"], 401);
}

#[tokio::test]
async fn access_token_key_status_mode() {
    let env = start().await;
    let mut wrong_region = EU;
    wrong_region.region = Region::Us;
    env.control(
        Method::PUT,
        "/modes",
        Some(json!({"access_token_invalid_key_status": "401"})),
    )
    .await
    .ok();
    let reply = env
        .access_token_reply(wrong_region, "grant_type=client_credentials")
        .await;
    reply.assert_error(401, "invalid_key");
    assert_eq!(
        reply.body["error_description"],
        "Invalid Public and/or Private Key"
    );
    env.control(
        Method::PUT,
        "/modes",
        Some(json!({"access_token_invalid_key_status": 500})),
    )
    .await
    .ok();
    env.access_token_reply(wrong_region, "grant_type=client_credentials")
        .await
        .assert_error(500, "invalid_key");
}

#[tokio::test]
async fn verify_validate_key_status_mode_leaves_enrol_validate_alone() {
    let env = start().await;
    let body = |kind: &str| json!({"api_key": EU.key, "secret": "nope", "token": "ab".repeat(32), "user_id": "v", "client": kind});
    env.post(Region::Eu, "/claim/verify/validate", &body("t"))
        .await
        .assert_error(401, "invalid_key");
    env.control(
        Method::PUT,
        "/modes",
        Some(json!({"verify_validate_invalid_key_status": 400})),
    )
    .await
    .ok();
    env.post(Region::Eu, "/claim/verify/validate", &body("t"))
        .await
        .assert_error(400, "invalid_key");
    // A region mismatch is the same key error.
    let other =
        json!({"api_key": US.key, "secret": US.secret, "token": "ab".repeat(32), "user_id": "v"});
    env.post(Region::Eu, "/claim/verify/validate", &other)
        .await
        .assert_error(400, "invalid_key");
    env.post(Region::Eu, "/claim/enrol/validate", &body("t"))
        .await
        .assert_error(401, "invalid_key");
}

#[tokio::test]
async fn bad_modes_are_invalid_request_and_change_nothing() {
    let env = start().await;
    for body in [
        json!({"unknown_user": "nobody"}),
        json!({"colour": "red"}),
        json!({"access_token_invalid_key_status": 404}),
        json!({"access_token_invalid_key_status": 500.5}),
        json!({"access_token_invalid_key_status": -500}),
        json!({"verify_validate_invalid_key_status": "four hundred"}),
        json!({"verify_validate_invalid_key_status": 1e300}),
        json!([]),
    ] {
        env.control(Method::PUT, "/modes", Some(body))
            .await
            .assert_error(400, "invalid_request");
    }
    let modes = env.control(Method::GET, "/modes", None).await.ok();
    assert_eq!(modes["unknown_user"], "invalid_user_id");
}
