//! `Request`: a request to send, as a native class so that making one per build or send costs
//! no Python frame. What it shows (its redacted view and `repr`) is made by `_host`'s
//! `_request_redacted` and `_request_repr` from core's redacted view; this holds the parts.

use crate::python_half;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

static REDACTED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static REPR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A request to send exactly as described (method, URL, headers, body bytes). Immutable.
/// Its ``repr`` is core's redacted view, so printing or logging it never shows a credential.
#[pyclass(frozen, module = "iproov_sansio", name = "Request")]
pub struct Request {
    /// ``GET``, ``POST``, ``PUT`` or ``DELETE``.
    #[pyo3(get)]
    method: Py<PyString>,
    /// The full URL, query included.
    #[pyo3(get)]
    url: Py<PyString>,
    /// Header ``(name, value)`` pairs in the order to send them.
    #[pyo3(get)]
    headers: Py<PyTuple>,
    /// The body bytes (empty for GET and DELETE).
    #[pyo3(get)]
    body: Py<PyBytes>,
    /// Core's redacted view (a dict), or the config handle core makes it with.
    #[pyo3(get, name = "_view")]
    view: Py<PyAny>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The parts hold credentials: nothing of them here.
        f.debug_struct("Request").finish_non_exhaustive()
    }
}

#[pymethods]
impl Request {
    #[new]
    pub(crate) fn new(
        method: Bound<'_, PyString>,
        url: Bound<'_, PyString>,
        headers: Bound<'_, PyTuple>,
        body: Bound<'_, PyBytes>,
        view: Bound<'_, PyAny>,
    ) -> Self {
        Self {
            method: method.unbind(),
            url: url.unbind(),
            headers: headers.unbind(),
            body: body.unbind(),
            view: view.unbind(),
        }
    }

    /// The headers as a dict (names as given; no name repeats in a request core builds).
    fn headers_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for pair in self.headers.bind(py).iter() {
            dict.set_item(pair.get_item(0)?, pair.get_item(1)?)?;
        }
        Ok(dict)
    }

    /// A dict safe to print or log: ``Authorization`` and every secret replaced by
    /// ``[REDACTED]``, a binary body summarised by its size.
    fn redacted<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        python_half(slf.py(), &REDACTED, "_request_redacted")?.call1((slf,))
    }

    fn __repr__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        python_half(slf.py(), &REPR, "_request_repr")?.call1((slf,))
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(other) = other.cast::<Self>() else {
            return Ok(false);
        };
        let other = other.get();
        let same = |a: &Py<PyAny>, b: &Py<PyAny>| PyAnyMethods::eq(a.bind(py), b.bind(py));
        Ok(same(self.method.as_any(), other.method.as_any())?
            && same(self.url.as_any(), other.url.as_any())?
            && same(self.headers.as_any(), other.headers.as_any())?
            && same(self.body.as_any(), other.body.as_any())?)
    }
}
