//! The journey service's tables: its policy (defaults from [`ServicePolicy::default`]), the
//! answers its requests give (`start`, `finish`, `exit`, `forget`) and the audit record of
//! every call (`flows::audit`). The policy and the record are tied to their structs here; the
//! answers by `core/tests/service.rs`, which checks every answer of every pump it runs.

use super::{Field, Shape, Type};
use crate::flows::AuditOutcome;
use crate::operation::Operation;
use crate::service::{AttemptState, EXIT_EVENTS};

/// What `next` says after an attempt: the journey passed, another attempt may start, or the
/// attempts are used up.
pub const NEXT: [&str; 3] = ["done", "start_attempt", "exhausted"];

/// The service's policy as a host gives it: every field optional, core's default when absent.
pub fn policy() -> Shape {
    let int = |name, doc| Field::opt(name, Type::Int, doc);
    Shape::new(
        "ServicePolicy",
        "The journey service's limits; every field optional (core's default when absent), \
         checked when the service is made (`InvalidInputError` naming the field).",
        vec![
            int(
                "max_attempts",
                "Attempts a user has at one flow within `attempt_window_ms` (a reload or a new \
                 journey does not reset them).",
            ),
            int(
                "attempt_window_ms",
                "How long a user's attempts at a flow count, from the first one, in ms.",
            ),
            int(
                "user_token_requests",
                "Token requests (each billable) one user may cause in `token_window_ms`.",
            ),
            int("token_window_ms", "The window of `user_token_requests`, in ms."),
            int(
                "service_token_requests",
                "Token requests the whole service may make in `service_window_ms` (unset: no budget).",
            )
            .nullable(),
            int("service_window_ms", "The window of `service_token_requests`, in ms."),
            int(
                "token_ttl_ms",
                "A token not validated this long after it was issued is expired, in ms.",
            ),
            int(
                "stale_validate_ms",
                "A validate begun this long ago whose outcome was never written is outcome \
                 unknown; derived from the client when absent (shorter than its validate's \
                 longest run is refused).",
            )
            .nullable(),
            int(
                "retention_ms",
                "How long a journey (and a user's record) is kept after its last change, in ms.",
            ),
            Field::opt(
                "resource",
                Type::Str,
                "The `resource` sent with every token request.",
            ),
        ],
    )
}

/// The answers, the audit record and the policy.
pub fn shapes() -> Vec<Shape> {
    let state = Type::Enum(
        "AttemptState",
        AttemptState::ALL.map(AttemptState::as_str).to_vec(),
    );
    let int = |name, doc| Field::req(name, Type::Int, doc);
    vec![
        policy(),
        Shape::new(
            "JourneyStarted",
            "A token for iProov's SDK (the same one again while its attempt is open).",
            vec![
                Field::req("journey_id", Type::Str, "The journey, for `finish`."),
                Field::req("token", Type::Str, "The claim token for the SDK."),
                Field::req(
                    "sdk_url",
                    Type::Str,
                    "The region's streaming (wss) URL for the SDK.",
                ),
                int("attempt", "The attempt's number, 1 for the first."),
                int("attempts_left", "Attempts left after this one."),
            ],
        ),
        Shape::new(
            "JourneyFinished",
            "An attempt's outcome, or a journey that is over.",
            vec![
                Field::req("journey_id", Type::Str, "The journey."),
                Field::req(
                    "passed",
                    Type::Bool,
                    "Whether the attempt (the journey) passed.",
                ),
                int("attempts_left", "Attempts left in the journey's window."),
                Field::req(
                    "next",
                    Type::Enum("JourneyNext", NEXT.to_vec()),
                    "`done` (passed), `start_attempt` (another may start) or `exhausted`.",
                ),
                Field::opt("attempt", Type::Int, "The attempt's number."),
                Field::opt("state", state, "Where the attempt stands."),
                Field::opt("reason", Type::Str, "iProov's reason for a failed attempt."),
                Field::opt(
                    "error_code",
                    Type::Str,
                    "The error's code for an `error` or `outcome_unknown` attempt.",
                ),
                Field::opt(
                    "retry_after_ms",
                    Type::Int,
                    "`exhausted`: when the window lets a new journey start, in ms from now.",
                ),
            ],
        ),
        Shape::new(
            "JourneyForgotten",
            "What `forget` erased.",
            vec![
                int("journeys", "Journeys erased from the store."),
                int("audit_records", "Audit records erased from the store."),
                Field::req(
                    "at_iproov",
                    Type::Enum("", vec!["deleted", "absent", "not_asked"]),
                    "What became of the user at iProov.",
                ),
            ],
        ),
        audit_record(),
    ]
}

/// The SDK's events that end an attempt without a capture (`exit`'s `event`).
pub fn exit_events() -> Vec<&'static str> {
    EXIT_EVENTS.iter().map(|(event, _)| *event).collect()
}

fn audit_record() -> Shape {
    let ops = Operation::ALL.map(Operation::name).to_vec();
    let opt_int = |name, doc| Field::opt(name, Type::Int, doc);
    Shape::new(
        "AuditRecord",
        "Core's audit record of one request or call outcome (free of secrets).",
        vec![
            Field::req("operation", Type::Enum("Operation", ops), "The operation."),
            Field::opt("user_id", Type::Str, "The user."),
            Field::opt("token", Type::Str, "The claim token."),
            opt_int("attempt", "The journey's attempt number."),
            Field::req("at_ms", Type::Int, "When, Unix ms."),
            Field::req(
                "at",
                Type::Str,
                "The same instant as RFC 3339 UTC with milliseconds.",
            ),
            Field::req(
                "outcome",
                Type::Enum(
                    "AuditOutcome",
                    AuditOutcome::ALL.map(AuditOutcome::as_str).to_vec(),
                ),
                "How it ended.",
            ),
            Field::opt(
                "result",
                Type::Object,
                "The result's fields, scrubbed (success only).",
            ),
            Field::opt(
                "error",
                Type::Shape("ErrorJson"),
                "The error's canonical JSON (failure only).",
            ),
            opt_int(
                "status",
                "The HTTP status of the answer the record ends with.",
            ),
            opt_int(
                "duration_ms",
                "How long the send the record ends took, in ms.",
            ),
            opt_int("sends", "How many times the request was sent so far."),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::super::{find, shapes as all_shapes};
    use super::*;
    use crate::flows::{AuditContext, AuditRecord};
    use crate::service::ServicePolicy;
    use serde_json::{Value, json};

    fn sorted_keys(value: &Value) -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort_unstable();
        keys
    }

    fn names(shape: &Shape) -> Vec<String> {
        let mut names: Vec<String> = shape.fields.iter().map(|f| f.name.to_owned()).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn the_policy_shape_is_the_policy_struct() {
        let shape = policy();
        let all = all_shapes();
        let set = ServicePolicy {
            service_token_requests: Some(5),
            stale_validate_ms: Some(100_000),
            ..ServicePolicy::default()
        };
        assert_eq!(sorted_keys(&set.to_json()), names(&shape));
        shape.check(&set.to_json(), &all).unwrap();
        shape
            .check(&ServicePolicy::default().to_json(), &all)
            .unwrap();
        // Each field is read (deny_unknown_fields names them all).
        let error = ServicePolicy::from_json(&json!({"zz": 1})).unwrap_err();
        let mut accepted: Vec<String> = error
            .message()
            .split("expected")
            .nth(1)
            .unwrap_or_default()
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        accepted.sort_unstable();
        assert_eq!(accepted, names(&shape));
    }

    #[test]
    fn the_audit_record_shape_is_the_record_struct() {
        let context = AuditContext {
            user_id: Some("u".into()),
            token: Some("t".into()),
            attempt: Some(1),
            include_frame: false,
        };
        let mut record = AuditRecord::success(
            Operation::VerifyValidate,
            &context,
            &json!({"passed": true}),
            1_714_566_600_000,
        );
        record.error = Some(crate::Error::timeout("x").to_json());
        record.status = Some(200);
        record.duration_ms = Some(5);
        record.sends = Some(1);
        let all = all_shapes();
        let shape = find(&all, "AuditRecord").unwrap();
        assert_eq!(sorted_keys(&record.to_json()), names(shape));
        shape.check(&record.to_json(), &all).unwrap();
    }
}
