//! `iproov_sansio._core`: the Python binding's native module. It only converts: Python objects
//! to core's inputs, core's requests, results and errors back to Python. Every behaviour
//! (checks, wire formats, parsing, errors, retry and token rules) is `iproov-core`'s.

mod config;
mod convert;
mod driver;
mod errors;
mod flows;
mod ids;
mod journey;
mod ops;
mod request;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_USER_AGENT", iproov_core::DEFAULT_USER_AGENT)?;
    m.add("MAX_BODY_BYTES", iproov_core::MAX_BODY_BYTES)?;
    m.add("REDACTED", iproov_core::secret::REDACTED)?;
    m.add_class::<config::PyConfig>()?;
    m.add_class::<request::PyRequest>()?;
    m.add_class::<flows::PyFlow>()?;
    m.add_class::<driver::PyDriver>()?;
    m.add_function(wrap_pyfunction!(driver::error_classes, m)?)?;
    m.add_function(wrap_pyfunction!(driver::transport_failures, m)?)?;
    m.add_class::<journey::PyPump>()?;
    m.add_function(wrap_pyfunction!(journey::service_setup, m)?)?;
    m.add_function(wrap_pyfunction!(journey::service_view, m)?)?;
    m.add_function(wrap_pyfunction!(journey::store_schema, m)?)?;
    m.add_function(wrap_pyfunction!(journey::spool_due, m)?)?;
    m.add_function(wrap_pyfunction!(journey::spool_tombstone, m)?)?;
    m.add_function(wrap_pyfunction!(driver::web_decide, m)?)?;
    m.add_class::<flows::PyRetryAdvisor>()?;
    m.add_function(wrap_pyfunction!(ops::build, m)?)?;
    m.add_function(wrap_pyfunction!(ops::build_enrol_image_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(ops::parse, m)?)?;
    m.add_function(wrap_pyfunction!(ops::operations, m)?)?;
    m.add_function(wrap_pyfunction!(ops::operation_info, m)?)?;
    m.add_function(wrap_pyfunction!(ops::connection_error, m)?)?;
    m.add_function(wrap_pyfunction!(ops::timeout_error, m)?)?;
    m.add_function(wrap_pyfunction!(ids::regions, m)?)?;
    m.add_function(wrap_pyfunction!(ids::region_info, m)?)?;
    m.add_function(wrap_pyfunction!(ids::check_user_id, m)?)?;
    m.add_function(wrap_pyfunction!(ids::lint_user_id, m)?)?;
    m.add_function(wrap_pyfunction!(ids::random_user_id, m)?)?;
    m.add_function(wrap_pyfunction!(ids::pseudonymous_user_id, m)?)?;
    m.add_function(wrap_pyfunction!(flows::flow_new_state, m)?)?;
    m.add_function(wrap_pyfunction!(flows::flow_run_step, m)?)?;
    Ok(())
}
