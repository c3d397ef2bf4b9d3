//! The flows over JSON: one entry point that every binding (and every flow-vector runner)
//! calls, so that all hosts drive the same code the same way.
//!
//! A flow's state is a JSON value the host keeps between calls. [`new_state`] creates it from
//! the flow's options; [`run_step`] applies one step and returns the new state and the step's
//! output. On error the host keeps the old state: nothing changed.
//!
//! Flows (`flow`): `token_manager`, `retry`, `journey`, `audit`. A step is
//! `{"action": "...", "now": <Unix ms>, "input": {...}, "response": {...}}`; other keys are
//! ignored (a vector's expectations live beside them). `response` has the vector format's
//! shape: `{"status", "headers": {name: value}, "body" | "body_base64"}`. The actions, their
//! inputs and outputs are documented in `tests/vectors/README.md` ("Flow vectors").
//!
//! The `token_manager` state this driver keeps holds the access token in clear, because it
//! must survive between steps: store it like a secret, or export it with
//! `{"action": "export", "input": {"include_token": false}}` for logs. The `request` outputs
//! are wire requests (credentials included): send them, never log them.

use crate::Config;
use crate::error::Error;
use crate::flows::journey::{Flow, Journey, JourneyPolicy};
use crate::flows::retry::RetryPolicy;
use crate::flows::token_manager::{TokenManager, TokenPolicy};
use crate::http::{Request, Response};
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::operation::{JsonConfig, Operation, from_json_value as from_value};
use crate::ops::claim::AssuranceType;
use crate::redact::Redactor;
use crate::region::Region;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

mod audit;
mod journey;
mod retry;
mod token_manager;

/// The flow kinds [`new_state`] and [`run_step`] know.
pub const FLOWS: [&str; 4] = ["token_manager", "retry", "journey", "audit"];

/// What [`run_step`] gives: the state to keep and the step's output.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutput {
    /// The new state (replace the old one with it).
    pub state: Value,
    /// What the step says (an action to take, a next step, a record).
    pub output: Value,
}

fn unknown_flow(flow: &str) -> Error {
    Error::invalid_input(
        "flow",
        format!("unknown flow {flow:?}; known: {}", FLOWS.join(", ")),
    )
}

struct JourneyOptions {
    user_id: String,
    flow: Flow,
    assurance_type: Option<AssuranceType>,
    max_attempts: Option<u32>,
    token_ttl_ms: Option<u64>,
}
json_object! {
    JourneyOptions, deny_unknown_fields;
    req user_id, req flow, opt assurance_type, opt max_attempts, opt token_ttl_ms,
}

struct NoOptions {}
json_object! {
    NoOptions, deny_unknown_fields;
}

/// Creates the initial state of `flow` from its options (`null` or `{}` for the defaults):
/// - `token_manager`: a [`TokenPolicy`] (`margin_ms`, `max_uses`, `default_expires_in_s`,
///   `scope`);
/// - `retry`: a [`RetryPolicy`] (`max_retries`, `base_delay_ms`, `max_delay_ms`,
///   `max_retry_after_ms`);
/// - `journey`: `user_id`, `flow` (`enrol`/`verify`), `assurance_type?`, `max_attempts?`,
///   `token_ttl_ms?`;
/// - `audit`: no options.
///
/// Fails with `invalid_input` for an unknown flow or bad options.
pub fn new_state(flow: &str, options: &Value) -> Result<Value, Error> {
    match flow {
        "token_manager" => {
            let policy: TokenPolicy = from_value("options", options)?;
            Ok(TokenManager::new(policy)?.to_json(true))
        }
        "retry" => {
            let policy: RetryPolicy = from_value("options", options)?;
            Ok(to_json_value(&policy))
        }
        "journey" => {
            let o: JourneyOptions = from_value("options", options)?;
            let defaults = JourneyPolicy::default();
            let policy = JourneyPolicy {
                max_attempts: o.max_attempts.unwrap_or(defaults.max_attempts),
                token_ttl_ms: o.token_ttl_ms.unwrap_or(defaults.token_ttl_ms),
            };
            Ok(Journey::new(o.user_id, o.flow, o.assurance_type, policy)?.to_json())
        }
        "audit" => {
            let _: NoOptions = from_value("options", options)?;
            Ok(json!({}))
        }
        other => Err(unknown_flow(other)),
    }
}

struct Step {
    action: String,
    now: Option<u64>,
    input: Value,
    response: Option<WireResponse>,
}
json_object! {
    Step, allow_unknown_fields;
    req action, opt now, opt input, opt response,
}

impl Step {
    fn now(&self) -> Result<u64, Error> {
        self.now
            .ok_or_else(|| Error::invalid_input("now", "this action needs now (Unix ms)"))
    }

    fn response(&self) -> Result<OwnedResponse, Error> {
        self.response
            .as_ref()
            .ok_or_else(|| Error::invalid_input("response", "this action needs a response"))?
            .to_owned_response()
    }

    fn unknown_action(&self, flow: &str, known: &str) -> Error {
        Error::invalid_input(
            "action",
            format!("{flow} has no action {:?}; known: {known}", self.action),
        )
    }
}

struct WireResponse {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_base64: Option<String>,
}
json_object! {
    WireResponse, deny_unknown_fields;
    req status, opt headers, opt body, opt body_base64,
}

struct OwnedResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl OwnedResponse {
    fn view(&self) -> Response<'_> {
        Response::new(self.status, &self.headers, &self.body)
    }
}

impl WireResponse {
    fn to_owned_response(&self) -> Result<OwnedResponse, Error> {
        let body = match (&self.body, &self.body_base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| Error::invalid_input("body_base64", e))?,
            (None, None) => Vec::new(),
        };
        Ok(OwnedResponse {
            status: self.status,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body,
        })
    }
}

/// Applies one step to `state` of `flow`. `config` is the client configuration in the vector
/// format (`{"region", "api_key", "secret", "oauth_username", "oauth_password", ...}`); it is
/// read only by the actions that build or parse, and never copied into the state.
///
/// Fails with the step's error (`invalid_input` for a malformed step or state,
/// `invalid_state` for an event out of order, an API error for a response that was refused);
/// the host then keeps `state` as it was.
pub fn run_step(
    flow: &str,
    config: &Value,
    state: &Value,
    step: &Value,
) -> Result<StepOutput, Error> {
    // A step's error may quote any of the caller's values (a claim token, an operation
    // name, a mistyped field): whatever they hold, no credential the step knows leaves.
    run_step_unredacted(flow, config, state, step)
        .map_err(|e| e.redacted(&step_redactor(flow, config, state)))
}

/// Every credential a step knows: the config's (read leniently: a config that does not
/// pass its checks still holds them) and the access tokens a token manager's state holds.
#[cold]
fn step_redactor(flow: &str, config: &Value, state: &Value) -> Redactor {
    let redactor = crate::operation::credentials_in_config_text(&value_text(config));
    match TokenManager::from_json(state) {
        Ok(manager) if flow == "token_manager" => redactor.with(&manager.held_secrets()),
        _ => redactor,
    }
}

fn value_text(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn run_step_unredacted(
    flow: &str,
    config: &Value,
    state: &Value,
    step: &Value,
) -> Result<StepOutput, Error> {
    let step: Step = from_value("step", step)?;
    match flow {
        "token_manager" => token_manager::step(config, state, &step),
        "retry" => retry::step(state, &step),
        "journey" => journey::step(config, state, &step),
        "audit" => audit::step(config, state, &step),
        other => Err(unknown_flow(other)),
    }
}

fn json_config(config: &Value) -> Result<JsonConfig, Error> {
    JsonConfig::from_json(config)
}

/// The config for parsing only: the vector's when given, else a plain EU config.
fn parse_config(config: &Value) -> Result<Config, Error> {
    if config.is_null() {
        return Ok(Config::for_region(Region::Eu));
    }
    Ok(json_config(config)?.config)
}

/// The wire request as JSON: `{"method", "url", "headers": {lowercase name: value},
/// "body" | "body_base64"}` (no body key when there is none).
pub fn request_json(request: &Request) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    let mut out =
        json!({"method": request.method.as_str(), "url": request.url, "headers": headers});
    if !request.body.is_empty() {
        let body = match std::str::from_utf8(&request.body) {
            Ok(text) => ("body", Value::String(text.to_owned())),
            Err(_) => (
                "body_base64",
                Value::String(base64::engine::general_purpose::STANDARD.encode(&request.body)),
            ),
        };
        if let Value::Object(map) = &mut out {
            map.insert(body.0.to_owned(), body.1);
        }
    }
    out
}

/// A host-reported error: the canonical error JSON (its other fields are ignored).
struct WireError {
    code: String,
    status: Option<u16>,
    description: Option<String>,
    message: Option<String>,
    field: Option<String>,
    region: Option<String>,
    base_url: Option<String>,
    retry_after_ms: Option<u64>,
    path: Option<String>,
    kind: Option<String>,
}
json_object! {
    WireError, allow_unknown_fields;
    req code, opt status, opt description, opt message, opt field, opt region, opt base_url,
    opt retry_after_ms, opt path, opt kind,
}

/// An [`Error`] from `{"code", "status"?, "description"?}` as a host reports it.
pub(crate) fn error_from_json(operation: Operation, value: &Value) -> Result<Error, Error> {
    let wire: WireError = from_value("error", value)?;
    let mut error = match wire.code.as_str() {
        "outcome_unknown" => Error::outcome_unknown(operation.name(), "the answer was lost"),
        "connection_error" => Error::connection("reported by the host"),
        "timeout" => Error::timeout("reported by the host"),
        "invalid_input" => Error::invalid_input("input", "reported by the host"),
        "decode_error" => Error::decode(wire.status.unwrap_or(200), "reported by the host", None),
        code => Error::api(code, wire.status.unwrap_or(400), wire.description.clone()),
    };
    // Keep what the host's canonical error said, so records show the original details.
    let data = &mut error.0;
    if let Some(message) = wire.message {
        data.message = message;
    }
    data.status = wire.status.or(data.status);
    data.description = wire.description.or(data.description.take());
    data.field = wire.field.or(data.field.take());
    data.region = wire.region;
    data.base_url = wire.base_url;
    data.retry_after_ms = wire.retry_after_ms;
    data.path = wire.path;
    // The family the host's error carried (its class), over the one guessed from the code.
    if let Some(kind) = wire
        .kind
        .as_deref()
        .and_then(crate::error::ErrorKind::parse)
    {
        data.kind = kind.as_str();
    }
    Ok(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_error_never_quotes_a_credential_the_step_knows() {
        let config = json!({"region": "eu", "api_key": "k", "secret": "sec-Step-Secret-1",
                            "oauth_username": "u", "oauth_password": "pw-Step-Password-2"});
        // A user agent no header can carry: the config is refused, its credentials are not.
        let mut refused = config.clone();
        refused["user_agent"] = json!("bad\nagent");
        let journey = new_state("journey", &json!({"user_id": "u1", "flow": "verify"})).unwrap();
        let step = json!({"action": "end_attempt", "now": 1,
                          "input": {"token": "sec-Step-Secret-1", "reason": "abandoned"}});
        for config in [&config, &refused] {
            let error = run_step("journey", config, &journey, &step).unwrap_err();
            assert_eq!(error.code(), "invalid_state");
            let shown = error.to_json().to_string();
            assert!(
                !shown.contains("sec-Step-Secret-1") && shown.contains("[REDACTED]"),
                "{shown}"
            );
        }

        let mut manager = new_state("token_manager", &Value::Null).unwrap();
        let answer = json!({"status": 200, "body": r#"{"access_token":"at-Held-Token-3"}"#});
        let step = json!({"action": "accept_token", "now": 1, "response": answer});
        manager = run_step("token_manager", &config, &manager, &step)
            .unwrap()
            .state;
        let step = json!({"action": "export", "input": {"include_token": "at-Held-Token-3"}});
        let error = run_step("token_manager", &config, &manager, &step).unwrap_err();
        assert!(
            !error.to_json().to_string().contains("at-Held-Token-3"),
            "{error:?}"
        );
    }
}
