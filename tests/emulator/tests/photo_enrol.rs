//! `POST /claim/enrol/image` (multipart/form-data).

mod common;

use common::{EU, EU_RISK, Env, Sp, into_reply, start};
use iproov_emulator::Region;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-jpeg-body";

/// A complete, valid form; `skip` leaves out one part, `set` overrides one.
fn form(sp: Sp, token: &str, skip: &str, set: Option<(&str, &str)>) -> Form {
    let mut form = Form::new();
    let texts = [
        ("api_key", sp.key),
        ("secret", sp.secret),
        ("rotation", "0"),
        ("token", token),
        ("source", "selfie"),
    ];
    for (name, value) in texts {
        if name == skip {
            continue;
        }
        let value = match set {
            Some((n, v)) if n == name => v,
            _ => value,
        };
        form = form.text(name, value.to_owned());
    }
    if skip != "image" {
        let part = Part::bytes(JPEG.to_vec())
            .file_name("image.jpeg")
            .mime_str("image/jpeg")
            .unwrap();
        form = form.part("image", part);
    }
    form
}

async fn send(env: &Env, region: Region, form: Form) -> common::Reply {
    let response = env
        .http
        .post(env.url(region, "/claim/enrol/image"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    into_reply(response).await
}

#[tokio::test]
async fn photo_enrol_creates_an_active_user() {
    let env = start().await;
    let token = env.token(EU, "enrol", "photo1").await;
    let body = send(&env, Region::Eu, form(EU, &token, "", None))
        .await
        .ok();
    assert_eq!(
        body,
        json!({"token": token, "user_id": "photo1", "success": true})
    );
    // Usable without validate.
    env.token(EU, "verify", "photo1").await;
    // The token cannot be used again, for an image or for validate.
    send(&env, Region::Eu, form(EU, &token, "", None))
        .await
        .assert_error(400, "invalid_token");
    env.validate(EU, "enrol", &token, "photo1")
        .await
        .assert_error(400, "invalid_token");
    // And the user is now enrolled.
    let again = env
        .post(
            Region::Eu,
            "/claim/enrol/token",
            &Env::claim_body(EU, "photo1"),
        )
        .await;
    again.assert_error(400, "already_enrolled");
}

#[tokio::test]
async fn image_problems_are_invalid_enrol_image() {
    let env = start().await;
    let token = env.token(EU, "enrol", "photo2").await;
    send(&env, Region::Eu, form(EU, &token, "image", None))
        .await
        .assert_error(400, "invalid_enrol_image");
    let not_image = form(EU, &token, "image", None).part("image", Part::bytes(b"GIF89a".to_vec()));
    send(&env, Region::Eu, not_image)
        .await
        .assert_error(400, "invalid_enrol_image");
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let too_big = form(EU, &token, "image", None).part("image", Part::bytes(big));
    send(&env, Region::Eu, too_big)
        .await
        .assert_error(400, "invalid_enrol_image");
    // The token survived the failures.
    send(&env, Region::Eu, form(EU, &token, "", None))
        .await
        .ok();
}

#[tokio::test]
async fn source_is_checked_case_insensitively() {
    let env = start().await;
    let token = env.token(EU, "enrol", "photo3").await;
    send(
        &env,
        Region::Eu,
        form(EU, &token, "", Some(("source", "passport"))),
    )
    .await
    .assert_error(400, "invalid_source");
    send(
        &env,
        Region::Eu,
        form(EU, &token, "", Some(("source", "EID"))),
    )
    .await
    .ok();
    // Missing source defaults to eid.
    let token = env.token(EU, "enrol", "photo4").await;
    send(&env, Region::Eu, form(EU, &token, "source", None))
        .await
        .ok();
}

#[tokio::test]
async fn token_and_rotation_checks() {
    let env = start().await;
    send(&env, Region::Eu, form(EU, "", "token", None))
        .await
        .assert_error(400, "missing_data");
    send(&env, Region::Eu, form(EU, &"f".repeat(64), "", None))
        .await
        .assert_error(400, "invalid_token");
    env.enrol_user(EU, "photo5").await;
    let verify = env.token(EU, "verify", "photo5").await;
    send(&env, Region::Eu, form(EU, &verify, "", None))
        .await
        .assert_error(400, "invalid_token");
    let token = env.token(EU, "enrol", "photo6").await;
    send(
        &env,
        Region::Eu,
        form(EU, &token, "", Some(("rotation", "90"))),
    )
    .await
    .assert_error(400, "invalid_request");
    send(&env, Region::Eu, form(EU, &token, "rotation", None))
        .await
        .assert_error(400, "invalid_request");
    env.advance(121).await;
    send(&env, Region::Eu, form(EU, &token, "", None))
        .await
        .assert_error(400, "invalid_token");
}

#[tokio::test]
async fn credentials_region_and_sp_permission() {
    let env = start().await;
    let token = env.token(EU, "enrol", "photo7").await;
    send(
        &env,
        Region::Eu,
        form(EU, &token, "", Some(("secret", "bad"))),
    )
    .await
    .assert_error(401, "invalid_key");
    send(&env, Region::Eu, form(EU, &token, "api_key", None))
        .await
        .assert_error(401, "invalid_key");
    send(&env, Region::Us, form(EU, &token, "", None))
        .await
        .assert_error(401, "invalid_key");
    // Photo enrol is disabled for eu-risk.
    let body = json!({"api_key": EU_RISK.key, "secret": EU_RISK.secret, "resource": "r",
                      "user_id": "photo8", "risk_profile": "strict"});
    let risk_token = env.post(Region::Eu, "/claim/enrol/token", &body).await.ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = send(&env, Region::Eu, form(EU_RISK, &risk_token, "", None)).await;
    reply.assert_error(401, "invalid_key");
}

#[tokio::test]
async fn non_multipart_is_invalid_request() {
    let env = start().await;
    let token = env.token(EU, "enrol", "photo9").await;
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "rotation": 0});
    env.post(Region::Eu, "/claim/enrol/image", &body)
        .await
        .assert_error(400, "invalid_request");
}
