//! `POST /claim/{enrol,verify}/validate`: the one-validate rule, results
//! as completed, expiry, and the validate errors.

mod common;

use common::{EU, EU_RISK, Env, US, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn validate_before_completion_then_once_only() {
    let env = start().await;
    let token = env.token(EU, "enrol", "alice").await;
    env.validate(EU, "enrol", &token, "alice")
        .await
        .assert_error(400, "invalid_token");
    let claim_path = format!("/claims/{token}");
    let claim = env.control(Method::GET, &claim_path, None).await.ok();
    assert!(
        claim.get("client").is_none(),
        "no client before a validate succeeded"
    );
    env.complete(&token, json!({"passed": true})).await.ok();
    let body = env.validate(EU, "enrol", &token, "alice").await.ok();
    // The control API shows the client the validate carried (common::Env::validate's "tests").
    let claim = env.control(Method::GET, &claim_path, None).await.ok();
    assert_eq!(claim["client"], "tests");
    assert_eq!(body["passed"], true);
    assert_eq!(body["token"], token.as_str());
    assert_eq!(body["type"], "enrol");
    assert_eq!(body["frame_available"], false);
    assert_eq!(body["assurance_type"], "genuine_presence");
    assert!(body.get("reason").is_none());
    assert!(body.get("frame").is_none());
    env.validate(EU, "enrol", &token, "alice")
        .await
        .assert_error(400, "invalid_token");
    // Completing again is refused by the control API.
    assert_eq!(
        env.complete(&token, json!({"passed": true}))
            .await
            .status
            .as_u16(),
        409
    );
}

#[tokio::test]
async fn full_enrol_then_verify_flow() {
    let env = start().await;
    env.enrol_user(EU, "dave").await;
    let token = env.token(EU, "verify", "dave").await;
    let quality = json!({"blur": "Good", "pose": "Acceptable", "lighting": "not_available"});
    let signals = json!({"anti_spoofing": {"passed": true}, "matching": {"passed": true}});
    env.complete(
        &token,
        json!({"passed": true, "frame": true, "signals": signals, "return_frame_quality": quality}),
    )
    .await
    .ok();
    let body = env.validate(EU, "verify", &token, "dave").await.ok();
    assert_eq!(body["passed"], true);
    assert_eq!(body["type"], "verify");
    assert_eq!(body["frame_available"], true);
    assert_eq!(body["signals"], signals);
    assert_eq!(body["return_frame_quality"], quality);
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(body["frame"].as_str().unwrap())
        .unwrap();
    assert_eq!(png, iproov_emulator::PLACEHOLDER_PNG);
    assert!(png.starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn failed_claim_reports_reason_and_custom_frame() {
    let env = start().await;
    env.enrol_user(EU, "erin").await;
    let token = env.token(EU, "verify", "erin").await;
    env.complete(
        &token,
        json!({"passed": false, "reason": "too_much_movement", "frame": "aGVsbG8=",
               "signals": {"anti_spoofing": {"passed": false}}}),
    )
    .await
    .ok();
    let body = env.validate(EU, "verify", &token, "erin").await.ok();
    assert_eq!(body["passed"], false);
    assert_eq!(body["reason"], "too_much_movement");
    assert_eq!(body["frame"], "aGVsbG8=");
    assert_eq!(body["signals"]["anti_spoofing"]["passed"], false);
    // Bad frame values are refused by the control API.
    let token = env.token(EU, "verify", "erin").await;
    let reply = env
        .complete(&token, json!({"passed": true, "frame": "%%%"}))
        .await;
    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn failed_enrol_creates_no_user() {
    let env = start().await;
    let token = env.token(EU, "enrol", "frank").await;
    env.complete(&token, json!({"passed": false})).await.ok();
    let body = env.validate(EU, "enrol", &token, "frank").await.ok();
    assert_eq!(body["passed"], false);
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "frank"),
    )
    .await
    .assert_error(400, "no_user");
    // ... and the user may try again.
    env.token(EU, "enrol", "frank").await;
}

#[tokio::test]
async fn completed_but_unvalidated_enrol_leaves_user_inactive() {
    let env = start().await;
    let token = env.token(EU, "enrol", "gina").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "gina"),
    )
    .await
    .assert_error(400, "inactive_user");
    env.post(
        Region::Eu,
        "/claim/enrol/token",
        &Env::claim_body(EU, "gina"),
    )
    .await
    .assert_error(400, "already_enrolled");
    env.validate(EU, "enrol", &token, "gina").await.ok();
    env.token(EU, "verify", "gina").await;
}

#[tokio::test]
async fn activate_false_leaves_user_suspended() {
    let env = start().await;
    let token = env.token(EU, "enrol", "hank").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "user_id": "hank",
                      "client": "t", "activate": false});
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .ok();
    let bearer = env.access_token(EU, None).await;
    let user = env
        .user_call(Region::Eu, Method::GET, "/users/hank", &bearer, None)
        .await
        .ok();
    assert_eq!(user["status"], "Suspended");
    assert!(user["suspension_date"].is_string());
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "hank"),
    )
    .await
    .assert_error(400, "inactive_user");
}

#[tokio::test]
async fn mismatches_are_invalid_validation() {
    let env = start().await;
    let token = env.token(EU, "enrol", "ivy").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU, "enrol", &token, "someone-else")
        .await
        .assert_error(400, "invalid_validation");
    let with_profile = json!({"api_key": EU.key, "secret": EU.secret, "token": token,
                              "user_id": "ivy", "client": "t", "risk_profile": "strict"});
    env.post(Region::Eu, "/claim/enrol/validate", &with_profile)
        .await
        .assert_error(400, "invalid_validation");
    // A mismatch does not use the token up.
    env.validate(EU, "enrol", &token, "ivy").await.ok();

    // Risk-profile SP: the profile must be repeated on validate.
    let body = json!({"api_key": EU_RISK.key, "secret": EU_RISK.secret, "resource": "r",
                      "user_id": "jo", "risk_profile": "D_33_1A"});
    let token = env.post(Region::Eu, "/claim/enrol/token", &body).await.ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU_RISK, "enrol", &token, "jo")
        .await
        .assert_error(400, "invalid_validation");
    let body = json!({"api_key": EU_RISK.key, "secret": EU_RISK.secret, "token": token,
                      "user_id": "jo", "client": "t", "risk_profile": "D_33_1A"});
    let reply = env
        .post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .ok();
    assert_eq!(reply["risk_profile"], "D_33_1A");
}

#[tokio::test]
async fn unknown_wrong_kind_and_missing_tokens() {
    let env = start().await;
    env.validate(EU, "verify", &"0".repeat(64), "u")
        .await
        .assert_error(400, "invalid_token");
    let token = env.token(EU, "enrol", "kim").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU, "verify", &token, "kim")
        .await
        .assert_error(400, "invalid_token");
    // Another SP's token.
    env.validate(common::EU_LIVENESS, "enrol", &token, "kim")
        .await
        .assert_error(400, "invalid_token");
    let body = json!({"api_key": EU.key, "secret": EU.secret, "user_id": "kim", "client": "t"});
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .assert_error(400, "missing_data");
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "client": "t"});
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .assert_error(400, "invalid_user_id");
}

#[tokio::test]
async fn validate_credentials_and_region() {
    let env = start().await;
    let token = env.token(EU, "enrol", "lee").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    let body = json!({"api_key": EU.key, "secret": "nope", "token": token, "user_id": "lee", "client": "t"});
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .assert_error(401, "invalid_key");
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "user_id": "lee", "client": "t"});
    env.post(Region::Us, "/claim/enrol/validate", &body)
        .await
        .assert_error(401, "invalid_key");
    let body = json!({"api_key": US.key, "secret": US.secret, "token": token, "user_id": "lee", "client": "t"});
    env.post(Region::Us, "/claim/enrol/validate", &body)
        .await
        .assert_error(400, "invalid_token");
}

#[tokio::test]
async fn ip_field_must_be_ipv4_when_sent() {
    let env = start().await;
    let token = env.token(EU, "enrol", "max").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    let mut body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "user_id": "max",
                          "client": "t", "ip": "not-an-ip"});
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .assert_error(400, "invalid_request");
    body["ip"] = json!("127.0.0.1");
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .ok();
}

#[tokio::test]
async fn unclaimed_tokens_expire_on_the_emulator_clock() {
    let env = start().await;
    let stale = env.token(EU, "enrol", "ned").await;
    let completed = env.token(EU, "enrol", "olga").await;
    env.complete(&completed, json!({"passed": true})).await.ok();
    env.advance(119).await;
    let still_fresh = env.token(EU, "enrol", "pat").await;
    env.advance(2).await;
    // 121 s after issue: cannot be completed or validated any more.
    let reply = env.complete(&stale, json!({"passed": true})).await;
    reply.assert_error(409, "claim_expired");
    env.validate(EU, "enrol", &stale, "ned")
        .await
        .assert_error(400, "invalid_token");
    // A claim completed in time can still be validated.
    env.validate(EU, "enrol", &completed, "olga").await.ok();
    // A token issued later is still alive.
    env.complete(&still_fresh, json!({"passed": true}))
        .await
        .ok();
    let clock = env.control(Method::GET, "/clock", None).await.ok();
    assert_eq!(clock["offset_secs"], 121.0);
}

#[tokio::test]
async fn claim_lifetime_is_configurable() {
    let config = iproov_emulator::Config {
        claim_token_lifetime_secs: 600,
        ..iproov_emulator::Config::default()
    };
    let env = common::start_with(config).await;
    let token = env.token(EU, "enrol", "quin").await;
    env.advance(599).await;
    env.complete(&token, json!({"passed": true})).await.ok();
}
