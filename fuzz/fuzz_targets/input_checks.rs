#![no_main]
use iproov_core::ops::enrol_image::{ImageFormat, ImageSource};
use iproov_core::{Region, Target, user_id, validation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ImageFormat::sniff(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if validation::check_user_id("user_id", text).is_ok() {
        assert!(!text.is_empty() && text.len() <= 256);
    }
    let _ = validation::check_risk_profile(Some(text));
    let _ = validation::check_reason(text);
    let _ = validation::check_token(text);
    if let Ok(normalised) = validation::normalise_date_time(text) {
        assert_eq!(
            validation::normalise_date_time(&normalised).as_ref(),
            Ok(&normalised)
        );
    }
    let _ = validation::lint_user_id(text);
    let _ = Region::parse(text);
    let _ = ImageSource::parse(text);
    if let Ok(target) = Target::base_url(text) {
        assert!(target.url().ends_with("/api/v2"));
    }
    let key = iproov_core::Secret::new("0123456789abcdef-host-key");
    if let Ok(id) = user_id::pseudonymous_user_id(&key, text) {
        assert!(validation::check_user_id("user_id", &id).is_ok());
    }
});
