//! Shared helpers for the emulator's HTTP tests: start an in-process
//! emulator on 127.0.0.1:0 and talk to it with a real HTTP client.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use iproov_emulator::{Config, Emulator, Region};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Credentials of one built-in service provider.
#[derive(Debug, Clone, Copy)]
pub struct Sp {
    pub key: &'static str,
    pub secret: &'static str,
    pub user: &'static str,
    pub pass: &'static str,
    pub region: Region,
}

/// `eu-default`: GPA + LA, photo enrol, no risk profiles.
pub const EU: Sp = Sp {
    key: "eudefaultkey0000000000000000000000000000",
    secret: "eudefaultsecret0000000000000000000000000",
    user: "eu-default-oauth",
    pass: "eu-default-oauth-password",
    region: Region::Eu,
};
/// `us-default`.
pub const US: Sp = Sp {
    key: "usdefaultkey0000000000000000000000000000",
    secret: "usdefaultsecret0000000000000000000000000",
    user: "us-default-oauth",
    pass: "us-default-oauth-password",
    region: Region::Us,
};
/// `eu-liveness`: liveness only.
pub const EU_LIVENESS: Sp = Sp {
    key: "eulivenesskey000000000000000000000000000",
    secret: "eulivenesssecret000000000000000000000000",
    user: "eu-liveness-oauth",
    pass: "eu-liveness-oauth-password",
    region: Region::Eu,
};
/// `eu-risk`: risk profiles `D_33_1A` and `strict`, photo enrol off.
pub const EU_RISK: Sp = Sp {
    key: "euriskkey0000000000000000000000000000000",
    secret: "eurisksecret0000000000000000000000000000",
    user: "eu-risk-oauth",
    pass: "eu-risk-oauth-password",
    region: Region::Eu,
};

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts an API error with `status` and `code`, sent as JSON.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["error"], code, "body: {}", self.body);
        assert!(
            self.body["error_description"].is_string(),
            "body: {}",
            self.body
        );
    }

    /// Asserts 200 and returns the body.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        self.body
    }
}

/// A running emulator plus a client.
pub struct Env {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

pub async fn start() -> Env {
    start_with(Config::default()).await
}

pub async fn start_with(config: Config) -> Env {
    let emu = Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Env {
        emu,
        http: reqwest::Client::new(),
    }
}

pub async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl Env {
    /// `http://ADDR/{region}/api/v2{path}`.
    pub fn url(&self, region: Region, path: &str) -> String {
        format!("{}{path}", self.emu.region_url(region))
    }

    /// POST a JSON body to an API path.
    pub async fn post(&self, region: Region, path: &str, body: &Value) -> Reply {
        let response = self
            .http
            .post(self.url(region, path))
            .json(body)
            .send()
            .await
            .unwrap();
        into_reply(response).await
    }

    /// Any request to the control API.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let url = format!("{}{path}", self.emu.control_url());
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_reply(req.send().await.unwrap()).await
    }

    /// A token request body.
    pub fn claim_body(sp: Sp, user_id: &str) -> Value {
        json!({"api_key": sp.key, "secret": sp.secret, "resource": "tests", "user_id": user_id, "client": "tests"})
    }

    /// `POST /claim/{enrol|verify}/token`, returning the token.
    pub async fn token(&self, sp: Sp, kind: &str, user_id: &str) -> String {
        let body = Self::claim_body(sp, user_id);
        let reply = self
            .post(sp.region, &format!("/claim/{kind}/token"), &body)
            .await
            .ok();
        reply["token"].as_str().unwrap().to_owned()
    }

    /// Completes a claim via the control API.
    pub async fn complete(&self, token: &str, outcome: Value) -> Reply {
        self.control(
            Method::POST,
            &format!("/claims/{token}/complete"),
            Some(outcome),
        )
        .await
    }

    /// `POST /claim/{kind}/validate` with matching user_id.
    pub async fn validate(&self, sp: Sp, kind: &str, token: &str, user_id: &str) -> Reply {
        let body = json!({"api_key": sp.key, "secret": sp.secret, "token": token, "user_id": user_id, "client": "tests"});
        self.post(sp.region, &format!("/claim/{kind}/validate"), &body)
            .await
    }

    /// Capture-enrols and activates `user_id`.
    pub async fn enrol_user(&self, sp: Sp, user_id: &str) {
        let token = self.token(sp, "enrol", user_id).await;
        self.complete(&token, json!({"passed": true})).await.ok();
        let body = self.validate(sp, "enrol", &token, user_id).await.ok();
        assert_eq!(body["passed"], true);
    }

    /// OAuth access token with the given form body.
    pub async fn access_token_reply(&self, sp: Sp, form: &str) -> Reply {
        let response = self
            .http
            .post(self.url(sp.region, &format!("/{}/access_token", sp.key)))
            .basic_auth(sp.user, Some(sp.pass))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        into_reply(response).await
    }

    /// An access token with all scopes (or the given `scope` form value).
    pub async fn access_token(&self, sp: Sp, scope: Option<&str>) -> String {
        let form = match scope {
            Some(scope) => format!("grant_type=client_credentials&scope={scope}"),
            None => "grant_type=client_credentials".to_owned(),
        };
        let body = self.access_token_reply(sp, &form).await.ok();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A management API call with a Bearer token.
    pub async fn user_call(
        &self,
        region: Region,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(region, path))
            .bearer_auth(bearer);
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_reply(req.send().await.unwrap()).await
    }

    /// Advances the emulator clock.
    pub async fn advance(&self, seconds: u64) {
        self.control(
            Method::POST,
            "/clock/advance",
            Some(json!({"seconds": seconds})),
        )
        .await
        .ok();
    }

    /// Any control request with a raw JSON body (numbers serde_json
    /// cannot build, like 1e999 or 2^64).
    pub async fn control_raw(&self, method: Method, path: &str, body: &str) -> Reply {
        let url = format!("{}{path}", self.emu.control_url());
        let req = self
            .http
            .request(method, url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        into_reply(req.send().await.unwrap()).await
    }

    /// Registers a fault rule.
    pub async fn fault(&self, spec: Value) -> u64 {
        let body = self.control(Method::POST, "/faults", Some(spec)).await.ok();
        body["id"].as_u64().unwrap()
    }

    /// Requests received whose path ends with `suffix`.
    pub async fn count(&self, suffix: &str) -> u64 {
        let body = self
            .control(Method::GET, &format!("/requests?path={suffix}"), None)
            .await
            .ok();
        body["count"].as_u64().unwrap()
    }
}
