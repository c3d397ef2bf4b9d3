//! The error tables: the canonical error JSON, the class of each family (name and parent from
//! [`ErrorKind::class_name`] and [`ErrorKind::parent_class_name`], doc and fields here), the
//! rule for a `kind` a host does not know ([`ErrorKind::UNKNOWN`]), and the codes table the
//! README shows. Tests tie each to `error.rs`.

use super::{Field, Shape, Type};
use crate::error::ErrorKind;

/// One host error class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorClass {
    /// Its name, the same in every host.
    pub name: &'static str,
    /// The class it extends (`None` for the root, `IProovError`).
    pub parent: Option<&'static str>,
    /// The family it is raised for (`None` for a parent that names none: the root,
    /// `TransportError`).
    pub kind: Option<ErrorKind>,
    /// What it means and what to do.
    pub doc: &'static str,
    /// The fields of the error JSON this class is about, as it types them (a field required
    /// here is always set on an error of the class).
    pub fields: Vec<Field>,
}

/// A row of the README's error table: codes, their status and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    /// The codes (iProov's `error` values or core's own).
    pub codes: &'static [&'static str],
    /// What the first column says besides the codes (`(and any 5xx with an iProov body)`).
    pub note: &'static str,
    /// The HTTP status, as text (`401 (500 on the token endpoint)`, `—`).
    pub status: &'static str,
    /// The family, whose class the error is.
    pub kind: ErrorKind,
    /// When it happens.
    pub when: &'static str,
    /// The fields it carries beyond `code`, `kind`, `message` and `status`.
    pub fields: &'static str,
}

const LIMITS: [&str; 3] = ["attempts", "user_token_requests", "service_token_requests"];

/// Core's canonical error JSON (`Error`'s serialization): `{code, status?, kind, message, ...}`.
pub fn error_json() -> Shape {
    let kinds = ErrorKind::ALL.map(ErrorKind::as_str).to_vec();
    Shape::new(
        "ErrorJson",
        "Core's canonical error JSON: what the vectors compare and what a host stores.",
        vec![
            Field::req(
                "code",
                Type::Str,
                "The stable code: iProov's `error` for API errors, else one of core's codes.",
            ),
            Field::opt(
                "status",
                Type::Int,
                "The HTTP status, where a response was involved.",
            ),
            Field::req(
                "kind",
                Type::Enum("ErrorKind", kinds),
                "The family, which names the class.",
            ),
            Field::req(
                "message",
                Type::Str,
                "A readable sentence, free of secrets.",
            ),
            Field::opt(
                "description",
                Type::Str,
                "iProov's `error_description`, when it gave one.",
            ),
            Field::opt("field", Type::Str, "The input (or config) field at fault."),
            Field::opt(
                "region",
                Type::Str,
                "The region the client was configured for (`invalid_key`).",
            ),
            Field::opt(
                "base_url",
                Type::Str,
                "The base URL the client was configured with, when it used one (`invalid_key`).",
            ),
            Field::opt(
                "retry_after_ms",
                Type::Int,
                "How long to wait before trying again, in milliseconds, when known.",
            ),
            Field::opt("path", Type::Str, "Where in the body decoding stopped."),
            Field::opt(
                "body_excerpt",
                Type::Str,
                "A bounded excerpt of the body, secrets redacted.",
            ),
            Field::opt(
                "operation",
                Type::Str,
                "The operation whose request or response failed, when known.",
            ),
            Field::opt(
                "limit",
                Type::Enum("", LIMITS.to_vec()),
                "Which limit of the journey service's policy (`limit_exceeded`).",
            ),
            Field::opt(
                "store_operation",
                Type::Str,
                "The store call that failed (`store_unavailable`).",
            ),
            Field::opt(
                "journey_id",
                Type::Str,
                "The journey concerned (`store_unavailable`).",
            ),
            Field::opt(
                "result",
                Type::Shape("JourneyFinished"),
                "The validated outcome a failed store could not take (`store_unavailable`).",
            ),
        ],
    )
}

/// Every class, parents before their children: the root, each family's class, and the
/// parents that name no family (`TransportError`).
pub fn error_classes() -> Vec<ErrorClass> {
    let mut pending: Vec<ErrorClass> = vec![ErrorClass {
        name: "TransportError",
        parent: Some("IProovError"),
        kind: None,
        doc: "The HTTP exchange itself failed (raised by the clients): the request could not be \
              sent, timed out, or the caller aborted it.",
        fields: vec![],
    }];
    pending.extend(ErrorKind::ALL.into_iter().map(|kind| ErrorClass {
        name: kind.class_name(),
        parent: Some(kind.parent_class_name()),
        kind: Some(kind),
        doc: class_doc(kind),
        fields: class_fields(kind),
    }));
    let mut ordered = vec![ErrorClass {
        name: "IProovError",
        parent: None,
        kind: None,
        doc: "Base of every error this package raises: `code` is the stable code (iProov's \
              `error` value for API errors), `status` the HTTP status where a response was \
              involved, `message` a sentence free of secrets; core's canonical error JSON comes \
              back from the host's `to_dict()` / `toJSON()`.",
        fields: vec![],
    }];
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|c| ordered.iter().any(|o| Some(o.name) == c.parent));
        match ready {
            Some(i) => ordered.push(pending.remove(i)),
            // A parent nobody defines: the tests fail on it; hosts get what is ordered.
            None => break,
        }
    }
    ordered
}

fn class_doc(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => {
            "An input failed a check before anything was built (or sent). Fix it; never retry as is."
        }
        ErrorKind::InvalidKey => {
            "Wrong API key or secret; usually a key used against another region than its own."
        }
        ErrorKind::RateLimited => {
            "429 `too_many_requests`: iProov's rate limit of the token endpoints was exceeded \
             (from the journey service also without a status: a token request held back until \
             iProov's `Retry-After`, nothing sent)."
        }
        ErrorKind::InvalidToken => {
            "The claim token is wrong, expired, already validated, or not streamed yet."
        }
        ErrorKind::OAuth => {
            "The OAuth step failed: `invalid_oauth`, `token_quota_exceeded`, `invalid_client`, ..."
        }
        ErrorKind::Server => "iProov reported a server error (5xx with an iProov error body).",
        ErrorKind::Api => {
            "An error iProov reported in its error body (`code` is its `error` value); also the \
             class of an error whose `kind` this version does not know."
        }
        ErrorKind::Decode => {
            "The response is not what the operation returns (not JSON, wrong shape, odd status, \
             too large)."
        }
        ErrorKind::OutcomeUnknown => {
            "The request may have reached iProov but its answer was lost. For validate: never \
             call validate again for that token; treat the attempt as inconclusive."
        }
        ErrorKind::Connection => {
            "The request could not be sent (DNS, connect, TLS), or the connection failed after \
             it was sent, after the advised retries."
        }
        ErrorKind::Timeout => "No complete answer in time, after the advised retries.",
        ErrorKind::Aborted => {
            "The caller aborted the call (an AbortSignal, a cancelled task). A validate aborted \
             after it was sent is an `OutcomeUnknownError` instead."
        }
        ErrorKind::InvalidState => {
            "A flow (journey, token manager) was driven out of order; its state is unchanged."
        }
        ErrorKind::LimitExceeded => {
            "A limit of the journey service's policy is reached; nothing was sent to iProov. Try \
             again after `retry_after_ms`, when the limit's window lets the next request through \
             (the web endpoints answer it 429 `too_many_attempts` with `Retry-After`)."
        }
        ErrorKind::StoreUnavailable => {
            "The journey service's store failed (its own error is this one's cause; its text, \
             which may quote a connection string, never goes in). Without `result`, nothing was \
             sent to iProov: try again later. With it, iProov answered a validate and `result` \
             is the outcome; it waits in the service's spool and reaches the store when it is back."
        }
    }
}

fn class_fields(kind: ErrorKind) -> Vec<Field> {
    match kind {
        ErrorKind::InvalidInput => vec![Field::req(
            "field",
            Type::Str,
            "The input (or config) field at fault.",
        )],
        ErrorKind::InvalidKey => vec![
            Field::opt(
                "region",
                Type::Str,
                "The region the client was configured for (absent for a custom base URL).",
            ),
            Field::opt(
                "base_url",
                Type::Str,
                "The base URL the client was configured with, when that is what it used.",
            ),
        ],
        ErrorKind::RateLimited => vec![Field::opt(
            "retry_after_ms",
            Type::Int,
            "How long iProov asked to wait, in milliseconds, when it said.",
        )],
        ErrorKind::Decode => vec![
            Field::opt(
                "path",
                Type::Str,
                "Where in the body decoding stopped, when known.",
            ),
            Field::opt(
                "body_excerpt",
                Type::Str,
                "A bounded excerpt of the body, secrets redacted.",
            ),
        ],
        ErrorKind::OutcomeUnknown => vec![Field::req(
            "operation",
            Type::Str,
            "The operation whose answer was lost.",
        )],
        ErrorKind::LimitExceeded => vec![
            Field::req(
                "limit",
                Type::Enum("", LIMITS.to_vec()),
                "Which limit of the policy was reached.",
            ),
            Field::opt(
                "retry_after_ms",
                Type::Int,
                "How long until the limit's window lets a request through, in milliseconds.",
            ),
        ],
        ErrorKind::StoreUnavailable => vec![
            Field::req(
                "store_operation",
                Type::Str,
                "The store call that failed: `get`, `insert`, `update`, `append_audit`, `forget`; \
                 outside a journey request, `journeys_of`, `audit_of` (a history) or \
                 `delete_expired`.",
            ),
            Field::opt(
                "journey_id",
                Type::Str,
                "The journey concerned, when known.",
            ),
            Field::opt(
                "result",
                Type::Shape("JourneyFinished"),
                "The validated outcome the store could not take; absent when nothing was sent.",
            ),
        ],
        _ => vec![],
    }
}

/// The README's error table, one row per code (or group of codes).
pub fn error_codes() -> Vec<ErrorCode> {
    use ErrorKind as K;
    let row = |codes, note, status, kind, when, fields| ErrorCode {
        codes,
        note,
        status,
        kind,
        when,
        fields,
    };
    vec![
        row(
            &["invalid_input"],
            "",
            "—",
            K::InvalidInput,
            "an input failed a check; nothing was sent",
            "`field`",
        ),
        row(
            &["invalid_key"],
            "",
            "401 (500 on the token endpoint)",
            K::InvalidKey,
            "wrong key or secret, or a key used against another region",
            "`region` or `base_url`",
        ),
        row(
            &["too_many_requests"],
            "",
            "429",
            K::RateLimited,
            "the token endpoints' rate limit (the journey service's held-back start: no status)",
            "`retry_after_ms` when `Retry-After` said",
        ),
        row(
            &["invalid_token"],
            "",
            "400",
            K::InvalidToken,
            "a wrong, expired or reused claim token, or validate before the capture finished",
            "`description`",
        ),
        row(
            crate::error::OAUTH_CODES,
            "",
            "400/401/403",
            K::OAuth,
            "the OAuth step failed",
            "`description`",
        ),
        row(
            &["server_error"],
            "(and any 5xx with an iProov body)",
            "5xx",
            K::Server,
            "iProov failed",
            "`description`",
        ),
        row(
            &[
                "already_enrolled",
                "no_user",
                "inactive_user",
                "invalid_user_id",
                "invalid_validation",
                "invalid_assurance_type",
                "invalid_risk_appetite",
                "invalid_enrol_image",
                "invalid_source",
                "invalid_reason",
                "missing_data",
                "invalid_request",
            ],
            "(and any other iProov `error`; and an error whose `kind` a host does not know)",
            "its status",
            K::Api,
            "iProov refused the request; the code is kept verbatim",
            "`description`",
        ),
        row(
            &["decode_error"],
            "",
            "the response's",
            K::Decode,
            "the body is not what the operation returns (HTML 502, truncated JSON, wrong types)",
            "`path`, `body_excerpt` (secrets redacted)",
        ),
        row(
            &["unexpected_status"],
            "",
            "the response's",
            K::Decode,
            "a status the operation does not define (302, 418) with no iProov body",
            "`body_excerpt`",
        ),
        row(
            &["body_too_large"],
            "",
            "the response's",
            K::Decode,
            "a body over 16 MiB",
            "—",
        ),
        row(
            &["outcome_unknown"],
            "",
            "—",
            K::OutcomeUnknown,
            "a request that must not be repeated (validate above all) may have reached iProov, but no answer came",
            "`operation`",
        ),
        row(
            &["connection_error"],
            "",
            "—",
            K::Connection,
            "the request could not be sent (DNS, connect, TLS), or the connection failed after it was sent (the message says which), after the advised retries",
            "—",
        ),
        row(
            &["timeout"],
            "",
            "—",
            K::Timeout,
            "no complete answer before the deadline, after the advised retries",
            "—",
        ),
        row(
            &["aborted"],
            "",
            "—",
            K::Aborted,
            "the caller aborted the call (a validate aborted after sending is `outcome_unknown`)",
            "—",
        ),
        row(
            &["invalid_state"],
            "",
            "—",
            K::InvalidState,
            "a flow was driven out of order (a second validate of a token, a 4th attempt), or another request of the same journey is in progress",
            "—",
        ),
        row(
            &["limit_exceeded"],
            "",
            "—",
            K::LimitExceeded,
            "a limit of the journey service's policy (above)",
            "`limit`, `retry_after_ms`",
        ),
        row(
            &["store_unavailable"],
            "",
            "—",
            K::StoreUnavailable,
            "the journey service's store failed (above)",
            "`store_operation`, `journey_id`, `result` (the validated outcome, when iProov had answered)",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::shapes;
    use super::*;
    use crate::error::{Error, ErrorData, codes};
    use serde_json::json;

    fn keys(error: &Error) -> Vec<String> {
        let mut keys: Vec<String> = error
            .to_json()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_error_shape_lists_exactly_what_core_serializes() {
        let text = || Some("x".to_owned());
        let every = Error(Box::new(ErrorData {
            code: "c".into(),
            status: Some(500),
            kind: "store_unavailable",
            message: "m".into(),
            description: text(),
            field: text(),
            region: text(),
            base_url: text(),
            retry_after_ms: Some(1),
            path: text(),
            body_excerpt: text(),
            operation: Some("get_user"),
            limit: Some("attempts".into()),
            store_operation: text(),
            journey_id: text(),
            result: Some(
                json!({"journey_id": "j", "passed": true, "attempts_left": 2, "next": "done"}),
            ),
        }));
        let shape = error_json();
        let mut names: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
        names.sort_unstable();
        assert_eq!(keys(&every), names);
        shape.check(&every.to_json(), &shapes()).unwrap();
        let required: Vec<&str> = shape
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        let mut bare = keys(&Error::invalid_state("x"));
        bare.sort_unstable();
        let mut required = required;
        required.sort_unstable();
        assert_eq!(bare, required);
    }

    #[test]
    fn every_family_has_its_class_after_its_parent() {
        let classes = error_classes();
        for kind in ErrorKind::ALL {
            let class = classes.iter().find(|c| c.kind == Some(kind)).unwrap();
            assert_eq!(class.name, kind.class_name());
            assert_eq!(class.parent, Some(kind.parent_class_name()));
        }
        assert_eq!(
            classes.len(),
            ErrorKind::ALL.len() + 2,
            "the root, TransportError"
        );
        for (i, class) in classes.iter().enumerate().skip(1) {
            assert!(
                classes[..i].iter().any(|c| Some(c.name) == class.parent),
                "{}",
                class.name
            );
        }
        // A class's own fields are fields of the error JSON (their type may be narrower).
        let json = error_json();
        for class in &classes {
            for field in &class.fields {
                assert!(
                    json.field(field.name).is_some(),
                    "{}.{}",
                    class.name,
                    field.name
                );
            }
        }
        assert_eq!(
            ErrorKind::of_name("from_a_newer_core").class_name(),
            "ApiError"
        );
        assert_eq!(ErrorKind::of_name(""), ErrorKind::UNKNOWN);
    }

    #[test]
    fn each_code_of_the_table_is_of_its_family() {
        for row in error_codes() {
            for code in row.codes {
                let error = match *code {
                    codes::INVALID_INPUT => Error::invalid_input("f", "x"),
                    codes::DECODE_ERROR => Error::decode(200, "x", None),
                    codes::UNEXPECTED_STATUS => Error::unexpected_status(418),
                    codes::BODY_TOO_LARGE => Error::body_too_large(200, 2, 1),
                    codes::OUTCOME_UNKNOWN => Error::outcome_unknown("get_user", "x"),
                    codes::CONNECTION_ERROR => Error::connection("x"),
                    codes::TIMEOUT => Error::timeout("x"),
                    codes::ABORTED => Error::aborted("x"),
                    codes::INVALID_STATE => Error::invalid_state("x"),
                    codes::LIMIT_EXCEEDED => Error::limit_exceeded("attempts", None, "x"),
                    codes::STORE_UNAVAILABLE => Error::store_unavailable("get", None, None),
                    api => {
                        let status = row.status.get(..3).and_then(|s| s.parse().ok());
                        Error::api(api, status.unwrap_or(400), None)
                    }
                };
                assert_eq!(error.code(), *code);
                assert_eq!(error.kind(), row.kind, "{code}");
            }
        }
        // Every family appears.
        for kind in ErrorKind::ALL.into_iter().filter(|k| *k != ErrorKind::Api) {
            assert!(error_codes().iter().any(|r| r.kind == kind), "{kind:?}");
        }
    }
}
