//! The operations: the dynamic build/parse pair over vector-format data, the enrol image
//! builder taking raw bytes, and what core says about each operation.

use crate::config::config_arg;
use crate::convert::{headers, integer, opt_text, text, to_py, to_value, with_bytes};
use crate::errors::OrRaise;
use crate::request::PyRequest;
use iproov_core::operation::{self, Operation};
use iproov_core::ops::enrol_image::{EnrolImageInput, ImageSource, build_enrol_image};
use iproov_core::{Error, Response};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

/// An operation name (`enrol_token`, ...), or `invalid_input` (field `operation`).
pub fn operation_arg(obj: &Bound<'_, PyAny>) -> PyResult<Operation> {
    let name = text(obj, "operation")?;
    Operation::parse(&name).or_raise(obj.py())
}

/// Builds the request of `operation` from `config` (a `Config` or a vector-format dict) and
/// `input` (a dict in the vector format). Raises `InvalidInputError`.
#[pyfunction]
#[pyo3(signature = (operation, config, input=None))]
pub fn build(
    py: Python<'_>,
    operation: &Bound<'_, PyAny>,
    config: &Bound<'_, PyAny>,
    input: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRequest> {
    let op = operation_arg(operation)?;
    let config = config_arg(config)?;
    let input = match input {
        Some(input) => to_value(input, "input")?,
        None => Value::Null,
    };
    let request = operation::build(op, &config.get().json, &input).or_raise(py)?;
    PyRequest::from_core(py, request)
}

/// Builds `POST /claim/enrol/image` from the image bytes themselves (no base64 round trip).
#[pyfunction]
#[pyo3(signature = (config, *, token, source, image, rotation=None))]
pub fn build_enrol_image_bytes(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    token: &Bound<'_, PyAny>,
    source: &Bound<'_, PyAny>,
    image: &Bound<'_, PyAny>,
    rotation: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRequest> {
    let config = config_arg(config)?;
    let rotation = match rotation.filter(|r| !r.is_none()) {
        Some(r) => Some(integer::<i64>(r, "rotation")?),
        None => None,
    };
    let token = text(token, "token")?;
    let source = ImageSource::parse(&text(source, "source")?).or_raise(py)?;
    let request = with_bytes(image, "image", |bytes| {
        let input = EnrolImageInput {
            token,
            source,
            rotation,
            image: bytes.to_vec(),
        };
        build_enrol_image(&config.get().json.config, &input).or_raise(py)
    })?;
    PyRequest::from_core(py, request)
}

/// Parses a response of `operation` into its canonical result dict. `headers` is a mapping or
/// `(name, value)` pairs; `body` is bytes. Raises the typed error.
#[pyfunction]
#[pyo3(signature = (operation, config, status, headers=None, body=None))]
pub fn parse<'py>(
    py: Python<'py>,
    operation: &Bound<'py, PyAny>,
    config: &Bound<'py, PyAny>,
    status: &Bound<'py, PyAny>,
    headers: Option<&Bound<'py, PyAny>>,
    body: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let op = operation_arg(operation)?;
    let config = config_arg(config)?;
    let status: u16 = integer(status, "status")?;
    let headers = self::headers(headers)?;
    let parsed = match body {
        Some(body) => with_bytes(body, "body", |bytes| {
            Ok(operation::parse(
                op,
                &config.get().json,
                &Response::new(status, &headers, bytes),
            ))
        })?,
        None => operation::parse(
            op,
            &config.get().json,
            &Response::new(status, &headers, &[]),
        ),
    };
    to_py(py, &parsed.or_raise(py)?)
}

/// Every operation name, in core's order.
#[pyfunction]
pub fn operations() -> Vec<&'static str> {
    Operation::ALL.iter().map(|op| op.name()).collect()
}

/// What core says about an operation: `needs_access_token` (the users API), `is_idempotent`
/// (safe to repeat once it may have reached iProov), `is_one_shot` (validate).
#[pyfunction]
pub fn operation_info<'py>(
    py: Python<'py>,
    operation: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let op = operation_arg(operation)?;
    let dict = PyDict::new(py);
    dict.set_item("name", op.name())?;
    dict.set_item("needs_access_token", op.needs_access_token())?;
    dict.set_item("is_idempotent", op.is_idempotent())?;
    dict.set_item("is_one_shot", op.is_one_shot())?;
    Ok(dict)
}

/// Core's `connection_error` (the request could not be sent), as an exception to raise.
#[pyfunction]
pub fn connection_error<'py>(
    py: Python<'py>,
    cause: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let cause = opt_text(Some(cause), "cause")?.unwrap_or_default();
    crate::errors::exception(py, &Error::connection(cause))
}

/// Core's `timeout` (no complete answer in time), as an exception to raise.
#[pyfunction]
pub fn timeout_error<'py>(
    py: Python<'py>,
    cause: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let cause = opt_text(Some(cause), "cause")?.unwrap_or_default();
    crate::errors::exception(py, &Error::timeout(cause))
}
