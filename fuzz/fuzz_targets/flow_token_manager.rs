#![no_main]
//! The `token_manager` JSON flow as hosts drive it (`host::flow_new`, `host::flow_step`):
//! a sequence of steps on one state, each built from the fuzz input, the access tokens
//! coming from access-token answers the input makes iProov send. The oracle: errors,
//! `status` and `on_response` outputs, the `redacted` requests and the state (all but the
//! token it is documented to hold) never show a credential the flow knows: the config's,
//! and the managed tokens its state holds.
use iproov_core::Operation;
use iproov_core::host;
use iproov_core_fuzz::{
    Known, Reader, check_error_text, check_json, config_from, creds_in_input, input_for,
    managed_in, operation_name, wire_response, without_keys,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const FLOW: &str = "token_manager";

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let config_json = if r.byte() == 0xAA { String::new() } else { cfg.json.clone() };
    let known_config = if config_json.is_empty() { Known::NONE } else { cfg.known };
    let options = match r.byte() % 4 {
        0 => String::new(),
        1 => json!({"max_uses": r.byte() % 4, "margin_ms": r.u16(), "default_expires_in_s": r.byte()})
            .to_string(),
        2 => json!({"scope": ["user-read", "user-write"]}).to_string(),
        _ => r.text(),
    };
    let mut state = match host::flow_new(FLOW, &options) {
        Ok(state) => state,
        Err(error) => {
            return check_error_text("flow_new", &host::error_json(&error), known_config);
        }
    };
    let mut now: u64 = 1_700_000_000_000;
    for _ in 0..12 {
        if r.is_empty() {
            break;
        }
        now = now.saturating_add(u64::from(r.u16()) * u64::from(r.byte() % 64));
        let step = step_from(&mut r, now);
        let state_value: Value = serde_json::from_str(&state).expect("state JSON");
        let known = known_config.union(held(&state_value));
        match host::flow_step(FLOW, &config_json, &state, &step) {
            Ok(out) => {
                let out: Value = serde_json::from_str(&out).expect("step JSON");
                let new_state = &out["state"];
                let known = known.union(held(new_state));
                check_state(new_state, known);
                check_output(&out["output"], &step, known, cfg.public);
                state = new_state.to_string();
            }
            Err(error) => check_error_text("flow_step", &host::error_json(&error), known),
        }
    }
});

/// The managed tokens a state holds: the current one and the one dropped before it.
fn held(state: &Value) -> Known {
    managed_in([
        state["token"]["access_token"].as_str(),
        state["retired_access_token"].as_str(),
    ])
}

fn check_state(state: &Value, known: Known) {
    // Documented to hold the tokens; `scope` is what iProov granted (a result).
    let rest = without_keys(state, &["access_token", "retired_access_token", "scope"]);
    check_json("token_manager state", &rest, known);
}

fn check_output(output: &Value, step: &str, known: Known, public: Known) {
    let step_value: Value = serde_json::from_str(step).unwrap_or(Value::Null);
    let action = step_value["action"].as_str().unwrap_or("");
    let include_token = step_value["input"]["include_token"].as_bool() == Some(true);
    if action == "export" && include_token {
        return check_state(output, known);
    }
    // The wire requests hold credentials by design; the redacted view must not, but for
    // those the caller put into the operation's input itself.
    let shown = if output.get("redacted").is_some() {
        let input = step_value["input"]["input"].to_string();
        known.minus(creds_in_input(input.as_bytes()).union(public))
    } else {
        known
    };
    let rest = without_keys(output, &["request", "token_request", "scope"]);
    check_json(&format!("token_manager {action} output"), &rest, shown);
}

fn step_from(r: &mut Reader<'_>, now: u64) -> String {
    let step = match r.byte() % 10 {
        0 | 1 => {
            let (name, op) = operation_name(r);
            let op = op.unwrap_or(Operation::GetUser);
            let input: Value = serde_json::from_str(&input_for(r, op)).unwrap_or(Value::Null);
            json!({"action": "prepare", "now": now, "input": {"operation": name, "input": input}})
        }
        2 | 3 => {
            let (response, _) = wire_response(r, Some(Operation::AccessToken));
            json!({"action": "accept_token", "now": now, "response": response})
        }
        4 | 5 => {
            let (response, _) = wire_response(r, Some(Operation::GetUser));
            json!({"action": "on_response", "now": now, "response": response})
        }
        6 => json!({"action": "status", "now": now}),
        7 => json!({"action": "export", "input": {"include_token": r.bool()}}),
        8 => json!({"action": if r.bool() { "forget_token" } else { "restore" }, "input": {"state": {"token": null}}}),
        _ => return r.text(),
    };
    step.to_string()
}
