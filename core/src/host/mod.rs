//! The coarse, string-and-bytes interface that the JavaScript bindings (napi for Node,
//! wasm-bindgen for edge workers) both wrap, so that their glue is one call per function and
//! the two cannot drift. Documented for JS in `bindings-js/NATIVE.md`.
//!
//! Arguments named `*_json` are JSON text, where `""` means "none" (JSON `null`). Results are
//! canonical JSON text. Failures are core's [`Error`]; [`error_json`] gives the text a binding
//! throws.

use crate::driver::TransportFailure;
use crate::error::{Error, ErrorKind};
use crate::http::{MAX_BODY_BYTES, Request};
use crate::operation::{self, JsonConfig, Operation};
use crate::region::Region;
use crate::secret::Secret;
use crate::{DEFAULT_USER_AGENT, user_id, validation};
use base64::Engine;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// `{"version", "default_user_agent", "max_body_bytes", "redacted", "operations": [...],
/// "error_classes": [{"kind", "class", "parent"}, ...], "transport_failures": [...],
/// "env_vars": [[field, variable], ...]}`: hosts create their error classes from
/// `error_classes`, name their send failures from `transport_failures`, hand
/// `JsonConfig::from_env` the variables of `env_vars`, and show a hidden value as `redacted`.
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
    let env: Vec<String> = operation::ENV_VARS
        .iter()
        .map(|(field, var)| format!("[{},{}]", quoted(field), quoted(var)))
        .collect();
    format!(
        "{{\"version\":{},\"default_user_agent\":{},\"max_body_bytes\":{},\"redacted\":{},\
         \"operations\":[{}],\"error_classes\":[{}],\"transport_failures\":[{}],\"env_vars\":[{}]}}",
        quoted(env!("CARGO_PKG_VERSION")),
        quoted(DEFAULT_USER_AGENT),
        MAX_BODY_BYTES,
        quoted(crate::secret::REDACTED),
        operations.join(","),
        classes.join(","),
        failures.join(","),
        env.join(",")
    )
}

/// Reads a vector-format config once; the binding keeps the result as an opaque handle.
pub fn new_config(config_json: &str) -> Result<JsonConfig, Error> {
    JsonConfig::from_json_text(config_json.as_bytes())
}

/// The vector-format config text of [`JsonConfig::from_env`] (`given_json`: the caller's
/// fields; `env_json`: the host's `IPROOV_*` variables, `{"IPROOV_REGION": ...}`), for the
/// binding to read with [`new_config`] and keep as it keeps any config text. Fails with
/// `invalid_input` when either is not a JSON object.
pub fn config_text_from_env(given_json: &str, env_json: &str) -> Result<String, Error> {
    let given = json_arg("given", given_json)?;
    let env = json_arg("env", env_json)?;
    Ok(to_text(&JsonConfig::env_fields(&given, &env)))
}

/// The vector-format config text of `config_text` with the fields of `fields_json` set over
/// it (`null` removes a field): how a host derives a config (another access token, say)
/// without ever holding the credentials. Fails with `invalid_input` when either is not a JSON
/// object; the result is checked when read by [`new_config`].
pub fn config_text_with(config_text: &str, fields_json: &str) -> Result<String, Error> {
    let mut config = json_arg("config", config_text)?;
    let (Some(map), Value::Object(fields)) =
        (config.as_object_mut(), json_arg("fields", fields_json)?)
    else {
        return Err(Error::invalid_input("fields", "must be a JSON object"));
    };
    for (name, value) in fields {
        if value.is_null() {
            map.remove(&name);
        } else {
            map.insert(name, value);
        }
    }
    Ok(to_text(&config))
}

/// The config's non-secret facts: `{"base_url", "region"?, "user_agent", "oauth_username"?,
/// "api_key"?, "streaming_url"}` (`streaming_url`: where iProov's SDK streams to with this
/// config's tokens, which the page's policy names).
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
    fields.push(format!("\"streaming_url\":{}", quoted(&c.streaming_url())));
    format!("{{{}}}", fields.join(","))
}

/// Builds `operation`'s request from a vector-format input: the [`Request`] itself, for a host
/// whose glue hands its parts over as native values (pyo3); [`build_text`] gives it as text.
pub fn build_request(
    operation: &str,
    config: &JsonConfig,
    input_json: &str,
) -> Result<Request, Error> {
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

/// The redacted view (as [`redact_request`]) of a request given as the text of [`build_text`]
/// or a driver's `send` (which the host cannot rebuild): `Authorization` and every credential
/// of `config` replaced by `[REDACTED]`. Fails with `invalid_input` (field `request`) for a
/// text that is not a request.
pub fn redact_request_text(config: &JsonConfig, text: &str) -> Result<String, Error> {
    let bad = || Error::invalid_input("request", "is not a request text");
    let (head, body) = text.split_once("\n\n").ok_or_else(bad)?;
    let mut lines = head.split('\n');
    let first = lines.next().ok_or_else(bad)?;
    let (method, binary) = match first.strip_suffix(" base64") {
        Some(method) => (method, true),
        None => (first, false),
    };
    let url = lines.next().ok_or_else(bad)?.to_owned();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(": ").ok_or_else(bad)?;
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let body = if binary {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| bad())?
    } else {
        body.as_bytes().to_vec()
    };
    redact_request_parts(config, method, url, headers, body).map_err(|_| bad())
}

/// `{"name": "value", ...}`, or `[["name", "value"], ...]` (a repeated header kept, as a
/// Python mapping cannot give it), read straight into pairs; values that are not strings are
/// left out (no HTTP stack gives one).
struct HeaderPairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderPairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = HeaderPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of header names to values, or [name, value] pairs")
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
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HeaderPairs, A::Error> {
                let mut pairs = Vec::with_capacity(seq.size_hint().unwrap_or(8).min(64));
                while let Some((name, value)) = seq.next_element::<(String, Value)>()? {
                    if let Value::String(value) = value {
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
            Error::invalid_input(
                "headers",
                "must be a JSON object of header names to values, or [name, value] pairs",
            )
        })
}

/// Parses a response: `headers_json` is `{"name": "value", ...}` or `[["name", "value"], ...]`.
/// Gives the result as [`operation::parse_to_split_text`] does (canonical JSON, large frames
/// after it), or the API / decode error.
pub fn parse(
    operation: &str,
    config: &JsonConfig,
    status: u32,
    headers_json: &str,
    body: &[u8],
) -> Result<String, Error> {
    parse_pairs(operation, config, status, &headers_arg(headers_json)?, body)
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

mod driver;
mod journey;
mod parts;
mod steps;

#[cfg(test)]
mod test_support;

pub use driver::{
    PollParts, Step, driver_failure, driver_new, driver_poll, driver_poll_parts, driver_response,
    driver_response_pairs, driver_start, driver_start_enrol_image, driver_token_status,
};
pub use journey::{
    pump_new, pump_next, service_setup, service_view, spool_due, spool_tombstone, store_error,
    store_schema,
};
pub use parts::{build_enrol_image, parse_pairs, redact_request_parts};
pub use steps::{flow_new, flow_step, web_decide};

#[cfg(test)]
mod tests {
    use super::test_support::json;
    use super::*;
    use serde_json::json;

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
                   "user_agent": "app/1 \"x\"", "oauth_username": "u\"1", "api_key": "k",
                   "streaming_url": "wss://us.rp.secure.iproov.me/ws"})
        );
    }

    #[test]
    fn a_request_text_redacts_as_the_request_it_came_from() {
        let config =
            new_config(r#"{"region": "eu", "api_key": "k", "secret": "s3cr3t-x"}"#).unwrap();
        for (op, input) in [
            ("enrol_token", r#"{"resource": "R", "user_id": "u-1"}"#),
            (
                "enrol_image",
                r#"{"token": "t", "source": "oid", "image": {"base64": "/9j/AAEC"}}"#,
            ),
            ("availability", ""),
        ] {
            let text = build_text(op, &config, input).unwrap();
            let view = redact_request_text(&config, &text).unwrap();
            assert_eq!(
                json(&view),
                json(&redact_request(op, &config, input).unwrap()),
                "{op}"
            );
            assert!(!view.contains("s3cr3t-x"));
        }
        assert_eq!(
            redact_request_text(&config, "FETCH\nx\n\n")
                .unwrap_err()
                .field(),
            Some("request")
        );
    }

    #[test]
    fn a_config_text_with_other_fields() {
        let text = config_text_with(
            r#"{"region": "eu", "access_token": "a"}"#,
            r#"{"access_token": null, "api_key": "k"}"#,
        )
        .unwrap();
        assert_eq!(json(&text), json!({"region": "eu", "api_key": "k"}));
        assert_eq!(
            config_text_with("{}", "[]").unwrap_err().field(),
            Some("fields")
        );
    }
}
