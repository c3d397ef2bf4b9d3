//! The JSON step machines as text: flows ([`crate::flows::json`]), the journey service
//! ([`crate::service`]) and the web endpoints' decisions ([`crate::web`]); JSON in, JSON out.

use super::{json_arg, to_text};
use crate::error::Error;
use crate::flows::json as flows;
use crate::operation::JsonConfig;
use serde_json::{Value, json};

/// The initial state of a flow (`flows::json::new_state`), as JSON.
pub fn flow_new(flow: &str, options_json: &str) -> Result<String, Error> {
    Ok(to_text(&flows::new_state(
        flow,
        &json_arg("options", options_json)?,
    )?))
}

/// One flow step (`flows::json::run_step`): `{"state": ..., "output": ...}` as JSON. On an
/// error the caller keeps its old state.
pub fn flow_step(
    flow: &str,
    config_json: &str,
    state_json: &str,
    step_json: &str,
) -> Result<String, Error> {
    let config = json_arg("config", config_json)?;
    let state = json_arg("state", state_json)?;
    let step = json_arg("step", step_json)?;
    let out = flows::run_step(flow, &config, &state, &step)?;
    Ok(to_text(&json!({"state": out.state, "output": out.output})))
}

/// A journey-service policy from its JSON text (`""`: every default): the policy with core's
/// defaults filled in, as JSON `{"max_attempts", "token_ttl_ms", "stale_validate_ms",
/// "retention_ms", "resource"}`. Fails with `invalid_input` naming the field.
pub fn service_policy(policy_json: &str) -> Result<String, Error> {
    Ok(to_text(&policy_arg(policy_json)?.to_json()))
}

fn policy_arg(policy_json: &str) -> Result<crate::service::ServicePolicy, Error> {
    let value = match json_arg("policy", policy_json)? {
        Value::Null => json!({}),
        value => value,
    };
    crate::service::ServicePolicy::from_json(&value)
}

/// One step of the journey service ([`crate::service::step`]) over JSON text: the policy as
/// for [`service_policy`], the `action`, the record as read (`stored_json`, `""` for none),
/// the action's input, the id for a new journey and `now` (Unix ms). Gives the step's output
/// (`{"write", "expected_version"?, "record", "call"?, "respond"?, "error"?}`) as JSON; fails
/// with core's `invalid_input` / `invalid_state`.
pub fn service_step(
    config: &JsonConfig,
    policy_json: &str,
    action: &str,
    stored_json: &str,
    input_json: &str,
    new_id: &str,
    now: u64,
) -> Result<String, Error> {
    let policy = policy_arg(policy_json)?;
    let stored = json_arg("record", stored_json)?;
    let input = json_arg("input", input_json)?;
    let out = crate::service::step(
        &config.config,
        &policy,
        action,
        &stored,
        &input,
        new_id,
        now,
    )?;
    Ok(to_text(&out))
}

/// A decision of the browser-facing endpoints ([`crate::web::decide`]) over JSON text: `what`
/// names it (`table`, `request`, `input`, `answer`, `error`, `waits`, `emulator`, `config`),
/// `facts_json` is its facts (`""`: none). Gives the decision as JSON; fails with
/// `invalid_input` for an unknown `what` or facts that are not JSON.
pub fn web_decide(what: &str, facts_json: &str) -> Result<String, Error> {
    Ok(to_text(&crate::web::decide(
        what,
        &json_arg("facts", facts_json)?,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::host::test_support::{eu_config, json};

    #[test]
    fn a_service_step_as_text() {
        let config = eu_config();
        let policy = json(&service_policy("").unwrap());
        assert_eq!(policy["max_attempts"], 3);
        assert_eq!(
            service_policy(r#"{"max_attempts": 0}"#)
                .unwrap_err()
                .field(),
            Some("max_attempts")
        );
        let out = json(
            &service_step(
                &config,
                r#"{"max_attempts": 2}"#,
                "start",
                "",
                r#"{"flow": "verify", "user_id": "u-1"}"#,
                "j-1",
                1_000,
            )
            .unwrap(),
        );
        assert_eq!(out["call"]["operation"], "verify_token");
        assert_eq!(out["record"]["id"], "j-1");
        assert_eq!(out["record"]["max_attempts"], 2);
        assert_eq!(
            service_step(&config, "", "finish", "", "{}", "", 0)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidState
        );
        assert_eq!(
            service_step(&config, "", "start", "{", "{}", "", 0)
                .unwrap_err()
                .field(),
            Some("record")
        );
    }

    #[test]
    fn a_web_decision_as_text() {
        let table = json(&web_decide("table", "").unwrap());
        assert_eq!(table["codes"][0]["code"], "bad_request");
        assert_eq!(web_decide("input", "{").unwrap_err().field(), Some("facts"));
        assert_eq!(web_decide("x", "").unwrap_err().field(), Some("what"));
    }
}
