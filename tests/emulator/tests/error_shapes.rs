//! Errors that come from the HTTP layer rather than a handler (axum's
//! rejections, unknown methods) are still the API's JSON error body.

mod common;

use common::{EU, start};
use iproov_emulator::Region;
use reqwest::Method;

#[tokio::test]
async fn undecodable_user_id_in_the_path_is_invalid_user_id() {
    let env = start().await;
    let bearer = env.access_token(EU, None).await;
    for method in [Method::GET, Method::DELETE] {
        env.user_call(Region::Eu, method, "/users/%FF%FE", &bearer, None)
            .await
            .assert_error(400, "invalid_user_id");
    }
    // The Bearer check still comes first.
    env.user_call(Region::Eu, Method::GET, "/users/%FF", "nope", None)
        .await
        .assert_error(401, "invalid_oauth");
}

#[tokio::test]
async fn oversized_bodies_are_json_invalid_request() {
    let env = start().await;
    let bearer = env.access_token(EU, None).await;
    let big = format!(r#"{{"name": "{}"}}"#, "a".repeat(3 * 1024 * 1024));
    for path in ["/users/someone", "/claim/enrol/token"] {
        let reply = env
            .http
            .put(env.url(Region::Eu, path))
            .bearer_auth(&bearer)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let reply = common::into_reply(reply).await;
        // PUT on the token path is a 405; both are JSON errors.
        if status == 405 {
            reply.assert_error(405, "method_not_allowed");
        } else {
            reply.assert_error(400, "invalid_request");
        }
    }
    let reply = env
        .http
        .post(env.url(Region::Eu, "/claim/enrol/token"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    common::into_reply(reply)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn control_api_wrong_method_is_json_405() {
    let env = start().await;
    env.control(Method::PATCH, "/clock", None)
        .await
        .assert_error(405, "method_not_allowed");
    env.control(Method::DELETE, "/presets", None)
        .await
        .assert_error(405, "method_not_allowed");
}
