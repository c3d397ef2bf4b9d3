//! The exported functions, each one call of `iproov_core::host` (the interface the wasm
//! package exports too). Names are camelCased by napi (`new_config` is `newConfig` in JS).

use iproov_core::Error;
use iproov_core::host;
use iproov_core::operation::JsonConfig;
use napi::bindgen_prelude::Result;
use napi_derive::napi;

/// The `code` of every error this module throws for a core failure.
#[derive(Debug, Clone, Copy)]
pub struct CoreFailure;

impl AsRef<str> for CoreFailure {
    fn as_ref(&self) -> &str {
        "IPROOV_CORE"
    }
}

/// A core error as the JS error napi throws: `code` "IPROOV_CORE", `message` its canonical JSON.
fn core<T>(result: std::result::Result<T, Error>) -> Result<T, CoreFailure> {
    result.map_err(|e| napi::Error::new(CoreFailure, host::error_json(&e)))
}

/// `info()`: `{"version", "default_user_agent", "max_body_bytes", "operations": [...]}` as JSON.
#[napi]
pub fn info() -> String {
    host::info()
}

/// A configuration read once by core and kept for the calls that use it. Opaque to JS; its
/// secrets stay in core's `Secret` type (redacted by `Debug`, zeroed on drop).
#[napi]
#[derive(Debug)]
pub struct NativeConfig {
    parsed: JsonConfig,
}

/// `newConfig(configJson)`: reads the vector-format config.
#[napi]
pub fn new_config(config_json: String) -> Result<NativeConfig, CoreFailure> {
    core(host::new_config(&config_json)).map(|parsed| NativeConfig { parsed })
}

/// `configInfo(config)`: the non-secret facts of a config, as JSON.
#[napi]
pub fn config_info(config: &NativeConfig) -> String {
    host::config_info(&config.parsed)
}

/// `build(operation, config, inputJson)`: the request text (`host::build_text`).
#[napi]
pub fn build(
    operation: String,
    config: &NativeConfig,
    input_json: String,
) -> Result<String, CoreFailure> {
    core(host::build_text(&operation, &config.parsed, &input_json))
}

/// `redactRequest(operation, config, inputJson)`: core's redacted view of the request (JSON).
#[napi]
pub fn redact_request(
    operation: String,
    config: &NativeConfig,
    input_json: String,
) -> Result<String, CoreFailure> {
    core(host::redact_request(
        &operation,
        &config.parsed,
        &input_json,
    ))
}

/// `parse(operation, config, status, headersJson, body)`: the canonical result (JSON).
#[napi]
pub fn parse(
    operation: String,
    config: &NativeConfig,
    status: u32,
    headers_json: String,
    body: &[u8],
) -> Result<String, CoreFailure> {
    core(host::parse(
        &operation,
        &config.parsed,
        status,
        &headers_json,
        body,
    ))
}

/// `region(name)`: `{"id", "base_url", "streaming_url"}` of a region by any usual spelling.
#[napi]
pub fn region(name: String) -> Result<String, CoreFailure> {
    core(host::region(&name))
}

/// `regions()`: every region, in the docs' order, as a JSON array.
#[napi]
pub fn regions() -> String {
    host::regions()
}

/// `checkUserId(field, userId)`: iProov's `user_id` pattern; throws `invalid_input`.
#[napi]
pub fn check_user_id(field: String, user_id: String) -> Result<(), CoreFailure> {
    core(host::check_user_id(&field, &user_id))
}

/// `lintUserId(userId)`: the personal-data warnings as a JSON array of `{"code", "message"}`.
#[napi]
pub fn lint_user_id(user_id: String) -> String {
    host::lint_user_id(&user_id)
}

/// `randomUserId(bytes)`: a UUID v4 string from exactly 16 random bytes the host drew.
#[napi]
pub fn random_user_id(random_bytes: &[u8]) -> Result<String, CoreFailure> {
    core(host::random_user_id(random_bytes))
}

/// `pseudonymousUserId(hostSecret, internalKey)`: HMAC-SHA-256 pseudonym (64 hex characters).
#[napi]
pub fn pseudonymous_user_id(
    host_secret: String,
    internal_key: String,
) -> Result<String, CoreFailure> {
    core(host::pseudonymous_user_id(&host_secret, &internal_key))
}

/// `transportError(kind, cause)`: core's transport error JSON (returned, not thrown).
#[napi]
pub fn transport_error(kind: String, cause: String) -> String {
    host::transport_error(&kind, &cause)
}

/// `flowNew(flow, optionsJson)`: core's `flows::json::new_state`, as JSON.
#[napi]
pub fn flow_new(flow: String, options_json: String) -> Result<String, CoreFailure> {
    core(host::flow_new(&flow, &options_json))
}

/// `flowStep(flow, configJson, stateJson, stepJson)`: `{"state", "output"}` as JSON.
#[napi]
pub fn flow_step(
    flow: String,
    config_json: String,
    state_json: String,
    step_json: String,
) -> Result<String, CoreFailure> {
    core(host::flow_step(
        &flow,
        &config_json,
        &state_json,
        &step_json,
    ))
}
