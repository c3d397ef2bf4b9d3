#![no_main]
//! The `retry` JSON flow (`host::flow_new`, `host::flow_step`): `advise` on any response or
//! failure. Its outputs quote nothing of a response, so neither they nor its errors may
//! show any credential of the config the host passes.
use iproov_core::host;
use iproov_core_fuzz::{
    Known, Reader, check_error_text, check_json, config_from, operation_name, wire_response,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const FLOW: &str = "retry";
const FAILURES: [&str; 3] = ["failed_before_sending", "may_have_reached_server", "other"];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let options = match r.byte() % 4 {
        0 => String::new(),
        1 => json!({"max_retries": r.byte() % 5, "base_delay_ms": r.u16(), "max_delay_ms": r.u32(),
                    "max_retry_after_ms": r.u32()})
        .to_string(),
        2 => json!({"max_retries": r.byte()}).to_string(),
        _ => r.text(),
    };
    let known: Known = cfg.known;
    let mut state = match host::flow_new(FLOW, &options) {
        Ok(state) => state,
        Err(error) => return check_error_text("flow_new", &host::error_json(&error), known),
    };
    let mut now: u64 = 1_700_000_000_000;
    for _ in 0..8 {
        if r.is_empty() {
            break;
        }
        now = now.saturating_add(u64::from(r.u16()));
        let (name, op) = operation_name(&mut r);
        let mut input = json!({
            "operation": name,
            "attempt": r.byte() % 6,
            "jitter": f64::from(r.byte()) / 256.0,
        });
        let mut step = json!({"action": "advise", "now": now});
        match r.byte() % 4 {
            0 => input["failure"] = json!(FAILURES[usize::from(r.byte()) % 3]),
            1 | 2 => step["response"] = wire_response(&mut r, op).0,
            _ => {
                input["failure"] = json!(FAILURES[0]);
                step["response"] = wire_response(&mut r, op).0;
            }
        }
        step["input"] = input;
        let step = if r.byte() == 0xAB { r.text() } else { step.to_string() };
        match host::flow_step(FLOW, &cfg.json, &state, &step) {
            Ok(out) => {
                let out: Value = serde_json::from_str(&out).expect("step JSON");
                check_json("retry output", &out["output"], known);
                check_json("retry state", &out["state"], known);
                state = out["state"].to_string();
            }
            Err(error) => check_error_text("flow_step", &host::error_json(&error), known),
        }
    }
});
