//! The journey service as `core::host` gives it to every binding: text in, text out (JSON),
//! so that Python's service loop speaks exactly what napi's and wasm's do.

use crate::config::PyConfig;
use crate::errors::OrRaise;
use iproov_core::host;
use iproov_core::service::Pump;
use pyo3::prelude::*;
use std::sync::Mutex;

/// `service_setup(policy_json, options_json)`: the checked policy with what core derives from
/// the client's driver options (JSON text). Raises `InvalidInputError` naming the field.
#[pyfunction]
pub fn service_setup(py: Python<'_>, policy_json: &str, options_json: &str) -> PyResult<String> {
    host::service_setup(policy_json, options_json).or_raise(py)
}

/// `service_view(record_json)`: a journey record as a history shows it (no token).
#[pyfunction]
pub fn service_view(py: Python<'_>, record_json: &str) -> PyResult<String> {
    host::service_view(record_json).or_raise(py)
}

/// `store_schema(dialect)`: the store's statements for `sqlite` or `postgres` (JSON text).
#[pyfunction]
pub fn store_schema(py: Python<'_>, dialect: &str) -> PyResult<String> {
    host::store_schema(dialect).or_raise(py)
}

/// `spool_due(text, now)`: what to replay, keep and drop of a spool's text (JSON text).
#[pyfunction]
pub fn spool_due(text: &str, now: u64) -> String {
    host::spool_due(text, now)
}

/// `spool_tombstone(id, now)`: the tombstone line of spool entry `id`.
#[pyfunction]
pub fn spool_tombstone(id: &str, now: u64) -> String {
    host::spool_tombstone(id, now)
}

/// One request's journey pump (`iproov_core::service::Pump`): `JourneyPump(config,
/// setup_json, request_json, new_id, now)`, then `next(event_json, now)` gives each action as
/// JSON text. Its tokens never leave it but through those actions; its repr shows none.
#[pyclass(name = "JourneyPump", module = "iproov_sansio._core", frozen)]
#[derive(Debug)]
pub struct PyPump {
    inner: Mutex<Pump>,
}

#[pymethods]
impl PyPump {
    #[new]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyConfig>,
        setup_json: &str,
        request_json: &str,
        new_id: &str,
        now: u64,
    ) -> PyResult<Self> {
        let pump = host::pump_new(&config.get().json, setup_json, request_json, new_id, now)
            .or_raise(py)?;
        Ok(Self {
            inner: Mutex::new(pump),
        })
    }

    /// The next action (JSON text) after `event_json` (`""` for the first call).
    fn next(&self, event_json: &str, now: u64) -> String {
        let mut pump = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        host::pump_next(&mut pump, event_json, now)
    }

    fn __repr__(&self) -> &'static str {
        "JourneyPump(<request not shown>)"
    }
}
