//! The native half of the `iproov-sansio-edge` package: wasm-bindgen glue over `iproov-core`.
//!
//! This crate only converts: every export calls one function of [`iproov_core::host`], the
//! string-and-bytes interface the Node package wraps too (`bindings-js/NATIVE.md`), so
//! the shared JavaScript layer runs unchanged on either backend.
//!
//! Failures of core are thrown as a JS `Error` whose `code` is `"IPROOV_CORE"` and whose
//! `message` is core's canonical error JSON. Core cannot panic by construction (its lints
//! deny unwrap, expect, panic and indexing); the build uses `panic = "abort"`, so a panic
//! would trap the instance, which the JS layer then re-instantiates (handles of the dead
//! instance are then refused, never reused).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iproov_core::driver::Driver;
use iproov_core::flows::json as flows;
use iproov_core::host;
use iproov_core::operation::JsonConfig;
use iproov_core::{Error, Secret};
use serde_json::Value;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

type Thrown<T> = Result<T, JsValue>;

fn thrown(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&host::error_json(error));
    // Setting a property on a fresh Error object cannot fail; nothing to recover if it did.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &"IPROOV_CORE".into());
    js.into()
}

fn core<T>(result: Result<T, Error>) -> Thrown<T> {
    result.map_err(|e| thrown(&e))
}

/// Objects core keeps for JS (configs, flows, drivers), by integer handle, each with a count
/// of the JS handles that hold it. Plain integers, not wasm-bindgen structs: the JS side
/// re-instantiates the module after a trap, and a stale integer is checked (by the instance
/// generation JS keeps) where a stale struct pointer (and its finalizer) would reach into the
/// new instance's memory. Equal configs share one entry, and so may drivers of one config with
/// equal options (`driverNew`'s `share`): workerd frees nothing on garbage collection, so a
/// worker that makes its client per request keeps one entry per distinct configuration rather
/// than one per request.
struct Table<T> {
    next: u32,
    entries: Vec<Entry<T>>,
}

struct Entry<T> {
    handle: u32,
    holders: u32,
    item: T,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            next: 1,
            entries: Vec::new(),
        }
    }
}

impl<T> Table<T> {
    fn insert(&mut self, item: T) -> u32 {
        let handle = self.next;
        self.next = self.next.wrapping_add(1).max(1);
        self.entries.push(Entry {
            handle,
            holders: 1,
            item,
        });
        handle
    }

    /// The handle of an entry `same` accepts, with one more holder.
    fn share(&mut self, same: impl Fn(&T) -> bool) -> Option<u32> {
        let entry = self.entries.iter_mut().find(|e| same(&e.item))?;
        entry.holders += 1;
        Some(entry.handle)
    }

    fn get_mut(&mut self, handle: u32) -> Option<&mut T> {
        self.entries
            .iter_mut()
            .find(|e| e.handle == handle)
            .map(|e| &mut e.item)
    }

    /// One holder fewer; the entry goes (its secrets zeroed) with the last.
    fn release(&mut self, handle: u32) {
        if let Some(at) = self.entries.iter().position(|e| e.handle == handle) {
            let entry = self.entries.swap_remove(at);
            if entry.holders > 1 {
                self.entries.push(Entry {
                    holders: entry.holders - 1,
                    ..entry
                });
            }
        }
    }
}

/// A config as core read it, and its vector-format text for core's flow steps (in `Secret`:
/// zeroed on drop, redacted in `Debug`).
struct StoredConfig {
    parsed: JsonConfig,
    text: Secret,
}

/// A driver, and what it was made from (for sharing).
struct StoredDriver {
    config: u32,
    options: String,
    driver: Driver,
}

/// A flow's name and state (the token manager's state holds the managed access token).
struct StoredFlow {
    flow: String,
    state: Value,
}

thread_local! {
    static CONFIGS: RefCell<Table<StoredConfig>> = RefCell::new(Table::default());
    static FLOWS: RefCell<Table<StoredFlow>> = RefCell::new(Table::default());
    static DRIVERS: RefCell<Table<StoredDriver>> = RefCell::new(Table::default());
    static PUMPS: RefCell<Table<iproov_core::service::Pump>> = RefCell::new(Table::default());
}

fn unknown(what: &str) -> Error {
    Error::invalid_state(format!(
        "unknown {what} handle: it was freed or belongs to an earlier wasm instance; make the \
         client (or config) again"
    ))
}

fn with_config<T>(handle: u32, f: impl FnOnce(&StoredConfig) -> Result<T, Error>) -> Thrown<T> {
    CONFIGS.with(|configs| match configs.borrow_mut().get_mut(handle) {
        Some(config) => core(f(config)),
        None => core(Err(unknown("config"))),
    })
}

fn with_driver<T>(handle: u32, f: impl FnOnce(&mut Driver) -> T) -> Thrown<T> {
    DRIVERS.with(|drivers| match drivers.borrow_mut().get_mut(handle) {
        Some(stored) => Ok(f(&mut stored.driver)),
        None => core(Err(unknown("driver"))),
    })
}

/// `info()`: version, default User-Agent, body cap, operations, error classes, transport
/// failure names (JSON).
#[wasm_bindgen]
pub fn info() -> String {
    host::info()
}

/// `newConfigFromEnv(givenJson, envJson)`: a config from the caller's fields and a worker's
/// `IPROOV_*` bindings, by core's rules; its handle (the merged text stays in the instance).
#[wasm_bindgen(js_name = newConfigFromEnv)]
pub fn new_config_from_env(given_json: &str, env_json: &str) -> Thrown<u32> {
    let text = core(host::config_text_from_env(given_json, env_json))?;
    new_config(&text)
}

/// `newConfig(configJson)`: reads a vector-format config; gives its handle (an equal config
/// already held gives its handle, with one more holder).
#[wasm_bindgen(js_name = newConfig)]
pub fn new_config(config_json: &str) -> Thrown<u32> {
    let shared = CONFIGS.with(|configs| {
        configs
            .borrow_mut()
            .share(|c| c.text.expose() == config_json)
    });
    if let Some(handle) = shared {
        return Ok(handle);
    }
    let parsed = core(host::new_config(config_json))?;
    let stored = StoredConfig {
        parsed,
        text: Secret::new(config_json),
    };
    Ok(CONFIGS.with(|configs| configs.borrow_mut().insert(stored)))
}

/// `freeConfig(handle)`: one holder fewer; the last one drops the config.
#[wasm_bindgen(js_name = freeConfig)]
pub fn free_config(handle: u32) {
    CONFIGS.with(|configs| configs.borrow_mut().release(handle));
}

/// `configInfo(handle)`: the config's non-secret facts (JSON, `host::config_info`).
#[wasm_bindgen(js_name = configInfo)]
pub fn config_info(config: u32) -> Thrown<String> {
    with_config(config, |c| Ok(host::config_info(&c.parsed)))
}

/// `build(operation, config, inputJson)`: the request text (see `host::build_text`).
#[wasm_bindgen]
pub fn build(operation: &str, config: u32, input_json: &str) -> Thrown<String> {
    with_config(config, |c| {
        host::build_text(operation, &c.parsed, input_json)
    })
}

/// `redactRequest(operation, config, inputJson)`: the redacted view of the request (JSON).
#[wasm_bindgen(js_name = redactRequest)]
pub fn redact_request(operation: &str, config: u32, input_json: &str) -> Thrown<String> {
    with_config(config, |c| {
        host::redact_request(operation, &c.parsed, input_json)
    })
}

/// `parse(operation, config, status, headersJson, body)`: the canonical result (JSON).
#[wasm_bindgen]
pub fn parse(
    operation: &str,
    config: u32,
    status: u32,
    headers_json: &str,
    body: &[u8],
) -> Thrown<String> {
    with_config(config, |c| {
        host::parse(operation, &c.parsed, status, headers_json, body)
    })
}

/// `region(name)`: `{"id", "base_url", "streaming_url"}` (JSON).
#[wasm_bindgen]
pub fn region(name: &str) -> Thrown<String> {
    core(host::region(name))
}

/// `regions()`: every region (JSON array).
#[wasm_bindgen]
pub fn regions() -> String {
    host::regions()
}

/// `checkUserId(field, userId)`: throws `invalid_input` naming `field`.
#[wasm_bindgen(js_name = checkUserId)]
pub fn check_user_id(field: &str, user_id: &str) -> Thrown<()> {
    core(host::check_user_id(field, user_id))
}

/// `lintUserId(userId)`: personal-data warnings (JSON array).
#[wasm_bindgen(js_name = lintUserId)]
pub fn lint_user_id(user_id: &str) -> String {
    host::lint_user_id(user_id)
}

/// `randomUserId(bytes)`: a UUID v4 from 16 random bytes drawn by JS.
#[wasm_bindgen(js_name = randomUserId)]
pub fn random_user_id(random_bytes: &[u8]) -> Thrown<String> {
    core(host::random_user_id(random_bytes))
}

/// `pseudonymousUserId(hostSecret, internalKey)`: the HMAC-SHA-256 pseudonym.
#[wasm_bindgen(js_name = pseudonymousUserId)]
pub fn pseudonymous_user_id(host_secret: &str, internal_key: &str) -> Thrown<String> {
    core(host::pseudonymous_user_id(host_secret, internal_key))
}

/// `transportError(kind, cause)`: core's transport error JSON (returned, not thrown).
#[wasm_bindgen(js_name = transportError)]
pub fn transport_error(kind: &str, cause: &str) -> String {
    host::transport_error(kind, cause)
}

/// `flowNew(flow, optionsJson)`: the initial flow state (JSON).
#[wasm_bindgen(js_name = flowNew)]
pub fn flow_new(flow: &str, options_json: &str) -> Thrown<String> {
    core(host::flow_new(flow, options_json))
}

/// The config text of an optional handle (`""`: none).
fn config_text_of(config: Option<u32>) -> Result<Option<String>, Error> {
    match config {
        None => Ok(None),
        Some(handle) => CONFIGS.with(|configs| {
            configs
                .borrow_mut()
                .get_mut(handle)
                .map(|c| Some(c.text.expose().to_owned()))
                .ok_or_else(|| unknown("config"))
        }),
    }
}

fn json_arg(what: &str, text: &str) -> Result<Value, Error> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| Error::invalid_input(what, e))
}

/// `flowStep(flow, config, stateJson, stepJson)`: `{"state", "output"}` (JSON); `config` is a
/// config handle or `undefined`.
#[wasm_bindgen(js_name = flowStep)]
pub fn flow_step(
    flow: &str,
    config: Option<u32>,
    state_json: &str,
    step_json: &str,
) -> Thrown<String> {
    let text = core(config_text_of(config))?.map(Secret::new);
    let config_json = text.as_ref().map_or("", Secret::expose);
    core(host::flow_step(flow, config_json, state_json, step_json))
}

/// `newFlow(flow, optionsJson)`: a flow kept here between steps; gives its handle.
#[wasm_bindgen(js_name = newFlow)]
pub fn new_flow(flow: &str, options_json: &str) -> Thrown<u32> {
    let options = core(json_arg("options", options_json))?;
    let state = core(flows::new_state(flow, &options))?;
    let stored = StoredFlow {
        flow: flow.to_owned(),
        state,
    };
    Ok(FLOWS.with(|table| table.borrow_mut().insert(stored)))
}

/// `flowRun(flow, config, stepJson)`: one step of a kept flow; gives its output (JSON) and
/// keeps the new state (unchanged on an error).
#[wasm_bindgen(js_name = flowRun)]
pub fn flow_run(flow: u32, config: Option<u32>, step_json: &str) -> Thrown<String> {
    let text = core(config_text_of(config))?.map(Secret::new);
    let config = core(json_arg("config", text.as_ref().map_or("", Secret::expose)))?;
    let step = core(json_arg("step", step_json))?;
    FLOWS.with(|table| {
        let mut table = table.borrow_mut();
        let stored = table
            .get_mut(flow)
            .ok_or_else(|| thrown(&unknown("flow")))?;
        let out = core(flows::run_step(&stored.flow, &config, &stored.state, &step))?;
        stored.state = out.state;
        Ok(serde_json::to_string(&out.output).unwrap_or_default())
    })
}

/// `freeFlow(handle)`: drops a kept flow.
#[wasm_bindgen(js_name = freeFlow)]
pub fn free_flow(handle: u32) {
    FLOWS.with(|table| table.borrow_mut().release(handle));
}

/// Milliseconds and call ids cross as JS numbers; `as` saturates (NaN and negatives give 0).
fn whole(n: f64) -> u64 {
    n as u64
}

/// `driverNew(config, optionsJson, seed, share)`: a driver for a config; gives its handle.
/// With `share` (a runtime that cannot free entries when their holders are collected), a
/// driver already held for the same config and options is shared instead: its clients then
/// share one OAuth token too.
#[wasm_bindgen(js_name = driverNew)]
pub fn driver_new(config: u32, options_json: &str, seed: &[u8], share: bool) -> Thrown<u32> {
    let shared = share
        .then(|| {
            DRIVERS.with(|drivers| {
                drivers
                    .borrow_mut()
                    .share(|d| d.config == config && d.options == options_json)
            })
        })
        .flatten();
    if let Some(handle) = shared {
        return Ok(handle);
    }
    let driver = with_config(config, |c| host::driver_new(&c.parsed, options_json, seed))?;
    let stored = StoredDriver {
        config,
        options: options_json.to_owned(),
        driver,
    };
    Ok(DRIVERS.with(|drivers| drivers.borrow_mut().insert(stored)))
}

/// `freeDriver(handle)`: one holder fewer; the last one drops the driver.
#[wasm_bindgen(js_name = freeDriver)]
pub fn free_driver(handle: u32) {
    DRIVERS.with(|drivers| drivers.borrow_mut().release(handle));
}

/// `driverStart(driver, operation, inputJson, attempt, quiet, maxWaitMs, telemetry, now)`:
/// the new call's id; `quiet`: no audit hook or journey takes the call's records (core then
/// makes none); `maxWaitMs`: the longest wait before a retry, 0 for the policy's own;
/// `telemetry`: the host maps the call's telemetry events.
#[wasm_bindgen(js_name = driverStart)]
#[allow(clippy::too_many_arguments)] // one argument per fact of the call
pub fn driver_start(
    driver: u32,
    operation: &str,
    input_json: &str,
    attempt: u32,
    quiet: bool,
    max_wait_ms: f64,
    telemetry: bool,
    now: f64,
) -> Thrown<f64> {
    with_driver(driver, |d| {
        host::driver_start(
            d,
            operation,
            input_json,
            attempt,
            quiet,
            whole(max_wait_ms),
            if telemetry { "debug" } else { "" }, // every event: the logger filters
            whole(now),
        )
    })
    .and_then(|started| core(started).map(|id| id as f64))
}

/// `driverPoll(driver, id, now)`: the poll text (`host::driver_poll`).
#[wasm_bindgen(js_name = driverPoll)]
pub fn driver_poll(driver: u32, id: f64, now: f64) -> Thrown<String> {
    with_driver(driver, |d| host::driver_poll(d, whole(id), whole(now)))
}

/// `driverResponse(driver, id, status, headersJson, body, now)`: the answer to a send.
#[wasm_bindgen(js_name = driverResponse)]
pub fn driver_response(
    driver: u32,
    id: f64,
    status: u32,
    headers_json: &str,
    body: &[u8],
    now: f64,
) -> Thrown<()> {
    with_driver(driver, |d| {
        host::driver_response(d, whole(id), status, headers_json, body, whole(now));
    })
}

/// `driverFailure(driver, id, failure, cause, now)`: a send failed (a transport table name).
#[wasm_bindgen(js_name = driverFailure)]
pub fn driver_failure(driver: u32, id: f64, failure: &str, cause: &str, now: f64) -> Thrown<()> {
    with_driver(driver, |d| {
        host::driver_failure(d, whole(id), failure, cause, whole(now));
    })
}

/// `driverCancel(driver, id)`: drops a call the host gave up on.
#[wasm_bindgen(js_name = driverCancel)]
pub fn driver_cancel(driver: u32, id: f64) -> Thrown<()> {
    with_driver(driver, |d| d.cancel(whole(id)))
}

/// `serviceSetup(policyJson, optionsJson)`: the journey service's checked policy, with what
/// core derives from the client's driver options (`host::service_setup`).
#[wasm_bindgen(js_name = serviceSetup)]
pub fn service_setup(policy_json: &str, options_json: &str) -> Thrown<String> {
    core(host::service_setup(policy_json, options_json))
}

/// `serviceView(recordJson)`: a journey record as a history shows it (no token).
#[wasm_bindgen(js_name = serviceView)]
pub fn service_view(record_json: &str) -> Thrown<String> {
    core(host::service_view(record_json))
}

/// `storeSchema(dialect)`: the store's statements for `sqlite` or `postgres` (JSON).
#[wasm_bindgen(js_name = storeSchema)]
pub fn store_schema(dialect: &str) -> Thrown<String> {
    core(host::store_schema(dialect))
}

/// `spoolDue(text, now)`: what to replay, keep and drop of a spool's text (JSON).
#[wasm_bindgen(js_name = spoolDue)]
pub fn spool_due(text: &str, now: f64) -> String {
    host::spool_due(text, whole(now))
}

/// `spoolTombstone(id, now)`: the tombstone line of spool entry `id`.
#[wasm_bindgen(js_name = spoolTombstone)]
pub fn spool_tombstone(id: &str, now: f64) -> String {
    host::spool_tombstone(id, whole(now))
}

/// `storeError(storeOperation)`: core's `store_unavailable` error JSON for a store method that
/// threw outside a pump (returned, not thrown; the JS layer chains the store's error).
#[wasm_bindgen(js_name = storeError)]
pub fn store_error(store_operation: &str) -> String {
    host::store_error(store_operation)
}

/// `pumpNew(config, setupJson, requestJson, newId, now)`: a pump for one request; its handle
/// (give it back with `freePump`).
#[wasm_bindgen(js_name = pumpNew)]
pub fn pump_new(
    config: u32,
    setup_json: &str,
    request_json: &str,
    new_id: &str,
    now: f64,
) -> Thrown<u32> {
    let pump = with_config(config, |c| {
        host::pump_new(&c.parsed, setup_json, request_json, new_id, whole(now))
    })?;
    Ok(PUMPS.with(|pumps| pumps.borrow_mut().insert(pump)))
}

/// `pumpNext(pump, eventJson, now)`: the next action (JSON) after the event (`""` first).
#[wasm_bindgen(js_name = pumpNext)]
pub fn pump_next(pump: u32, event_json: &str, now: f64) -> Thrown<String> {
    PUMPS.with(|pumps| match pumps.borrow_mut().get_mut(pump) {
        Some(p) => Ok(host::pump_next(p, event_json, whole(now))),
        None => core(Err(unknown("pump"))),
    })
}

/// `freePump(handle)`: drops a pump (its tokens with it).
#[wasm_bindgen(js_name = freePump)]
pub fn free_pump(handle: u32) {
    PUMPS.with(|pumps| pumps.borrow_mut().release(handle));
}

/// `webDecide(what, factsJson)`: a decision of the browser-facing endpoints
/// (`host::web_decide`), as JSON.
#[wasm_bindgen(js_name = webDecide)]
pub fn web_decide(what: &str, facts_json: &str) -> Thrown<String> {
    core(host::web_decide(what, facts_json))
}

/// A deliberate trap, for the test that proves the package survives one (a panic cannot
/// happen in core by construction, so nothing else can provoke it). Never call it otherwise.
#[wasm_bindgen(js_name = __trapForTests)]
pub fn trap_for_tests() {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
}
