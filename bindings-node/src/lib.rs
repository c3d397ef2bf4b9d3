//! The native half of the `iproov-sansio` npm package: napi-rs glue over `iproov-core`.
//!
//! This crate only converts. Every function takes strings, bytes and numbers, calls one core
//! function and hands back strings (canonical JSON), bytes or a plain object; all behaviour
//! (request building, parsing, errors, flows, redaction) is core's. The JavaScript layer in
//! `bindings-js/` turns the JSON into result objects and `Error` subclasses. The interface is written
//! down in `bindings-js/NATIVE.md`, because the wasm package implements exactly the same one.
//!
//! Failures of core are thrown as a JS `Error` whose `code` is `"IPROOV_CORE"` and whose
//! `message` is core's canonical error JSON (`Error::to_json`).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// `#[napi]` expands every exported item into `extern "C"` callbacks that call the C N-API,
// which is unsafe by nature. The workspace forbids unsafe code; this crate denies it and
// allows it on this one module only, whose own source has no `unsafe` block.
#[allow(unsafe_code)]
mod exports;
