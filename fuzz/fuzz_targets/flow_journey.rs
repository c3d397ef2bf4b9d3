#![no_main]
//! The `journey` JSON flow (`host::flow_new`, `host::flow_step`): tokens issued, validated,
//! failed and ended in any order, from inputs and from responses. Errors never show a
//! credential of the config. The state and outputs carry the caller's values (user, claim
//! tokens, results): outside those, they never show a credential the caller's own inputs
//! did not hold (an `error_code` comes from iProov's answer, redacted).
use iproov_core::Operation;
use iproov_core::host;
use iproov_core_fuzz::{
    CLAIM_TOKEN, Known, Reader, check_error_text, check_json, config_from, creds_in_input,
    success_body, wire_response, without_keys,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const FLOW: &str = "journey";
const TOKENS: [&str; 3] = [CLAIM_TOKEN, "fz-claim-2", "fz-claim-3"];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let (config_json, known) = if r.byte() == 0xAA {
        (String::new(), Known::NONE)
    } else {
        (cfg.json.clone(), cfg.known)
    };
    let options = match r.byte() % 4 {
        0 => json!({"user_id": "fz-user-1", "flow": "verify"}).to_string(),
        1 => json!({"user_id": "fz-user-1", "flow": "enrol", "max_attempts": r.byte() % 5,
                    "token_ttl_ms": r.u16(), "assurance_type": "liveness"})
        .to_string(),
        2 => json!({"user_id": r.text(), "flow": "verify"}).to_string(),
        _ => r.text(),
    };
    // The caller's own values stay in the state: credentials they hold are not core's leak.
    let mut callers = creds_in_input(options.as_bytes());
    let mut state = match host::flow_new(FLOW, &options) {
        Ok(state) => state,
        Err(error) => return check_error_text("flow_new", &host::error_json(&error), known),
    };
    let mut now: u64 = 1_700_000_000_000;
    for _ in 0..10 {
        if r.is_empty() {
            break;
        }
        now = now.saturating_add(u64::from(r.u16()) * u64::from(r.byte() % 8));
        let step = step_from(&mut r, now);
        callers = callers.union(creds_in_input(step.as_bytes()));
        match host::flow_step(FLOW, &config_json, &state, &step) {
            Ok(out) => {
                let out: Value = serde_json::from_str(&out).expect("step JSON");
                let shown = known.minus(callers);
                let keys = ["token", "result", "reason", "user_id"];
                check_json("journey output", &without_keys(&out["output"], &keys), shown);
                check_json("journey state", &without_keys(&out["state"], &keys), shown);
                state = out["state"].to_string();
            }
            Err(error) => check_error_text("flow_step", &host::error_json(&error), known),
        }
    }
});

fn token(r: &mut Reader<'_>) -> Value {
    match r.byte() % 8 {
        7 => json!(r.text()),
        pick => json!(TOKENS[usize::from(pick) % TOKENS.len()]),
    }
}

fn step_from(r: &mut Reader<'_>, now: u64) -> String {
    let step = match r.byte() % 8 {
        0 => json!({"action": "next", "now": now}),
        1 => json!({"action": "token_issued", "now": now, "input": {"token": token(r)}}),
        2 => {
            let (response, _) = wire_response(r, Some(Operation::VerifyToken));
            json!({"action": "token_issued", "now": now, "response": response})
        }
        3 => {
            let (response, _) = wire_response(r, Some(Operation::VerifyValidate));
            json!({"action": "validated", "now": now, "input": {"token": token(r)}, "response": response})
        }
        4 => {
            let result = success_body(r, Some(Operation::VerifyValidate));
            json!({"action": "validated", "now": now, "input": {"token": token(r), "result": result}})
        }
        5 => {
            let codes = ["outcome_unknown", "invalid_token", "connection_error", "server_error"];
            let code = codes[usize::from(r.byte()) % codes.len()];
            json!({"action": "validate_failed", "now": now, "input": {"token": token(r),
                   "error": {"code": code, "status": 500, "description": r.text()}}})
        }
        6 => {
            let reasons = ["expired", "invalidated", "abandoned", "x"];
            let reason = reasons[usize::from(r.byte()) % reasons.len()];
            json!({"action": "end_attempt", "now": now, "input": {"token": token(r), "reason": reason}})
        }
        _ => return r.text(),
    };
    step.to_string()
}
