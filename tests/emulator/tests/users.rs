//! Management API: users, scopes, status changes, update and delete.

mod common;

use common::{EU, Env, into_reply, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::json;

const PATHS: [(&str, &str); 5] = [
    ("GET", ""),
    ("PUT", ""),
    ("DELETE", ""),
    ("POST", "/activate"),
    ("POST", "/suspend"),
];

async fn call(env: &Env, method: &str, path: &str, bearer: &str) -> common::Reply {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let body = match method {
        Method::PUT => Some(json!({"name": "New Name"})),
        Method::POST => Some(json!({})),
        _ => None,
    };
    env.user_call(Region::Eu, method, path, bearer, body).await
}

#[tokio::test]
async fn get_user_response_shape() {
    let env = start().await;
    env.enrol_user(EU, "ann").await;
    let bearer = env.access_token(EU, Some("user-read")).await;
    let user = env
        .user_call(Region::Eu, Method::GET, "/users/ann", &bearer, None)
        .await
        .ok();
    assert_eq!(user["user_id"], "ann");
    assert_eq!(user["name"], "ann");
    assert_eq!(user["status"], "Active");
    let date = user["activation_date"].as_str().unwrap();
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z'));
    assert!(user.get("suspension_date").is_none());
}

#[tokio::test]
async fn scopes_are_enforced() {
    let env = start().await;
    env.enrol_user(EU, "ben").await;
    let needs = |method: &str, suffix: &str| match (method, suffix) {
        ("GET", _) => "user-read",
        (_, "") => "user-write",
        _ => "user-write-status",
    };
    for scope in ["user-read", "user-write", "user-write-status"] {
        let bearer = env.access_token(EU, Some(scope)).await;
        for (method, suffix) in PATHS {
            if needs(method, suffix) == scope {
                continue;
            }
            let reply = call(&env, method, &format!("/users/ben{suffix}"), &bearer).await;
            reply.assert_error(403, "invalid_oauth");
        }
    }
    // The user is untouched.
    let bearer = env.access_token(EU, None).await;
    let user = call(&env, "GET", "/users/ben", &bearer).await.ok();
    assert_eq!(user["status"], "Active");
    assert_eq!(user["name"], "ben");
}

#[tokio::test]
async fn unknown_users_are_invalid_user_id() {
    // The live service's answer to GET /users/{unknown} (issue 18); every
    // user endpoint looks the user up the same way.
    let env = start().await;
    let bearer = env.access_token(EU, None).await;
    for (method, suffix) in PATHS {
        call(&env, method, &format!("/users/ghost{suffix}"), &bearer)
            .await
            .assert_error(400, "invalid_user_id");
    }
}

#[tokio::test]
async fn malformed_user_ids_are_invalid_user_id() {
    let env = start().await;
    let bearer = env.access_token(EU, None).await;
    for (method, suffix) in PATHS {
        call(&env, method, &format!("/users/bad%20id{suffix}"), &bearer)
            .await
            .assert_error(400, "invalid_user_id");
    }
}

#[tokio::test]
async fn suspend_and_activate() {
    let env = start().await;
    env.enrol_user(EU, "cy").await;
    let bearer = env.access_token(EU, Some("user-write-status")).await;
    let user = call(&env, "POST", "/users/cy/suspend", &bearer).await.ok();
    assert_eq!(user["status"], "Suspended");
    assert!(user["suspension_date"].is_string());
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "cy"),
    )
    .await
    .assert_error(400, "inactive_user");
    let user = call(&env, "POST", "/users/cy/activate", &bearer).await.ok();
    assert_eq!(user["status"], "Active");
    env.token(EU, "verify", "cy").await;
}

#[tokio::test]
async fn status_change_with_a_future_date_time_waits_for_it() {
    let env = start().await;
    env.enrol_user(EU, "dee").await;
    let bearer = env.access_token(EU, None).await;
    let clock = env.control(Method::GET, "/clock", None).await.ok();
    let at_ms = clock["now_ms"].as_u64().unwrap() + 60_000;
    let when = humanize(at_ms);
    let user = env
        .user_call(
            Region::Eu,
            Method::POST,
            "/users/dee/suspend",
            &bearer,
            Some(json!({"date_time": when})),
        )
        .await
        .ok();
    assert_eq!(user["status"], "Active");
    env.advance(61).await;
    let user = call(&env, "GET", "/users/dee", &bearer).await.ok();
    assert_eq!(user["status"], "Suspended");
    // A past date applies at once.
    let user = env
        .user_call(
            Region::Eu,
            Method::POST,
            "/users/dee/activate",
            &bearer,
            Some(json!({"date_time": "2020-01-02T03:04:05.678Z"})),
        )
        .await
        .ok();
    assert_eq!(user["status"], "Active");
    assert_eq!(user["activation_date"], "2020-01-02T03:04:05Z");
}

/// Formats epoch millis as `yyyy-MM-ddTHH:mm:ss.SSSZ` (days-from-civil
/// inverse, to keep the tests free of a date crate).
fn humanize(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap();
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[tokio::test]
async fn bad_change_state_bodies() {
    let env = start().await;
    env.enrol_user(EU, "eve").await;
    let bearer = env.access_token(EU, None).await;
    env.user_call(
        Region::Eu,
        Method::POST,
        "/users/eve/suspend",
        &bearer,
        Some(json!({"date_time": "tomorrow"})),
    )
    .await
    .assert_error(400, "invalid_request");
    let response = env
        .http
        .post(env.url(Region::Eu, "/users/eve/suspend"))
        .bearer_auth(&bearer)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    into_reply(response)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn update_renames_and_sets_the_name() {
    let env = start().await;
    env.enrol_user(EU, "fay").await;
    env.enrol_user(EU, "taken").await;
    let bearer = env.access_token(EU, None).await;
    let put = |path: &'static str, body| {
        let bearer = bearer.clone();
        let env = &env;
        async move {
            env.user_call(Region::Eu, Method::PUT, path, &bearer, Some(body))
                .await
        }
    };
    put("/users/fay", json!({}))
        .await
        .assert_error(400, "invalid_request");
    put("/users/fay", json!({"user_id": "bad id"}))
        .await
        .assert_error(400, "invalid_user_id");
    put("/users/fay", json!({"user_id": "taken"}))
        .await
        .assert_error(400, "invalid_user_id");
    let user = put("/users/fay", json!({"user_id": "fay2", "name": "Fay Two"}))
        .await
        .ok();
    assert_eq!(user["user_id"], "fay2");
    assert_eq!(user["name"], "Fay Two");
    assert_eq!(user["status"], "Active");
    call(&env, "GET", "/users/fay", &bearer)
        .await
        .assert_error(400, "invalid_user_id");
    let user = call(&env, "GET", "/users/fay2", &bearer).await.ok();
    assert_eq!(user["name"], "Fay Two");
    let user = put("/users/fay2", json!({"name": "Only Name"})).await.ok();
    assert_eq!(user["user_id"], "fay2");
    env.token(EU, "verify", "fay2").await;
}

#[tokio::test]
async fn delete_then_unknown_and_re_enrol() {
    let env = start().await;
    env.enrol_user(EU, "gus").await;
    let bearer = env.access_token(EU, Some("user-write user-read")).await;
    let user = call(&env, "DELETE", "/users/gus", &bearer).await.ok();
    assert_eq!(user["status"], "Deleted");
    for (method, suffix) in [("GET", ""), ("DELETE", "")] {
        call(&env, method, &format!("/users/gus{suffix}"), &bearer)
            .await
            .assert_error(400, "invalid_user_id");
    }
    env.post(
        Region::Eu,
        "/claim/verify/token",
        &Env::claim_body(EU, "gus"),
    )
    .await
    .assert_error(400, "no_user");
    env.enrol_user(EU, "gus").await;
    let user = call(&env, "GET", "/users/gus", &bearer).await.ok();
    assert_eq!(user["status"], "Active");
}
