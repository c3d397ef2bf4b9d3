//! `POST /claim/enrol/token` and `/claim/verify/token`: success shapes and
//! every error they emit.

mod common;

use common::{EU, EU_LIVENESS, EU_RISK, Env, US, into_reply, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::{Value, json};

fn with(sp: common::Sp, user: &str, extra: Value) -> Value {
    let mut body = Env::claim_body(sp, user);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn enrol_token_has_documented_shape() {
    let env = start().await;
    let body = env
        .post(
            Region::Eu,
            "/claim/enrol/token",
            &Env::claim_body(EU, "alice"),
        )
        .await
        .ok();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    assert_eq!(body["user_id"], "alice");
    assert_eq!(body["fallback"], json!([]));
    assert!(body["pod"].is_string());
    assert!(body["primary"].is_string());
    assert!(body.get("risk_profile").is_none());
    // Every token is new.
    let again = env.token(EU, "enrol", "alice").await;
    assert_ne!(again, token);
}

#[tokio::test]
async fn verify_token_needs_an_active_user() {
    let env = start().await;
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "nobody"),
    )
    .await
    .assert_error(400, "no_user");
    for status in ["Inactive", "Suspended"] {
        env.control(
            Method::POST,
            "/users",
            Some(json!({"api_key": EU.key, "user_id": "u1", "status": status})),
        )
        .await
        .ok();
        env.post(
            Region::Eu,
            "/claim/verify/token",
            &Env::claim_body(EU, "u1"),
        )
        .await
        .assert_error(400, "inactive_user");
    }
    env.enrol_user(EU, "bob").await;
    let token = env.token(EU, "verify", "bob").await;
    assert_eq!(token.len(), 64);
}

#[tokio::test]
async fn users_are_per_service_provider() {
    let env = start().await;
    env.enrol_user(EU, "shared").await;
    let other_sp = with(EU_LIVENESS, "shared", json!({"assurance_type": "liveness"}));
    env.post(Region::Eu, "/claim/verify/token", &other_sp)
        .await
        .assert_error(400, "no_user");
}

#[tokio::test]
async fn enrol_token_for_enrolled_user_is_already_enrolled() {
    let env = start().await;
    env.enrol_user(EU, "carol").await;
    env.post(
        Region::Eu,
        "/claim/enrol/token",
        &Env::claim_body(EU, "carol"),
    )
    .await
    .assert_error(400, "already_enrolled");
}

#[tokio::test]
async fn bad_credentials_are_invalid_key() {
    let env = start().await;
    let cases = [
        json!({"api_key": EU.key, "secret": "wrong", "resource": "r", "user_id": "u"}),
        json!({"secret": EU.secret, "resource": "r", "user_id": "u"}),
        json!({"api_key": EU.key, "resource": "r", "user_id": "u"}),
        json!({"api_key": "x".repeat(40), "secret": EU.secret, "resource": "r", "user_id": "u"}),
    ];
    for body in cases {
        for kind in ["enrol", "verify"] {
            let reply = env
                .post(Region::Eu, &format!("/claim/{kind}/token"), &body)
                .await;
            reply.assert_error(401, "invalid_key");
        }
    }
}

#[tokio::test]
async fn region_mismatch_is_invalid_key_401() {
    let env = start().await;
    for region in [Region::Us, Region::Sg, Region::Latam] {
        let reply = env
            .post(region, "/claim/enrol/token", &Env::claim_body(EU, "u"))
            .await;
        reply.assert_error(401, "invalid_key");
        assert_eq!(
            reply.body["error_description"],
            "Invalid Public and/or Private Key"
        );
    }
    // The US key works under /us and not under /eu.
    env.post(Region::Us, "/claim/enrol/token", &Env::claim_body(US, "u"))
        .await
        .ok();
    env.post(Region::Eu, "/claim/enrol/token", &Env::claim_body(US, "u"))
        .await
        .assert_error(401, "invalid_key");
}

#[tokio::test]
async fn missing_resource_is_missing_data() {
    let env = start().await;
    let mut body = Env::claim_body(EU, "u");
    body.as_object_mut().unwrap().remove("resource");
    env.post(Region::Eu, "/claim/enrol/token", &body)
        .await
        .assert_error(400, "missing_data");
    body["resource"] = json!("");
    env.post(Region::Eu, "/claim/verify/token", &body)
        .await
        .assert_error(400, "missing_data");
}

#[tokio::test]
async fn bad_user_id_is_invalid_user_id() {
    let env = start().await;
    for user in ["has space", "", "semi;colon", &"a".repeat(257)] {
        env.post(Region::Eu, "/claim/enrol/token", &Env::claim_body(EU, user))
            .await
            .assert_error(400, "invalid_user_id");
    }
    let mut body = Env::claim_body(EU, "u");
    body.as_object_mut().unwrap().remove("user_id");
    env.post(Region::Eu, "/claim/enrol/token", &body)
        .await
        .assert_error(400, "invalid_user_id");
    // The whole documented alphabet is accepted.
    env.token(EU, "enrol", "a.B-9_x+o'neil@example").await;
}

#[tokio::test]
async fn assurance_type_not_enabled_is_403() {
    let env = start().await;
    // Liveness-only SP: the implied default (GPA) and explicit GPA fail.
    env.post(
        Region::Eu,
        "/claim/enrol/token",
        &Env::claim_body(EU_LIVENESS, "u"),
    )
    .await
    .assert_error(403, "invalid_assurance_type");
    let gpa = with(
        EU_LIVENESS,
        "u",
        json!({"assurance_type": "genuine_presence"}),
    );
    env.post(Region::Eu, "/claim/enrol/token", &gpa)
        .await
        .assert_error(403, "invalid_assurance_type");
    let bogus = with(EU, "u", json!({"assurance_type": "telepathy"}));
    env.post(Region::Eu, "/claim/enrol/token", &bogus)
        .await
        .assert_error(403, "invalid_assurance_type");
    let la = with(EU_LIVENESS, "u", json!({"assurance_type": "liveness"}));
    let token = env.post(Region::Eu, "/claim/enrol/token", &la).await.ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.complete(&token, json!({"passed": true})).await.ok();
    let body = env.validate(EU_LIVENESS, "enrol", &token, "u").await.ok();
    assert_eq!(body["assurance_type"], "liveness");
}

#[tokio::test]
async fn risk_profile_rules() {
    let env = start().await;
    // Profiles provisioned: missing, unknown and malformed fail.
    let cases = [
        Env::claim_body(EU_RISK, "u"),
        with(EU_RISK, "u", json!({"risk_profile": "unknown"})),
        with(EU_RISK, "u", json!({"risk_profile": "bad profile!"})),
        // No profiles provisioned: naming one fails.
        with(EU, "u", json!({"risk_profile": "D_33_1A"})),
    ];
    for body in cases {
        env.post(Region::Eu, "/claim/enrol/token", &body)
            .await
            .assert_error(400, "invalid_risk_appetite");
    }
    let ok = with(EU_RISK, "u", json!({"risk_profile": "strict"}));
    let body = env.post(Region::Eu, "/claim/enrol/token", &ok).await.ok();
    assert_eq!(body["risk_profile"], "strict");
    // An empty profile counts as none.
    let empty = with(EU, "u", json!({"risk_profile": ""}));
    env.post(Region::Eu, "/claim/enrol/token", &empty)
        .await
        .ok();
}

#[tokio::test]
async fn non_json_requests_are_invalid_request() {
    let env = start().await;
    let url = env.url(Region::Eu, "/claim/enrol/token");
    let json_text = Env::claim_body(EU, "u").to_string();
    let cases: [(&str, String); 4] = [
        ("text/plain", json_text.clone()),
        ("application/x-www-form-urlencoded", "api_key=x".to_owned()),
        ("application/json", "{not json".to_owned()),
        ("application/json", "[1,2]".to_owned()),
    ];
    for (content_type, body) in cases {
        let response = env
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        into_reply(response)
            .await
            .assert_error(400, "invalid_request");
    }
    let no_type = env.http.post(&url).body(json_text).send().await.unwrap();
    into_reply(no_type)
        .await
        .assert_error(400, "invalid_request");
    // A field of the wrong type.
    let wrong = with(EU, "u", json!({"resource": 5}));
    env.post(Region::Eu, "/claim/enrol/token", &wrong)
        .await
        .assert_error(400, "invalid_request");
    // charset parameter is fine.
    let response = env
        .http
        .post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .body(Env::claim_body(EU, "u").to_string())
        .send()
        .await
        .unwrap();
    into_reply(response).await.ok();
}

#[tokio::test]
async fn rate_limit_gives_429_with_retry_after() {
    let env = start().await;
    env.control(
        Method::PUT,
        &format!("/service-providers/{}/rate-limit", EU.key),
        Some(json!({"per_second": 2})),
    )
    .await
    .ok();
    env.token(EU, "enrol", "r1").await;
    env.token(EU, "enrol", "r2").await;
    let reply = env
        .post(Region::Eu, "/claim/enrol/token", &Env::claim_body(EU, "r3"))
        .await;
    reply.assert_error(429, "too_many_requests");
    let retry: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, 1);
    // Other SPs are not limited.
    env.token(US, "enrol", "r3").await;
    // The window is on the emulator clock.
    env.advance(1).await;
    env.token(EU, "enrol", "r3").await;
    // Lifting the limit.
    env.control(
        Method::PUT,
        &format!("/service-providers/{}/rate-limit", EU.key),
        Some(json!({"per_second": null})),
    )
    .await
    .ok();
    for i in 0..10 {
        env.token(EU, "enrol", &format!("many{i}")).await;
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_have_json_errors() {
    let env = start().await;
    let reply = into_reply(
        env.http
            .get(env.url(Region::Eu, "/no/such/thing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(404, "not_found");
    let reply = into_reply(
        env.http
            .get(env.url(Region::Eu, "/claim/enrol/token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(405, "method_not_allowed");
    let reply = into_reply(
        env.http
            .get(format!("{}/mars/api/v2/availability", env.emu.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(404, "not_found");
}
