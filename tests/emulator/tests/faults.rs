//! Fault injection as an HTTP client sees it, and request counting.

mod common;

use std::time::Duration;

use tokio::time::Instant;

use common::{EU, Env, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::{Value, json};

/// A client that never reuses connections, so that one fault cannot leak
/// into the next request through the pool.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn raw_post(
    env: &Env,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Result<reqwest::Response> {
    fresh_client()
        .post(env.url(Region::Eu, path))
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn status_fault_with_json_body_and_headers_for_n_requests() {
    let env = start().await;
    env.fault(json!({
        "path": "/claim/enrol/token", "kind": "status", "status": 429, "times": 2,
        "json": {"error": "too_many_requests", "error_description": "slow down"},
        "headers": {"Retry-After": "7"}
    }))
    .await;
    for _ in 0..2 {
        let reply = env
            .post(Region::Eu, "/claim/enrol/token", &Env::claim_body(EU, "f1"))
            .await;
        reply.assert_error(429, "too_many_requests");
        assert_eq!(reply.body["error_description"], "slow down");
        assert_eq!(reply.headers["retry-after"], "7");
    }
    env.token(EU, "enrol", "f1").await;
    assert_eq!(env.count("/claim/enrol/token").await, 3);
}

#[tokio::test]
async fn status_fault_with_html_and_default_bodies() {
    let env = start().await;
    env.fault(
        json!({"path": "/claim/verify/validate", "kind": "status", "status": 502,
                     "html": "<html><body>Bad Gateway</body></html>"}),
    )
    .await;
    let response = env
        .http
        .post(env.url(Region::Eu, "/claim/verify/validate"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().contains("Bad Gateway"));

    env.fault(json!({"path": "/availability", "kind": "status", "status": 500}))
        .await;
    let response = env
        .http
        .get(env.url(Region::Eu, &format!("/availability?api_key={}", EU.key)))
        .send()
        .await
        .unwrap();
    common::into_reply(response)
        .await
        .assert_error(500, "server_error");
}

#[tokio::test]
async fn delay_fault_slows_the_real_response() {
    let env = start().await;
    env.fault(json!({"path": "/claim/enrol/token", "kind": "delay", "delay_ms": 300}))
        .await;
    let started = Instant::now();
    env.token(EU, "enrol", "slow").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A client timeout shorter than the delay fires.
    env.fault(json!({"path": "/claim/enrol/token", "kind": "delay", "delay_ms": 2000}))
        .await;
    let err = fresh_client()
        .post(env.url(Region::Eu, "/claim/enrol/token"))
        .json(&Env::claim_body(EU, "slow"))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn reset_fault_closes_without_a_response() {
    let env = start().await;
    env.fault(json!({"path": "/claim/enrol/token", "kind": "reset"}))
        .await;
    let err = raw_post(&env, "/claim/enrol/token", &Env::claim_body(EU, "r"))
        .await
        .unwrap_err();
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(
        err.is_request() || err.is_connect() || format!("{err:?}").contains("reset"),
        "{err:?}"
    );
    // Exactly one request arrived; the next one is served normally.
    assert_eq!(env.count("/claim/enrol/token").await, 1);
    env.token(EU, "enrol", "r").await;
    // No claim was created by the reset request.
    let state = env.control(Method::GET, "/state", None).await.ok();
    assert_eq!(state["claims"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reset_after_handler_loses_the_answer_but_keeps_the_effect() {
    let env = start().await;
    let token = env.token(EU, "enrol", "lost").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.fault(json!({"path": "/claim/enrol/validate", "kind": "reset", "after_handler": true}))
        .await;
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "user_id": "lost", "client": "t"});
    assert!(
        raw_post(&env, "/claim/enrol/validate", &body)
            .await
            .is_err()
    );
    // The validate happened: a retry hits the one-validate rule.
    env.post(Region::Eu, "/claim/enrol/validate", &body)
        .await
        .assert_error(400, "invalid_token");
    env.token(EU, "verify", "lost").await;
}

#[tokio::test]
async fn cut_fault_truncates_the_body() {
    let env = start().await;
    env.fault(json!({"path": "/claim/enrol/token", "kind": "cut"}))
        .await;
    let response = raw_post(&env, "/claim/enrol/token", &Env::claim_body(EU, "cut"))
        .await
        .expect("headers arrive");
    assert_eq!(response.status().as_u16(), 200);
    let declared = response.content_length().unwrap();
    assert!(declared > 100, "{declared}");
    let err = response.bytes().await.unwrap_err();
    assert!(err.is_body() || err.is_decode(), "{err:?}");

    // A synthetic body cut after 5 bytes, read chunk by chunk.
    env.fault(
        json!({"path": "/availability", "kind": "cut", "send_bytes": 5,
                     "status": 503, "json": {"error": "server_error", "error_description": "x"}}),
    )
    .await;
    let mut response = fresh_client()
        .get(env.url(Region::Eu, &format!("/availability?api_key={}", EU.key)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let mut received = Vec::new();
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(outcome.is_err());
    assert_eq!(received, b"{\"err");
}

#[tokio::test]
async fn matching_by_exact_path_method_and_region() {
    let env = start().await;
    // "/token" as an exact path matches nothing; as a suffix it matches.
    env.fault(json!({"path": "/token", "match": "exact", "kind": "status", "status": 503}))
        .await;
    env.enrol_user(EU, "m").await;
    let list = env.control(Method::GET, "/faults", None).await.ok();
    assert_eq!(list["faults"].as_array().unwrap().len(), 1, "{list}");
    env.control(Method::DELETE, "/faults", None).await;
    env.fault(json!({"path": "/token", "kind": "status", "status": 503}))
        .await;
    env.post(Region::Eu, "/claim/verify/token", &Env::claim_body(EU, "m"))
        .await
        .assert_error(503, "server_error");
    // Region filter.
    env.fault(
        json!({"path": "/claim/verify/token", "region": "us", "kind": "status", "status": 503}),
    )
    .await;
    env.token(EU, "verify", "m").await;
    // Method filter.
    env.fault(json!({"path": "/users/m", "method": "DELETE", "kind": "status", "status": 500}))
        .await;
    let bearer = env.access_token(EU, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/m", &bearer, None)
        .await
        .ok();
    env.user_call(Region::Eu, Method::DELETE, "/users/m", &bearer, None)
        .await
        .assert_error(500, "server_error");
    // Full-path exact match.
    env.fault(
        json!({"path": "/eu/api/v2/users/m", "match": "exact", "kind": "status", "status": 500}),
    )
    .await;
    env.user_call(Region::Eu, Method::GET, "/users/m", &bearer, None)
        .await
        .assert_error(500, "server_error");
}

#[tokio::test]
async fn fault_list_and_delete() {
    let env = start().await;
    let a = env
        .fault(json!({"path": "/a", "kind": "delay", "delay_ms": 1, "times": 3}))
        .await;
    let b = env.fault(json!({"path": "/b", "kind": "reset"})).await;
    let list = env.control(Method::GET, "/faults", None).await.ok();
    let faults = list["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0]["id"], a);
    assert_eq!(faults[0]["remaining"], 3);
    assert_eq!(faults[1]["kind"], "reset");
    let del = env
        .control(Method::DELETE, &format!("/faults/{b}"), None)
        .await;
    assert_eq!(del.status.as_u16(), 204);
    env.control(Method::DELETE, &format!("/faults/{b}"), None)
        .await
        .assert_error(404, "unknown_fault");
    env.control(Method::DELETE, "/faults", None).await;
    let list = env.control(Method::GET, "/faults", None).await.ok();
    assert!(list["faults"].as_array().unwrap().is_empty());
    // Malformed rules are refused.
    env.control(
        Method::POST,
        "/faults",
        Some(json!({"path": "/x", "kind": "explode"})),
    )
    .await
    .assert_error(400, "invalid_request");
    env.control(
        Method::POST,
        "/faults",
        Some(json!({"path": "", "kind": "reset"})),
    )
    .await
    .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn request_counts_show_what_reached_the_emulator() {
    let env = start().await;
    let token = env.token(EU, "enrol", "cnt").await;
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU, "enrol", &token, "cnt").await.ok();
    assert_eq!(env.count("/claim/enrol/validate").await, 1);
    assert_eq!(env.count("/claim/verify/validate").await, 0);
    let all = env.control(Method::GET, "/requests", None).await.ok();
    assert_eq!(all["total"], 2);
    assert_eq!(all["paths"]["/eu/api/v2/claim/enrol/token"], 1);
    assert_eq!(all["requests"]["POST /eu/api/v2/claim/enrol/validate"], 1);
    let by_method = env
        .control(
            Method::GET,
            "/requests?path=/claim/enrol/token&method=GET",
            None,
        )
        .await
        .ok();
    assert_eq!(by_method["count"], 0);
    env.control(Method::DELETE, "/requests", None).await;
    assert_eq!(env.count("/claim/enrol/validate").await, 0);
}

#[tokio::test]
async fn body_fields_pick_one_claims_validate_among_concurrent_ones() {
    let env = start().await;
    let users = ["bf-a", "bf-b", "bf-c"];
    let mut tokens = Vec::new();
    for user in users {
        let token = env.token(EU, "enrol", user).await;
        env.complete(&token, json!({"passed": true})).await.ok();
        tokens.push(token);
    }
    // The rule is meant for b's validate only, however the validates interleave.
    let rule = json!({
        "path": "/claim/enrol/validate", "body_fields": {"token": tokens[1], "user_id": "bf-b"},
        "kind": "status", "status": 503, "headers": {"Retry-After": "4"}
    });
    env.fault(rule).await;
    let list = env.control(Method::GET, "/faults", None).await.ok();
    assert_eq!(
        list["faults"][0]["body_fields"]["token"], tokens[1],
        "{list}"
    );
    // Requests of the route whose body does not match leave the rule in place: another
    // claim's validate, b's token with another user_id, a body that is not JSON.
    env.validate(EU, "enrol", &tokens[0], "bf-a").await.ok();
    env.validate(EU, "enrol", &tokens[1], "bf-x")
        .await
        .assert_error(400, "invalid_validation");
    let form = fresh_client()
        .post(env.url(Region::Eu, "/claim/enrol/validate"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}&user_id=bf-b", tokens[1]))
        .send()
        .await
        .unwrap();
    common::into_reply(form)
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(
        env.control(Method::GET, "/faults", None).await.ok()["faults"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // b's validates, concurrently with c's: b gets the fault (the handler does not run), c
    // is answered; then the rule is gone and b's token is still valid.
    let b = env.validate(EU, "enrol", &tokens[1], "bf-b");
    let c = env.validate(EU, "enrol", &tokens[2], "bf-c");
    let (b, c) = tokio::join!(b, c);
    b.assert_error(503, "server_error");
    assert_eq!(b.headers["retry-after"], "4");
    assert_eq!(c.ok()["passed"], true);
    assert!(
        env.control(Method::GET, "/faults", None).await.ok()["faults"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        env.validate(EU, "enrol", &tokens[1], "bf-b").await.ok()["passed"],
        true
    );
    // Every request was counted once, the faulted one included.
    assert_eq!(env.count("/claim/enrol/validate").await, 6);
}

/// One HTTP/1.1 response read off a raw connection: its status line and body (by
/// `Content-Length`); `None` when the server closed the connection first.
async fn read_response(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                let body = data[end + 4..end + 4 + length].to_vec();
                return Some((head.lines().next().unwrap_or("").to_owned(), body));
            }
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn a_status_fault_keeps_the_connection_when_the_body_comes_late() {
    // A client writes the headers, then the body (two writes, as httpx does). A status fault
    // answering before the body is read made hyper close the connection after the answer,
    // unannounced: the client's next request on its pooled connection then failed with no
    // answer, never reaching the emulator. The fault now reads the body first.
    use tokio::io::AsyncWriteExt;
    let env = start().await;
    env.fault(json!({"path": "/claim/enrol/validate", "kind": "status", "status": 503}))
        .await;
    let mut stream = tokio::net::TcpStream::connect(env.emu.addr())
        .await
        .unwrap();
    let body = json!({"api_key": EU.key, "secret": EU.secret, "token": "t", "user_id": "late"})
        .to_string();
    let head = format!(
        "POST /eu/api/v2/claim/enrol/validate HTTP/1.1\r\nHost: emulator\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The body leaves a moment after the head. (The request journal now reads every body
    // before the fault layer sees the request, so nothing observable marks "the head is in";
    // the answer below must be the same whenever the body comes.)
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(env.count("/claim/enrol/validate").await, 0);
    stream.write_all(body.as_bytes()).await.unwrap();
    let (status, _) = read_response(&mut stream)
        .await
        .expect("the fault's answer");
    assert!(status.contains(" 503 "), "{status}");
    assert_eq!(env.count("/claim/enrol/validate").await, 1);
    // The same connection serves the next request.
    let next = format!(
        "GET /eu/api/v2/availability?api_key={} HTTP/1.1\r\nHost: emulator\r\n\r\n",
        EU.key
    );
    stream.write_all(next.as_bytes()).await.unwrap();
    let (status, body) = read_response(&mut stream)
        .await
        .expect("the connection was closed after the fault's answer");
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["up"], true);
}

/// `held` of `GET /__emulator/faults`, polled until it is `want` (30 s
/// at most: a request sent is held within milliseconds).
async fn until_held(env: &Env, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = env.control(Method::GET, "/faults", None).await.ok();
        if list["held"] == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "held never became {want}: {list}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn hold_keeps_a_request_until_released() {
    let env = start().await;
    env.fault(json!({"path": "/claim/enrol/token", "kind": "delay", "hold": true}))
        .await;
    let list = env.control(Method::GET, "/faults", None).await.ok();
    assert_eq!(list["faults"][0]["hold"], true, "{list}");
    assert_eq!(list["held"], 0, "{list}");
    let held = tokio::spawn({
        let url = env.url(Region::Eu, "/claim/enrol/token");
        async move {
            fresh_client()
                .post(url)
                .json(&Env::claim_body(EU, "held"))
                .send()
                .await
        }
    });
    until_held(&env, 1).await;
    // The rule is used up: a second token request is answered while the first is still held.
    env.token(EU, "enrol", "other").await;
    assert!(
        !held.is_finished(),
        "the held request was answered before its release"
    );
    let released = env
        .control(Method::POST, "/faults/release", None)
        .await
        .ok();
    assert_eq!(released, json!({"released": 1}));
    let response = tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("answered once released")
        .unwrap()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"].as_str().unwrap().len(), 64, "{body}");
    until_held(&env, 0).await;
    // A release with nothing held lets nothing go.
    let none = env
        .control(Method::POST, "/faults/release", None)
        .await
        .ok();
    assert_eq!(none, json!({"released": 0}));
}

#[tokio::test]
async fn hold_then_the_rule_acts_and_every_hold_is_bounded() {
    let env = start().await;
    // Held, then the rule's own action: here a status.
    env.fault(json!({"path": "/claim/enrol/token", "kind": "status", "status": 503, "hold": true, "times": 2}))
        .await;
    let send = |user: &'static str| {
        let url = env.url(Region::Eu, "/claim/enrol/token");
        tokio::spawn(async move {
            fresh_client()
                .post(url)
                .json(&Env::claim_body(EU, user))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let (a, b) = (send("a"), send("b"));
    until_held(&env, 2).await;
    // A reset releases them (and so does DELETE /faults): no test leaves a client hanging.
    env.control(Method::POST, "/reset", None).await;
    for task in [a, b] {
        let status = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("answered once reset")
            .unwrap();
        assert_eq!(status, 503);
    }
    env.fault(json!({"path": "/claim/enrol/token", "kind": "delay", "hold": true}))
        .await;
    let c = send("c");
    until_held(&env, 1).await;
    env.control(Method::DELETE, "/faults", None).await;
    let status = tokio::time::timeout(Duration::from_secs(30), c)
        .await
        .expect("answered once the rules were cleared")
        .unwrap();
    assert_eq!(status, 200);
    // Unreleased, a hold ends at its hold_ms (at least that long: the emulator waits it out).
    env.fault(json!({"path": "/claim/enrol/token", "kind": "delay", "hold": true, "hold_ms": 300}))
        .await;
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(30), send("d"))
        .await
        .expect("answered at the end of hold_ms")
        .unwrap();
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    until_held(&env, 0).await;
}
