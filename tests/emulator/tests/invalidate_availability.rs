//! `POST /claim/{token}/invalidate` and `GET /availability`.

mod common;

use common::{EU, US, into_reply, start};
use iproov_emulator::{Config, Region, ServiceProviderConfig, padded_key};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn invalidate_a_pending_claim() {
    let env = start().await;
    let token = env.token(EU, "enrol", "inv1").await;
    let body = env
        .post(
            Region::Eu,
            &format!("/claim/{token}/invalidate"),
            &json!({"reason": "User cancelled: try again (later)"}),
        )
        .await
        .ok();
    assert_eq!(body, json!({"claim_aborted": true, "user_informed": false}));
    env.complete(&token, json!({"passed": true}))
        .await
        .assert_error(409, "claim_not_pending");
    env.validate(EU, "enrol", &token, "inv1")
        .await
        .assert_error(400, "invalid_token");
    // Invalidating again aborts nothing.
    let body = env
        .post(
            Region::Eu,
            &format!("/claim/{token}/invalidate"),
            &json!({"reason": "again"}),
        )
        .await
        .ok();
    assert_eq!(body["claim_aborted"], false);
}

#[tokio::test]
async fn invalidate_a_finished_claim_aborts_nothing() {
    let env = start().await;
    let token = env.token(EU, "enrol", "inv2").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    let body = env
        .post(
            Region::Eu,
            &format!("/claim/{token}/invalidate"),
            &json!({"reason": "late"}),
        )
        .await
        .ok();
    assert_eq!(body["claim_aborted"], false);
    env.validate(EU, "enrol", &token, "inv2").await.ok();
}

#[tokio::test]
async fn invalidate_errors() {
    let env = start().await;
    let token = env.token(EU, "enrol", "inv3").await;
    let path = format!("/claim/{token}/invalidate");
    env.post(Region::Eu, &path, &json!({}))
        .await
        .assert_error(400, "missing_data");
    env.post(Region::Eu, &path, &json!({"reason": "<b>no</b>"}))
        .await
        .assert_error(400, "invalid_reason");
    env.post(Region::Eu, &path, &json!({"reason": ""}))
        .await
        .assert_error(400, "invalid_reason");
    env.post(
        Region::Eu,
        &format!("/claim/{}/invalidate", "a".repeat(64)),
        &json!({"reason": "x"}),
    )
    .await
    .assert_error(400, "invalid_token");
    env.post(Region::Eu, "/claim//invalidate", &json!({"reason": "x"}))
        .await
        .assert_error(400, "missing_data");
    // Another region does not know the token.
    env.post(Region::Us, &path, &json!({"reason": "x"}))
        .await
        .assert_error(400, "invalid_token");
    let response = env
        .http
        .post(env.url(Region::Eu, &path))
        .header("content-type", "text/plain")
        .body("reason=x")
        .send()
        .await
        .unwrap();
    into_reply(response)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn invalidate_bearer_is_optional_but_checked() {
    let env = start().await;
    let token = env.token(EU, "enrol", "inv4").await;
    let path = format!("/claim/{token}/invalidate");
    let bad = env
        .user_call(
            Region::Eu,
            Method::POST,
            &path,
            "bogus",
            Some(json!({"reason": "x"})),
        )
        .await;
    bad.assert_error(401, "invalid_oauth");
    let bearer = env.access_token(EU, Some("user-read")).await;
    let body = env
        .user_call(
            Region::Eu,
            Method::POST,
            &path,
            &bearer,
            Some(json!({"reason": "x"})),
        )
        .await
        .ok();
    assert_eq!(body["claim_aborted"], true);
}

#[tokio::test]
async fn availability_and_outage() {
    let env = start().await;
    let url = |region: Region, key: &str| env.url(region, &format!("/availability?api_key={key}"));
    let up = into_reply(env.http.get(url(Region::Eu, EU.key)).send().await.unwrap()).await;
    assert_eq!(up.ok(), json!({"up": true}));
    for (region, key) in [
        (Region::Eu, "nope"),
        (Region::Eu, US.key),
        (Region::Us, EU.key),
    ] {
        into_reply(env.http.get(url(region, key)).send().await.unwrap())
            .await
            .assert_error(400, "invalid_key");
    }
    let missing = env
        .http
        .get(env.url(Region::Eu, "/availability"))
        .send()
        .await
        .unwrap();
    into_reply(missing).await.assert_error(400, "invalid_key");

    env.control(Method::PUT, "/availability", Some(json!({"up": false})))
        .await
        .ok();
    let down = into_reply(env.http.get(url(Region::Eu, EU.key)).send().await.unwrap()).await;
    assert_eq!(down.ok(), json!({"up": false}));
    env.post(
        Region::Eu,
        "/claim/enrol/token",
        &common::Env::claim_body(EU, "x"),
    )
    .await
    .assert_error(500, "server_error");
    env.control(Method::PUT, "/availability", Some(json!({"up": true})))
        .await
        .ok();
    env.token(EU, "enrol", "x").await;
}

#[tokio::test]
async fn every_region_prefix_is_served() {
    let mut config = Config::default();
    for region in [Region::Sg, Region::Au, Region::Jkt, Region::Latam] {
        let tag = region.as_str();
        config.service_providers.push(ServiceProviderConfig {
            name: format!("{tag}-sp"),
            region,
            api_key: padded_key(&format!("{tag}key")),
            secret: format!("{tag}-secret"),
            oauth_username: "u".into(),
            oauth_password: "p".into(),
            assurance_types: vec![iproov_emulator::AssuranceType::GenuinePresence],
            risk_profiles: vec![],
            photo_enrol: true,
            rate_limit_per_second: None,
        });
    }
    let env = common::start_with(config).await;
    for region in Region::ALL {
        let key = match region {
            Region::Eu => EU.key.to_owned(),
            Region::Us => US.key.to_owned(),
            other => padded_key(&format!("{}key", other.as_str())),
        };
        let url = env.url(region, &format!("/availability?api_key={key}"));
        let reply = into_reply(env.http.get(url).send().await.unwrap()).await;
        assert_eq!(reply.ok(), json!({"up": true}), "{region}");
    }
}
