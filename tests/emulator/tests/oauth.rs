//! `POST /{api_key}/access_token` and the access token's lifetime, quota
//! and region.

mod common;

use common::{EU, US, into_reply, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn token_response_shape_and_default_scopes() {
    let env = start().await;
    let body = env
        .access_token_reply(EU, "grant_type=client_credentials")
        .await
        .ok();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["access_token"].as_str().unwrap().len(), 60);
    assert_eq!(
        body["scope"],
        json!(["user-read", "user-write", "user-write-status"])
    );
}

#[tokio::test]
async fn scope_forms() {
    let env = start().await;
    let forms = [
        (
            "grant_type=client_credentials&scope=user-read",
            json!(["user-read"]),
        ),
        (
            "grant_type=client_credentials&scope=user-read+user-write",
            json!(["user-read", "user-write"]),
        ),
        (
            "grant_type=client_credentials&scope=user-read%20user-write-status",
            json!(["user-read", "user-write-status"]),
        ),
        (
            "grant_type=client_credentials&scope=user-write,user-read",
            json!(["user-write", "user-read"]),
        ),
        (
            "grant_type=client_credentials&scope=user-read&scope=user-write&scope=user-read",
            json!(["user-read", "user-write"]),
        ),
    ];
    for (form, scopes) in forms {
        let body = env.access_token_reply(EU, form).await.ok();
        assert_eq!(body["scope"], scopes, "{form}");
    }
}

#[tokio::test]
async fn grant_and_scope_errors() {
    let env = start().await;
    let cases = [
        ("scope=user-read", "invalid_request"),
        ("grant_type=client%20credentials", "invalid_grant"),
        ("grant_type=password", "unsupported_grant_type"),
        ("grant_type=client_credentials&scope=user*", "invalid_scope"),
        ("grant_type=client_credentials&scope=admin", "invalid_scope"),
    ];
    for (form, code) in cases {
        env.access_token_reply(EU, form)
            .await
            .assert_error(400, code);
    }
}

#[tokio::test]
async fn bad_basic_credentials_are_invalid_client() {
    let env = start().await;
    let url = env.url(Region::Eu, &format!("/{}/access_token", EU.key));
    let attempts = [
        env.http.post(&url).basic_auth(EU.user, Some("wrong")),
        env.http.post(&url).basic_auth(US.user, Some(US.pass)),
        env.http.post(&url),
        env.http.post(&url).header("authorization", "Basic !!!"),
    ];
    for req in attempts {
        let response = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        into_reply(response)
            .await
            .assert_error(400, "invalid_client");
    }
}

#[tokio::test]
async fn wrong_content_type_is_invalid_request() {
    let env = start().await;
    let response = env
        .http
        .post(env.url(Region::Eu, &format!("/{}/access_token", EU.key)))
        .basic_auth(EU.user, Some(EU.pass))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    into_reply(response)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn unknown_key_and_region_mismatch_are_500_invalid_key() {
    // The OpenAPI's only invalid_key for this endpoint is the 500
    // OAuthServerErrorResponse; another platform's key is unknown here too.
    let env = start().await;
    let mut wrong_region = EU;
    wrong_region.region = Region::Us;
    let mut unknown = EU;
    unknown.key = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
    for sp in [wrong_region, unknown] {
        let reply = env
            .access_token_reply(sp, "grant_type=client_credentials")
            .await;
        reply.assert_error(500, "invalid_key");
        assert_eq!(reply.body["error_description"], "Invalid API Key");
        assert_eq!(reply.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn fifty_uses_then_quota_exceeded() {
    let env = start().await;
    env.enrol_user(EU, "quota").await;
    let bearer = env.access_token(EU, None).await;
    for i in 0..50 {
        let reply = env
            .user_call(Region::Eu, Method::GET, "/users/quota", &bearer, None)
            .await;
        assert_eq!(reply.status.as_u16(), 200, "use {}: {}", i + 1, reply.body);
    }
    env.user_call(Region::Eu, Method::GET, "/users/quota", &bearer, None)
        .await
        .assert_error(401, "token_quota_exceeded");
    // A new token works again.
    let fresh = env.access_token(EU, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/quota", &fresh, None)
        .await
        .ok();
}

#[tokio::test]
async fn access_token_expires_after_an_hour() {
    let env = start().await;
    env.enrol_user(EU, "hour").await;
    let bearer = env.access_token(EU, None).await;
    env.advance(3599).await;
    env.user_call(Region::Eu, Method::GET, "/users/hour", &bearer, None)
        .await
        .ok();
    env.advance(1).await;
    env.user_call(Region::Eu, Method::GET, "/users/hour", &bearer, None)
        .await
        .assert_error(401, "invalid_oauth");
}

#[tokio::test]
async fn missing_unknown_and_other_region_bearers_are_invalid_oauth() {
    let env = start().await;
    env.enrol_user(EU, "who").await;
    let url = env.url(Region::Eu, "/users/who");
    let no_auth = into_reply(env.http.get(&url).send().await.unwrap()).await;
    no_auth.assert_error(401, "invalid_oauth");
    let basic = into_reply(
        env.http
            .get(&url)
            .basic_auth(EU.user, Some(EU.pass))
            .send()
            .await
            .unwrap(),
    )
    .await;
    basic.assert_error(401, "invalid_oauth");
    env.user_call(Region::Eu, Method::GET, "/users/who", "made-up", None)
        .await
        .assert_error(401, "invalid_oauth");
    let us_bearer = env.access_token(US, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/who", &us_bearer, None)
        .await
        .assert_error(401, "invalid_oauth");
    let eu_bearer = env.access_token(EU, None).await;
    env.user_call(Region::Us, Method::GET, "/users/who", &eu_bearer, None)
        .await
        .assert_error(401, "invalid_oauth");
}

#[tokio::test]
async fn revoked_tokens_are_invalid_oauth() {
    let env = start().await;
    env.enrol_user(EU, "revoked").await;
    let bearer = env.access_token(EU, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/revoked", &bearer, None)
        .await
        .ok();
    let reply = env
        .control(Method::DELETE, "/access-tokens", None)
        .await
        .ok();
    assert_eq!(reply["revoked"], 1);
    env.user_call(Region::Eu, Method::GET, "/users/revoked", &bearer, None)
        .await
        .assert_error(401, "invalid_oauth");
    let fresh = env.access_token(EU, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/revoked", &fresh, None)
        .await
        .ok();
}
