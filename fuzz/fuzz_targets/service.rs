#![no_main]
//! The journey service (`iproov_core::service::step`, which hosts run around their store):
//! start, token_issued, finish, validated and view in any order on one stored record, the
//! record written back as the step says (or the write lost, as when another instance won
//! the compare-and-set). Errors never show a credential of the config, whatever the input;
//! outputs never show one the caller's own inputs did not hold; `view` never shows a claim
//! token (a history shows none).
use iproov_core::Operation;
use iproov_core::host;
use iproov_core::service::{ServicePolicy, step};
use iproov_core_fuzz::{
    CLAIM_TOKEN, Reader, check, check_error, check_json, config_from, creds_in_input,
    success_body, without_keys,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const TOKENS: [&str; 3] = [CLAIM_TOKEN, "fzclaim2222222222222222", "fzclaim3333333333333333"];
const ACTIONS: [&str; 6] = ["start", "token_issued", "finish", "validated", "view", "nope"];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let config = match host::new_config(&cfg.json) {
        Ok(config) => config.config,
        Err(error) => return check_error("new_config", &error, cfg.known),
    };
    let policy = match r.byte() % 4 {
        0 => ServicePolicy::default(),
        pick => {
            let value = match pick {
                1 => json!({"max_attempts": r.byte() % 4, "token_ttl_ms": r.u16(),
                            "stale_validate_ms": r.u16(), "retention_ms": r.u32()}),
                2 => json!({"resource": r.text()}),
                _ => serde_json::from_str(&r.text()).unwrap_or(Value::Null),
            };
            match ServicePolicy::from_json(&value) {
                Ok(policy) => policy,
                Err(error) => return check_error("service policy", &error, cfg.known),
            }
        }
    };
    let mut callers = creds_in_input(serde_json::to_string(&policy.resource).unwrap().as_bytes());
    let mut stored = Value::Null;
    let mut now: u64 = 1_700_000_000_000;
    for _ in 0..10 {
        if r.is_empty() {
            break;
        }
        now = now.saturating_add(u64::from(r.u16()) * u64::from(r.byte() % 16));
        let pick = r.byte();
        let action = ACTIONS[usize::from(pick) % ACTIONS.len()];
        let input = input_for(&mut r, action);
        let new_id = if r.byte() == 0xEE { r.text() } else { "fz-journey-1".to_owned() };
        callers = callers.union(creds_in_input(input.to_string().as_bytes()));
        callers = callers.union(creds_in_input(new_id.as_bytes()));
        let stored_now = if pick >= 0xF0 { json!({"id": r.text()}) } else { stored.clone() };
        match step(&config, &policy, action, &stored_now, &input, &new_id, now) {
            Ok(out) => {
                let shown = cfg.known.minus(callers);
                let keys = ["token", "result", "user_id", "reason", "error", "resource", "input"];
                check_json("service output", &without_keys(&out, &keys), shown);
                if action == "view" {
                    let text = out.to_string();
                    for token in TOKENS {
                        check_no_token(&text, token);
                    }
                }
                if out["write"].is_string() && r.byte() != 0xDD {
                    stored = out["record"].clone();
                }
            }
            Err(error) => check_error(&format!("service {action}"), &error, cfg.known),
        }
    }
});

fn check_no_token(text: &str, token: &str) {
    assert!(!text.contains(token), "view shows claim token {token}: {text}");
    // The oracle for credentials does the rest; a claim token is not one of them.
    check("view", text, iproov_core_fuzz::Known::NONE);
}

fn token(r: &mut Reader<'_>) -> Value {
    match r.byte() % 8 {
        7 => json!(r.text()),
        pick => json!(TOKENS[usize::from(pick) % TOKENS.len()]),
    }
}

fn input_for(r: &mut Reader<'_>, action: &str) -> Value {
    if r.byte() == 0xFF {
        return serde_json::from_str(&r.text()).unwrap_or(Value::Null);
    }
    match action {
        "start" => {
            let mut input = json!({"flow": if r.bool() { "verify" } else { "enrol" },
                                   "user_id": if r.bool() { "fz-user-1".to_owned() } else { r.text() }});
            if r.bool() {
                input["journey_id"] = json!("fz-journey-1");
            }
            input
        }
        "token_issued" => match r.byte() % 3 {
            0 => json!({"error": {"code": "server_error", "status": 500, "description": r.text()}}),
            _ => json!({"result": {"token": token(r), "user_id": "fz-user-1"}}),
        },
        "finish" => json!({"token": token(r), "client": "fz-client"}),
        "validated" => match r.byte() % 3 {
            0 => {
                let codes = ["outcome_unknown", "invalid_token", "server_error"];
                let code = codes[usize::from(r.byte() % 3)];
                json!({"token": token(r), "error": {"code": code, "status": 500,
                                                    "description": r.text()}})
            }
            _ => {
                let mut result = success_body(r, Some(Operation::VerifyValidate));
                let t = token(r);
                result["token"] = t.clone();
                json!({"token": t, "result": result})
            }
        },
        _ => Value::Null,
    }
}
