//! The coarse, string-and-bytes interface that the JavaScript bindings (napi for Node,
//! wasm-bindgen for edge workers) both wrap, so that their glue is one call per function and
//! the two cannot drift. Documented for JS in `bindings-js/NATIVE.md`.
//!
//! Arguments named `*_json` are JSON text, where `""` means "none" (JSON `null`). Results are
//! canonical JSON text. Failures are core's [`Error`]; [`error_json`] gives the text a binding
//! throws.

use crate::driver::{Action, CallContext, Driver, DriverOptions, TransportFailure};
use crate::error::{Error, ErrorKind};
use crate::flows::json as flows;
use crate::http::{MAX_BODY_BYTES, Request, Response};
use crate::operation::{self, JsonConfig, Operation};
use crate::region::Region;
use crate::secret::Secret;
use crate::{DEFAULT_USER_AGENT, user_id, validation};
use base64::Engine;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;

fn json_arg(what: &str, text: &str) -> Result<Value, Error> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(text.as_bytes()).map_err(|e| Error::invalid_input(what, e))
}

fn to_text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The canonical JSON text of an error: what a binding throws.
pub fn error_json(error: &Error) -> String {
    to_text(error)
}

/// A JSON string literal. (The small texts below are written by hand rather than through
/// `serde_json::Value`: a wasm engine compiles code on first use, and these run at start.)
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// `{"version", "default_user_agent", "max_body_bytes", "operations": [...], "error_classes":
/// [{"kind", "class", "parent"}, ...], "transport_failures": [...]}`: hosts create their error
/// classes from `error_classes` and name their send failures from `transport_failures`.
pub fn info() -> String {
    let operations: Vec<String> = Operation::ALL.iter().map(|op| quoted(op.name())).collect();
    let classes: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|kind| {
            format!(
                "{{\"kind\":{},\"class\":{},\"parent\":{}}}",
                quoted(kind.as_str()),
                quoted(kind.class_name()),
                quoted(kind.parent_class_name())
            )
        })
        .collect();
    let failures: Vec<String> = TransportFailure::ALL
        .iter()
        .map(|f| quoted(f.name()))
        .collect();
    format!(
        "{{\"version\":{},\"default_user_agent\":{},\"max_body_bytes\":{},\"operations\":[{}],\
         \"error_classes\":[{}],\"transport_failures\":[{}]}}",
        quoted(env!("CARGO_PKG_VERSION")),
        quoted(DEFAULT_USER_AGENT),
        MAX_BODY_BYTES,
        operations.join(","),
        classes.join(","),
        failures.join(",")
    )
}

/// Reads a vector-format config once; the binding keeps the result as an opaque handle.
pub fn new_config(config_json: &str) -> Result<JsonConfig, Error> {
    JsonConfig::from_json_text(config_json.as_bytes())
}

/// The config's non-secret facts: `{"base_url", "region"?, "user_agent", "oauth_username"?,
/// "api_key"?}`.
pub fn config_info(config: &JsonConfig) -> String {
    let c = &config.config;
    let mut fields = vec![format!("\"base_url\":{}", quoted(c.base_url()))];
    if let Some(region) = c.target().region() {
        fields.push(format!("\"region\":{}", quoted(region.id())));
    }
    fields.push(format!("\"user_agent\":{}", quoted(c.user_agent())));
    if let Some(user) = c.oauth_username() {
        fields.push(format!("\"oauth_username\":{}", quoted(user)));
    }
    if let Ok(key) = c.require_api_key() {
        fields.push(format!("\"api_key\":{}", quoted(key)));
    }
    format!("{{{}}}", fields.join(","))
}

fn build_request(operation: &str, config: &JsonConfig, input_json: &str) -> Result<Request, Error> {
    let op = Operation::parse(operation)?;
    operation::build_from_text(op, config, input_json.as_bytes())
}

/// Builds a request and gives it as one text, the cheapest thing to hand across a boundary:
///
/// ```text
/// METHOD[ base64]\nURL\nName: value\n...\n\nbody
/// ```
///
/// The body is raw text when it is UTF-8, else (multipart with an image) standard base64 with
/// ` base64` after the method. No line can hold a newline: URLs come from checked inputs and
/// the User-Agent refuses control characters.
pub fn build_text(operation: &str, config: &JsonConfig, input_json: &str) -> Result<String, Error> {
    Ok(request_text(&build_request(operation, config, input_json)?))
}

/// A request as the text [`build_text`] describes.
fn request_text(request: &Request) -> String {
    let text = std::str::from_utf8(&request.body).ok();
    let mut out = String::with_capacity(request.url.len() + request.body.len() + 160);
    out.push_str(request.method.as_str());
    if text.is_none() {
        out.push_str(" base64");
    }
    out.push('\n');
    out.push_str(&request.url);
    out.push('\n');
    for (name, value) in &request.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    match text {
        Some(body) => out.push_str(body),
        None => base64::engine::general_purpose::STANDARD.encode_string(&request.body, &mut out),
    }
    out
}

/// The redacted view of the same request (`Request::redacted`) as JSON, for logs.
pub fn redact_request(
    operation: &str,
    config: &JsonConfig,
    input_json: &str,
) -> Result<String, Error> {
    Ok(to_text(
        &build_request(operation, config, input_json)?.redacted(),
    ))
}

/// `{"name": "value", ...}` read straight into pairs; values that are not strings are left
/// out (no HTTP stack gives one).
struct HeaderPairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderPairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = HeaderPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of header names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<HeaderPairs, E> {
                Ok(HeaderPairs(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderPairs, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some(name) = map.next_key::<String>()? {
                    if let Value::String(value) = map.next_value::<Value>()? {
                        pairs.push((name, value));
                    }
                }
                Ok(HeaderPairs(pairs))
            }
        }
        deserializer.deserialize_any(Pairs)
    }
}

fn headers_arg(text: &str) -> Result<Vec<(String, String)>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice::<HeaderPairs>(text.as_bytes())
        .map(|pairs| pairs.0)
        .map_err(|_| {
            Error::invalid_input("headers", "must be a JSON object of header names to values")
        })
}

/// Parses a response: `headers_json` is `{"name": "value", ...}`. Gives the result as
/// [`operation::parse_to_split_text`] does (canonical JSON, large frames after it), or the
/// API / decode error.
pub fn parse(
    operation: &str,
    config: &JsonConfig,
    status: u32,
    headers_json: &str,
    body: &[u8],
) -> Result<String, Error> {
    let op = Operation::parse(operation)?;
    let headers = headers_arg(headers_json)?;
    let status = u16::try_from(status)
        .map_err(|_| Error::invalid_input("status", "is not an HTTP status"))?;
    operation::parse_to_split_text(op, config, &Response::new(status, &headers, body))
}

fn region_text(region: Region) -> String {
    format!(
        "{{\"id\":{},\"base_url\":{},\"streaming_url\":{}}}",
        quoted(region.id()),
        quoted(&region.base_url()),
        quoted(&region.streaming_url())
    )
}

/// `{"id", "base_url", "streaming_url"}` of a region by any usual spelling.
pub fn region(name: &str) -> Result<String, Error> {
    Ok(region_text(Region::parse(name)?))
}

/// Every region as in [`region`], in the docs' order.
pub fn regions() -> String {
    let all: Vec<String> = Region::ALL.into_iter().map(region_text).collect();
    format!("[{}]", all.join(","))
}

/// iProov's `user_id` pattern; `invalid_input` naming `field`.
pub fn check_user_id(field: &str, user_id: &str) -> Result<(), Error> {
    validation::check_user_id(field, user_id)
}

/// The personal-data warnings as a JSON array of `{"code", "message"}`.
pub fn lint_user_id(user_id: &str) -> String {
    to_text(&validation::lint_user_id(user_id))
}

/// A UUID v4 string from exactly 16 random bytes the host drew from its secure source.
pub fn random_user_id(random_bytes: &[u8]) -> Result<String, Error> {
    let bytes: [u8; 16] = random_bytes
        .try_into()
        .map_err(|_| Error::invalid_input("random_bytes", "must be exactly 16 bytes"))?;
    Ok(user_id::random_user_id(bytes))
}

/// The HMAC-SHA-256 pseudonym of `internal_key` (64 hex characters).
pub fn pseudonymous_user_id(host_secret: &str, internal_key: &str) -> Result<String, Error> {
    user_id::pseudonymous_user_id(&Secret::new(host_secret), internal_key)
}

/// The canonical JSON of a transport error the host's HTTP client raised: `kind` `"timeout"`
/// gives [`Error::timeout`], anything else [`Error::connection`].
pub fn transport_error(kind: &str, cause: &str) -> String {
    let error = if kind == "timeout" {
        Error::timeout(cause)
    } else {
        Error::connection(cause)
    };
    error_json(&error)
}

/// The initial state of a flow (`flows::json::new_state`), as JSON.
pub fn flow_new(flow: &str, options_json: &str) -> Result<String, Error> {
    Ok(to_text(&flows::new_state(
        flow,
        &json_arg("options", options_json)?,
    )?))
}

/// One flow step (`flows::json::run_step`): `{"state": ..., "output": ...}` as JSON. On an
/// error the caller keeps its old state.
pub fn flow_step(
    flow: &str,
    config_json: &str,
    state_json: &str,
    step_json: &str,
) -> Result<String, Error> {
    let config = json_arg("config", config_json)?;
    let state = json_arg("state", state_json)?;
    let step = json_arg("step", step_json)?;
    let out = flows::run_step(flow, &config, &state, &step)?;
    Ok(to_text(&json!({"state": out.state, "output": out.output})))
}

/// A call driver for a config ([`crate::driver`]); `options_json` is [`DriverOptions`]'s
/// JSON (`""` for the defaults); `seed` is at least 8 random bytes the host drew. Fails with
/// `invalid_input` (field `options`, `timeout_ms`, ... or `seed`).
pub fn driver_new(config: &JsonConfig, options_json: &str, seed: &[u8]) -> Result<Driver, Error> {
    let options = DriverOptions::from_json_text(options_json.as_bytes())?;
    let seed: [u8; 8] = seed
        .get(..8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| Error::invalid_input("seed", "must be at least 8 random bytes"))?;
    Driver::new(config.config.clone(), options, u64::from_le_bytes(seed))
}

/// Starts a call (see [`Driver::start`]); `attempt` is the journey attempt, 0 for none.
/// Gives the call's id. Fails only for an unknown operation name (`invalid_input`, field
/// `operation`); a bad input fails the call at its first poll, with its audit record.
pub fn driver_start(
    driver: &mut Driver,
    operation: &str,
    input_json: &str,
    attempt: u32,
    now: u64,
) -> Result<u64, Error> {
    let context = CallContext {
        attempt: (attempt > 0).then_some(attempt),
    };
    let op = Operation::parse(operation)?;
    Ok(driver.start(op, input_json.as_bytes(), context, now))
}

/// Polls a call (see [`Driver::poll`]) and gives the poll as one text:
///
/// ```text
/// KIND WAKE N\n          KIND: send | sleep | wait | done | failed; WAKE: 1 to wake waiting calls
/// <audit record JSON>\n  N lines, one record each
/// payload
/// ```
///
/// The payload: `send`: the deadline (Unix ms), `\n`, then the request text of [`build_text`];
/// `sleep` / `wait`: the time (Unix ms) to poll again by; `done`: the result text of
/// [`parse`] (large frames after the JSON); `failed`: the error's canonical JSON.
pub fn driver_poll(driver: &mut Driver, id: u64, now: u64) -> String {
    let poll = driver.poll(id, now);
    let (kind, payload) = match &poll.action {
        Action::Send {
            request,
            deadline_ms,
        } => ("send", format!("{deadline_ms}\n{}", request_text(request))),
        Action::SleepUntil { at_ms } => ("sleep", at_ms.to_string()),
        Action::WaitForToken { until_ms } => ("wait", until_ms.to_string()),
        Action::Done { result } => ("done", operation::split_text(result)),
        Action::Failed { error } => ("failed", error_json(error)),
    };
    let mut out = String::with_capacity(payload.len() + 64);
    out.push_str(kind);
    out.push_str(if poll.wake { " 1 " } else { " 0 " });
    out.push_str(&poll.audit.len().to_string());
    out.push('\n');
    for record in &poll.audit {
        out.push_str(&to_text(record));
        out.push('\n');
    }
    out.push_str(&payload);
    out
}

/// Reports the answer to a call's send: `headers_json` as for [`parse`].
pub fn driver_response(
    driver: &mut Driver,
    id: u64,
    status: u32,
    headers_json: &str,
    body: &[u8],
    now: u64,
) {
    let headers = headers_arg(headers_json).unwrap_or_default();
    match u16::try_from(status) {
        Ok(status) => driver.on_response(id, &Response::new(status, &headers, body), now),
        Err(_) => driver.on_failure(id, TransportFailure::Unknown, "not an HTTP status", now),
    }
}

/// Reports that a call's send failed: `failure` is a name of the transport table
/// ([`TransportFailure`]; an unknown name counts as `unknown`), `cause` the host's words.
pub fn driver_failure(driver: &mut Driver, id: u64, failure: &str, cause: &str, now: u64) {
    driver.on_failure(id, TransportFailure::parse(failure), cause, now);
}

/// A journey-service policy from its JSON text (`""`: every default): the policy with core's
/// defaults filled in, as JSON `{"max_attempts", "token_ttl_ms", "stale_validate_ms",
/// "retention_ms", "resource"}`. Fails with `invalid_input` naming the field.
pub fn service_policy(policy_json: &str) -> Result<String, Error> {
    Ok(to_text(&policy_arg(policy_json)?.to_json()))
}

fn policy_arg(policy_json: &str) -> Result<crate::service::ServicePolicy, Error> {
    let value = match json_arg("policy", policy_json)? {
        Value::Null => json!({}),
        value => value,
    };
    crate::service::ServicePolicy::from_json(&value)
}

/// One step of the journey service ([`crate::service::step`]) over JSON text: the policy as
/// for [`service_policy`], the `action`, the record as read (`stored_json`, `""` for none),
/// the action's input, the id for a new journey and `now` (Unix ms). Gives the step's output
/// (`{"write", "expected_version"?, "record", "call"?, "respond"?, "error"?}`) as JSON; fails
/// with core's `invalid_input` / `invalid_state`.
pub fn service_step(
    config: &JsonConfig,
    policy_json: &str,
    action: &str,
    stored_json: &str,
    input_json: &str,
    new_id: &str,
    now: u64,
) -> Result<String, Error> {
    let policy = policy_arg(policy_json)?;
    let stored = json_arg("record", stored_json)?;
    let input = json_arg("input", input_json)?;
    let out = crate::service::step(
        &config.config,
        &policy,
        action,
        &stored,
        &input,
        new_id,
        now,
    )?;
    Ok(to_text(&out))
}

/// A decision of the browser-facing endpoints ([`crate::web::decide`]) over JSON text: `what`
/// names it (`table`, `request`, `input`, `answer`, `error`, `waits`, `emulator`, `config`),
/// `facts_json` is its facts (`""`: none). Gives the decision as JSON; fails with
/// `invalid_input` for an unknown `what` or facts that are not JSON.
pub fn web_decide(what: &str, facts_json: &str) -> Result<String, Error> {
    Ok(to_text(&crate::web::decide(
        what,
        &json_arg("facts", facts_json)?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn hand_written_texts_are_the_json_they_describe() {
        let info = json(&info());
        assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(info["default_user_agent"], DEFAULT_USER_AGENT);
        assert_eq!(info["max_body_bytes"], MAX_BODY_BYTES);
        assert_eq!(
            info["operations"].as_array().unwrap().len(),
            Operation::ALL.len()
        );
        assert_eq!(
            json(&region("EU").unwrap()),
            json!({"id": "eu", "base_url": "https://eu.rp.secure.iproov.me/api/v2",
                   "streaming_url": "wss://eu.rp.secure.iproov.me/ws"})
        );
        assert_eq!(
            json(&regions()).as_array().unwrap().len(),
            Region::ALL.len()
        );
        let config = new_config(
            r#"{"region": "us", "api_key": "k", "secret": "s3cr3t", "oauth_username": "u\"1",
                "oauth_password": "p4ssw0rd", "user_agent": "app/1 \"x\""}"#,
        )
        .unwrap();
        let shown = config_info(&config);
        assert!(!shown.contains("s3cr3t") && !shown.contains("p4ssw0rd"));
        assert_eq!(
            json(&shown),
            json!({"base_url": "https://us.rp.secure.iproov.me/api/v2", "region": "us",
                   "user_agent": "app/1 \"x\"", "oauth_username": "u\"1", "api_key": "k"})
        );
    }

    #[test]
    fn a_service_step_as_text() {
        let config = new_config(
            r#"{"region": "eu", "api_key": "k0000000000000000000000000000000000000000", "secret": "s3cr3t-x"}"#,
        )
        .unwrap();
        let policy = json(&service_policy("").unwrap());
        assert_eq!(policy["max_attempts"], 3);
        assert_eq!(
            service_policy(r#"{"max_attempts": 0}"#)
                .unwrap_err()
                .field(),
            Some("max_attempts")
        );
        let out = json(
            &service_step(
                &config,
                r#"{"max_attempts": 2}"#,
                "start",
                "",
                r#"{"flow": "verify", "user_id": "u-1"}"#,
                "j-1",
                1_000,
            )
            .unwrap(),
        );
        assert_eq!(out["call"]["operation"], "verify_token");
        assert_eq!(out["record"]["id"], "j-1");
        assert_eq!(out["record"]["max_attempts"], 2);
        assert_eq!(
            service_step(&config, "", "finish", "", "{}", "", 0)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidState
        );
        assert_eq!(
            service_step(&config, "", "start", "{", "{}", "", 0)
                .unwrap_err()
                .field(),
            Some("record")
        );
    }

    #[test]
    fn a_web_decision_as_text() {
        let table = json(&web_decide("table", "").unwrap());
        assert_eq!(table["codes"][0]["code"], "bad_request");
        assert_eq!(web_decide("input", "{").unwrap_err().field(), Some("facts"));
        assert_eq!(web_decide("x", "").unwrap_err().field(), Some("what"));
    }

    #[test]
    fn a_driver_call_as_text() {
        let config = new_config(
            r#"{"region": "eu", "api_key": "k0000000000000000000000000000000000000000", "secret": "s3cr3t-x"}"#,
        )
        .unwrap();
        let mut driver = driver_new(&config, r#"{"timeout_ms": 1500}"#, &[7; 8]).unwrap();
        assert_eq!(
            driver_new(&config, "", &[1; 4]).unwrap_err().field(),
            Some("seed")
        );
        let id = driver_start(
            &mut driver,
            "enrol_token",
            r#"{"resource": "R", "user_id": "u-1"}"#,
            2,
            1_000,
        )
        .unwrap();
        let sent = driver_poll(&mut driver, id, 1_000);
        assert!(
            sent.starts_with(
                "send 0 0\n2500\nPOST\nhttps://eu.rp.secure.iproov.me/api/v2/claim/enrol/token\n"
            ),
            "{sent}"
        );
        driver_response(
            &mut driver,
            id,
            200,
            r#"{"content-type": "application/json"}"#,
            br#"{"token": "abc", "user_id": "u-1"}"#,
            1_100,
        );
        let done = driver_poll(&mut driver, id, 1_100);
        let mut lines = done.lines();
        assert_eq!(lines.next(), Some("done 0 1"));
        let record = json(lines.next().unwrap());
        assert_eq!(record["outcome"], "token_issued");
        assert_eq!(record["attempt"], 2);
        assert_eq!(json(lines.next().unwrap())["token"], "abc");
        assert!(!done.contains("s3cr3t-x"));
        assert_eq!(
            driver_start(&mut driver, "nope", "", 0, 0)
                .unwrap_err()
                .field(),
            Some("operation")
        );
    }
}
