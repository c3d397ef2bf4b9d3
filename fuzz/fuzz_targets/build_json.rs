#![no_main]
use iproov_core::operation::{self, JsonConfig, Operation};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "FUZZ-SECRET-0123456789";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let operation = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
    let config = JsonConfig::from_json(&serde_json::json!({
        "region": "eu", "api_key": "k", "secret": SECRET,
        "oauth_username": "u", "oauth_password": SECRET, "access_token": SECRET
    }))
    .expect("static config");
    match operation::build(operation, &config, &input) {
        Ok(request) => {
            let shown = format!("{request:?}");
            assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        }
        Err(error) => {
            let shown = format!("{} {:?} {}", error, error, error.to_json());
            assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        }
    }
});
