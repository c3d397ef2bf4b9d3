//! The web decisions as one JSON call: the hosts' text interface (`host::web_decide`, napi's
//! and wasm's `webDecide`, Python's `_core.web_decide`).

use super::{
    Answer, Code, FLOWS, MAX_BODY_BYTES, VALIDATE_WAIT_MS, answer, browser_code, check_request,
    codes, config_answer, emulator_answer, read_input, routes,
};
use crate::telemetry::Level;
use serde_json::{Value, json};

/// The decisions as one JSON call, for the hosts' text interface ([`crate::host::web_decide`]):
/// `what` names the decision, `facts` is its JSON (`null` where it takes none).
///
/// - `table`: `{"codes": [{"code", "status", "message"}], "routes": [Route], "max_body_bytes",
///   "validate_wait_ms", "health_wait_ms", "health_cache_ms", "flows"}` (`validate_wait_ms`:
///   the journey requests' `wait_ms`; `health_wait_ms`: the health route's availability
///   call's `max_wait_ms`; `health_cache_ms`: how long a health answer is kept, and how long
///   a health check under way may be joined by concurrent requests; `health_levels`: the
///   log level of each failed part of a health check, by its code (`iproov_unreachable`,
///   `store_failing`); `flows`: the hosts' default)
/// - `request` ([`check_request`]'s facts): `{}`, or `{"answer"}` for a refused request
/// - `input` ([`read_input`]'s facts): `{"input"}`, or `{"answer"}`
/// - `answer` (`{"answer": the service's answer}`): `{"answer"}`, the visible fields
/// - `error` (`{"error": core's error JSON | null}`): `{"answer", "code"}`; a
///   `store_unavailable` that carries a validated outcome answers that outcome (200: the
///   person passed or failed, whatever the store did; code `outcome_delivered`)
/// - `emulator` (`{"status": the emulator's HTTP status, 0 if unreached}`): `{"answer"}`
/// - `config` (`{"stand_in": bool, "sdk_script"?}`): `{"answer"}`
/// - `page` (`{"sdk_script"?, "sdk_url", "assets_url"?}`): `{"headers"}` for the page's HTML:
///   its `Content-Security-Policy` ([`super::page_csp`]); `invalid_input` for a URL it cannot
///   name (hosts ask when they are set up, so a bad option fails at once)
/// - `no_route` (`{"allow": [methods]}`, empty for no route at the path): `{"answer"}` (404,
///   or 405 with `Allow`), the JSON error shape of every other refusal
/// - `health` (`{"iproov_up": bool | null, "store_ok": bool}`): `{"answer", "cache_ms"}`
/// - `refuse` (`{"code"}`, one of the table's): `{"answer"}`, for a refusal a framework's own
///   check made (Django's CSRF: `csrf_failed`), in the JSON shape of every other
///
/// Each `answer` is [`Answer`]'s JSON, to write as it is. Fails with `invalid_input` (field
/// `what`) for an unknown decision; malformed facts are decided as missing ones.
pub fn decide(what: &str, facts: &Value) -> Result<Value, crate::Error> {
    let answered = |answer: Answer| json!({"answer": answer.to_json()});
    let refused = |code: Code| answered(Answer::refused(code, None));
    Ok(match what {
        "table" => json!({
            "codes": codes(),
            "routes": crate::json_value::to_json_value(&routes()),
            "max_body_bytes": MAX_BODY_BYTES,
            "validate_wait_ms": VALIDATE_WAIT_MS,
            "health_wait_ms": crate::driver::INTERACTIVE_MAX_WAIT_MS,
            "health_cache_ms": super::HEALTH_CACHE_MS,
            // iProov unreachable is info (the client's own call event already says why, at its
            // level; a load balancer polling through an outage must not flood the log); a
            // failing store a warning (nothing else tells it until a journey fails).
            "health_levels": {
                "iproov_unreachable": Level::Info.name(),
                "store_failing": Level::Warning.name(),
            },
            "flows": FLOWS,
        }),
        "request" => check_request(facts).map_or_else(refused, |()| json!({})),
        "input" => read_input(facts).map_or_else(refused, |input| json!({"input": input})),
        "answer" => answered(answer(facts.get("answer").unwrap_or(&Value::Null))),
        "error" => {
            let error = facts.get("error").unwrap_or(&Value::Null);
            if let Some(result) = error
                .get("result")
                .filter(|_| error.get("kind") == Some(&json!("store_unavailable")))
            {
                return Ok(
                    json!({"answer": answer(result).to_json(), "code": "outcome_delivered"}),
                );
            }
            let (code, retry_after_s) = browser_code(error);
            json!({"answer": Answer::refused(code, retry_after_s).to_json(), "code": code.as_str()})
        }
        "emulator" => {
            let status = facts.get("status").and_then(Value::as_u64).unwrap_or(0);
            answered(emulator_answer(u16::try_from(status).unwrap_or(0)))
        }
        "no_route" => {
            let allow: Vec<&str> = facts
                .get("allow")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            answered(super::no_route(&allow))
        }
        "refuse" => {
            let code = facts.get("code").and_then(Value::as_str).unwrap_or("");
            let code = Code::ALL
                .into_iter()
                .find(|c| c.as_str() == code)
                .ok_or_else(|| {
                    crate::Error::invalid_input("code", "one of core's browser codes")
                })?;
            answered(Answer::refused(code, None))
        }
        "health" => {
            let up = facts.get("iproov_up").and_then(Value::as_bool);
            let store_ok = facts
                .get("store_ok")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            json!({"answer": super::health_answer(up, store_ok).to_json(),
                   "cache_ms": super::HEALTH_CACHE_MS})
        }
        "config" => {
            let stand_in = facts
                .get("stand_in")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let script = facts.get("sdk_script").and_then(Value::as_str);
            answered(config_answer(stand_in, script))
        }
        "page" => {
            let text = |key: &str| facts.get(key).and_then(Value::as_str);
            let csp = super::page_csp(
                text("sdk_script"),
                text("sdk_url").unwrap_or(""),
                text("assets_url"),
            )?;
            json!({"headers": {"Content-Security-Policy": csp}})
        }
        _ => {
            return Err(crate::Error::invalid_input(
                "what",
                "is not a decision of core's web module",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_as_json() {
        let table = decide("table", &Value::Null).unwrap();
        assert_eq!(table["max_body_bytes"], MAX_BODY_BYTES);
        assert_eq!(table["validate_wait_ms"], VALIDATE_WAIT_MS);
        assert_eq!(table["flows"], json!(FLOWS));
        assert_eq!(table["routes"][0]["path"], "/token");
        assert_eq!(
            decide(
                "request",
                &json!({"origin": "o", "own_origin": "o",
            "content_type": "application/json", "body_bytes": 2})
            )
            .unwrap(),
            json!({})
        );
        let refused = decide("request", &json!(7)).unwrap();
        assert_eq!(refused["answer"]["status"], 403);
        assert_eq!(refused["answer"]["headers"]["Cache-Control"], "no-store");
        assert_eq!(
            decide("input", &json!({})).unwrap()["answer"]["status"],
            401
        );
        let error = decide(
            "error",
            &json!({"error": {"kind": "rate_limited", "retry_after_ms": 1}}),
        )
        .unwrap();
        assert_eq!(error["code"], "try_again");
        assert_eq!(error["answer"]["headers"]["Retry-After"], "1");
        let limited = decide(
            "error",
            &json!({"error": {"kind": "limit_exceeded", "retry_after_ms": 60_001}}),
        )
        .unwrap();
        assert_eq!(limited["answer"]["status"], 429);
        assert_eq!(limited["answer"]["headers"]["Retry-After"], "61");
        let kept = decide(
            "error",
            &json!({"error": {"kind": "store_unavailable", "result": {"passed": true, "token": "t"}}}),
        )
        .unwrap();
        assert_eq!(kept["answer"]["status"], 200);
        assert_eq!(
            kept["answer"]["body"],
            json!({"passed": true, "token": "t"})
        );
        let busy = decide("error", &json!({"error": {"kind": "server"}})).unwrap();
        assert_eq!(busy["answer"]["headers"]["Retry-After"], "5");
        assert_eq!(
            decide("emulator", &json!({"status": 70000})).unwrap()["answer"]["status"],
            503
        );
        assert_eq!(
            decide("answer", &json!({"answer": {"token": "t", "x": 1}})).unwrap()["answer"]["body"],
            json!({"token": "t"})
        );
        assert_eq!(
            decide("config", &Value::Null).unwrap()["answer"]["body"],
            json!({"stand_in": false})
        );
        assert_eq!(
            decide("nope", &Value::Null).unwrap_err().field(),
            Some("what")
        );
    }
}
