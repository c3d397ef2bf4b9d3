//! The exported functions, each one call of `iproov_core::host` (the interface the wasm
//! package exports too). Names are camelCased by napi (`new_config` is `newConfig` in JS).

use iproov_core::driver::Driver;
use iproov_core::flows::json as flows;
use iproov_core::host;
use iproov_core::operation::JsonConfig;
use iproov_core::{Error, Secret};
use napi::bindgen_prelude::Result;
use napi_derive::napi;
use serde_json::Value;

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

/// `info()`: `{"version", "default_user_agent", "max_body_bytes", "operations": [...],
/// "error_classes": [...], "transport_failures": [...]}` as JSON.
#[napi]
pub fn info() -> String {
    host::info()
}

/// A configuration read once by core and kept for the calls that use it. Opaque to JS; its
/// secrets stay in core's `Secret` type (redacted by `Debug`, zeroed on drop), and so does the
/// vector-format text that core's flow steps read (`flowStep`, `flowRun`): JS keeps none.
#[napi]
#[derive(Debug)]
pub struct NativeConfig {
    parsed: JsonConfig,
    text: Secret,
}

/// `newConfig(configJson)`: reads the vector-format config.
#[napi]
pub fn new_config(config_json: String) -> Result<NativeConfig, CoreFailure> {
    let parsed = core(host::new_config(&config_json))?;
    Ok(NativeConfig {
        parsed,
        text: Secret::new(config_json),
    })
}

/// `newConfigFromEnv(givenJson, envJson)`: a config from the caller's fields and the
/// environment's `IPROOV_*` variables, by core's rules (`JsonConfig::from_env`); the merged
/// text (with its credentials) stays in Rust.
#[napi]
pub fn new_config_from_env(
    given_json: String,
    env_json: String,
) -> Result<NativeConfig, CoreFailure> {
    new_config(core(host::config_text_from_env(&given_json, &env_json))?)
}

fn config_text(config: Option<&NativeConfig>) -> &str {
    config.map_or("", |c| c.text.expose())
}

/// `configInfo(config)`: the non-secret facts of a config, as JSON (`host::config_info`).
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

/// `flowStep(flow, config, stateJson, stepJson)`: `{"state", "output"}` as JSON; `config` is
/// a config handle or `null`.
#[napi]
pub fn flow_step(
    flow: String,
    config: Option<&NativeConfig>,
    state_json: String,
    step_json: String,
) -> Result<String, CoreFailure> {
    core(host::flow_step(
        &flow,
        config_text(config),
        &state_json,
        &step_json,
    ))
}

/// A flow whose state core keeps here, between steps, rather than in JS: the token manager's
/// state holds the managed access token. `Debug` shows only the flow's name.
#[napi]
pub struct NativeFlow {
    flow: String,
    state: Value,
}

impl std::fmt::Debug for NativeFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeFlow")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

fn json_arg(what: &str, text: &str) -> std::result::Result<Value, Error> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| Error::invalid_input(what, e))
}

/// `newFlow(flow, optionsJson)`: a flow handle in its initial state.
#[napi]
pub fn new_flow(flow: String, options_json: String) -> Result<NativeFlow, CoreFailure> {
    let options = core(json_arg("options", &options_json))?;
    let state = core(flows::new_state(&flow, &options))?;
    Ok(NativeFlow { flow, state })
}

/// `flowRun(flow, config, stepJson)`: one step of a flow handle; gives the step's output as
/// JSON and keeps the new state. On an error the state is unchanged.
#[napi]
pub fn flow_run(
    flow: &mut NativeFlow,
    config: Option<&NativeConfig>,
    step_json: String,
) -> Result<String, CoreFailure> {
    let config = core(json_arg("config", config_text(config)))?;
    let step = core(json_arg("step", &step_json))?;
    let out = core(flows::run_step(&flow.flow, &config, &flow.state, &step))?;
    flow.state = out.state;
    Ok(serde_json::to_string(&out.output).unwrap_or_default())
}

/// A call driver (`iproov_core::driver`): one per client. `Debug` shows no credential.
#[napi]
#[derive(Debug)]
pub struct NativeDriver {
    inner: Driver,
}

/// Milliseconds and call ids cross as JS numbers; `as` saturates (NaN and negatives give 0).
fn whole(n: f64) -> u64 {
    n as u64
}

/// `driverNew(config, optionsJson, seed)`: a driver; `seed` is at least 8 random bytes.
#[napi]
pub fn driver_new(
    config: &NativeConfig,
    options_json: String,
    seed: &[u8],
) -> Result<NativeDriver, CoreFailure> {
    core(host::driver_new(&config.parsed, &options_json, seed)).map(|inner| NativeDriver { inner })
}

/// `driverStart(driver, operation, inputJson, attempt, quiet, maxWaitMs, telemetry, now)`:
/// the new call's id; `quiet`: no audit hook or journey takes the call's records (core then
/// makes none); `maxWaitMs`: the longest wait before a retry, 0 for the policy's own;
/// `telemetry`: the host maps the call's telemetry events.
#[napi]
#[allow(clippy::too_many_arguments)] // one argument per fact of the call
pub fn driver_start(
    driver: &mut NativeDriver,
    operation: String,
    input_json: String,
    attempt: u32,
    quiet: bool,
    max_wait_ms: f64,
    telemetry: bool,
    now: f64,
) -> Result<f64, CoreFailure> {
    core(host::driver_start(
        &mut driver.inner,
        &operation,
        &input_json,
        attempt,
        quiet,
        whole(max_wait_ms),
        if telemetry { "debug" } else { "" }, // every event: the logger filters
        whole(now),
    ))
    .map(|id| id as f64)
}

/// `driverPoll(driver, id, now)`: the poll text (`host::driver_poll`).
#[napi]
pub fn driver_poll(driver: &mut NativeDriver, id: f64, now: f64) -> String {
    host::driver_poll(&mut driver.inner, whole(id), whole(now))
}

/// `driverResponse(driver, id, status, headersJson, body, now)`: the answer to a send.
#[napi]
pub fn driver_response(
    driver: &mut NativeDriver,
    id: f64,
    status: u32,
    headers_json: String,
    body: &[u8],
    now: f64,
) {
    host::driver_response(
        &mut driver.inner,
        whole(id),
        status,
        &headers_json,
        body,
        whole(now),
    );
}

/// `driverFailure(driver, id, failure, cause, now)`: a send failed (a transport table name).
#[napi]
pub fn driver_failure(
    driver: &mut NativeDriver,
    id: f64,
    failure: String,
    cause: String,
    now: f64,
) {
    host::driver_failure(&mut driver.inner, whole(id), &failure, &cause, whole(now));
}

/// `driverCancel(driver, id)`: drops a call the host gave up on.
#[napi]
pub fn driver_cancel(driver: &mut NativeDriver, id: f64) {
    driver.inner.cancel(whole(id));
}

/// `serviceSetup(policyJson, optionsJson)`: the journey service's checked policy, with what
/// core derives from the client's driver options (`host::service_setup`).
#[napi]
pub fn service_setup(policy_json: String, options_json: String) -> Result<String, CoreFailure> {
    core(host::service_setup(&policy_json, &options_json))
}

/// `serviceView(recordJson)`: a journey record as a history shows it (no token).
#[napi]
pub fn service_view(record_json: String) -> Result<String, CoreFailure> {
    core(host::service_view(&record_json))
}

/// `storeSchema(dialect)`: the store's statements for `sqlite` or `postgres` (JSON).
#[napi]
pub fn store_schema(dialect: String) -> Result<String, CoreFailure> {
    core(host::store_schema(&dialect))
}

/// `spoolDue(text, now)`: what to replay, keep and drop of a spool's text (JSON).
#[napi]
pub fn spool_due(text: String, now: f64) -> String {
    host::spool_due(&text, whole(now))
}

/// `spoolTombstone(id, now)`: the tombstone line of spool entry `id`.
#[napi]
pub fn spool_tombstone(id: String, now: f64) -> String {
    host::spool_tombstone(&id, whole(now))
}

/// `storeError(storeOperation)`: core's `store_unavailable` error JSON for a store method that
/// threw outside a pump (returned, not thrown; the JS layer chains the store's error).
#[napi]
pub fn store_error(store_operation: String) -> String {
    host::store_error(&store_operation)
}

/// One request's journey pump (`iproov_core::service::Pump`): its tokens never leave it but
/// through the actions it gives.
#[napi]
#[derive(Debug)]
pub struct NativePump {
    inner: iproov_core::service::Pump,
}

/// `pumpNew(config, setupJson, requestJson, newId, now)`: a pump for one request.
#[napi]
pub fn pump_new(
    config: &NativeConfig,
    setup_json: String,
    request_json: String,
    new_id: String,
    now: f64,
) -> Result<NativePump, CoreFailure> {
    core(host::pump_new(
        &config.parsed,
        &setup_json,
        &request_json,
        &new_id,
        whole(now),
    ))
    .map(|inner| NativePump { inner })
}

/// `pumpNext(pump, eventJson, now)`: the next action (JSON) after the event (`""` first).
#[napi]
pub fn pump_next(pump: &mut NativePump, event_json: String, now: f64) -> String {
    host::pump_next(&mut pump.inner, &event_json, whole(now))
}

/// `webDecide(what, factsJson)`: a decision of the browser-facing endpoints
/// (`host::web_decide`), as JSON.
#[napi]
pub fn web_decide(what: String, facts_json: String) -> Result<String, CoreFailure> {
    core(host::web_decide(&what, &facts_json))
}
