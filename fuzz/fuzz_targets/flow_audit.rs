#![no_main]
//! The `audit` JSON flow (`host::flow_step`, action `record`): a record from a result, an
//! error the host reports, or a response parsed with the config. With a config, the record
//! never shows any of its credentials, wherever the input put them (core redacts every text
//! of a record); errors never do either.
use iproov_core::host;
use iproov_core_fuzz::{
    Known, Reader, check_error_text, check_json, config_from, operation_name, success_body,
    wire_response,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const FLOW: &str = "audit";

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let (config_json, known) = if r.byte() == 0xAA {
        (String::new(), Known::NONE)
    } else {
        (cfg.json.clone(), cfg.known)
    };
    let state = host::flow_new(FLOW, "").expect("audit has no options");
    for _ in 0..6 {
        if r.is_empty() {
            break;
        }
        let now = u64::from(r.u32()) * 1000;
        let (name, op) = operation_name(&mut r);
        let mut input = json!({"operation": name});
        let flags = r.byte();
        if flags & 1 != 0 {
            input["user_id"] = json!(r.text());
        }
        if flags & 2 != 0 {
            input["token"] = json!(r.text());
        }
        if flags & 4 != 0 {
            input["attempt"] = json!(r.byte());
        }
        if flags & 8 != 0 {
            input["include_frame"] = json!(true);
        }
        let mut step = json!({"action": "record", "now": now});
        match r.byte() % 4 {
            0 => input["result"] = success_body(&mut r, op),
            1 => {
                input["result"] =
                    serde_json::from_str(&r.text()).unwrap_or_else(|_| json!({"k": r.text()}))
            }
            2 => {
                let codes = ["outcome_unknown", "invalid_oauth", "server_error", "x"];
                let code = codes[usize::from(r.byte() % 4)];
                input["error"] = json!({
                    "code": code,
                    "status": 401, "description": r.text(), "message": r.text(),
                    "path": r.text(), "field": r.text(),
                })
            }
            _ => step["response"] = wire_response(&mut r, op).0,
        }
        step["input"] = input;
        let step = if r.byte() == 0xAB { r.text() } else { step.to_string() };
        match host::flow_step(FLOW, &config_json, &state, &step) {
            Ok(out) => {
                let out: Value = serde_json::from_str(&out).expect("step JSON");
                check_json("audit record", &out["output"], known);
            }
            Err(error) => check_error_text("flow_step", &host::error_json(&error), known),
        }
    }
});
