//! The control API: state, reset, clock, config, seeding, errors.

mod common;

use common::{EU, EU_LIVENESS, EU_RISK, US, start};
use iproov_emulator::{Config, Region};
use reqwest::Method;
use serde_json::json;

#[test]
fn documented_default_credentials_are_the_built_in_ones() {
    let config = Config::default();
    for (sp, name) in [
        (EU, "eu-default"),
        (US, "us-default"),
        (EU_LIVENESS, "eu-liveness"),
        (EU_RISK, "eu-risk"),
    ] {
        let found = config
            .service_providers
            .iter()
            .find(|c| c.name == name)
            .unwrap();
        assert_eq!(found.api_key, sp.key);
        assert_eq!(found.secret, sp.secret);
        assert_eq!(found.oauth_username, sp.user);
        assert_eq!(found.oauth_password, sp.pass);
        assert_eq!(found.region, sp.region);
        assert_eq!(found.api_key.len(), 40);
    }
}

#[tokio::test]
async fn state_lists_users_claims_and_tokens() {
    let env = start().await;
    env.enrol_user(EU, "st").await;
    let pending = env.token(EU, "enrol", "st2").await;
    env.access_token(EU, None).await;
    let state = env.control(Method::GET, "/state", None).await.ok();
    let users = state["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["user_id"], "st");
    assert_eq!(users[0]["status"], "Active");
    assert_eq!(users[0]["api_key"], EU.key);
    let claims = state["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2);
    let claim = env
        .control(Method::GET, &format!("/claims/{pending}"), None)
        .await
        .ok();
    assert_eq!(claim["status"]["state"], "pending");
    assert_eq!(claim["kind"], "enrol");
    assert_eq!(state["access_tokens"].as_array().unwrap().len(), 1);
    assert_eq!(state["up"], true);
}

#[tokio::test]
async fn reset_forgets_everything_but_the_config() {
    let env = start().await;
    env.enrol_user(EU, "rs").await;
    env.advance(500).await;
    env.fault(json!({"path": "/x", "kind": "reset"})).await;
    env.control(
        Method::PUT,
        &format!("/service-providers/{}/rate-limit", EU.key),
        Some(json!({"per_second": 1})),
    )
    .await
    .ok();
    let reply = env.control(Method::POST, "/reset", None).await;
    assert_eq!(reply.status.as_u16(), 204);
    let state = env.control(Method::GET, "/state", None).await.ok();
    assert!(state["users"].as_array().unwrap().is_empty());
    assert!(state["claims"].as_array().unwrap().is_empty());
    let clock = env.control(Method::GET, "/clock", None).await.ok();
    assert_eq!(clock["offset_secs"], 0.0);
    let faults = env.control(Method::GET, "/faults", None).await.ok();
    assert!(faults["faults"].as_array().unwrap().is_empty());
    assert_eq!(env.count("/").await, 0);
    // The rate limit is back to the configured (none).
    for i in 0..5 {
        env.token(EU, "enrol", &format!("after{i}")).await;
    }
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &common::Env::claim_body(EU, "rs"),
    )
    .await
    .assert_error(400, "no_user");
}

#[tokio::test]
async fn config_shows_current_rate_limits() {
    let env = start().await;
    let config = env.control(Method::GET, "/config", None).await.ok();
    assert_eq!(config["claim_token_lifetime_secs"], 120);
    assert_eq!(config["service_providers"].as_array().unwrap().len(), 4);
    env.control(
        Method::PUT,
        &format!("/service-providers/{}/rate-limit", US.key),
        Some(json!({"per_second": 9})),
    )
    .await
    .ok();
    let config = env.control(Method::GET, "/config", None).await.ok();
    assert_eq!(config["service_providers"][1]["rate_limit_per_second"], 9);
}

#[tokio::test]
async fn control_errors() {
    let env = start().await;
    env.complete(&"0".repeat(64), json!({"passed": true}))
        .await
        .assert_error(404, "unknown_claim");
    env.control(Method::GET, &format!("/claims/{}", "0".repeat(64)), None)
        .await
        .assert_error(404, "unknown_claim");
    let token = env.token(EU, "enrol", "ce").await;
    env.complete(&token, json!({"passed": "yes"}))
        .await
        .assert_error(400, "invalid_request");
    env.complete(&token, json!({"passed": true, "extra": 1}))
        .await
        .assert_error(400, "invalid_request");
    env.control(
        Method::PUT,
        "/service-providers/nope/rate-limit",
        Some(json!({"per_second": 1})),
    )
    .await
    .assert_error(404, "unknown_service_provider");
    env.control(
        Method::PUT,
        &format!("/service-providers/{}/rate-limit", EU.key),
        Some(json!({"per_second": 0})),
    )
    .await
    .assert_error(400, "invalid_request");
    env.control(
        Method::POST,
        "/users",
        Some(json!({"api_key": EU.key, "user_id": "x", "status": "weird"})),
    )
    .await
    .assert_error(400, "invalid_request");
    env.control(
        Method::POST,
        "/users",
        Some(json!({"api_key": "nope", "user_id": "x"})),
    )
    .await
    .assert_error(404, "unknown_service_provider");
    env.control(Method::POST, "/clock/advance", Some(json!({"seconds": -1})))
        .await
        .assert_error(400, "invalid_request");
    env.control(Method::GET, "/nothing-here", None)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn seeded_users_behave_like_real_ones() {
    let env = start().await;
    let seeded = env
        .control(
            Method::POST,
            "/users",
            Some(json!({"api_key": EU.key, "user_id": "seed", "name": "Seed Person"})),
        )
        .await
        .ok();
    assert_eq!(seeded["status"], "Active");
    let token = env.token(EU, "verify", "seed").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU, "verify", &token, "seed").await.ok();
    let bearer = env.access_token(EU, None).await;
    let user = env
        .user_call(Region::Eu, Method::GET, "/users/seed", &bearer, None)
        .await
        .ok();
    assert_eq!(user["name"], "Seed Person");
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let env = start().await;
    let addr = env.emu.addr();
    env.emu.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
