//! The native half of the `iproov-sansio-edge` package: wasm-bindgen glue over `iproov-core`.
//!
//! This crate only converts: every export calls one function of [`iproov_core::host`], the
//! string-and-bytes interface the Node package wraps too (`bindings-node/js/NATIVE.md`), so
//! the shared JavaScript layer runs unchanged on either backend.
//!
//! Failures of core are thrown as a JS `Error` whose `code` is `"IPROOV_CORE"` and whose
//! `message` is core's canonical error JSON. Core cannot panic by construction (its lints
//! deny unwrap, expect, panic and indexing); the build uses `panic = "abort"`, so a panic
//! would trap the instance, which the JS layer then re-instantiates.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iproov_core::Error;
use iproov_core::host;
use iproov_core::operation::JsonConfig;
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

/// Configurations read by core, by handle. Plain integer handles (not wasm-bindgen structs)
/// because the JS side re-instantiates the module after a trap: a stale integer is simply
/// unknown to the new instance, where a stale struct pointer (and its finalizer) would reach
/// into the new instance's memory. A list, not a map: the JS side keeps at most 64 alive, and a
/// `Vec` adds far less code to the module than a `BTreeMap`.
#[derive(Default)]
struct Configs {
    next: u32,
    by_handle: Vec<(u32, JsonConfig)>,
}

impl Configs {
    fn get(&self, handle: u32) -> Option<&JsonConfig> {
        self.by_handle
            .iter()
            .find(|(h, _)| *h == handle)
            .map(|(_, config)| config)
    }
}

thread_local! {
    static CONFIGS: RefCell<Configs> = RefCell::new(Configs::default());
}

fn with_config<T>(handle: u32, f: impl FnOnce(&JsonConfig) -> Result<T, Error>) -> Thrown<T> {
    CONFIGS.with(|configs| match configs.borrow().get(handle) {
        Some(config) => core(f(config)),
        None => core(Err(Error::invalid_state(
            "this config handle belongs to an earlier wasm instance; create the config again",
        ))),
    })
}

/// `info()`: version, default User-Agent, body cap, operation names (JSON).
#[wasm_bindgen]
pub fn info() -> String {
    host::info()
}

/// `newConfig(configJson)`: reads a vector-format config; gives its handle.
#[wasm_bindgen(js_name = newConfig)]
pub fn new_config(config_json: &str) -> Thrown<u32> {
    let parsed = core(host::new_config(config_json))?;
    Ok(CONFIGS.with(|configs| {
        let mut configs = configs.borrow_mut();
        let handle = configs.next;
        configs.next = configs.next.wrapping_add(1);
        configs.by_handle.push((handle, parsed));
        handle
    }))
}

/// `freeConfig(handle)`: forgets a config (its secrets are zeroed on drop).
#[wasm_bindgen(js_name = freeConfig)]
pub fn free_config(handle: u32) {
    CONFIGS.with(|configs| configs.borrow_mut().by_handle.retain(|(h, _)| *h != handle));
}

/// `configInfo(handle)`: the config's non-secret facts (JSON).
#[wasm_bindgen(js_name = configInfo)]
pub fn config_info(config: u32) -> Thrown<String> {
    with_config(config, |c| Ok(host::config_info(c)))
}

/// `build(operation, config, inputJson)`: the request text (see `host::build_text`).
#[wasm_bindgen]
pub fn build(operation: &str, config: u32, input_json: &str) -> Thrown<String> {
    with_config(config, |c| host::build_text(operation, c, input_json))
}

/// `redactRequest(operation, config, inputJson)`: the redacted view of the request (JSON).
#[wasm_bindgen(js_name = redactRequest)]
pub fn redact_request(operation: &str, config: u32, input_json: &str) -> Thrown<String> {
    with_config(config, |c| host::redact_request(operation, c, input_json))
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
        host::parse(operation, c, status, headers_json, body)
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

/// `flowStep(flow, configJson, stateJson, stepJson)`: `{"state", "output"}` (JSON).
#[wasm_bindgen(js_name = flowStep)]
pub fn flow_step(
    flow: &str,
    config_json: &str,
    state_json: &str,
    step_json: &str,
) -> Thrown<String> {
    core(host::flow_step(flow, config_json, state_json, step_json))
}

/// A deliberate trap, for the test that proves the package survives one (a panic cannot
/// happen in core by construction, so nothing else can provoke it). Never call it otherwise.
#[wasm_bindgen(js_name = __trapForTests)]
pub fn trap_for_tests() {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
}
