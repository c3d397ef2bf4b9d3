//! `Driver`: core's call driver (`iproov_core::driver`) for the Python clients. It converts
//! and nothing else: every decision (retries, tokens, deadlines, errors, audit records,
//! redaction) is the driver's. One `Driver` serves every thread and task of a client; its
//! methods lock it for the microseconds they take and never wait on IO.

use crate::config::PyConfig;
use crate::convert::{headers, integer, to_py, to_value, with_bytes};
use crate::errors::{OrRaise, exception};
use crate::request::PyRequest;
use iproov_core::driver::{Action, CallContext, Driver, DriverOptions, TransportFailure};
use iproov_core::flows::AuditContext;
use iproov_core::ops::enrol_image::{EnrolImageInput, ImageSource, build_enrol_image};
use iproov_core::{Error, ErrorKind, Operation, Response};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use std::sync::{Mutex, MutexGuard};

/// One client's call driver.
#[pyclass(frozen, name = "Driver", module = "iproov_sansio._core")]
pub struct PyDriver {
    inner: Mutex<Driver>,
}

impl std::fmt::Debug for PyDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

impl PyDriver {
    fn lock(&self) -> MutexGuard<'_, Driver> {
        // A panic never happens in core; if one did, the driver's state is still whole.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn operation(py: Python<'_>, name: &str) -> PyResult<Operation> {
    Operation::parse(name).or_raise(py)
}

#[pymethods]
impl PyDriver {
    /// A driver for `config`. `options` is core's `DriverOptions` as a dict (`retry`,
    /// `token`, `timeout_ms`, `audit_frames`); `seed` is an int of 64 random bits. Raises
    /// `InvalidInputError` when the options cannot work (e.g. `timeout_ms` 0).
    #[new]
    #[pyo3(signature = (config, options=None, seed=0))]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyConfig>,
        options: Option<&Bound<'_, PyAny>>,
        seed: u64,
    ) -> PyResult<Self> {
        let options = match options.filter(|o| !o.is_none()) {
            Some(o) => {
                let text = serde_json::to_vec(&to_value(o, "options")?).unwrap_or_default();
                DriverOptions::from_json_text(&text).or_raise(py)?
            }
            None => DriverOptions::default(),
        };
        let driver = Driver::new(config.get().json.config.clone(), options, seed).or_raise(py)?;
        Ok(Self {
            inner: Mutex::new(driver),
        })
    }

    /// Starts a call of `operation` with `input` (a dict in the vector format); `attempt` is
    /// the journey attempt for its audit records; `quiet`: no audit hook or journey takes the
    /// call's records (core then makes none); `max_wait_ms`: the longest wait before a retry
    /// (core's `CallContext::max_wait_ms`). Returns the call id. A bad input fails the call
    /// at its first poll.
    #[pyo3(signature = (operation, input, attempt=None, now=0, quiet=false, max_wait_ms=None, telemetry=false))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        py: Python<'_>,
        operation: &str,
        input: &Bound<'_, PyAny>,
        attempt: Option<u32>,
        now: u64,
        quiet: bool,
        max_wait_ms: Option<u64>,
        telemetry: bool,
    ) -> PyResult<u64> {
        let op = self::operation(py, operation)?;
        let text = serde_json::to_vec(&to_value(input, "input")?).unwrap_or_default();
        let context = CallContext {
            attempt,
            quiet,
            max_wait_ms,
            telemetry,
        };
        Ok(self.lock().start(op, &text, context, now))
    }

    /// Starts a photo enrol with the image as bytes (no base64 round trip); `telemetry` as
    /// for `start`.
    #[pyo3(signature = (token, source, image, rotation=None, attempt=None, now=0, telemetry=false))]
    // Python's keyword arguments, one per parameter: a struct would only move them.
    #[allow(clippy::too_many_arguments)]
    fn start_enrol_image(
        &self,
        token: String,
        source: &str,
        image: &Bound<'_, PyAny>,
        rotation: Option<i64>,
        attempt: Option<u32>,
        now: u64,
        telemetry: bool,
    ) -> PyResult<u64> {
        let image = with_bytes(image, "image", |bytes| Ok(bytes.to_vec()))?;
        let built = ImageSource::parse(source).and_then(|source| {
            let input = EnrolImageInput {
                token: token.clone(),
                source,
                rotation,
                image,
            };
            build_enrol_image(self.lock().config(), &input)
        });
        let context = AuditContext {
            token: Some(token),
            attempt,
            ..AuditContext::default()
        };
        Ok(self
            .lock()
            .start_built(Operation::EnrolImage, built, context, telemetry, now))
    }

    /// What to do next for call `id`: `(kind, value, audit, wake, events)` where `kind` is `"send"`
    /// (`value` = `(Request, timeout_ms)`: the send's whole time in ms, counted from its start;
    /// core's `driver` docs, "Deadlines"), `"sleep"` / `"wait"` (`value` = Unix ms to poll
    /// again by), `"done"` (`value` = the result dict) or `"failed"` (`value` = the exception
    /// to raise, its class core's); `audit` is a list of record dicts (or `None`); `wake`
    /// says to wake the calls waiting for a token; `events` the call's telemetry events
    /// (core's `telemetry`, for a call started with `telemetry=True`) or `None`.
    fn poll<'py>(&self, py: Python<'py>, id: u64, now: u64) -> PyResult<Bound<'py, PyTuple>> {
        let poll = self.lock().poll(id, now);
        let list = |items: &[serde_json::Value]| -> PyResult<Bound<'py, PyAny>> {
            if items.is_empty() {
                return Ok(py.None().into_bound(py));
            }
            let converted: PyResult<Vec<Bound<'py, PyAny>>> =
                items.iter().map(|r| to_py(py, r)).collect();
            Ok(PyList::new(py, converted?)?.into_any())
        };
        let audit = list(&poll.audit)?;
        let events = list(&poll.events)?;
        let (kind, value): (&str, Bound<'py, PyAny>) = match poll.action {
            Action::Send {
                request,
                timeout_ms,
            } => {
                let request = Bound::new(py, PyRequest::from_core(py, request)?)?;
                let pair = PyTuple::new(
                    py,
                    [request.into_any(), timeout_ms.into_pyobject(py)?.into_any()],
                )?;
                ("send", pair.into_any())
            }
            Action::SleepUntil { at_ms } => ("sleep", at_ms.into_pyobject(py)?.into_any()),
            Action::WaitForToken { until_ms } => ("wait", until_ms.into_pyobject(py)?.into_any()),
            Action::Done { result } => ("done", to_py(py, &result)?),
            Action::Failed { error } => ("failed", exception(py, &error)?),
            _ => (
                "failed",
                exception(
                    py,
                    &Error::invalid_state("the driver gave an unknown action"),
                )?,
            ),
        };
        PyTuple::new(
            py,
            [
                kind.into_pyobject(py)?.into_any(),
                value,
                audit,
                poll.wake.into_pyobject(py)?.to_owned().into_any(),
                events,
            ],
        )
    }

    /// Reports the answer to call `id`'s send: status, headers (any mapping or pairs) and the
    /// body bytes as read (at most core's cap + 1).
    fn on_response(
        &self,
        id: u64,
        status: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now: u64,
    ) -> PyResult<()> {
        let status: u16 = integer(status, "status")?;
        let headers = self::headers(Some(headers))?;
        with_bytes(body, "body", |body| {
            self.lock()
                .on_response(id, &Response::new(status, &headers, body), now);
            Ok(())
        })
    }

    /// Reports that call `id`'s send failed: `failure` is a name of core's transport table
    /// (`dns`, `connection_refused`, `connect_timeout`, `tls`, `not_written`,
    /// `after_written`, `timeout`, `aborted_before_sending`, `aborted`, `unknown`), `cause`
    /// the exception's text (redacted by core).
    fn on_failure(&self, id: u64, failure: &str, cause: &str, now: u64) {
        self.lock()
            .on_failure(id, TransportFailure::parse(failure), cause, now);
    }

    /// The shared OAuth access token's status at `now` (Unix ms), without the token.
    fn token_status<'py>(&self, py: Python<'py>, now: u64) -> PyResult<Bound<'py, PyAny>> {
        let status = self.lock().token_status(now);
        to_py(py, &serde_json::to_value(status).unwrap_or_default())
    }

    /// Drops call `id` (the caller gave up on it without an answer to report).
    fn cancel(&self, id: u64) {
        self.lock().cancel(id);
    }
}

/// `[(kind, class, parent), ...]`: core's error families and the class each raises.
#[pyfunction]
pub fn error_classes() -> Vec<(&'static str, &'static str, &'static str)> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.class_name(), k.parent_class_name()))
        .collect()
}

/// Core's transport-failure names, in its table's order.
#[pyfunction]
pub fn transport_failures() -> Vec<&'static str> {
    TransportFailure::ALL.iter().map(|f| f.name()).collect()
}

/// A decision of the browser-facing endpoints (`iproov_core::web::decide`): `what` names it,
/// `facts` is its dict (or `None`); returns the decision's dict. Raises `InvalidInputError`
/// for an unknown `what`.
#[pyfunction]
#[pyo3(signature = (what, facts=None))]
pub fn web_decide<'py>(
    py: Python<'py>,
    what: &str,
    facts: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let facts = match facts {
        Some(facts) => to_value(facts, "facts")?,
        None => serde_json::Value::Null,
    };
    to_py(py, &iproov_core::web::decide(what, &facts).or_raise(py)?)
}
