//! Core's flows (token manager, retry advisor, journey, audit) over their JSON driver
//! (`iproov_core::flows::json`): the dynamic pair used by the flow vectors, and `Flow`, which
//! keeps a flow's state in Rust between steps (so the token manager's access token never sits
//! in a Python dict) and hands the requests it produces over as `Request` objects.

use crate::config::PyConfig;
use crate::convert::{headers, integer};
use crate::convert::{text, to_py, to_value};
use crate::errors::{OrRaise, raise};
use crate::ops::operation_arg;
use crate::request::PyRequest;
use base64::Engine;
use iproov_core::flows::json::{new_state, run_step};
use iproov_core::flows::{Observed, RetryPolicy};
use iproov_core::{Error, Response};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value;

/// A config argument for a step: a `Config` (its vector-format object), a dict, or `None`.
fn step_config(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match obj {
        None => Ok(Value::Null),
        Some(o) if o.is_none() => Ok(Value::Null),
        Some(o) => match o.cast::<PyConfig>() {
            Ok(native) => Ok(native.get().raw.clone()),
            Err(_) => to_value(o, "config"),
        },
    }
}

/// The initial state of `flow` (`token_manager`, `retry`, `journey`, `audit`) from its options.
#[pyfunction]
#[pyo3(signature = (flow, options=None))]
pub fn flow_new_state<'py>(
    py: Python<'py>,
    flow: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = match options {
        Some(o) => to_value(o, "options")?,
        None => Value::Null,
    };
    let state = new_state(&text(flow, "flow")?, &options).or_raise(py)?;
    to_py(py, &state)
}

/// Applies one step (`{"action", "now"?, "input"?, "response"?}`) to `state`; returns
/// `(new_state, output)` as plain dicts, exactly as the flow vectors write them.
#[pyfunction]
#[pyo3(signature = (flow, config, state, step))]
pub fn flow_run_step<'py>(
    py: Python<'py>,
    flow: &Bound<'py, PyAny>,
    config: Option<&Bound<'py, PyAny>>,
    state: &Bound<'py, PyAny>,
    step: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let config = step_config(config)?;
    let state = to_value(state, "state")?;
    let step = to_value(step, "step")?;
    let out = run_step(&text(flow, "flow")?, &config, &state, &step).or_raise(py)?;
    PyTuple::new(py, [to_py(py, &out.state)?, to_py(py, &out.output)?])
}

/// A flow's state, kept in Rust and advanced one step at a time.
#[pyclass(name = "Flow", module = "iproov_sansio._core")]
pub struct PyFlow {
    flow: String,
    state: Value,
}

impl std::fmt::Debug for PyFlow {
    /// The state may hold an access token: only the kind is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

/// Turns a wire request of the flow driver into a `Request` whose redacted view is `redacted`,
/// the one core gave beside it.
fn wire_request<'py>(
    py: Python<'py>,
    value: &Value,
    redacted: Option<&Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let bad = || {
        raise(
            py,
            &Error::invalid_input("request", "the flow gave no usable request"),
        )
    };
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    let url = value.get("url").and_then(Value::as_str).ok_or_else(bad)?;
    let headers: Vec<(String, String)> = value
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let body = match (value.get("body"), value.get("body_base64")) {
        (Some(Value::String(text)), _) => text.as_bytes().to_vec(),
        (_, Some(Value::String(b64))) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad())?,
        _ => Vec::new(),
    };
    let redacted = redacted.filter(|v| v.is_object()).ok_or_else(bad)?.clone();
    let request = PyRequest::from_parts(
        py,
        method.to_owned(),
        url.to_owned(),
        &headers,
        &body,
        redacted,
    )?;
    Ok(Bound::new(py, request)?.into_any())
}

/// The step output as Python objects, with `request` and `token_request` as `Request`s (each
/// shown as core's `redacted` view of it).
fn output_to_py<'py>(py: Python<'py>, output: &Value) -> PyResult<Bound<'py, PyAny>> {
    let Value::Object(map) = output else {
        return to_py(py, output);
    };
    let dict = PyDict::new(py);
    for (key, value) in map {
        if matches!(key.as_str(), "request" | "token_request") && value.is_object() {
            dict.set_item(key, wire_request(py, value, map.get("redacted"))?)?;
        } else {
            dict.set_item(key, to_py(py, value)?)?;
        }
    }
    Ok(dict.into_any())
}

#[pymethods]
impl PyFlow {
    /// A new flow (`token_manager`, `retry`, `journey`, `audit`) with its options.
    #[new]
    #[pyo3(signature = (flow, options=None))]
    fn new(
        py: Python<'_>,
        flow: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let flow = text(flow, "flow")?;
        let options = match options {
            Some(o) => to_value(o, "options")?,
            None => Value::Null,
        };
        let state = new_state(&flow, &options).or_raise(py)?;
        Ok(Self { flow, state })
    }

    /// A flow resumed from a state saved earlier (checked by the next step).
    #[staticmethod]
    fn resume(flow: &Bound<'_, PyAny>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            flow: text(flow, "flow")?,
            state: to_value(state, "state")?,
        })
    }

    /// Applies one step; on success the state advances and the output is returned (requests
    /// as `Request` objects). On error the state is unchanged and the typed error is raised.
    #[pyo3(signature = (step, config=None))]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        step: &Bound<'py, PyAny>,
        config: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let config = step_config(config)?;
        let step = to_value(step, "step")?;
        let out = run_step(&self.flow, &config, &self.state, &step).or_raise(py)?;
        self.state = out.state;
        output_to_py(py, &out.output)
    }

    /// The flow's kind.
    #[getter]
    fn flow(&self) -> &str {
        &self.flow
    }

    /// The state as a dict, to store and resume later. A token manager's state holds the
    /// access token in clear: export it with its `export` action instead.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.state)
    }

    fn __repr__(&self) -> String {
        format!("Flow({:?})", self.flow)
    }
}

/// Core's retry advisor, typed: the same rules as the flow driver's `retry` flow, without the
/// JSON round trip of a step (the clients ask it after every response).
#[pyclass(frozen, name = "RetryAdvisor", module = "iproov_sansio._core")]
#[derive(Debug)]
pub struct PyRetryAdvisor {
    policy: RetryPolicy,
}

#[pymethods]
impl PyRetryAdvisor {
    /// An advisor with the `retry` flow's options (`max_retries`, `base_delay_ms`,
    /// `max_delay_ms`, `max_retry_after_ms`).
    #[new]
    #[pyo3(signature = (options=None))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let options = match options {
            Some(o) => to_value(o, "options")?,
            None => Value::Null,
        };
        let state = new_state("retry", &options).or_raise(py)?;
        let policy = serde_json::from_value(state)
            .map_err(|e| raise(py, &Error::invalid_input("options", e)))?;
        Ok(Self { policy })
    }

    /// The advice (`{"action": "retry_at" | "give_up" | "outcome_unknown", ...}`) after
    /// attempt `attempt` of `operation` ended with a response (`status`, `headers`, `body`:
    /// an iProov error code no retry can fix vetoes a retry) or a transport `failure`
    /// (`failed_before_sending` | `may_have_reached_server`).
    #[pyo3(signature = (operation, attempt, now, jitter, status=None, headers=None, failure=None, body=None))]
    #[allow(clippy::too_many_arguments)] // the advisor's inputs, one argument each
    fn advise<'py>(
        &self,
        py: Python<'py>,
        operation: &Bound<'py, PyAny>,
        attempt: &Bound<'py, PyAny>,
        now: &Bound<'py, PyAny>,
        jitter: f64,
        status: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
        failure: Option<&Bound<'py, PyAny>>,
        body: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let op = operation_arg(operation)?;
        let body = match body {
            Some(b) => crate::convert::with_bytes(b, "body", |bytes| Ok(bytes.to_vec()))?,
            None => Vec::new(),
        };
        let attempt: u32 = integer(attempt, "attempt")?;
        let now: u64 = integer(now, "now")?;
        let failure = crate::convert::opt_text(failure, "failure")?;
        let status = match status.filter(|s| !s.is_none()) {
            Some(s) => Some(integer::<u16>(s, "status")?),
            None => None,
        };
        let headers = self::headers(headers)?;
        let observed = match (failure.as_deref(), status) {
            (Some("failed_before_sending"), None) => Observed::FailedBeforeSending,
            (Some("may_have_reached_server"), None) => Observed::MayHaveReachedServer,
            (None, Some(status)) => Observed::Response(Response::new(status, &headers, &body)),
            _ => {
                return Err(raise(
                    py,
                    &Error::invalid_input(
                        "failure",
                        "give either a response or failure: failed_before_sending | may_have_reached_server",
                    ),
                ));
            }
        };
        let advice = self
            .policy
            .advise(op, attempt, observed, now, jitter)
            .or_raise(py)?;
        to_py(py, &advice.to_json())
    }

    /// The policy's limits.
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(
            py,
            &serde_json::to_value(&self.policy).unwrap_or(Value::Null),
        )
    }
}
