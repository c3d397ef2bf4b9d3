//! `Request`: what to send (method, URL, headers, body bytes). Its `repr` is core's redacted
//! view, so printing or logging a request never shows a credential.

use crate::convert::to_py;
use iproov_core::Request;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use serde_json::Value;

/// A request to send exactly as described. Immutable.
#[pyclass(frozen, name = "Request", module = "iproov_sansio._core")]
pub struct PyRequest {
    method: String,
    url: String,
    headers: Py<PyTuple>,
    body: Py<PyBytes>,
    /// Where the redacted view comes from: always core.
    view: View,
}

/// Core's redacted view of a request: made on demand by core's request, which knows its
/// secrets, or made by core beside a flow's wire request (the flow output's `redacted`).
enum View {
    Core(Request),
    Given(Value),
}

impl std::fmt::Debug for PyRequest {
    /// Method and URL only; `repr()` gives the redacted headers and body.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn header_tuple<'py>(
    py: Python<'py>,
    headers: &[(String, String)],
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

impl PyRequest {
    /// Wraps a request core built.
    pub fn from_core(py: Python<'_>, request: Request) -> PyResult<Self> {
        Ok(Self {
            method: request.method.as_str().to_owned(),
            url: request.url.clone(),
            headers: header_tuple(py, &request.headers)?.unbind(),
            body: PyBytes::new(py, &request.body).unbind(),
            view: View::Core(request),
        })
    }

    /// Wraps a wire request from the flow driver's JSON (`{"method", "url", "headers": {..},
    /// "body" | "body_base64"}`); `body` is already decoded by the caller; `redacted` is the
    /// view core gave beside it (the step output's `redacted`).
    pub fn from_parts(
        py: Python<'_>,
        method: String,
        url: String,
        headers: &[(String, String)],
        body: &[u8],
        redacted: Value,
    ) -> PyResult<Self> {
        Ok(Self {
            method,
            url,
            headers: header_tuple(py, headers)?.unbind(),
            body: PyBytes::new(py, body).unbind(),
            view: View::Given(redacted),
        })
    }

    fn redacted_value(&self) -> Value {
        match &self.view {
            View::Core(request) => serde_json::to_value(request.redacted()).unwrap_or(Value::Null),
            View::Given(view) => view.clone(),
        }
    }
}

#[pymethods]
impl PyRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    #[getter]
    fn method(&self) -> &str {
        &self.method
    }

    /// The full URL, query included.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Header `(name, value)` pairs in the order to send them.
    #[getter]
    fn headers(&self, py: Python<'_>) -> Py<PyTuple> {
        self.headers.clone_ref(py)
    }

    /// The body bytes (empty for GET and DELETE).
    #[getter]
    fn body(&self, py: Python<'_>) -> Py<PyBytes> {
        self.body.clone_ref(py)
    }

    /// The headers as a dict (names as given; no name repeats in a request core builds).
    fn headers_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for pair in self.headers.bind(py).iter() {
            dict.set_item(pair.get_item(0)?, pair.get_item(1)?)?;
        }
        Ok(dict)
    }

    /// A dict safe to print or log: `Authorization` and every secret replaced by
    /// `[REDACTED]`, a binary body summarised by its size.
    fn redacted<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.redacted_value())
    }

    fn __repr__(&self) -> String {
        let view = self.redacted_value();
        let headers: Vec<String> = view
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|pair| match pair {
                Value::Array(kv) => format!(
                    "({}, {})",
                    kv.first().unwrap_or(&Value::Null),
                    kv.get(1).unwrap_or(&Value::Null)
                ),
                other => other.to_string(),
            })
            .collect();
        let body = match view.get("body") {
            Some(body) => format!(", body={body}"),
            None => String::new(),
        };
        format!(
            "Request(method={:?}, url={:?}, headers=[{}]{body})",
            self.method,
            view.get("url").and_then(Value::as_str).unwrap_or_default(),
            headers.join(", ")
        )
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(other) = other.cast::<PyRequest>() else {
            return Ok(false);
        };
        let other = other.get();
        Ok(self.method == other.method
            && self.url == other.url
            && self.headers.bind(py).eq(other.headers.bind(py))?
            && self.body.bind(py).as_bytes() == other.body.bind(py).as_bytes())
    }
}
