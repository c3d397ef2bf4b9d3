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
use crate::flows::audit::{AuditContext, AuditRecord};
use crate::flows::journey::{EndReason, Flow, Journey, JourneyPolicy};
use crate::flows::retry::{Observed, RetryPolicy};
use crate::flows::token_manager::{ResponseCheck, TokenManager, TokenPolicy, TokenStep};
use crate::http::{Request, Response};
use crate::operation::{self, JsonConfig, Operation};
use crate::ops::claim::AssuranceType;
use crate::ops::validate::parse_validate;
use crate::region::Region;
use crate::secret::Secret;
use base64::Engine;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

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

/// Deserializes JSON into `T`, turning serde's complaint into `invalid_input` naming the field
/// (or `what` when there is no better name). `null` counts as `{}`.
pub(crate) fn from_value<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T, Error> {
    let empty = Value::Object(Map::new());
    let value = if value.is_null() { &empty } else { value };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = if path.is_empty() || path == "." {
            message
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_else(|| what.to_owned())
        } else {
            path
        };
        Error::invalid_input(&field, message)
    })
}

fn unknown_flow(flow: &str) -> Error {
    Error::invalid_input(
        "flow",
        format!("unknown flow {flow:?}; known: {}", FLOWS.join(", ")),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JourneyOptions {
    user_id: String,
    flow: Flow,
    #[serde(default)]
    assurance_type: Option<AssuranceType>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    token_ttl_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

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
            Ok(serde_json::to_value(policy).unwrap_or(Value::Null))
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

#[derive(Deserialize)]
struct Step {
    action: String,
    #[serde(default)]
    now: Option<u64>,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    response: Option<WireResponse>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireResponse {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
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
    let step: Step = from_value("step", step)?;
    match flow {
        "token_manager" => token_manager_step(config, state, &step),
        "retry" => retry_step(state, &step),
        "journey" => journey_step(config, state, &step),
        "audit" => audit_step(config, state, &step),
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

/// Builds `operation`'s request without `Authorization`: the token manager adds it.
fn build_without_token(
    operation: Operation,
    config: &JsonConfig,
    input: &Value,
) -> Result<Request, Error> {
    let mut placeholder = config.clone();
    placeholder.access_token = Some(Secret::new("token-manager-placeholder"));
    let mut request = operation::build(operation, &placeholder, input)?;
    request
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
    Ok(request)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationInput {
    operation: String,
    #[serde(default)]
    input: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportInput {
    #[serde(default)]
    include_token: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreInput {
    state: Value,
}

fn token_manager_step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let mut manager = TokenManager::from_json(state)?;
    let output = match step.action.as_str() {
        "prepare" => {
            let now = step.now()?;
            let input: OperationInput = from_value("input", &step.input)?;
            let op = Operation::parse(&input.operation)?;
            let cfg = json_config(config)?;
            let mut request = build_without_token(op, &cfg, &input.input)?;
            match manager.prepare(&cfg.config, &mut request, now)? {
                TokenStep::Authorized { uses } => {
                    json!({"action": "authorized", "uses": uses, "request": request_json(&request)})
                }
                TokenStep::NeedToken(token_request) => {
                    json!({"action": "need_token", "token_request": request_json(&token_request)})
                }
            }
        }
        "accept_token" => {
            let now = step.now()?;
            let response = step.response()?;
            let cfg = parse_config(config)?;
            manager.accept_token(&cfg, &response.view(), now)?;
            serde_json::to_value(manager.status(now)).unwrap_or(Value::Null)
        }
        "on_response" => {
            let response = step.response()?;
            match manager.on_response(&response.view()) {
                ResponseCheck::Parse => json!({"action": "parse"}),
                ResponseCheck::RetryWithNewToken => json!({"action": "retry_with_new_token"}),
                ResponseCheck::Fail(error) => json!({"action": "fail", "error": error.to_json()}),
            }
        }
        "status" => serde_json::to_value(manager.status(step.now()?)).unwrap_or(Value::Null),
        "export" => {
            let input: ExportInput = from_value("input", &step.input)?;
            manager.to_json(input.include_token)
        }
        "restore" => {
            let input: RestoreInput = from_value("input", &step.input)?;
            manager = TokenManager::from_json(&input.state)?;
            json!({"has_token": manager.status(0).has_token})
        }
        "forget_token" => {
            manager.forget_token();
            json!({"has_token": false})
        }
        _ => {
            return Err(step.unknown_action(
                "token_manager",
                "prepare, accept_token, on_response, status, export, restore, forget_token",
            ));
        }
    };
    Ok(StepOutput {
        state: manager.to_json(true),
        output,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdviseInput {
    operation: String,
    attempt: u32,
    jitter: f64,
    #[serde(default)]
    failure: Option<String>,
}

fn retry_step(state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let policy: RetryPolicy = from_value("state", state)?;
    if step.action != "advise" {
        return Err(step.unknown_action("retry", "advise"));
    }
    let now = step.now()?;
    let input: AdviseInput = from_value("input", &step.input)?;
    let op = Operation::parse(&input.operation)?;
    let response = step
        .response
        .as_ref()
        .map(WireResponse::to_owned_response)
        .transpose()?;
    let observed = match (input.failure.as_deref(), &response) {
        (Some("failed_before_sending"), None) => Observed::FailedBeforeSending,
        (Some("may_have_reached_server"), None) => Observed::MayHaveReachedServer,
        (None, Some(r)) => Observed::Response(r.view()),
        _ => {
            return Err(Error::invalid_input(
                "failure",
                "give either a response or failure: failed_before_sending | may_have_reached_server",
            ));
        }
    };
    let advice = policy.advise(op, input.attempt, observed, now, input.jitter)?;
    Ok(StepOutput {
        state: serde_json::to_value(&policy).unwrap_or(Value::Null),
        output: advice.to_json(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    reason: Option<EndReason>,
}

impl TokenInput {
    fn token(&self) -> Result<&str, Error> {
        self.token
            .as_deref()
            .ok_or_else(|| Error::invalid_input("token", "this action needs the claim token"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireError {
    code: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    description: Option<String>,
}

/// An [`Error`] from `{"code", "status"?, "description"?}` as a host reports it.
fn error_from_json(operation: Operation, value: &Value) -> Result<Error, Error> {
    let wire: WireError = from_value("error", value)?;
    Ok(match wire.code.as_str() {
        "outcome_unknown" => Error::outcome_unknown(operation.name(), "the answer was lost"),
        "connection_error" => Error::connection("reported by the host"),
        "timeout" => Error::timeout("reported by the host"),
        "invalid_input" => Error::invalid_input("input", "reported by the host"),
        code => Error::api(code, wire.status.unwrap_or(400), wire.description),
    })
}

fn journey_step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let mut journey = Journey::from_json(state)?;
    let input: TokenInput = from_value("input", &step.input)?;
    let now = step.now()?;
    let next = match step.action.as_str() {
        "next" => journey.next(now),
        "token_issued" => match (&input.token, &step.response) {
            (Some(token), None) => journey.token_issued(token, now)?,
            (None, Some(wire)) => {
                let response = wire.to_owned_response()?;
                let cfg = parse_config(config)?;
                let claim = crate::ops::claim::parse_claim_token(&cfg, &response.view())
                    .map_err(|e| e.with_operation(journey.flow().token_operation().name()))?;
                journey.token_issued(&claim.token, now)?
            }
            _ => {
                return Err(Error::invalid_input(
                    "token",
                    "give either input.token or the token response",
                ));
            }
        },
        "validated" => {
            let token = input.token()?.to_owned();
            let cfg = parse_config(config)?;
            let owned = match (&input.result, &step.response) {
                (Some(result), None) => OwnedResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: serde_json::to_vec(result).unwrap_or_default(),
                },
                (None, Some(wire)) => wire.to_owned_response()?,
                _ => {
                    return Err(Error::invalid_input(
                        "result",
                        "give either input.result or the validate response",
                    ));
                }
            };
            match parse_validate(&cfg, &owned.view()) {
                Ok(result) => journey.validated(&token, &result, now)?,
                Err(error) => journey.validate_failed(&token, &error, now)?,
            }
        }
        "validate_failed" => {
            let token = input.token()?.to_owned();
            let raw = input
                .error
                .as_ref()
                .ok_or_else(|| Error::invalid_input("error", "this action needs the error"))?;
            let error = error_from_json(journey.flow().validate_operation(), raw)?;
            journey.validate_failed(&token, &error, now)?
        }
        "end_attempt" => {
            let token = input.token()?.to_owned();
            let reason = input.reason.ok_or_else(|| {
                Error::invalid_input("reason", "expired | invalidated | abandoned")
            })?;
            journey.end_attempt(&token, reason, now)?
        }
        _ => {
            return Err(step.unknown_action(
                "journey",
                "next, token_issued, validated, validate_failed, end_attempt",
            ));
        }
    };
    Ok(StepOutput {
        state: journey.to_json(),
        output: next.to_json(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordInput {
    operation: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    attempt: Option<u32>,
    #[serde(default)]
    include_frame: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

fn audit_step(config: &Value, state: &Value, step: &Step) -> Result<StepOutput, Error> {
    let _: NoOptions = from_value("state", state)?;
    if step.action != "record" {
        return Err(step.unknown_action("audit", "record"));
    }
    let now = step.now()?;
    let input: RecordInput = from_value("input", &step.input)?;
    let op = Operation::parse(&input.operation)?;
    let context = AuditContext {
        user_id: input.user_id,
        token: input.token,
        attempt: input.attempt,
        include_frame: input.include_frame,
    };
    let parsed = if config.is_null() {
        None
    } else {
        Some(json_config(config)?)
    };
    let record = match (&input.result, &input.error, &step.response) {
        (Some(result), None, None) => AuditRecord::success(op, &context, result, now),
        (None, Some(error), None) => {
            AuditRecord::failure(op, &context, &error_from_json(op, error)?, now)
        }
        (None, None, Some(wire)) => {
            let response = wire.to_owned_response()?;
            let fallback = JsonConfig {
                config: Config::for_region(Region::Eu),
                access_token: None,
            };
            let cfg = parsed.as_ref().unwrap_or(&fallback);
            match operation::parse(op, cfg, &response.view()) {
                Ok(result) => AuditRecord::success(op, &context, &result, now),
                Err(error) => AuditRecord::failure(op, &context, &error, now),
            }
        }
        _ => {
            return Err(Error::invalid_input(
                "result",
                "give exactly one of input.result, input.error or the response",
            ));
        }
    };
    let record = match &parsed {
        Some(cfg) => {
            let mut secrets = cfg.config.secrets();
            secrets.extend(cfg.access_token.iter());
            record.redact(&secrets)
        }
        None => record,
    };
    Ok(StepOutput {
        state: json!({}),
        output: record.to_json(),
    })
}
