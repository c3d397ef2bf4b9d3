#![no_main]
//! What hosts call to parse: `host::parse` (headers as JSON, any status) and so
//! `operation::parse_to_split_text`, against `operation::parse` and `parse_to_text`: the
//! three agree (the split text is the canonical result with its large frames after it),
//! and no error shows a credential of the config.
use iproov_core::host;
use iproov_core::operation;
use iproov_core::{Response, http::MAX_BODY_BYTES};
use iproov_core_fuzz::{Reader, body_from, check_error, check_error_text, config_from, operation_name};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const STATUSES: [u32; 14] = [200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 302, 418, 204, 70_000];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let config = match host::new_config(&cfg.json) {
        Ok(config) => config,
        Err(error) => return check_error("new_config", &error, cfg.known),
    };
    let (name, op) = operation_name(&mut r);
    let status = STATUSES[usize::from(r.byte()) % STATUSES.len()];
    let header_mode = r.byte() % 4;
    let headers = match header_mode {
        0 => String::new(),
        1 => json!({"Retry-After": (r.u16() / 8).to_string(), "Content-Type": "application/json"})
            .to_string(),
        2 => json!({"retry-after": r.text(), "x": 1}).to_string(),
        _ => r.text(),
    };
    let (mut body, _) = body_from(&mut r, op);
    if r.byte() == 0xEE {
        // A large frame, split after the JSON by parse_to_split_text.
        body = json!({"passed": true, "token": "t", "frame": "QUFB".repeat(400), "iso_19794_5": "x\ny".repeat(400)})
            .to_string()
            .into_bytes();
    }
    let parsed = host::parse(&name, &config, status, &headers, &body);
    let (Some(op), 0 | 1) = (op, header_mode) else {
        // Fuzz-made names or headers: only the oracle (the harness does not model how
        // host::parse reads repeated or odd headers).
        if let Err(error) = parsed {
            check_error("host::parse", &error, cfg.known);
        }
        return;
    };
    let header_pairs: Vec<(String, String)> = match serde_json::from_str::<Value>(&headers) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
            .collect(),
        _ => Vec::new(),
    };
    let Ok(status16) = u16::try_from(status) else {
        let error = parsed.expect_err("a status over 65535 is refused");
        return check_error("host::parse status", &error, cfg.known);
    };
    let response = Response::new(status16, &header_pairs, &body);
    let canonical = operation::parse(op, &config, &response);
    let text = operation::parse_to_text(op, &config, &response);
    match (parsed, canonical, text) {
        (Ok(split), Ok(value), Ok(text)) => {
            assert_eq!(joined(&operation::split_text(&value)), value, "split_text");
            assert_eq!(serde_json::from_str::<Value>(&text).expect("JSON"), value);
            assert_eq!(joined(&split), value, "split text joins into the result");
            assert!(body.len() <= MAX_BODY_BYTES);
        }
        (Err(a), Err(b), Err(c)) => {
            assert_eq!(a, b);
            assert_eq!(b, c);
            check_error(&format!("host::parse {op}"), &a, cfg.known);
            check_error_text("host::error_json", &host::error_json(&a), cfg.known);
        }
        (a, b, c) => panic!("host::parse, parse and parse_to_text disagree: {a:?} {b:?} {c:?}"),
    }
});

/// A split text back into the canonical result: the JSON, then `\n<name>\n<value>` pairs.
fn joined(split: &str) -> Value {
    let mut parts = split.split('\n');
    let mut value: Value = serde_json::from_str(parts.next().expect("JSON")).expect("JSON");
    while let (Some(name), Some(field)) = (parts.next(), parts.next()) {
        value[name] = Value::String(field.to_owned());
    }
    value
}
