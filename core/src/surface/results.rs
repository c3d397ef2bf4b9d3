//! The result shapes: the canonical JSON each operation's parse gives (`operation::parse`),
//! which every host wraps in a typed result of the same name. The tests serialize each result
//! struct with every field set and with none set, so the table lists exactly what core writes.

use super::{Field, Shape, Type};

/// Every result shape, nested ones (`Fallback`, `FrameQuality`) before the results holding them.
pub fn results() -> Vec<Shape> {
    vec![
        Shape::new(
            "Fallback",
            "User-facing fallback information of a claim.",
            vec![
                Field::opt(
                    "type",
                    Type::Str,
                    "The kind of fallback, e.g. `Info` (absent in the older string-only shape).",
                ),
                Field::opt("message", Type::Str, "The text to show the user."),
            ],
        ),
        Shape::new(
            "ClaimToken",
            "A claim token for one attempt (enrol or verify token): hand `token` to the SDK.",
            vec![
                Field::req(
                    "token",
                    Type::Str,
                    "The claim token (also the transaction id) for the SDK.",
                ),
                Field::opt(
                    "fallback",
                    Type::list(Type::Shape("Fallback")),
                    "User-facing fallback information.",
                ),
                Field::opt(
                    "primary",
                    Type::Str,
                    "Undocumented by iProov; kept verbatim.",
                ),
                Field::opt("user_id", Type::Str, "The user the token is tied to."),
                Field::opt(
                    "pod",
                    Type::Str,
                    "The pod serving the claim, e.g. `edge02.eu4`.",
                ),
                Field::opt("risk_profile", Type::Str, "The risk profile applied."),
                Field::opt(
                    "redirect_domain",
                    Type::Str,
                    "Deprecated in API 2.13; kept when sent.",
                ),
            ],
        ),
        Shape::new(
            "EnrolImageResult",
            "The answer to a photo enrol.",
            vec![
                Field::req("success", Type::Bool, "Whether the image was registered."),
                Field::opt("token", Type::Str, "The enrol token, echoed."),
                Field::opt("user_id", Type::Str, "The enrolled user."),
            ],
        ),
        Shape::new(
            "FrameQuality",
            "Image-quality signals of a validate (`not_available`, `Good`, `Acceptable`, `Poor`).",
            vec![
                Field::opt("blur", Type::Str, "Blur, on the scale above."),
                Field::opt("pose", Type::Str, "Pose, on the same scale."),
                Field::opt("lighting", Type::Str, "Lighting, on the same scale."),
            ],
        ),
        Shape::new(
            "ValidateResult",
            "The authoritative outcome of a validate: `passed: false` is a result, never an error.",
            vec![
                Field::req("passed", Type::Bool, "The authoritative outcome."),
                Field::opt("token", Type::Str, "The token, echoed."),
                Field::opt("type", Type::Str, "`enrol` or `verify`."),
                Field::opt(
                    "frame_available",
                    Type::Bool,
                    "Whether a frame can be returned.",
                ),
                Field::opt("frame", Type::Str, "The captured frame, base64 PNG.").hidden(),
                Field::opt("frame_jpeg", Type::Str, "The captured frame, base64 JPEG.").hidden(),
                Field::opt(
                    "iso_19794_5",
                    Type::Str,
                    "API 2.11 only: the ISO 19794-5 image, base64.",
                )
                .hidden(),
                Field::opt(
                    "reason",
                    Type::Str,
                    "Why it failed, when enabled for the service provider.",
                ),
                Field::opt("risk_profile", Type::Str, "The risk profile applied."),
                Field::opt(
                    "assurance_type",
                    Type::Str,
                    "The assurance type actually used.",
                ),
                Field::opt(
                    "signals",
                    Type::Object,
                    "The signals object, verbatim (its shape differs between spec and docs).",
                )
                .hidden(),
                Field::opt(
                    "return_frame_quality",
                    Type::Shape("FrameQuality"),
                    "Frame-quality signals.",
                )
                .hidden(),
            ],
        ),
        Shape::new(
            "AccessToken",
            "An OAuth access token: shown redacted everywhere, read through its accessor only.",
            vec![
                Field::req(
                    "access_token",
                    Type::Str,
                    "The bearer token, in clear: hand it on, never log it.",
                )
                .secret(),
                Field::opt("token_type", Type::Str, "`Bearer`."),
                Field::opt(
                    "expires_in",
                    Type::Int,
                    "Seconds the token lives (iProov: 3600).",
                ),
                Field::opt("scope", Type::list(Type::Str), "The granted scopes."),
            ],
        ),
        Shape::new(
            "User",
            "A user as iProov reports it.",
            vec![
                Field::req("user_id", Type::Str, "The user's id."),
                Field::req(
                    "status",
                    Type::OpenEnum(vec!["active", "inactive", "suspended", "deleted"]),
                    "The status, lowercased (iProov sends either case).",
                ),
                Field::opt("name", Type::Str, "The display name."),
                Field::opt(
                    "suspension_date",
                    Type::Str,
                    "When the user was (or will be) suspended.",
                ),
                Field::opt(
                    "activation_date",
                    Type::Str,
                    "When the user was (or will be) activated.",
                ),
            ],
        ),
        Shape::new(
            "InvalidateResult",
            "The answer to an invalidate.",
            vec![
                Field::req(
                    "claim_aborted",
                    Type::Bool,
                    "Whether the claim was invalidated.",
                ),
                Field::opt("user_informed", Type::Bool, "Whether the user was told."),
            ],
        ),
        Shape::new(
            "Availability",
            "Whether iProov's service is up for this key.",
            vec![Field::req("up", Type::Bool, "Whether the service is up.")],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::{find, operations, shapes};
    use super::*;
    use crate::json_value::to_json_value;
    use crate::ops::claim::ClaimToken;
    use crate::ops::enrol_image::EnrolImageResult;
    use crate::ops::invalidate::InvalidateResult;
    use crate::ops::oauth::AccessToken;
    use crate::ops::users::User;
    use crate::ops::validate::{FrameQuality, ValidateResult};
    use crate::{Fallback, Secret};
    use serde_json::Value;

    fn text() -> Option<String> {
        Some("x".to_owned())
    }

    /// Each result struct with every field set (`Some`) and with none set.
    fn serialized(full: bool) -> Vec<(&'static str, Value)> {
        let o = |v: Option<String>| if full { v } else { None };
        let quality = FrameQuality {
            blur: o(text()),
            pose: o(text()),
            lighting: o(text()),
        };
        let fallback = Fallback {
            kind: o(text()),
            message: o(text()),
        };
        vec![
            ("Fallback", to_json_value(&fallback)),
            ("FrameQuality", to_json_value(&quality)),
            (
                "ClaimToken",
                to_json_value(&ClaimToken {
                    token: "t".into(),
                    fallback: full.then(|| vec![fallback.clone()]),
                    primary: o(text()),
                    user_id: o(text()),
                    pod: o(text()),
                    risk_profile: o(text()),
                    redirect_domain: o(text()),
                }),
            ),
            (
                "EnrolImageResult",
                to_json_value(&EnrolImageResult {
                    success: true,
                    token: o(text()),
                    user_id: o(text()),
                }),
            ),
            (
                "ValidateResult",
                to_json_value(&ValidateResult {
                    passed: true,
                    token: o(text()),
                    kind: o(text()),
                    frame_available: full.then_some(true),
                    frame: o(text()),
                    frame_jpeg: o(text()),
                    iso_19794_5: o(text()),
                    reason: o(text()),
                    risk_profile: o(text()),
                    assurance_type: o(text()),
                    signals: full.then(serde_json::Map::new),
                    return_frame_quality: full.then_some(quality),
                }),
            ),
            (
                "AccessToken",
                to_json_value(&AccessToken {
                    access_token: Secret::new("at"),
                    token_type: o(text()),
                    expires_in: full.then_some(3600),
                    scope: full.then(|| vec!["user-read".to_owned()]),
                }),
            ),
            (
                "User",
                to_json_value(&User {
                    user_id: "u".into(),
                    name: o(text()),
                    status: "active".into(),
                    suspension_date: o(text()),
                    activation_date: o(text()),
                }),
            ),
            (
                "InvalidateResult",
                to_json_value(&InvalidateResult {
                    claim_aborted: true,
                    user_informed: full.then_some(true),
                }),
            ),
            (
                "Availability",
                to_json_value(&crate::ops::availability::Availability { up: true }),
            ),
        ]
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(|k| &**k).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn each_result_shape_lists_exactly_what_core_serializes() {
        let all = shapes();
        let table = results();
        assert_eq!(serialized(true).len(), table.len());
        for (full, minimal) in serialized(true).into_iter().zip(serialized(false)) {
            let shape = find(&table, full.0).unwrap();
            let mut every: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
            let mut required: Vec<&str> = shape
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            every.sort_unstable();
            required.sort_unstable();
            assert_eq!(keys(&full.1), every, "{}", shape.name);
            assert_eq!(keys(&minimal.1), required, "{}", shape.name);
            shape.check(&full.1, &all).unwrap();
        }
    }

    #[test]
    fn every_operation_names_a_result_shape() {
        for op in operations() {
            assert!(find(&results(), op.result).is_some(), "{}", op.operation);
        }
    }
}
