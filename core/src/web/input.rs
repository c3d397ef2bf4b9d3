//! The checks a browser's request passes before the journey service is called, and what the
//! service is called with.

use super::{Code, MAX_BODY_BYTES};
use serde_json::{Map, Value, json};

/// What a route calls once the request passed its checks: JSON `{"route": "token", "user_id",
/// "flow", "journey_id"?}`, `{"route": "validate", "user_id", "journey_id", "token", "client"}`,
/// `{"route": "exit", "user_id", "journey_id", "token", "event", "feedback"?, "client"}` (the
/// SDK ended the attempt without a capture) or `{"route": "emulator_complete", "token",
/// "claim": {"passed", "reason"?}}`.
pub type Input = Value;

fn text<'a>(facts: &'a Value, name: &str) -> Option<&'a str> {
    facts.get(name).and_then(Value::as_str)
}

/// The request's headers and size against the rules, in this order: an `Origin` from
/// `allowed_origins` (`null`: only `own_origin`, the scheme and Host the server sees; a
/// trailing `/` is ignored on both sides) else `forbidden_origin`; `Content-Type:
/// application/json` (any parameters) else `unsupported_media_type`; at most
/// [`MAX_BODY_BYTES`] of body else `payload_too_large`.
///
/// `facts`: `{"origin": str | null, "own_origin": str, "allowed_origins": [str] | null,
/// "content_type": str | null, "body_bytes": int}` (a host may stop reading a body once it has
/// more than [`MAX_BODY_BYTES`]).
pub fn check_request(facts: &Value) -> Result<(), Code> {
    let origin = text(facts, "origin").map(|o| o.trim_end_matches('/'));
    let allowed = match facts.get("allowed_origins").and_then(Value::as_array) {
        Some(list) => origin.is_some_and(|o| {
            list.iter()
                .filter_map(Value::as_str)
                .any(|a| a.trim_end_matches('/') == o)
        }),
        None => origin.is_some() && origin == text(facts, "own_origin"),
    };
    if !allowed {
        return Err(Code::ForbiddenOrigin);
    }
    let media = text(facts, "content_type").unwrap_or("");
    let media = media.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(Code::UnsupportedMediaType);
    }
    let size = facts.get("body_bytes").and_then(Value::as_u64).unwrap_or(0);
    if usize::try_from(size).map_or(true, |n| n > MAX_BODY_BYTES) {
        return Err(Code::PayloadTooLarge);
    }
    Ok(())
}

/// A claim token as iProov and the emulator write them (only the stand-in's route checks it:
/// it goes into the emulator's URL).
fn is_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The request's User-Agent, the `client` iProov's validate asks for (`"unknown"` without one).
fn client(facts: &Value) -> &str {
    let agent = text(facts, "user_agent").unwrap_or("").trim();
    if agent.is_empty() { "unknown" } else { agent }
}

fn is_reason(reason: &str) -> bool {
    (1..=64).contains(&reason.len()) && reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The route's input from a request that passed [`check_request`]: `unauthenticated` when the
/// application named no user, then `bad_request` unless the body is a JSON object with the
/// route's fields. The user_id is the application's alone (a `user_id` in the body is
/// ignored); the validate's `client` is the request's User-Agent (`"unknown"` without one).
///
/// `facts`: `{"route": "token" | "validate" | "exit" | "emulator_complete", "user": str | null (what
/// the application's resolve_user gave), "body": str (the body as UTF-8 text), "flows": [str]
/// (the flows the browser may start), "user_agent": str | null}`.
pub fn read_input(facts: &Value) -> Result<Input, Code> {
    let user = text(facts, "user").filter(|u| !u.is_empty());
    let Some(user) = user else {
        return Err(Code::Unauthenticated);
    };
    let body: Value =
        serde_json::from_str(text(facts, "body").unwrap_or("")).map_err(|_| Code::BadRequest)?;
    let body = body.as_object().ok_or(Code::BadRequest)?;
    let field = |name: &str| body.get(name).filter(|v| !v.is_null());
    let string = |name: &str| field(name).and_then(Value::as_str).ok_or(Code::BadRequest);
    match text(facts, "route") {
        Some("token") => {
            let flow = string("flow")?;
            let flows = facts.get("flows").and_then(Value::as_array);
            if !flows.is_some_and(|f| f.iter().any(|f| f.as_str() == Some(flow))) {
                return Err(Code::BadRequest);
            }
            let mut input = Map::new();
            input.insert("route".into(), json!("token"));
            input.insert("user_id".into(), json!(user));
            input.insert("flow".into(), json!(flow));
            if field("journey_id").is_some() {
                input.insert("journey_id".into(), json!(string("journey_id")?));
            }
            Ok(Value::Object(input))
        }
        Some("validate") => Ok(json!({
            "route": "validate",
            "user_id": user,
            "journey_id": string("journey_id")?,
            "token": string("token")?,
            "client": client(facts),
        })),
        // The journey service checks the event and the feedback (core's exit table).
        Some("exit") => {
            let mut input = json!({
                "route": "exit",
                "user_id": user,
                "journey_id": string("journey_id")?,
                "token": string("token")?,
                "event": string("event")?,
                "client": client(facts),
            });
            if field("feedback").is_some()
                && let Value::Object(map) = &mut input
            {
                map.insert("feedback".into(), json!(string("feedback")?));
            }
            Ok(input)
        }
        Some("emulator_complete") => {
            let token = string("token")?;
            let passed = field("passed").and_then(Value::as_bool);
            let (Some(passed), true) = (passed, is_token(token)) else {
                return Err(Code::BadRequest);
            };
            let mut claim = Map::new();
            claim.insert("passed".into(), json!(passed));
            if let Some(reason) = field("reason") {
                let reason = reason.as_str().filter(|r| is_reason(r));
                let reason = reason.ok_or(Code::BadRequest)?;
                if !passed {
                    claim.insert("reason".into(), json!(reason));
                }
            }
            Ok(json!({"route": "emulator_complete", "token": token, "claim": claim}))
        }
        _ => Err(Code::BadRequest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Value, allowed: Value, media: &str, bytes: usize) -> Result<(), Code> {
        check_request(
            &json!({"origin": origin, "own_origin": "http://127.0.0.1:8000",
            "allowed_origins": allowed, "content_type": media, "body_bytes": bytes}),
        )
    }

    #[test]
    fn origin_then_media_then_size() {
        let app = json!(["https://app.example.test/"]);
        let json = "application/json";
        assert_eq!(
            headers(json!("https://app.example.test"), app.clone(), json, 10),
            Ok(())
        );
        assert_eq!(
            headers(json!("https://app.example.test/"), app.clone(), json, 10),
            Ok(())
        );
        for origin in [
            json!(null),
            json!("null"),
            json!("https://evil.example"),
            json!("https://app.example.test.evil.example"),
        ] {
            assert_eq!(
                headers(origin, app.clone(), "text/plain", 99_999),
                Err(Code::ForbiddenOrigin)
            );
        }
        // By default only the server's own origin.
        assert_eq!(
            headers(json!("http://127.0.0.1:8000"), json!(null), json, 0),
            Ok(())
        );
        assert_eq!(
            headers(json!("https://app.example.test"), json!(null), json, 0),
            Err(Code::ForbiddenOrigin)
        );
        let own = json!("http://127.0.0.1:8000");
        for media in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ] {
            assert_eq!(
                headers(own.clone(), json!(null), media, 99_999),
                Err(Code::UnsupportedMediaType)
            );
        }
        assert_eq!(
            headers(
                own.clone(),
                json!(null),
                "Application/JSON; charset=utf-8",
                8192
            ),
            Ok(())
        );
        assert_eq!(
            headers(own, json!(null), json, 8193),
            Err(Code::PayloadTooLarge)
        );
    }

    fn input(route: &str, user: Value, body: &str) -> Result<Input, Code> {
        read_input(&json!({"route": route, "user": user, "body": body,
            "flows": ["enrol", "verify"], "user_agent": " Mozilla/5.0 "}))
    }

    #[test]
    fn the_user_is_the_applications_then_the_body_is_checked() {
        assert_eq!(input("token", json!(null), "{"), Err(Code::Unauthenticated));
        assert_eq!(input("token", json!(""), "{}"), Err(Code::Unauthenticated));
        assert_eq!(
            input(
                "token",
                json!("u-1"),
                r#"{"flow": "verify", "user_id": "someone-else"}"#
            ),
            Ok(json!({"route": "token", "user_id": "u-1", "flow": "verify"}))
        );
        assert_eq!(
            input(
                "token",
                json!("u-1"),
                r#"{"flow": "enrol", "journey_id": "j"}"#
            )
            .unwrap()["journey_id"],
            "j"
        );
        assert_eq!(
            input(
                "token",
                json!("u-1"),
                r#"{"flow": "enrol", "journey_id": null}"#
            )
            .unwrap()
            .get("journey_id"),
            None
        );
        for body in [
            "{",
            "[]",
            r#"{"flow": "delete"}"#,
            r#"{"flow": "verify", "journey_id": 7}"#,
            "{}",
        ] {
            assert_eq!(
                input("token", json!("u"), body),
                Err(Code::BadRequest),
                "{body}"
            );
        }
        assert_eq!(
            input(
                "validate",
                json!("u"),
                r#"{"journey_id": "j", "token": "t"}"#
            ),
            Ok(
                json!({"route": "validate", "user_id": "u", "journey_id": "j", "token": "t",
                "client": "Mozilla/5.0"})
            )
        );
        let without_agent = read_input(&json!({"route": "validate", "user": "u",
            "body": r#"{"journey_id": "j", "token": "t"}"#}));
        assert_eq!(without_agent.unwrap()["client"], "unknown");
        for body in [
            r#"{"journey_id": "x"}"#,
            r#"{"journey_id": "x", "token": 5}"#,
        ] {
            assert_eq!(input("validate", json!("u"), body), Err(Code::BadRequest));
        }
        assert_eq!(input("delete", json!("u"), "{}"), Err(Code::BadRequest));
    }

    #[test]
    fn the_stand_ins_completion() {
        assert_eq!(
            input(
                "emulator_complete",
                json!("u"),
                r#"{"token": "abc_-9", "passed": false, "reason": "too_dark"}"#
            ),
            Ok(json!({"route": "emulator_complete", "token": "abc_-9",
                "claim": {"passed": false, "reason": "too_dark"}}))
        );
        assert_eq!(
            input(
                "emulator_complete",
                json!("u"),
                r#"{"token": "a", "passed": true, "reason": "x"}"#
            )
            .unwrap()["claim"],
            json!({"passed": true})
        );
        let long = format!(r#"{{"token": "{}", "passed": true}}"#, "a".repeat(257));
        for body in [
            r#"{"token": "../reset", "passed": true}"#,
            r#"{"token": "a", "passed": 1}"#,
            r#"{"token": "a", "passed": false, "reason": "Too dark"}"#,
            &long,
        ] {
            assert_eq!(
                input("emulator_complete", json!("u"), body),
                Err(Code::BadRequest),
                "{body}"
            );
        }
    }

    #[test]
    fn an_exit_takes_the_event_and_the_user_agent() {
        let facts =
            |body: &str| json!({"route": "exit", "user": "u", "body": body, "user_agent": "UA/1"});
        let read = read_input(&facts(r#"{"journey_id": "j", "token": "t", "event": "canceled", "feedback": "user_canceled"}"#)).unwrap();
        assert_eq!(read["client"], "UA/1");
        assert_eq!(read["feedback"], "user_canceled");
        assert_eq!(read["user_id"], "u");
        assert_eq!(
            read_input(&facts(r#"{"journey_id": "j", "token": "t"}"#)),
            Err(Code::BadRequest)
        );
        assert_eq!(
            read_input(&facts(r#"{"journey_id": "j", "token": "t", "event": 1}"#)),
            Err(Code::BadRequest)
        );
    }
}
