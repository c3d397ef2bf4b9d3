//! Regions, the user_id check and lint, and generated user IDs.

use crate::convert::{text, with_bytes};
use crate::errors::OrRaise;
use iproov_core::secret::Secret;
use iproov_core::{Error, Region, user_id, validation};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Every region id, in the order iProov's docs list them.
#[pyfunction]
pub fn regions() -> Vec<&'static str> {
    Region::ALL.iter().map(|r| r.id()).collect()
}

/// A region from any usual spelling: `{"id", "base_url", "streaming_url"}`. Raises
/// `InvalidInputError` listing the valid ids.
#[pyfunction]
pub fn region_info<'py>(py: Python<'py>, name: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let region = Region::parse(&text(name, "region")?).or_raise(py)?;
    let dict = PyDict::new(py);
    dict.set_item("id", region.id())?;
    dict.set_item("base_url", region.base_url())?;
    dict.set_item("streaming_url", region.streaming_url())?;
    Ok(dict)
}

/// Raises `InvalidInputError` (field `user_id`) unless the id fully matches iProov's pattern.
#[pyfunction]
pub fn check_user_id(py: Python<'_>, user_id: &Bound<'_, PyAny>) -> PyResult<()> {
    validation::check_user_id("user_id", &text(user_id, "user_id")?).or_raise(py)
}

/// Warnings (never errors) when a user_id looks like personal data: `[{"code", "message"}]`.
#[pyfunction]
pub fn lint_user_id<'py>(
    py: Python<'py>,
    user_id: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let warnings = validation::lint_user_id(&text(user_id, "user_id")?);
    let list = PyList::empty(py);
    for warning in warnings {
        let dict = PyDict::new(py);
        dict.set_item("code", warning.code)?;
        dict.set_item("message", warning.message)?;
        list.append(dict)?;
    }
    Ok(list)
}

/// A UUID v4 user ID from 16 bytes the caller drew from a secure random source.
#[pyfunction]
pub fn random_user_id(py: Python<'_>, random_bytes: &Bound<'_, PyAny>) -> PyResult<String> {
    with_bytes(random_bytes, "random_bytes", |bytes| {
        let array: [u8; 16] = bytes.try_into().map_err(|_| {
            crate::errors::raise(
                py,
                &Error::invalid_input("random_bytes", "must be exactly 16 bytes"),
            )
        })?;
        Ok(user_id::random_user_id(array))
    })
}

/// A stable pseudonymous user ID: HMAC-SHA-256 of `internal_key` under `host_secret`.
#[pyfunction]
pub fn pseudonymous_user_id(
    py: Python<'_>,
    host_secret: &Bound<'_, PyAny>,
    internal_key: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let secret = Secret::new(text(host_secret, "host_secret")?);
    user_id::pseudonymous_user_id(&secret, &text(internal_key, "internal_key")?).or_raise(py)
}
