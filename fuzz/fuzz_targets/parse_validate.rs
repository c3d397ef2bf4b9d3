#![no_main]
use iproov_core::Operation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| iproov_core_fuzz::parse_as(Operation::VerifyValidate, data));
