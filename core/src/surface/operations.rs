//! Each operation's request line, doc, input and result: what hosts generate their
//! per-operation functions and client methods from (`build_verify_token`, `verifyToken`).
//!
//! An input shape names the fields `operation::build` accepts for the operation (the vector
//! format), in the order hosts take them; the tests check them against the input structs (a
//! field the struct adds or drops fails them) and the request line against what core builds.

use super::{Field, Shape, Type};
use crate::operation::Operation;
use crate::ops::claim::AssuranceType;
use crate::ops::enrol_image::ImageSource;
use crate::ops::oauth::Scope;

/// One operation as hosts present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSurface {
    /// The operation.
    pub operation: Operation,
    /// Its request line, `POST /claim/enrol/token` (path parameters in braces).
    pub http: &'static str,
    /// What a call gives, for the client method's and the build function's docs.
    pub doc: &'static str,
    /// Its input (the vector format's fields).
    pub input: Shape,
    /// The name of its result's shape ([`super::results`]).
    pub result: &'static str,
}

fn claim_input() -> Shape {
    Shape::new(
        "ClaimInput",
        "What a claim token request needs besides the credentials.",
        vec![
            Field::req(
                "user_id",
                Type::Str,
                "The generated, non-identifying user ID (required).",
            ),
            Field::req(
                "resource",
                Type::Str,
                "What is being accessed, e.g. `User onboarding` (non-blank).",
            ),
            Field::opt(
                "assurance_type",
                Type::Enum(
                    "AssuranceType",
                    AssuranceType::ALL.map(AssuranceType::as_str).to_vec(),
                ),
                "Genuine Presence (iProov's default) or Liveness.",
            ),
            Field::opt(
                "risk_profile",
                Type::Str,
                "A risk profile provisioned for the service provider.",
            ),
        ],
    )
}

fn validate_input(enrol: bool) -> Shape {
    let mut fields = vec![
        Field::req("user_id", Type::Str, "The user the token was issued for."),
        Field::req("token", Type::Str, "The claim token the SDK used."),
        Field::req(
            "client",
            Type::Str,
            "An identifier of the end user's device, e.g. its browser's User-Agent.",
        ),
        Field::opt(
            "risk_profile",
            Type::Str,
            "The risk profile of the claim, if it had one.",
        ),
    ];
    if enrol {
        fields.push(Field::opt(
            "activate",
            Type::Bool,
            "`false` leaves the new user suspended (iProov: `true`).",
        ));
        return Shape::new(
            "EnrolValidateInput",
            "What an enrol validate needs.",
            fields,
        );
    }
    Shape::new(
        "VerifyValidateInput",
        "What a verify validate needs.",
        fields,
    )
}

fn user_input() -> Shape {
    Shape::new(
        "UserInput",
        "A user of the management API.",
        vec![Field::req("user_id", Type::Str, "The user.")],
    )
}

fn user_state_input() -> Shape {
    Shape::new(
        "UserStateInput",
        "Activate or suspend a user.",
        vec![
            Field::req("user_id", Type::Str, "The user to change."),
            Field::opt(
                "date_time",
                Type::Str,
                "When the change takes effect (UTC, `2024-05-01T12:30:00.000Z`); now when absent.",
            ),
        ],
    )
}

/// Every operation, in [`Operation::ALL`]'s order.
pub fn operations() -> Vec<OperationSurface> {
    Operation::ALL.into_iter().map(surface).collect()
}

fn surface(operation: Operation) -> OperationSurface {
    use Operation as Op;
    let (http, doc, input, result) = match operation {
        Op::EnrolToken => (
            "POST /claim/enrol/token",
            "An enrol claim token for a user who is not enrolled yet.",
            claim_input(),
            "ClaimToken",
        ),
        Op::VerifyToken => (
            "POST /claim/verify/token",
            "A verify claim token for an enrolled, active user.",
            claim_input(),
            "ClaimToken",
        ),
        Op::EnrolImage => (
            "POST /claim/enrol/image",
            "Photo enrol: registers a trusted image (PNG, JPEG, JPEG 2000, at most 2 MB) against an enrol token.",
            Shape::new(
                "EnrolImageInput",
                "What a photo enrol needs.",
                vec![
                    Field::req("token", Type::Str, "The enrol token."),
                    Field::req(
                        "source",
                        Type::OpenEnum(ImageSource::ALL.map(ImageSource::as_str).to_vec()),
                        "Where the image came from, in any case (`EID` too); others are refused.",
                    ),
                    Field::req("image", Type::Bytes, "The PNG, JPEG or JPEG 2000 bytes."),
                    Field::opt("rotation", Type::Int, "Only 0 is supported by iProov."),
                ],
            ),
            "EnrolImageResult",
        ),
        Op::EnrolValidate => (
            "POST /claim/enrol/validate",
            "The enrol outcome, once per token (never retried once it may have reached iProov).",
            validate_input(true),
            "ValidateResult",
        ),
        Op::VerifyValidate => (
            "POST /claim/verify/validate",
            "The verify outcome, once per token (never retried once it may have reached iProov).",
            validate_input(false),
            "ValidateResult",
        ),
        Op::AccessToken => (
            "POST /{api_key}/access_token",
            "An OAuth access token (the users calls get and reuse theirs by themselves).",
            Shape::new(
                "AccessTokenInput",
                "What an access token request may ask for.",
                vec![Field::opt(
                    "scope",
                    Type::list(Type::Enum("", Scope::ALL.map(Scope::as_str).to_vec())),
                    "The scopes to ask for; every scope the credentials allow when absent.",
                )],
            ),
            "AccessToken",
        ),
        Op::ActivateUser => (
            "POST /users/{user_id}/activate",
            "Activates a user (now, or at `date_time`).",
            user_state_input(),
            "User",
        ),
        Op::SuspendUser => (
            "POST /users/{user_id}/suspend",
            "Suspends a user (now, or at `date_time`).",
            user_state_input(),
            "User",
        ),
        Op::GetUser => (
            "GET /users/{user_id}",
            "A user's status and dates.",
            user_input(),
            "User",
        ),
        Op::UpdateUser => (
            "PUT /users/{user_id}",
            "Renames a user and/or sets its display name.",
            Shape::new(
                "UpdateUserInput",
                "A user's new id, display name, or both.",
                vec![
                    Field::req("user_id", Type::Str, "The user to change."),
                    Field::opt("new_user_id", Type::Str, "Its new user_id."),
                    Field::opt("name", Type::Str, "Its new display name."),
                ],
            ),
            "User",
        ),
        Op::DeleteUser => (
            "DELETE /users/{user_id}",
            "Deletes a user.",
            user_input(),
            "User",
        ),
        Op::InvalidateClaim => (
            "POST /claim/{token}/invalidate",
            "Stops the SDK from starting or continuing with a token.",
            Shape::new(
                "InvalidateInput",
                "What an invalidate needs.",
                vec![
                    Field::req("token", Type::Str, "The claim token to invalidate."),
                    Field::req(
                        "reason",
                        Type::Str,
                        "Text shown to the user: 1-800 letters, digits, spaces and `_.:=()'\"/`.",
                    ),
                ],
            ),
            "InvalidateResult",
        ),
        Op::Availability => (
            "GET /availability",
            "Whether iProov's service is up for this key.",
            Shape::new("AvailabilityInput", "Availability takes no input.", vec![]),
            "Availability",
        ),
    };
    OperationSurface {
        operation,
        http,
        doc,
        input,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{JsonConfig, build};
    use serde_json::{Value, json};

    const USER: &str = "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b";

    /// A value each field accepts (every check of the operation passes).
    fn sample(field: &Field) -> Value {
        match (field.name, &field.ty) {
            ("user_id" | "new_user_id", _) => json!(USER),
            ("date_time", _) => json!("2024-05-01T12:30:00.000Z"),
            ("image", _) => json!({"base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"}),
            ("rotation", _) => json!(0),
            (_, Type::Enum(_, values) | Type::OpenEnum(values)) => json!(values[0]),
            (_, Type::List(item)) => match &**item {
                Type::Enum(_, values) => json!([values[0]]),
                other => panic!("no sample for a list of {other:?}"),
            },
            (_, Type::Bool) => json!(true),
            (_, Type::Str) => json!("Onboarding"),
            (name, ty) => panic!("no sample for {name}: {ty:?}"),
        }
    }

    fn config() -> JsonConfig {
        JsonConfig::from_json(&json!({"region": "eu", "api_key": "key", "secret": "sec",
            "oauth_username": "u", "oauth_password": "p", "access_token": "at"}))
        .unwrap()
    }

    fn full_input(op: &OperationSurface) -> serde_json::Map<String, Value> {
        op.input
            .fields
            .iter()
            .map(|f| (f.name.to_owned(), sample(f)))
            .collect()
    }

    #[test]
    fn every_input_field_is_accepted_and_each_required_one_is_needed() {
        for op in operations() {
            let full = full_input(&op);
            build(op.operation, &config(), &Value::Object(full.clone()))
                .unwrap_or_else(|e| panic!("{}: {e:?}", op.operation));
            for field in op.input.fields.iter().filter(|f| f.required) {
                let mut without = full.clone();
                without.remove(field.name);
                let error = build(op.operation, &config(), &Value::Object(without)).unwrap_err();
                assert_eq!(
                    error.field(),
                    Some(field.name),
                    "{}: {error:?}",
                    op.operation
                );
            }
        }
    }

    #[test]
    fn no_input_field_is_missing_from_the_table() {
        for op in operations() {
            let mut input = full_input(&op);
            input.insert("zz_not_a_field".into(), json!(1));
            let result = build(op.operation, &config(), &Value::Object(input));
            if op.operation == Operation::Availability {
                // Availability reads no input at all.
                assert!(result.is_ok() && op.input.fields.is_empty());
                continue;
            }
            // serde names every field the struct reads: "expected one of `a`, `b`".
            let error = result.unwrap_err();
            let message = error.message();
            let expected = message.split("expected").nth(1).unwrap_or_default();
            let read: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            for field in &op.input.fields {
                assert!(read.contains(&field.name), "{}: {message}", op.operation);
            }
            // A field the struct reads that the table leaves out is one the operation refuses
            // (verify's validate reads enrol's `activate` only to refuse it by name).
            for name in read.iter().filter(|n| op.input.field(n).is_none()) {
                let mut input = full_input(&op);
                input.insert((*name).to_owned(), json!(true));
                let error = build(op.operation, &config(), &Value::Object(input)).unwrap_err();
                assert_eq!(error.field(), Some(*name), "{}: {error:?}", op.operation);
            }
            assert!(!read.is_empty(), "{}: {message}", op.operation);
        }
    }

    #[test]
    fn each_request_line_is_what_core_builds() {
        for op in operations() {
            let request = build(op.operation, &config(), &Value::Object(full_input(&op))).unwrap();
            let (method, template) = op.http.split_once(' ').unwrap();
            assert_eq!(request.method.as_str(), method, "{}", op.operation);
            let path = template
                .replace("{user_id}", USER)
                .replace("{api_key}", "key")
                .replace("{token}", "Onboarding");
            let url = request.url.split('?').next().unwrap();
            assert_eq!(
                url,
                format!("https://eu.rp.secure.iproov.me/api/v2{path}"),
                "{}",
                op.operation
            );
        }
    }
}
