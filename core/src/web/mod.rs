//! What a browser may send to a host's journey endpoints and what it gets back: the decisions
//! behind Python's `iproov_sansio.web` and the JS `createJourneyHandler`, made once here so the
//! hosts cannot drift apart. A host only moves bytes: it matches the request to a route of
//! [`routes`], hands the request's facts to [`check_request`] and [`read_input`], calls the
//! journey service with what they give, and writes the [`Answer`] it gets from [`answer`],
//! [`error_answer`] or [`emulator_answer`].
//!
//! The rules (issue 16, and OWASP's CSRF cheat sheet for the first two):
//!
//! - The page's origin only: a request needs an `Origin` header from the allowed origins (by
//!   default the server's own), and `Content-Type: application/json`, which no cross-site
//!   form or "simple" request can send without a CORS preflight (never granted: the routes set
//!   no CORS headers).
//! - The user_id comes from the application (its `resolve_user`), never from the body.
//! - Every failure is `{"error": {"code", "message"}}` with a fixed message per code
//!   ([`Code`]): nothing of an error's own message, field or iProov's code reaches the browser.
//! - Of the journey service's answers the browser sees only [`VISIBLE`] (the attempt's
//!   `error_code`, for one, stays in the store and the audit records).
//! - Every JSON answer is `Cache-Control: no-store` (they carry claim tokens).

mod decide;
mod input;
pub mod reasons;
mod routes;

pub use decide::decide;
pub use input::{Input, check_request, read_input};
pub use routes::{Route, SDK_ASSETS, page_csp, routes};

use crate::error::ErrorKind;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The largest request body the routes read, in bytes (their bodies are a few short fields).
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// How long a browser's request waits for another request on the same journey (a double
/// submit of the validate, a second tab's token request) before it is refused, in ms, unless
/// the host's caller sets another wait: longer than a validate normally takes, well under a
/// browser's patience. The journey pump does the waiting (its `wait_ms`).
pub const VALIDATE_WAIT_MS: u64 = 30_000;

/// The `Retry-After` (seconds) of a `try_again` when iProov named no wait: the page counts
/// down from it rather than leave the person guessing.
pub const DEFAULT_RETRY_AFTER_S: u64 = 5;

/// The flows the browser may start unless the host's caller narrows them.
pub const FLOWS: [&str; 2] = ["enrol", "verify"];

/// The fields of the journey service's answers that the browser gets.
pub const VISIBLE: [&str; 10] = [
    "journey_id",
    "token",
    "sdk_url",
    "attempt",
    "attempts_left",
    "passed",
    "reason",
    "state",
    "next",
    "retry_after_ms",
];

/// What the browser may learn of a failure: a stable code, its HTTP status and a fixed
/// message written for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400: the body is not the JSON object the route takes.
    BadRequest,
    /// 401: the application's `resolve_user` named nobody.
    Unauthenticated,
    /// 404: no route at this path under the mount point.
    NotFound,
    /// 405: the route takes another method (`Allow` says which).
    MethodNotAllowed,
    /// 403: no `Origin`, or one not allowed.
    ForbiddenOrigin,
    /// 403: the framework's own CSRF check refused the request (Django's token).
    CsrfFailed,
    /// 403: iProov says the account cannot be used (`inactive_user`).
    AccountInactive,
    /// 409: an unknown journey, another user's, or one that cannot take the step.
    JourneyConflict,
    /// 409: an enrol for a user iProov has enrolled (`already_enrolled`).
    AlreadyEnrolled,
    /// 409: a verify for a user iProov does not know (`no_user`).
    NotEnrolled,
    /// 413: a body over [`MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// 415: a content type other than `application/json`.
    UnsupportedMediaType,
    /// 429: a limit of the journey service (the user's attempts or token requests, the
    /// service's budget), with `Retry-After`.
    TooManyAttempts,
    /// 500: the application's side failed (its store, its `resolve_user`, a bad user_id).
    InternalError,
    /// 502: iProov refused the service's configuration (key, secret, OAuth) or answered
    /// something that is not iProov's.
    ServiceError,
    /// 503: iProov is busy (with `Retry-After` where it said so) or unreachable.
    TryAgain,
}

impl Code {
    /// Every code, in the table's order.
    pub const ALL: [Code; 16] = [
        Self::BadRequest,
        Self::Unauthenticated,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::ForbiddenOrigin,
        Self::CsrfFailed,
        Self::AccountInactive,
        Self::JourneyConflict,
        Self::AlreadyEnrolled,
        Self::NotEnrolled,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::TooManyAttempts,
        Self::InternalError,
        Self::ServiceError,
        Self::TryAgain,
    ];

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        self.row().1
    }

    /// The fixed message.
    pub fn message(self) -> &'static str {
        self.row().2
    }

    fn row(self) -> (&'static str, u16, &'static str) {
        match self {
            Self::BadRequest => (
                "bad_request",
                400,
                "The request does not have the fields this endpoint takes.",
            ),
            Self::Unauthenticated => ("unauthenticated", 401, "Sign in first."),
            Self::NotFound => ("not_found", 404, "There is nothing at this address."),
            Self::MethodNotAllowed => (
                "method_not_allowed",
                405,
                "This address does not take that kind of request.",
            ),
            Self::ForbiddenOrigin => (
                "forbidden_origin",
                403,
                "Requests from this origin are not accepted.",
            ),
            Self::CsrfFailed => (
                "csrf_failed",
                403,
                "The page's security token is missing or out of date. Reload the page and try again.",
            ),
            Self::AccountInactive => (
                "account_inactive",
                403,
                "This account cannot use face verification now.",
            ),
            Self::JourneyConflict => (
                "journey_conflict",
                409,
                "This journey cannot take that step now. Start again.",
            ),
            Self::AlreadyEnrolled => (
                "already_enrolled",
                409,
                "This account has already enrolled.",
            ),
            Self::NotEnrolled => ("not_enrolled", 409, "This account has not enrolled yet."),
            Self::PayloadTooLarge => ("payload_too_large", 413, "The request is too large."),
            Self::UnsupportedMediaType => (
                "unsupported_media_type",
                415,
                "Send the request as application/json.",
            ),
            Self::TooManyAttempts => (
                "too_many_attempts",
                429,
                "You have used every attempt for now. Try again later.",
            ),
            Self::InternalError => ("internal_error", 500, "Something went wrong on our side."),
            Self::ServiceError => (
                "service_error",
                502,
                "The face verification service refused the request.",
            ),
            Self::TryAgain => (
                "try_again",
                503,
                "The face verification service is busy or unreachable. Try again shortly.",
            ),
        }
    }
}

/// An HTTP answer for the host to write as it is: JSON `{"status", "headers", "body"}`, the
/// body to be sent as JSON text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Header names (as written) to values.
    pub headers: Map<String, Value>,
    /// The JSON body.
    pub body: Value,
}

fn no_store() -> Map<String, Value> {
    let mut headers = Map::new();
    headers.insert("Cache-Control".into(), json!("no-store"));
    headers
}

impl Answer {
    /// 200 with `body`, never cached.
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: no_store(),
            body,
        }
    }

    /// The failure `code`: its status and `{"error": {"code", "message"}}`, with
    /// `Retry-After` (seconds) where iProov asked for a wait.
    pub fn refused(code: Code, retry_after_s: Option<u64>) -> Self {
        let mut headers = no_store();
        if let Some(seconds) = retry_after_s {
            headers.insert("Retry-After".into(), json!(seconds.to_string()));
        }
        Self {
            status: code.status(),
            headers,
            body: json!({"error": {"code": code.as_str(), "message": code.message()}}),
        }
    }

    /// The answer as JSON.
    pub fn to_json(&self) -> Value {
        crate::json_value::to_json_value(self)
    }
}

/// The code table as JSON: `[{"code", "status", "message"}, ...]`.
pub fn codes() -> Value {
    Value::Array(
        Code::ALL
            .iter()
            .map(|c| json!({"code": c.as_str(), "status": c.status(), "message": c.message()}))
            .collect(),
    )
}

/// iProov's codes that say something about the account, which the person can act on.
fn account_code(code: &str) -> Option<Code> {
    match code {
        "already_enrolled" => Some(Code::AlreadyEnrolled),
        "no_user" => Some(Code::NotEnrolled),
        "inactive_user" => Some(Code::AccountInactive),
        _ => None,
    }
}

/// The code the browser gets for a failure, and a Retry-After in seconds (iProov's
/// `retry_after_ms` rounded up, at least 1) where iProov asked for one. `error` is core's
/// canonical error JSON (`kind`, `code`, `field`?, `retry_after_ms`?) exactly as core made it
/// and the host holds it (Python's `to_dict()`, JS's `toJSON()`: never a kind a host derives
/// from its own class, so that the same failure is decided alike in every host), or `null`
/// for anything that is not core's error (the host's own failure). JSON without a `kind` (an
/// error made by hand, not by core) is such a failure too. Keyed on the kind and, for the
/// account errors, iProov's code; never on a message.
pub fn browser_code(error: &Value) -> (Code, Option<u64>) {
    let Some(kind_name) = error.get("kind").and_then(Value::as_str) else {
        return (Code::InternalError, None);
    };
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    // A kind this build does not know reads as hosts read it (ErrorKind::UNKNOWN).
    let kind = ErrorKind::of_name(kind_name);
    match kind {
        // The resolved user_id is the application's, not the browser's: a bad one is ours.
        ErrorKind::InvalidInput
            if error.get("field").and_then(Value::as_str) == Some("user_id") =>
        {
            (Code::InternalError, None)
        }
        ErrorKind::InvalidInput => (Code::BadRequest, None),
        ErrorKind::InvalidState => (Code::JourneyConflict, None),
        ErrorKind::LimitExceeded => (Code::TooManyAttempts, Some(wait_s(error))),
        // A token request is safe to ask again (a validate's errors never get here: the
        // service stores them as the attempt's outcome); a store that failed before anything
        // was sent lost nothing.
        ErrorKind::RateLimited
        | ErrorKind::Server
        | ErrorKind::Connection
        | ErrorKind::Timeout
        | ErrorKind::Aborted
        | ErrorKind::OutcomeUnknown
        | ErrorKind::StoreUnavailable => (Code::TryAgain, Some(wait_s(error))),
        _ => match account_code(code).filter(|_| kind.is_api()) {
            Some(account) => (account, None),
            // A wrong key, an OAuth failure, an answer that is not iProov's: the service's
            // configuration, nothing the person can change.
            None => (Code::ServiceError, None),
        },
    }
}

/// When to try again, in whole seconds: the error's `retry_after_ms` rounded up (at least 1),
/// or [`DEFAULT_RETRY_AFTER_S`].
fn wait_s(error: &Value) -> u64 {
    error
        .get("retry_after_ms")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_RETRY_AFTER_S, |ms| ms.div_ceil(1000).max(1))
}

/// The answer for a failure ([`browser_code`]).
pub fn error_answer(error: &Value) -> Answer {
    let (code, retry_after_s) = browser_code(error);
    Answer::refused(code, retry_after_s)
}

/// The answer for the journey service's answer (`start`'s or `finish`'s, snake_case): 200 with
/// only the [`VISIBLE`] fields, and `reason_text` (a sentence, [`reasons::sentence`]) beside a
/// `reason`.
pub fn answer(service_answer: &Value) -> Answer {
    let mut body = Map::new();
    if let Some(fields) = service_answer.as_object() {
        for name in VISIBLE {
            if let Some(value) = fields.get(name) {
                body.insert(name.into(), value.clone());
            }
        }
        // The person reads a sentence; the code stays beside it for support.
        if let Some(reason) = fields.get("reason").and_then(Value::as_str) {
            body.insert("reason_text".into(), json!(reasons::sentence(reason)));
        }
    }
    Answer::ok(Value::Object(body))
}

/// The answer for a path under the mount point that no route has (404), or for a method the
/// route does not take (405, `Allow`: the methods it takes, `HEAD` beside `GET`).
pub fn no_route(allow: &[&str]) -> Answer {
    if allow.is_empty() {
        return Answer::refused(Code::NotFound, None);
    }
    let mut methods: Vec<&str> = Vec::new();
    for method in allow {
        if !methods.contains(method) {
            methods.push(method);
        }
        if *method == "GET" && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
    }
    let mut answer = Answer::refused(Code::MethodNotAllowed, None);
    answer
        .headers
        .insert("Allow".into(), json!(methods.join(", ")));
    answer
}

/// How long a host keeps a health answer before asking iProov and the store again, in ms: the
/// route is public (load balancers call it), so it must not become a way to hammer iProov.
pub const HEALTH_CACHE_MS: u64 = 10_000;

/// The answer of `GET {mount}/health` from what the host found out: `iproov_up` (iProov's
/// availability call answered `up`, `null` when the call failed) and `store_ok` (a read of
/// the store worked). 200 when both are fine, else 503; the body names each part
/// (`{"status": "ok" | "degraded", "iproov": "up" | "down" | "unreachable", "store": "ok" |
/// "failing"}`), nothing else (no error text, no address).
pub fn health_answer(iproov_up: Option<bool>, store_ok: bool) -> Answer {
    let iproov = match iproov_up {
        Some(true) => "up",
        Some(false) => "down",
        None => "unreachable",
    };
    let ok = iproov == "up" && store_ok;
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "iproov": iproov,
        "store": if store_ok { "ok" } else { "failing" },
    });
    Answer {
        status: if ok { 200 } else { 503 },
        headers: no_store(),
        body,
    }
}

/// The answer to the page's stand-in once the emulator's control API answered `status` to its
/// claim completion: 200 `{"completed": true}`; 404 (unknown claim) or 409 (expired, not
/// pending) is not this attempt's to finish; anything else (0: not reached) is a try again.
pub fn emulator_answer(status: u16) -> Answer {
    match status {
        200 => Answer::ok(json!({"completed": true})),
        404 | 409 => Answer::refused(Code::JourneyConflict, None),
        _ => Answer::refused(Code::TryAgain, None),
    }
}

/// The answer of the page's `config` route: `{"stand_in"}` (whether the page shows the
/// emulator's stand-in for iProov's web SDK), and `sdk_script` (where the page loads iProov's
/// Web SDK from) when the host serves the page with it.
pub fn config_answer(stand_in: bool, sdk_script: Option<&str>) -> Answer {
    let mut body = json!({"stand_in": stand_in});
    if let (Some(script), Value::Object(map)) = (sdk_script, &mut body) {
        map.insert("sdk_script".into(), json!(script));
    }
    Answer::ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: Value) -> (&'static str, Option<u64>) {
        let (code, wait) = browser_code(&error);
        (code.as_str(), wait)
    }

    #[test]
    fn the_table_has_one_row_per_code() {
        let table = codes();
        let rows = table.as_array().unwrap();
        assert_eq!(rows.len(), Code::ALL.len());
        let names: std::collections::BTreeSet<_> =
            rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(names.len(), rows.len());
        assert_eq!(
            rows[0],
            json!({"code": "bad_request", "status": 400,
            "message": "The request does not have the fields this endpoint takes."})
        );
    }

    #[test]
    fn every_kind_has_a_browser_code() {
        for kind in ErrorKind::ALL {
            let (code, _) = browser_code(&json!({"kind": kind.as_str(), "code": kind.as_str()}));
            assert!(Code::ALL.contains(&code), "{kind:?}");
        }
        assert_eq!(code_of(json!(null)), ("internal_error", None));
        assert_eq!(code_of(json!({"code": "x"})), ("internal_error", None));
        assert_eq!(
            code_of(json!({"kind": "invalid_input", "code": "invalid_input", "field": "user_id"})),
            ("internal_error", None)
        );
        assert_eq!(
            code_of(json!({"kind": "invalid_input", "field": "token"})),
            ("bad_request", None)
        );
        assert_eq!(
            code_of(json!({"kind": "invalid_state"})),
            ("journey_conflict", None)
        );
        assert_eq!(
            code_of(json!({"kind": "timeout"})),
            ("try_again", Some(DEFAULT_RETRY_AFTER_S))
        );
        assert_eq!(
            code_of(json!({"kind": "limit_exceeded", "retry_after_ms": 90_000})),
            ("too_many_attempts", Some(90))
        );
        assert_eq!(
            code_of(json!({"kind": "invalid_key", "code": "invalid_key"})),
            ("service_error", None)
        );
        assert_eq!(
            code_of(json!({"kind": "decode", "code": "no_user"})),
            ("service_error", None)
        );
        assert_eq!(
            code_of(json!({"kind": "newer", "code": "no_user"})),
            ("not_enrolled", None)
        );
    }

    #[test]
    fn account_codes_and_retry_after() {
        assert_eq!(
            code_of(json!({"kind": "api", "code": "no_user"})),
            ("not_enrolled", None)
        );
        assert_eq!(
            code_of(json!({"kind": "api", "code": "already_enrolled"})),
            ("already_enrolled", None)
        );
        assert_eq!(
            code_of(json!({"kind": "api", "code": "inactive_user"})),
            ("account_inactive", None)
        );
        let limited = |ms: Value| code_of(json!({"kind": "rate_limited", "retry_after_ms": ms}));
        assert_eq!(limited(json!(1000)), ("try_again", Some(1)));
        assert_eq!(limited(json!(1001)), ("try_again", Some(2)));
        assert_eq!(limited(json!(0)), ("try_again", Some(1)));
        assert_eq!(
            limited(json!(null)),
            ("try_again", Some(DEFAULT_RETRY_AFTER_S))
        );
        let answer = error_answer(&json!({"kind": "rate_limited", "retry_after_ms": 2500}));
        assert_eq!(answer.status, 503);
        assert_eq!(answer.headers["Retry-After"], "3");
        assert_eq!(answer.headers["Cache-Control"], "no-store");
    }

    #[test]
    fn a_failure_shows_nothing_but_its_code() {
        let error = json!({"kind": "oauth", "code": "invalid_oauth", "status": 401,
            "message": "secret s3cr3t at db.internal", "field": "x"});
        let text = serde_json::to_string(&error_answer(&error).to_json()).unwrap();
        assert!(
            !text.contains("s3cr3t") && !text.contains("invalid_oauth"),
            "{text}"
        );
        assert_eq!(
            error_answer(&error).body,
            json!({"error": {"code": "service_error",
                "message": "The face verification service refused the request."}})
        );
    }

    #[test]
    fn the_browser_sees_only_the_visible_fields() {
        let shown = answer(
            &json!({"journey_id": "j", "passed": false, "state": "error",
            "error_code": "invalid_token", "user_id": "u", "attempts_left": 1, "next": "start_attempt"}),
        );
        assert_eq!(shown.status, 200);
        assert_eq!(
            shown.body,
            json!({"journey_id": "j", "passed": false, "state": "error", "attempts_left": 1,
                "next": "start_attempt"})
        );
        assert_eq!(answer(&json!([1])).body, json!({}));
    }

    #[test]
    fn the_emulator_completion() {
        assert_eq!(emulator_answer(200).body, json!({"completed": true}));
        assert_eq!(
            emulator_answer(404).body["error"]["code"],
            "journey_conflict"
        );
        assert_eq!(emulator_answer(409).status, 409);
        assert_eq!(emulator_answer(0).body["error"]["code"], "try_again");
        assert_eq!(config_answer(true, None).body, json!({"stand_in": true}));
        assert_eq!(
            config_answer(false, Some("https://x.example/sdk.js")).body["sdk_script"],
            "https://x.example/sdk.js"
        );
    }

    #[test]
    fn no_route_and_health_answer_in_the_json_shape() {
        let missing = no_route(&[]);
        assert_eq!(
            (missing.status, missing.body["error"]["code"].clone()),
            (404, json!("not_found"))
        );
        let wrong = no_route(&["GET"]);
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.headers["Allow"], "GET, HEAD");
        assert_eq!(no_route(&["POST", "POST"]).headers["Allow"], "POST");
        let fine = health_answer(Some(true), true);
        assert_eq!(
            (fine.status, fine.body["status"].clone()),
            (200, json!("ok"))
        );
        let down = health_answer(None, true);
        assert_eq!(
            (down.status, down.body["iproov"].clone()),
            (503, json!("unreachable"))
        );
        assert_eq!(health_answer(Some(true), false).body["store"], "failing");
        assert_eq!(fine.headers["Cache-Control"], "no-store");
    }
}
