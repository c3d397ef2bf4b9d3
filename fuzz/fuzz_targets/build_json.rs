#![no_main]
//! `operation::build` / `build_from_text` for every operation, with the full config: an
//! error never shows a credential, and a request's redacted view never shows one the
//! caller did not put into the input itself.
use iproov_core::operation::{self, Operation};
use iproov_core_fuzz::{CONFIG_KNOWN, check, check_error, config, creds_in_input, reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let text = reader::expand(text);
    let operation = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
    let built = match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(input) if selector & 0x80 == 0 => operation::build(operation, config(), &input),
        _ => operation::build_from_text(operation, config(), &text),
    };
    match built {
        Ok(request) => {
            let shown = CONFIG_KNOWN.minus(creds_in_input(&text));
            check("request Debug", &format!("{request:?}"), shown);
            let redacted = serde_json::to_string(&request.redacted()).expect("serializes");
            check("redacted request", &redacted, shown);
        }
        Err(error) => check_error(&format!("build {operation}"), &error, CONFIG_KNOWN),
    }
});
