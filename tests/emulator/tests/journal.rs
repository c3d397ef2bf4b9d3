//! The request journal (`GET /__emulator/journal`) and its log line: what
//! each request carried, credentials masked in every place the API puts
//! them, the filters, the bounds on large bodies, and clearing.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use common::{EU, EU_RISK, Env};
use iproov_emulator::{Config, Emulator, Region, RequestLog};
use reqwest::Method;
use serde_json::{Value, json};

/// A log sink the test can read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The log's lines once there are `n` of them (the writer is a thread of its own).
    async fn lines(&self, n: usize) -> Vec<String> {
        for _ in 0..1000 {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= n {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {n} log lines after 10 s");
    }
}

async fn start_logged() -> (Env, Captured) {
    let log = Captured::default();
    let emu = Emulator::start_with_log(
        Config::default(),
        "127.0.0.1:0".parse().unwrap(),
        Some(RequestLog::to_writer(log.clone())),
    )
    .await
    .unwrap();
    let env = Env {
        emu,
        http: reqwest::Client::new(),
    };
    (env, log)
}

async fn journal(env: &Env, query: &str) -> Value {
    env.control(Method::GET, &format!("/journal{query}"), None)
        .await
        .ok()
}

fn entries(answer: &Value) -> Vec<Value> {
    answer["requests"].as_array().unwrap().clone()
}

// Credentials the emulator has never heard of, as a client sending its real ones by mistake
// would carry them: each must be masked by where it is, not by what it is.
const KEY: &str = "plantedapikey0000000000000000000000000001";
const JSON_SECRET: &str = "planted-json-secret-0002";
const NESTED_SECRET: &str = "planted-nested-secret-0003";
const FORM_SECRET: &str = "planted-form-client-secret-0004";
const FORM_PASSWORD: &str = "planted form password 0005";
const BASIC_PASSWORD: &str = "planted-basic-password-0006";
const BEARER: &str = "plantedbearertoken0007";
const MULTIPART_SECRET: &str = "planted-multipart-secret-0008";
const HEADER_KEY: &str = "planted-header-key-0009";
const TEXT_SECRET: &str = "planted-text-secret-0010";
const PLANTED: [&str; 10] = [
    KEY,
    JSON_SECRET,
    NESTED_SECRET,
    FORM_SECRET,
    FORM_PASSWORD,
    BASIC_PASSWORD,
    BEARER,
    MULTIPART_SECRET,
    HEADER_KEY,
    TEXT_SECRET,
];

/// Every encoding of `secret` a journal or a log could carry it in.
fn encodings(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let percent: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    vec![
        secret.to_owned(),
        percent,
        secret.replace(' ', "%20"),
        b64.encode(secret),
        b64.encode(format!("someone:{secret}")),
        serde_json::to_string(secret).unwrap(),
    ]
}

fn assert_hidden(text: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        for form in encodings(secret) {
            assert!(!text.contains(&form), "{what} shows {form:?}:\n{text}");
        }
    }
}

#[tokio::test]
async fn credentials_are_masked_in_every_place_they_travel() {
    let (env, log) = start_logged().await;
    let http = &env.http;
    let eu = |path: &str| env.url(Region::Eu, path);
    // The api_key in the path and in the query.
    http.post(eu(&format!("/{KEY}/access_token")))
        .basic_auth("someone", Some(BASIC_PASSWORD))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username=someone&password={}&client_secret={FORM_SECRET}",
            FORM_PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    http.get(eu(&format!("/availability?api_key={KEY}&x=1")))
        .send()
        .await
        .unwrap();
    // JSON bodies, a nested field, a secret echoed into another field, a header.
    env.post(
        Region::Eu,
        "/claim/enrol/token",
        &json!({"api_key": KEY, "secret": JSON_SECRET, "resource": "r", "user_id": "u",
                "client": format!("echo {JSON_SECRET}"), "options": {"client_secret": NESTED_SECRET}}),
    )
    .await;
    http.get(eu("/users/someone"))
        .bearer_auth(BEARER)
        .header("x-api-key", HEADER_KEY)
        .send()
        .await
        .unwrap();
    // Multipart parts and a body the journal cannot parse.
    let form = reqwest::multipart::Form::new()
        .text("api_key", KEY)
        .text("secret", MULTIPART_SECRET)
        .text("rotation", "0")
        .part(
            "image",
            reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\nnot really".to_vec())
                .file_name("face.png")
                .mime_str("image/png")
                .unwrap(),
        );
    http.post(eu("/claim/enrol/image"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    http.post(eu("/claim/verify/validate"))
        .header("content-type", "text/plain")
        .body(format!("{{broken json, \"secret\": \"{TEXT_SECRET}\""))
        .send()
        .await
        .unwrap();
    // The emulator's own credentials and an access token it issued, sent as they should be.
    let token = env.access_token(EU, None).await;
    env.user_call(Region::Eu, Method::GET, "/users/nobody", &token, None)
        .await;
    env.token(EU, "enrol", "user-1").await;

    let answer = journal(&env, "").await;
    let text = answer.to_string();
    let configured = [EU.key, EU.secret, EU.pass, token.as_str()];
    assert_hidden(&text, &PLANTED, "the journal");
    assert_hidden(&text, &configured, "the journal");
    let lines = log.lines(9).await;
    assert_eq!(lines.len(), 9, "one line per request: {lines:?}");
    let logged = lines.join("\n");
    assert_hidden(&logged, &PLANTED, "the log");
    assert_hidden(&logged, &configured, "the log");

    // What is left is what a test wants to read, each mask where its credential was.
    let all = entries(&answer);
    assert_eq!(all[0]["path"], "/eu/api/v2/***/access_token");
    assert_eq!(all[0]["headers"]["authorization"], "Basic ***");
    assert_eq!(
        all[0]["form"],
        json!({"grant_type": "password", "username": "someone", "password": "***", "client_secret": "***"})
    );
    assert_eq!(all[1]["query"], "api_key=***&x=1");
    assert_eq!(all[2]["json"]["secret"], "***");
    assert_eq!(all[2]["json"]["api_key"], "***");
    assert_eq!(all[2]["json"]["client"], "echo ***");
    assert_eq!(all[2]["json"]["options"]["client_secret"], "***");
    assert_eq!(all[3]["headers"]["authorization"], "Bearer ***");
    assert_eq!(all[3]["headers"]["x-api-key"], "***");
    let parts = all[4]["multipart"].as_array().unwrap();
    assert_eq!(
        (parts[0]["name"].clone(), parts[0]["value"].clone()),
        (json!("api_key"), json!("***"))
    );
    assert_eq!(parts[1]["value"], "***");
    assert!(
        all[5]["text"]
            .as_str()
            .unwrap()
            .contains("\"secret\": \"***\"")
    );
    assert_eq!(all[7]["headers"]["authorization"], "Bearer ***");
    assert_eq!(all[7]["service_provider"], "eu-default");
    assert_eq!(all[8]["json"]["resource"], "tests");
    assert_eq!(all[8]["service_provider"], "eu-default");
    assert!(
        all[2].get("service_provider").is_none(),
        "an unknown key names no SP"
    );
    assert!(
        lines[0].starts_with("journal #1 POST /eu/api/v2/***/access_token ("),
        "{}",
        lines[0]
    );
    env.emu.shutdown().await;
}

#[tokio::test]
async fn an_entry_holds_what_the_client_sent_claim_tokens_included() {
    let env = common::start().await;
    // A token request with a risk profile, then its validate with the browser's User-Agent.
    let body = json!({"api_key": EU_RISK.key, "secret": EU_RISK.secret, "resource": "r",
                      "user_id": "risky", "risk_profile": "strict"});
    let token = env.post(Region::Eu, "/claim/enrol/token", &body).await.ok()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.complete(&token, json!({"passed": true})).await.ok();
    let validate = json!({"api_key": EU_RISK.key, "secret": EU_RISK.secret, "token": token,
                          "user_id": "risky", "risk_profile": "strict",
                          "client": "Mozilla/5.0 (X11; Linux x86_64)"});
    env.post(Region::Eu, "/claim/enrol/validate", &validate)
        .await
        .ok();
    let all = entries(&journal(&env, "").await);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["json"]["risk_profile"], "strict");
    let sent = &all[1];
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["path"], "/eu/api/v2/claim/enrol/validate");
    assert_eq!(sent["region"], "eu");
    assert_eq!(sent["service_provider"], "eu-risk");
    assert_eq!(sent["json"]["client"], "Mozilla/5.0 (X11; Linux x86_64)");
    assert_eq!(sent["json"]["token"], token, "claim tokens are kept");
    assert_eq!(sent["headers"]["content-type"], "application/json");
    assert_eq!(sent["body_bytes"], validate.to_string().len());
    assert_eq!(sent["body_truncated"], false);
    assert!(sent["at"].as_str().unwrap().ends_with('Z') && sent["at_ms"].as_u64().unwrap() > 0);
    assert_eq!(sent["seq"], 2);
    env.emu.shutdown().await;
}

#[tokio::test]
async fn filters_by_path_method_and_since() {
    let env = common::start().await;
    let token = env.token(EU, "enrol", "f-1").await;
    let avail = env.url(Region::Eu, &format!("/availability?api_key={}", EU.key));
    env.http.get(&avail).send().await.unwrap();
    let mark = journal(&env, "").await["last_seq"].as_u64().unwrap();
    assert_eq!(mark, 2);
    env.complete(&token, json!({"passed": true})).await.ok();
    env.validate(EU, "enrol", &token, "f-1").await.ok();
    env.http.post(&avail).send().await.unwrap(); // 405, journaled all the same
    // An unknown region and path is journaled too.
    env.http
        .get(format!(
            "{}/xx/api/v2/claim/enrol/token",
            env.emu.base_url()
        ))
        .send()
        .await
        .unwrap();

    let paths = |answer: &Value| -> Vec<String> {
        entries(answer)
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        paths(&journal(&env, "?path=/validate").await),
        ["POST /eu/api/v2/claim/enrol/validate"]
    );
    assert_eq!(
        paths(&journal(&env, "?path=/availability&method=post").await),
        ["POST /eu/api/v2/availability"]
    );
    let since = journal(&env, &format!("?since={mark}")).await;
    assert_eq!(
        paths(&since),
        [
            "POST /eu/api/v2/claim/enrol/validate",
            "POST /eu/api/v2/availability",
            "GET /xx/api/v2/claim/enrol/token"
        ]
    );
    assert_eq!(since["last_seq"], 5);
    assert!(entries(&since)[2]["region"].is_null());
    assert_eq!(paths(&journal(&env, "?since=5").await).len(), 0);
    let page = journal(&env, "?since=1&limit=2").await;
    assert_eq!(
        paths(&page),
        [
            "GET /eu/api/v2/availability",
            "POST /eu/api/v2/claim/enrol/validate"
        ]
    );
    let mark_only = journal(&env, "?limit=0").await;
    assert_eq!(
        (entries(&mark_only).len(), mark_only["last_seq"].as_u64()),
        (0, Some(5))
    );
    assert_eq!(
        paths(&journal(&env, "?path=/token&since=1").await),
        ["GET /xx/api/v2/claim/enrol/token"]
    );
    // Control calls are not API requests: never journaled.
    assert!(!journal(&env, "").await.to_string().contains("__emulator"));
    env.control(Method::GET, "/journal?since=soon", None)
        .await
        .assert_error(400, "invalid_request");

    // DELETE /requests and reset empty it; seq goes on, so an old `since` still means "after".
    env.control(Method::DELETE, "/requests", None).await;
    assert_eq!(entries(&journal(&env, "").await).len(), 0);
    env.http.get(&avail).send().await.unwrap();
    env.control(Method::POST, "/reset", None).await;
    let after = journal(&env, "").await;
    assert_eq!(
        (entries(&after).len(), after["last_seq"].as_u64()),
        (0, Some(6))
    );
    env.http.get(&avail).send().await.unwrap();
    assert_eq!(entries(&journal(&env, "?since=5").await)[0]["seq"], 7);
    env.emu.shutdown().await;
}

#[tokio::test]
async fn large_bodies_are_kept_bounded() {
    let env = common::start().await;
    // A 60 KB "image": its length and digest, not its bytes.
    let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
    image.resize(60 * 1024, 7);
    let form = reqwest::multipart::Form::new()
        .text("api_key", EU.key)
        .text("secret", EU.secret)
        .text("rotation", "0")
        .text("user_id", "photo-1")
        .part(
            "image",
            reqwest::multipart::Part::bytes(image.clone())
                .file_name("face.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let token = env.token(EU, "enrol", "photo-1").await;
    let form = form.text("token", token);
    let reply = env
        .http
        .post(env.url(Region::Eu, "/claim/enrol/image"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // A JSON body of 40 KB: an excerpt of its masked text.
    let big = json!({"api_key": EU.key, "secret": EU.secret, "resource": "x".repeat(40_000), "user_id": "big"});
    env.post(Region::Eu, "/claim/enrol/token", &big).await;

    let all = entries(&journal(&env, "?since=1").await);
    let photo = &all[0];
    assert!(photo.to_string().len() < 2048, "{photo}");
    let part = photo["multipart"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "image")
        .unwrap()
        .clone();
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&image)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(
        part,
        json!({"name": "image", "filename": "face.png", "content_type": "image/png",
               "bytes": 60 * 1024, "sha256": digest})
    );
    assert_eq!(photo["body_truncated"], false);
    let large = &all[1];
    assert_eq!(large["body_bytes"], big.to_string().len());
    assert_eq!(large["body_truncated"], true);
    assert!(large.get("json").is_none());
    let excerpt = large["text"].as_str().unwrap();
    assert!(
        excerpt.len() <= 1024 && excerpt.starts_with("{\"api_key\":\"***\""),
        "{excerpt}"
    );
    assert!(!excerpt.contains(EU.secret));
    env.emu.shutdown().await;
}
