#![no_main]
//! The input checks, directly and as the hosts call them (`host::check_user_id`, ...): no
//! panic, checks that agree with each other, and errors of bounded size that never show
//! the host's HMAC key.
use iproov_core::ops::enrol_image::{ImageFormat, ImageSource};
use iproov_core::{Error, Region, Target, host, user_id, validation};
use iproov_core_fuzz::{Cred, Known, SECRET, check_error, reader};
use libfuzzer_sys::fuzz_target;

/// An error message quotes at most a short piece of its input, whatever the input's size.
fn bounded(error: &Error) {
    assert!(
        error.message().chars().count() <= 400,
        "unbounded message: {}",
        error.message()
    );
}

fuzz_target!(|data: &[u8]| {
    let _ = ImageFormat::sniff(data);
    let expanded = reader::expand(data);
    let Ok(text) = std::str::from_utf8(&expanded) else {
        return;
    };
    match validation::check_user_id("user_id", text) {
        Ok(()) => {
            assert!(!text.is_empty() && text.len() <= 256);
            assert!(text != "." && text != "..", "a dot segment passed as a user_id");
            assert!(host::check_user_id("user_id", text).is_ok());
        }
        Err(e) => {
            bounded(&e);
            assert_eq!(host::check_user_id("user_id", text).unwrap_err(), e);
        }
    }
    for result in [
        validation::check_risk_profile(Some(text)).map(|_| ()),
        validation::check_reason(text),
        validation::check_token(text),
        validation::check_required_text("resource", text),
        Region::parse(text).map(|_| ()),
        ImageSource::parse(text).map(|_| ()),
    ] {
        if let Err(e) = result {
            bounded(&e);
        }
    }
    match validation::normalise_date_time(text) {
        Ok(normalised) => assert_eq!(
            validation::normalise_date_time(&normalised).as_ref(),
            Ok(&normalised)
        ),
        Err(e) => bounded(&e),
    }
    let _ = validation::lint_user_id(text);
    let lint = host::lint_user_id(text);
    assert!(serde_json::from_str::<serde_json::Value>(&lint).is_ok(), "{lint}");
    if let Ok(region) = host::region(text) {
        assert!(serde_json::from_str::<serde_json::Value>(&region).is_ok());
    }
    match Target::base_url(text) {
        Ok(target) => {
            let url = target.url();
            assert!(url.ends_with("/api/v2"), "{url}");
            assert!(
                !url.split('/').skip(3).any(|s| s == "." || s == ".."),
                "a dot segment in {url}"
            );
        }
        Err(e) => bounded(&e),
    }
    let key = iproov_core::Secret::new(SECRET);
    match user_id::pseudonymous_user_id(&key, text) {
        Ok(id) => assert!(validation::check_user_id("user_id", &id).is_ok()),
        Err(e) => check_error("pseudonymous_user_id", &e, Known::NONE.with(Cred::Secret)),
    }
    if let Err(e) = host::pseudonymous_user_id(text, "internal-key") {
        bounded(&e);
    }
    match host::random_user_id(data) {
        Ok(id) => assert!(validation::check_user_id("user_id", &id).is_ok()),
        Err(e) => assert_ne!(data.len(), 16, "{e:?}"),
    }
});
