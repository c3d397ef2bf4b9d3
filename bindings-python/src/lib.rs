//! `iproov_sansio._core`: the Python binding's native module, a thin wrapper of
//! `iproov_core::host`, the text-in, text-out interface napi (`bindings-node/src/exports.rs`)
//! and wasm (`bindings-wasm/src/lib.rs`) wrap too; `bindings-js/NATIVE.md` is its one document
//! (names snake_case here). Every function calls core's `host` and converts types only; the
//! Python half (`iproov_sansio/_host.py`) turns texts into objects, as `bindings-js/api.mjs`
//! does in JS. Where `host` has a structured form beside a text (`host/parts.rs`, its
//! `PollParts`), this module hands Python objects instead (NATIVE.md, "Python's native forms"):
//! a `Request` (`request.rs`), the poll's tuple, header pairs and bytes (`convert.rs`).
//!
//! A failure of core is raised as the class `iproov_sansio._host.error_from_json` makes of core's
//! canonical error JSON (Python's equivalent of napi's `IPROOV_CORE` error).

use iproov_core::flows::json as flows;
use iproov_core::host;
use iproov_core::operation::JsonConfig;
use iproov_core::{Error, Secret};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString, PyTuple};

mod convert;
mod request;
use convert::{body_bytes, header_pairs, json_text, status_code};
use serde_json::Value;
use std::sync::{Mutex, MutexGuard};

static FROM_JSON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RESULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static NATIVE_CONFIG: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static SCAN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A callable of the Python half (`iproov_sansio._host`), looked up once.
fn python_half<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("iproov_sansio._host")?.getattr(name)?.unbind())
    })
    .map(|f| f.bind(py))
}

/// Core's error as the exception of its class (`_host.error_from_json`); a `RuntimeError` with
/// core's (secret-free) message only if the Python half cannot be imported.
fn raise(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, &host::error_json(error)) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyRuntimeError::new_err(error.message().to_owned()),
    }
}

/// The exception (not raised) of core's canonical error JSON.
fn exception<'py>(py: Python<'py>, error_json: &str) -> PyResult<Bound<'py, PyAny>> {
    python_half(py, &FROM_JSON, "error_from_json")?.call1((error_json,))
}

/// A request core built, as a `Request` (its redacted view made by core on demand from the
/// config handle).
fn request<'py>(
    py: Python<'py>,
    built: iproov_core::Request,
    config: &Bound<'py, NativeConfig>,
) -> PyResult<Bound<'py, PyAny>> {
    let headers = PyTuple::new(py, built.headers.iter().map(|(n, v)| (n, v)))?;
    let method = match built.method {
        iproov_core::Method::Get => pyo3::intern!(py, "GET"),
        iproov_core::Method::Post => pyo3::intern!(py, "POST"),
        iproov_core::Method::Put => pyo3::intern!(py, "PUT"),
        iproov_core::Method::Delete => pyo3::intern!(py, "DELETE"),
    };
    let made = request::Request::new(
        method.clone(),
        PyString::new(py, &built.url),
        headers,
        PyBytes::new(py, &built.body),
        config.clone().into_any(),
    );
    Ok(Bound::new(py, made)?.into_any())
}

fn core<T>(py: Python<'_>, result: Result<T, Error>) -> PyResult<T> {
    result.map_err(|e| raise(py, &e))
}

/// A lock that a panic elsewhere cannot poison for good (core never panics).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `info()`: core's tables as JSON (`host::info`).
#[pyfunction]
fn info() -> String {
    host::info()
}

/// A config read once by core; its text (with the credentials) stays here in core's `Secret`.
#[pyclass(frozen, module = "iproov_sansio._core")]
#[derive(Debug)]
struct NativeConfig {
    parsed: JsonConfig,
    text: Secret,
}

/// The config handle of a `NativeConfig`, a `_host.Config` (its `_native`) or anything
/// `_host._native_config` reads (a dict in the vector format; it refuses the rest).
fn native_config<'py>(config: &Bound<'py, PyAny>) -> PyResult<Bound<'py, NativeConfig>> {
    if let Ok(native) = config.cast::<NativeConfig>() {
        return Ok(native.clone());
    }
    let py = config.py();
    let native = match config.getattr(pyo3::intern!(py, "_native")) {
        Ok(native) => native,
        Err(_) => python_half(py, &NATIVE_CONFIG, "_native_config")?.call1((config,))?,
    };
    Ok(native.cast_into::<NativeConfig>()?)
}

fn config_text<'a>(config: Option<&'a Bound<'_, NativeConfig>>) -> &'a str {
    config.map_or("", |c| c.get().text.expose())
}

/// `new_config(config_json)`: reads the vector-format config (`host::new_config`).
#[pyfunction]
fn new_config(py: Python<'_>, config_json: String) -> PyResult<NativeConfig> {
    let parsed = core(py, host::new_config(&config_json))?;
    Ok(NativeConfig {
        parsed,
        text: Secret::new(config_json),
    })
}

/// `new_config_from_env(given_json, env_json)`: by core's rules (`host::config_text_from_env`).
#[pyfunction]
fn new_config_from_env(py: Python<'_>, given_json: &str, env_json: &str) -> PyResult<NativeConfig> {
    new_config(
        py,
        core(py, host::config_text_from_env(given_json, env_json))?,
    )
}

/// `config_with(config, fields_json)`: the config with these fields set (`host::config_text_with`).
#[pyfunction]
fn config_with(
    py: Python<'_>,
    config: &Bound<'_, NativeConfig>,
    fields_json: &str,
) -> PyResult<NativeConfig> {
    let text = host::config_text_with(config.get().text.expose(), fields_json);
    new_config(py, core(py, text)?)
}

/// `config_info(config)`: the non-secret facts, as JSON (`host::config_info`).
#[pyfunction]
fn config_info(config: &Bound<'_, NativeConfig>) -> String {
    host::config_info(&config.get().parsed)
}

/// `build(operation, config, input)`: a `Request` (`host::build_request`); `config`
/// as `native_config` takes it; `input` is the vector-format input as Python data (or `None`).
#[pyfunction]
fn build<'py>(
    py: Python<'py>,
    operation: &str,
    config: &Bound<'py, PyAny>,
    input: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = &native_config(config)?;
    let input = json_text(input, "input")?;
    let built = core(
        py,
        host::build_request(operation, &config.get().parsed, &input),
    )?;
    request(py, built, config)
}

/// `build_enrol_image(config, token, source, image, rotation)`: the photo enrol's `Request`
/// from the image's bytes (`host::build_enrol_image`); `config` as for `build`.
#[pyfunction]
fn build_enrol_image<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    token: &str,
    source: &str,
    image: &[u8],
    rotation: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = &native_config(config)?;
    let built = host::build_enrol_image(&config.get().parsed, token, source, image, rotation);
    request(py, core(py, built)?, config)
}

/// `redact_request(operation, config, input_json)`: core's redacted view (JSON).
#[pyfunction]
fn redact_request(
    py: Python<'_>,
    operation: &str,
    config: &Bound<'_, NativeConfig>,
    input_json: &str,
) -> PyResult<String> {
    core(
        py,
        host::redact_request(operation, &config.get().parsed, input_json),
    )
}

/// `redact_request_parts(config, method, url, headers, body)`: core's redacted view (JSON)
/// of a request core built (`host::redact_request_parts`).
#[pyfunction]
fn redact_request_parts(
    py: Python<'_>,
    config: &Bound<'_, NativeConfig>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: &[u8],
) -> PyResult<String> {
    let parsed = &config.get().parsed;
    core(
        py,
        host::redact_request_parts(parsed, method, url, headers, body.to_vec()),
    )
}

/// `parse(operation, config, status, headers, body)`: the result dict (`result` of
/// `host::parse_pairs`'s text); `config` as for `build`, the rest as `convert` reads them.
#[pyfunction]
fn parse<'py>(
    py: Python<'py>,
    operation: &str,
    config: &Bound<'py, PyAny>,
    status: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = native_config(config)?;
    let (status, headers) = (status_code(status)?, header_pairs(headers)?);
    let body = body_bytes(body, "body")?;
    let parsed = &config.get().parsed;
    let text = core(
        py,
        host::parse_pairs(operation, parsed, status, &headers, &body),
    )?;
    result(py, text)
}

/// `region(name)`: `{"id", "base_url", "streaming_url"}` (JSON).
#[pyfunction]
fn region(py: Python<'_>, name: &str) -> PyResult<String> {
    core(py, host::region(name))
}

/// `regions()`: every region, in the docs' order (JSON array).
#[pyfunction]
fn regions() -> String {
    host::regions()
}

/// `check_user_id(field, user_id)`: iProov's pattern; raises `InvalidInputError`.
#[pyfunction]
fn check_user_id(py: Python<'_>, field: &str, user_id: &str) -> PyResult<()> {
    core(py, host::check_user_id(field, user_id))
}

/// `lint_user_id(user_id)`: the personal-data warnings (JSON array of `{"code", "message"}`).
#[pyfunction]
fn lint_user_id(user_id: &str) -> String {
    host::lint_user_id(user_id)
}

/// `random_user_id(random_bytes)`: a UUID v4 from exactly 16 random bytes.
#[pyfunction]
fn random_user_id(py: Python<'_>, random_bytes: &[u8]) -> PyResult<String> {
    core(py, host::random_user_id(random_bytes))
}

/// `pseudonymous_user_id(host_secret, internal_key)`: the HMAC-SHA-256 pseudonym.
#[pyfunction]
fn pseudonymous_user_id(py: Python<'_>, host_secret: &str, internal_key: &str) -> PyResult<String> {
    core(py, host::pseudonymous_user_id(host_secret, internal_key))
}

/// `transport_error(kind, cause)`: core's transport error JSON (returned, not raised).
#[pyfunction]
fn transport_error(kind: &str, cause: &str) -> String {
    host::transport_error(kind, cause)
}

/// `flow_new(flow, options_json)`: a flow's initial state (JSON).
#[pyfunction]
fn flow_new(py: Python<'_>, flow: &str, options_json: &str) -> PyResult<String> {
    core(py, host::flow_new(flow, options_json))
}

/// `flow_step(flow, config, state_json, step_json)`: `{"state", "output"}` (JSON).
#[pyfunction]
#[pyo3(signature = (flow, config, state_json, step_json))]
fn flow_step(
    py: Python<'_>,
    flow: &str,
    config: Option<&Bound<'_, NativeConfig>>,
    state_json: &str,
    step_json: &str,
) -> PyResult<String> {
    core(
        py,
        host::flow_step(flow, config_text(config), state_json, step_json),
    )
}

/// A flow whose state core keeps here between steps (the token manager's holds the token).
#[pyclass(frozen, module = "iproov_sansio._core")]
struct NativeFlow {
    flow: String,
    state: Mutex<Value>,
}

impl std::fmt::Debug for NativeFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeFlow")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

fn json_arg(what: &str, text: &str) -> Result<Value, Error> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| Error::invalid_input(what, e))
}

/// `new_flow(flow, options_json)`: a flow handle in its initial state.
#[pyfunction]
fn new_flow(py: Python<'_>, flow: String, options_json: &str) -> PyResult<NativeFlow> {
    let options = core(py, json_arg("options", options_json))?;
    let state = core(py, flows::new_state(&flow, &options))?;
    Ok(NativeFlow {
        flow,
        state: Mutex::new(state),
    })
}

/// `flow_run(flow, config, step_json)`: one step of a flow handle; the step's output (JSON).
/// On an error the state is unchanged.
#[pyfunction]
#[pyo3(signature = (flow, config, step_json))]
fn flow_run(
    py: Python<'_>,
    flow: &Bound<'_, NativeFlow>,
    config: Option<&Bound<'_, NativeConfig>>,
    step_json: &str,
) -> PyResult<String> {
    let config = core(py, json_arg("config", config_text(config)))?;
    let step = core(py, json_arg("step", step_json))?;
    let flow = flow.get();
    let mut state = lock(&flow.state);
    let out = core(py, flows::run_step(&flow.flow, &config, &state, &step))?;
    *state = out.state;
    Ok(serde_json::to_string(&out.output).unwrap_or_default())
}

/// A call driver (`iproov_core::driver`): one per client, shared by its threads.
#[pyclass(frozen, module = "iproov_sansio._core")]
#[derive(Debug)]
struct NativeDriver {
    inner: Mutex<iproov_core::driver::Driver>,
    config: Py<NativeConfig>,
}

/// `driver_new(config, options_json, seed)`: a driver; `seed` is at least 8 random bytes.
#[pyfunction]
fn driver_new(
    py: Python<'_>,
    config: &Bound<'_, NativeConfig>,
    options_json: &str,
    seed: &[u8],
) -> PyResult<NativeDriver> {
    let inner = core(
        py,
        host::driver_new(&config.get().parsed, options_json, seed),
    )?;
    Ok(NativeDriver {
        inner: Mutex::new(inner),
        config: config.clone().unbind(),
    })
}

/// `driver_start(driver, operation, input, attempt, quiet, max_wait_ms, telemetry, now)`:
/// the new call's id (`host::driver_start`); `input` as for `build`; `telemetry`: the lowest
/// level of the call's events the host maps (`"debug"` .. `"error"`, `""` for none).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // one argument per fact of the call
fn driver_start(
    py: Python<'_>,
    driver: &Bound<'_, NativeDriver>,
    operation: &str,
    input: &Bound<'_, PyAny>,
    attempt: u32,
    quiet: bool,
    max_wait_ms: u64,
    telemetry: &str,
    now: u64,
) -> PyResult<u64> {
    let input = json_text(input, "input")?;
    let mut inner = lock(&driver.get().inner);
    core(
        py,
        host::driver_start(
            &mut inner,
            operation,
            &input,
            attempt,
            quiet,
            max_wait_ms,
            telemetry,
            now,
        ),
    )
}

/// `driver_start_enrol_image(driver, token, source, image, rotation, attempt, telemetry, now)`:
/// a photo enrol from the image's bytes (`host::driver_start_enrol_image`); the call's id.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // one argument per fact of the call
fn driver_start_enrol_image(
    driver: &Bound<'_, NativeDriver>,
    token: &str,
    source: &str,
    image: &[u8],
    rotation: Option<i64>,
    attempt: u32,
    telemetry: &str,
    now: u64,
) -> u64 {
    let mut inner = lock(&driver.get().inner);
    host::driver_start_enrol_image(
        &mut inner, token, source, image, rotation, attempt, telemetry, now,
    )
}

/// A result text (NATIVE.md) as the result dict: JSON's scanner for one without large frames
/// (no line break), `_host._result` for the rest.
fn result<'py>(py: Python<'py>, text: String) -> PyResult<Bound<'py, PyAny>> {
    if text.contains('\n') {
        return python_half(py, &RESULT, "_result")?.call1((text,));
    }
    python_half(py, &SCAN, "_scan")?
        .call1((text, 0))?
        .get_item(0)
}

/// JSON texts as one list (`None` for none), read by one call of `_host._loads`.
fn json_list<'py>(py: Python<'py>, texts: &[String]) -> PyResult<Bound<'py, PyAny>> {
    if texts.is_empty() {
        return Ok(py.None().into_bound(py));
    }
    python_half(py, &LOADS, "_loads")?.call1((format!("[{}]", texts.join(",")),))
}

/// The poll's tuple `(kind, value, audit, wake, events)` (NATIVE.md's poll, as Python objects):
/// `send`: `(Request, timeout_ms)`; `sleep` / `wait`: Unix ms; `done`: the result dict
/// (`_host._result`); `failed`: the exception to raise; audit records and telemetry events as
/// lists of dicts, or `None`.
fn poll_tuple<'py>(
    py: Python<'py>,
    driver: &Bound<'py, NativeDriver>,
    poll: host::PollParts,
) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, value) = match poll.step {
        host::Step::Send {
            request: built,
            timeout_ms,
        } => {
            let config = driver.get().config.bind(py);
            let sent = (request(py, built, config)?, timeout_ms);
            ("send", sent.into_pyobject(py)?.into_any())
        }
        host::Step::Sleep(at) => ("sleep", at.into_pyobject(py)?.into_any()),
        host::Step::Wait(until) => ("wait", until.into_pyobject(py)?.into_any()),
        host::Step::Done(text) => ("done", result(py, text)?),
        host::Step::Failed(text) => ("failed", exception(py, &text)?),
    };
    let audit = json_list(py, &poll.audit)?;
    let events = json_list(py, &poll.events)?;
    (kind, value, audit, poll.wake, events).into_pyobject(py)
}

/// `driver_poll(driver, id, now)`: the poll's tuple (`host::driver_poll_parts`).
#[pyfunction]
fn driver_poll<'py>(
    py: Python<'py>,
    driver: &Bound<'py, NativeDriver>,
    id: u64,
    now: u64,
) -> PyResult<Bound<'py, PyTuple>> {
    let poll = host::driver_poll_parts(&mut lock(&driver.get().inner), id, now);
    poll_tuple(py, driver, poll)
}

/// `driver_response(driver, id, status, headers, body, now)`: the answer to a send, then the
/// next poll's tuple (one crossing per driver step); the arguments as `convert` reads them.
#[pyfunction]
fn driver_response<'py>(
    py: Python<'py>,
    driver: &Bound<'py, NativeDriver>,
    id: u64,
    status: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
    now: u64,
) -> PyResult<Bound<'py, PyTuple>> {
    let (status, headers) = (status_code(status)?, header_pairs(headers)?);
    let body = body_bytes(body, "body")?;
    let poll = {
        let mut inner = lock(&driver.get().inner);
        host::driver_response_pairs(&mut inner, id, status, &headers, &body, now);
        host::driver_poll_parts(&mut inner, id, now)
    };
    poll_tuple(py, driver, poll)
}

/// `driver_failure(driver, id, failure, cause, now)`: a send failed (a transport table name),
/// then the next poll's tuple.
#[pyfunction]
fn driver_failure<'py>(
    py: Python<'py>,
    driver: &Bound<'py, NativeDriver>,
    id: u64,
    failure: &str,
    cause: &str,
    now: u64,
) -> PyResult<Bound<'py, PyTuple>> {
    let poll = {
        let mut inner = lock(&driver.get().inner);
        host::driver_failure(&mut inner, id, failure, cause, now);
        host::driver_poll_parts(&mut inner, id, now)
    };
    poll_tuple(py, driver, poll)
}

/// `driver_cancel(driver, id)`: drops a call the host gave up on.
#[pyfunction]
fn driver_cancel(driver: &Bound<'_, NativeDriver>, id: u64) {
    lock(&driver.get().inner).cancel(id);
}

/// `driver_token_status(driver, now)`: the shared access token's status, without it (JSON).
#[pyfunction]
fn driver_token_status(driver: &Bound<'_, NativeDriver>, now: u64) -> String {
    host::driver_token_status(&lock(&driver.get().inner), now)
}

/// `service_setup(policy_json, options_json)` (`host::service_setup`).
#[pyfunction]
fn service_setup(py: Python<'_>, policy_json: &str, options_json: &str) -> PyResult<String> {
    core(py, host::service_setup(policy_json, options_json))
}

/// `service_view(record_json)`: a journey record as a history shows it (no token).
#[pyfunction]
fn service_view(py: Python<'_>, record_json: &str) -> PyResult<String> {
    core(py, host::service_view(record_json))
}

/// `store_schema(dialect)`: the store's statements for `sqlite` or `postgres` (JSON).
#[pyfunction]
fn store_schema(py: Python<'_>, dialect: &str) -> PyResult<String> {
    core(py, host::store_schema(dialect))
}

/// `spool_due(text, now)`: what to replay, keep and drop of a spool's text (JSON).
#[pyfunction]
fn spool_due(text: &str, now: u64) -> String {
    host::spool_due(text, now)
}

/// `spool_tombstone(id, now)`: the tombstone line of spool entry `id`.
#[pyfunction]
fn spool_tombstone(id: &str, now: u64) -> String {
    host::spool_tombstone(id, now)
}

/// `store_error(store_operation)`: core's `store_unavailable` error JSON for a store method
/// that raised outside a pump (returned, not raised; the host chains the store's error).
#[pyfunction]
fn store_error(store_operation: &str) -> String {
    host::store_error(store_operation)
}

/// One request's journey pump: its tokens never leave it but through its actions.
#[pyclass(frozen, module = "iproov_sansio._core")]
#[derive(Debug)]
struct NativePump {
    inner: Mutex<iproov_core::service::Pump>,
}

/// `pump_new(config, setup_json, request_json, new_id, now)`: a pump for one request.
#[pyfunction]
fn pump_new(
    py: Python<'_>,
    config: &Bound<'_, NativeConfig>,
    setup_json: &str,
    request_json: &str,
    new_id: &str,
    now: u64,
) -> PyResult<NativePump> {
    let inner = core(
        py,
        host::pump_new(&config.get().parsed, setup_json, request_json, new_id, now),
    )?;
    Ok(NativePump {
        inner: Mutex::new(inner),
    })
}

/// `pump_next(pump, event_json, now)`: the next action (JSON) after the event (`""` first).
#[pyfunction]
fn pump_next(pump: &Bound<'_, NativePump>, event_json: &str, now: u64) -> String {
    host::pump_next(&mut lock(&pump.get().inner), event_json, now)
}

/// `web_decide(what, facts_json)`: a decision of the browser-facing endpoints (JSON).
#[pyfunction]
fn web_decide(py: Python<'_>, what: &str, facts_json: &str) -> PyResult<String> {
    core(py, host::web_decide(what, facts_json))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeConfig>()?;
    m.add_class::<NativeFlow>()?;
    m.add_class::<NativeDriver>()?;
    m.add_class::<NativePump>()?;
    m.add_class::<request::Request>()?;
    m.add_wrapped(wrap_pyfunction!(info))?;
    m.add_wrapped(wrap_pyfunction!(new_config))?;
    m.add_wrapped(wrap_pyfunction!(new_config_from_env))?;
    m.add_wrapped(wrap_pyfunction!(config_with))?;
    m.add_wrapped(wrap_pyfunction!(config_info))?;
    m.add_wrapped(wrap_pyfunction!(build))?;
    m.add_wrapped(wrap_pyfunction!(redact_request))?;
    m.add_wrapped(wrap_pyfunction!(redact_request_parts))?;
    m.add_wrapped(wrap_pyfunction!(build_enrol_image))?;
    m.add_wrapped(wrap_pyfunction!(parse))?;
    m.add_wrapped(wrap_pyfunction!(region))?;
    m.add_wrapped(wrap_pyfunction!(regions))?;
    m.add_wrapped(wrap_pyfunction!(check_user_id))?;
    m.add_wrapped(wrap_pyfunction!(lint_user_id))?;
    m.add_wrapped(wrap_pyfunction!(random_user_id))?;
    m.add_wrapped(wrap_pyfunction!(pseudonymous_user_id))?;
    m.add_wrapped(wrap_pyfunction!(transport_error))?;
    m.add_wrapped(wrap_pyfunction!(flow_new))?;
    m.add_wrapped(wrap_pyfunction!(flow_step))?;
    m.add_wrapped(wrap_pyfunction!(new_flow))?;
    m.add_wrapped(wrap_pyfunction!(flow_run))?;
    m.add_wrapped(wrap_pyfunction!(driver_new))?;
    m.add_wrapped(wrap_pyfunction!(driver_start))?;
    m.add_wrapped(wrap_pyfunction!(driver_start_enrol_image))?;
    m.add_wrapped(wrap_pyfunction!(driver_poll))?;
    m.add_wrapped(wrap_pyfunction!(driver_response))?;
    m.add_wrapped(wrap_pyfunction!(driver_failure))?;
    m.add_wrapped(wrap_pyfunction!(driver_cancel))?;
    m.add_wrapped(wrap_pyfunction!(driver_token_status))?;
    m.add_wrapped(wrap_pyfunction!(service_setup))?;
    m.add_wrapped(wrap_pyfunction!(service_view))?;
    m.add_wrapped(wrap_pyfunction!(store_schema))?;
    m.add_wrapped(wrap_pyfunction!(spool_due))?;
    m.add_wrapped(wrap_pyfunction!(spool_tombstone))?;
    m.add_wrapped(wrap_pyfunction!(store_error))?;
    m.add_wrapped(wrap_pyfunction!(pump_new))?;
    m.add_wrapped(wrap_pyfunction!(pump_next))?;
    m.add_wrapped(wrap_pyfunction!(web_decide))?;
    Ok(())
}
