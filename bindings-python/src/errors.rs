//! Core's `Error` as a Python exception: its canonical JSON handed to
//! `iproov_sansio._errors.from_dict`, which picks the class by `kind`.

use crate::convert::to_py;
use iproov_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FROM_DICT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn from_dict(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    FROM_DICT.get_or_try_init(py, || {
        Ok(py
            .import("iproov_sansio._errors")?
            .getattr("from_dict")?
            .unbind())
    })
}

/// The exception object (not raised) for `error`.
pub fn exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let data = to_py(py, &error.to_json())?;
    from_dict(py)?.bind(py).call1((data,))
}

/// The `PyErr` to raise for `error`. Falls back to a `RuntimeError` carrying core's (secret-free)
/// message only if the Python half of the package cannot be imported.
pub fn raise(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, error) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyRuntimeError::new_err(error.message().to_owned()),
    }
}

/// Raises core's error from a `Result`.
pub trait OrRaise<T> {
    /// Maps core's error into the Python exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| raise(py, &e))
    }
}
