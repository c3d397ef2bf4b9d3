#![no_main]
use iproov_core::operation::{self, Operation};
use iproov_core_fuzz::{SECRET, config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let operation = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
    match operation::build(operation, config(), &input) {
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
