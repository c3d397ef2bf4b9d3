//! The call driver ([`crate::driver`]) as text: one call per host function, the poll as one
//! line-based text that the JS glue splits without a JSON parse of the request.

use super::{error_json, headers_arg, request_text, to_text};
use crate::driver::{Action, CallContext, Driver, DriverOptions, TransportFailure};
use crate::error::Error;
use crate::flows::AuditContext;
use crate::http::{Request, Response};
use crate::operation::{self, JsonConfig, Operation};

/// A call driver for a config ([`crate::driver`]); `options_json` is [`DriverOptions`]'s
/// JSON (`""` for the defaults); `seed` is at least 8 random bytes the host drew. Fails with
/// `invalid_input` (field `options`, `timeout_ms`, ... or `seed`).
pub fn driver_new(config: &JsonConfig, options_json: &str, seed: &[u8]) -> Result<Driver, Error> {
    let options = DriverOptions::from_json_text(options_json.as_bytes())?;
    let seed: [u8; 8] = seed
        .get(..8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| Error::invalid_input("seed", "must be at least 8 random bytes"))?;
    Driver::new(config.config.clone(), options, u64::from_le_bytes(seed))
}

/// Starts a call (see [`Driver::start`]); `attempt` is the journey attempt, 0 for none;
/// `quiet`: the host has no consumer for the call's audit records ([`CallContext::quiet`]);
/// `max_wait_ms`: the longest wait before a retry ([`CallContext::max_wait_ms`]), 0 for the
/// retry policy's own limits; `telemetry`: the lowest level of the call's events the host
/// maps, by name (`"debug"`, `"info"`, `"warning"`, `"error"`; `""`: none, no event is
/// built; [`crate::telemetry::Level::lowest`], [`CallContext::telemetry`]).
/// Gives the call's id. Fails only for an unknown operation name (`invalid_input`, field
/// `operation`); a bad input fails the call at its first poll, with its audit record.
#[allow(clippy::too_many_arguments)] // one argument per fact of the call, as the bindings pass them
pub fn driver_start(
    driver: &mut Driver,
    operation: &str,
    input_json: &str,
    attempt: u32,
    quiet: bool,
    max_wait_ms: u64,
    telemetry: &str,
    now: u64,
) -> Result<u64, Error> {
    let context = CallContext {
        attempt: (attempt > 0).then_some(attempt),
        quiet,
        max_wait_ms: (max_wait_ms > 0).then_some(max_wait_ms),
        telemetry: crate::telemetry::Level::lowest(telemetry),
    };
    let op = Operation::parse(operation)?;
    Ok(driver.start(op, input_json.as_bytes(), context, now))
}

/// What a poll says, with its parts as they are (the request as core built it): for a host
/// whose glue converts them natively (pyo3); [`driver_poll`] gives the same as one text.
#[derive(Debug)]
pub struct PollParts {
    /// What to do next.
    pub step: Step,
    /// Wake the calls waiting for the shared token.
    pub wake: bool,
    /// The audit records since the last poll, each as JSON.
    pub audit: Vec<String>,
    /// The telemetry events since the last poll, each as JSON (`crate::telemetry`).
    pub events: Vec<String>,
}

/// The next step of a call ([`Action`]'s kinds, with texts for the host).
#[derive(Debug)]
pub enum Step {
    /// Send `request` (credentials included) within `timeout_ms`, counted from the send's start.
    Send {
        /// The request to send as it is.
        request: Request,
        /// `Action::Send`'s time: give it to the HTTP stack as it is.
        timeout_ms: u64,
    },
    /// Poll again at this time (Unix ms).
    Sleep(u64),
    /// Wait for the shared token until this time (Unix ms), or until woken.
    Wait(u64),
    /// The result text of [`super::parse`] (large frames after the JSON).
    Done(String),
    /// The error's canonical JSON.
    Failed(String),
}

/// Polls a call (see [`Driver::poll`]): its parts ([`PollParts`]).
pub fn driver_poll_parts(driver: &mut Driver, id: u64, now: u64) -> PollParts {
    let poll = driver.poll(id, now);
    let step = match poll.action {
        Action::Send {
            request,
            timeout_ms,
        } => Step::Send {
            request,
            timeout_ms,
        },
        Action::SleepUntil { at_ms } => Step::Sleep(at_ms),
        Action::WaitForToken { until_ms } => Step::Wait(until_ms),
        Action::Done { result } => Step::Done(operation::split_text(&result)),
        Action::Failed { error } => Step::Failed(error_json(&error)),
    };
    PollParts {
        step,
        wake: poll.wake,
        audit: poll.audit.iter().map(to_text).collect(),
        events: poll.events.iter().map(to_text).collect(),
    }
}

/// Polls a call (see [`Driver::poll`]) and gives the poll as one text:
///
/// ```text
/// KIND WAKE N M\n        KIND: send | sleep | wait | done | failed; WAKE: 1 to wake waiting calls
/// <audit record JSON>\n  N lines, one record each
/// <event JSON>\n         M lines, one telemetry event each (crate::telemetry)
/// payload
/// ```
///
/// The payload: `send`: the send's time in ms (`Action::Send`'s `timeout_ms`: give it to the
/// HTTP stack as it is, from the start of the send), `\n`, then the request text of
/// [`build_text`];
/// `sleep` / `wait`: the time (Unix ms) to poll again by; `done`: the result text of
/// [`parse`] (large frames after the JSON); `failed`: the error's canonical JSON.
pub fn driver_poll(driver: &mut Driver, id: u64, now: u64) -> String {
    // Not through driver_poll_parts: its texts of each record and its request kept whole cost
    // the edge module about 0.7 KB gzip (scripts/wasm.sh's guard) for nothing the text needs.
    let poll = driver.poll(id, now);
    let (kind, payload) = match &poll.action {
        Action::Send {
            request,
            timeout_ms,
        } => ("send", format!("{timeout_ms}\n{}", request_text(request))),
        Action::SleepUntil { at_ms } => ("sleep", at_ms.to_string()),
        Action::WaitForToken { until_ms } => ("wait", until_ms.to_string()),
        Action::Done { result } => ("done", operation::split_text(result)),
        Action::Failed { error } => ("failed", error_json(error)),
    };
    let mut out = String::with_capacity(payload.len() + 64);
    out.push_str(kind);
    out.push_str(if poll.wake { " 1 " } else { " 0 " });
    out.push_str(&poll.audit.len().to_string());
    out.push(' ');
    out.push_str(&poll.events.len().to_string());
    out.push('\n');
    for record in poll.audit.iter().chain(&poll.events) {
        out.push_str(&to_text(record));
        out.push('\n');
    }
    out.push_str(&payload);
    out
}

/// Reports the answer to a call's send: `headers_json` as for [`parse`].
pub fn driver_response(
    driver: &mut Driver,
    id: u64,
    status: u32,
    headers_json: &str,
    body: &[u8],
    now: u64,
) {
    let headers = headers_arg(headers_json).unwrap_or_default();
    driver_response_pairs(driver, id, status, &headers, body, now);
}

/// [`driver_response`] with the headers as `(name, value)` pairs (a repeated header kept).
pub fn driver_response_pairs(
    driver: &mut Driver,
    id: u64,
    status: u32,
    headers: &[(String, String)],
    body: &[u8],
    now: u64,
) {
    match u16::try_from(status) {
        Ok(status) => driver.on_response(id, &Response::new(status, headers, body), now),
        Err(_) => driver.on_failure(id, TransportFailure::Unknown, "not an HTTP status", now),
    }
}

/// Starts a photo enrol with the image as bytes (as [`super::build_enrol_image`] builds it;
/// a bad argument fails the call at its first poll, with its audit record); `attempt` and
/// `telemetry` as for [`driver_start`]. Gives the call's id.
#[allow(clippy::too_many_arguments)] // one argument per fact of the call, as the bindings pass them
pub fn driver_start_enrol_image(
    driver: &mut Driver,
    token: &str,
    source: &str,
    image: &[u8],
    rotation: Option<i64>,
    attempt: u32,
    telemetry: &str,
    now: u64,
) -> u64 {
    let built = super::parts::image_request(driver.config(), token, source, image, rotation);
    let context = AuditContext {
        token: Some(token.to_owned()),
        attempt: (attempt > 0).then_some(attempt),
        ..AuditContext::default()
    };
    let telemetry = crate::telemetry::Level::lowest(telemetry);
    driver.start_built(Operation::EnrolImage, built, context, telemetry, now)
}

/// Reports that a call's send failed: `failure` is a name of the transport table
/// ([`TransportFailure`]; an unknown name counts as `unknown`), `cause` the host's words.
pub fn driver_failure(driver: &mut Driver, id: u64, failure: &str, cause: &str, now: u64) {
    driver.on_failure(id, TransportFailure::parse(failure), cause, now);
}

/// The driver's shared OAuth access token at `now`, without the token: [`crate::flows::TokenStatus`]'s
/// JSON (`{"has_token", "spent", "uses"?, "issued_at_ms"?, "expires_at_ms"?, "spent_at_ms"?,
/// "scope"?}`).
pub fn driver_token_status(driver: &Driver, now: u64) -> String {
    to_text(&driver.token_status(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::{eu_config, json};

    #[test]
    fn a_driver_call_as_text() {
        let config = eu_config();
        let mut driver = driver_new(&config, r#"{"timeout_ms": 1500}"#, &[7; 8]).unwrap();
        assert_eq!(
            driver_new(&config, "", &[1; 4]).unwrap_err().field(),
            Some("seed")
        );
        let id = driver_start(
            &mut driver,
            "enrol_token",
            r#"{"resource": "R", "user_id": "u-1"}"#,
            2,
            false,
            0,
            "",
            1_000,
        )
        .unwrap();
        let sent = driver_poll(&mut driver, id, 1_000);
        assert!(
            sent.starts_with(
                "send 0 0 0\n1500\nPOST\nhttps://eu.rp.secure.iproov.me/api/v2/claim/enrol/token\n"
            ),
            "{sent}"
        );
        driver_response(
            &mut driver,
            id,
            200,
            r#"{"content-type": "application/json"}"#,
            br#"{"token": "abc", "user_id": "u-1"}"#,
            1_100,
        );
        let done = driver_poll(&mut driver, id, 1_100);
        let mut lines = done.lines();
        assert_eq!(lines.next(), Some("done 0 1 0"));
        let record = json(lines.next().unwrap());
        assert_eq!(record["outcome"], "token_issued");
        assert_eq!(record["attempt"], 2);
        assert_eq!(json(lines.next().unwrap())["token"], "abc");
        assert!(!done.contains("s3cr3t-x"));
        assert_eq!(
            driver_start(&mut driver, "nope", "", 0, false, 0, "", 0)
                .unwrap_err()
                .field(),
            Some("operation")
        );
    }
}
