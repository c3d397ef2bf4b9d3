//! # iproov-core: the iProov REST API v2, sans-IO
//!
//! This crate *describes* HTTP requests to iProov and *reads* HTTP responses from it. It never
//! performs IO: no sockets, files, environment variables, clock or randomness. The host (a
//! Python, Node or edge-worker binding, or your own Rust code) sends each [`Request`] with its
//! own HTTP client, hands back the [`Response`], and passes the current time (`now`, Unix
//! milliseconds) and any random bytes as arguments. So every behaviour is deterministic and
//! the same in every host.
//!
//! - [`ops`]: one build/parse pair per endpoint. Build functions check their input first and
//!   fail with `invalid_input` before anything is built; parse functions give a typed result
//!   or a typed [`Error`]. A biometric failure (`passed: false`) is a result, not an error.
//! - [`operation`]: the same over canonical JSON, for the conformance vectors and bindings.
//! - [`validation`] and [`user_id`]: iProov's input patterns, a personal-data lint, and
//!   generated user IDs.
//! - [`Error`]: every failure is data with a stable `code`, its HTTP status where there is
//!   one, and the fields a caller needs. No function of this crate panics on any input.
//! - [`Secret`]: the API secret, OAuth password and access tokens never appear in any `Debug`
//!   or `Display` output, error message or serialized record.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![warn(missing_docs)]

pub mod config;
mod decode;
pub mod driver;
pub mod error;
pub mod flows;
pub mod host;
pub mod http;
mod http_date;
mod json_object;
mod json_path;
mod json_value;
mod multipart;
pub mod operation;
pub mod ops;
pub mod redact;
pub mod region;
pub mod secret;
pub mod service;
pub mod surface;
pub mod telemetry;
mod tolerant;
pub mod user_id;
pub mod validation;
pub mod web;

pub use config::{Config, DEFAULT_USER_AGENT};
pub use error::{Error, ErrorKind};
pub use http::{MAX_BODY_BYTES, Method, RedactedRequest, Request, Response};
pub use operation::{JsonConfig, Operation};
pub use redact::Redactor;
pub use region::{Region, Target};
pub use secret::Secret;
pub use tolerant::Fallback;

/// The README's Rust examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
