#![no_main]
//! What the JS hosts call to build: `host::new_config`, `host::build_text` and
//! `host::redact_request`. Errors never show a credential; the request text is one the
//! host can read back line by line (no header injection, no dot segment in the path, the
//! one `Authorization` the operation takes); its redacted view hides every credential
//! the caller did not put into the input itself.
use base64::Engine;
use iproov_core::Operation;
use iproov_core::host;
use iproov_core_fuzz::{
    CONF_TOKEN, Cred, OAUTH_USERNAME, PASSWORD, Reader, check, check_error, config_from,
    creds_in_input, input_for, operation_name,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let config = match host::new_config(&cfg.json) {
        Ok(config) => config,
        Err(error) => return check_error("new_config", &error, cfg.known),
    };
    let (name, op) = operation_name(&mut r);
    let input = match op {
        Some(op) if r.bool() => input_for(&mut r, op),
        _ => r.text(),
    };
    let built = host::build_text(&name, &config, &input);
    let redacted = host::redact_request(&name, &config, &input);
    match built {
        Ok(text) => {
            let op = Operation::parse(&name).expect("built, so the name is known");
            check_request_text(&text, op, cfg.known.has(Cred::ConfToken));
            let redacted = redacted.expect("redact_request builds what build_text built");
            let callers = creds_in_input(input.as_bytes()).union(cfg.public);
            let shown = cfg.known.minus(callers);
            check("host::redact_request", &redacted, shown);
        }
        Err(error) => {
            check_error(&format!("build_text {name:?}"), &error, cfg.known);
            assert_eq!(
                redacted.expect_err("redact_request fails as build_text does"),
                error
            );
        }
    }
});

fn check_request_text(text: &str, op: Operation, configured_token: bool) {
    let (head, _body) = text.split_once("\n\n").expect("a head and a body");
    assert!(!head.contains('\r'), "CR in the request head: {head:?}");
    let mut lines = head.split('\n');
    let method = lines.next().expect("a method line");
    assert!(
        ["GET", "POST", "PUT", "DELETE"].contains(&method.trim_end_matches(" base64")),
        "{method:?}"
    );
    let url = lines.next().expect("a URL line");
    assert!(
        !url.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{url:?}"
    );
    let path = url.split_once("://").map_or("", |(_, rest)| rest);
    let path = path.split(['?', '#']).next().unwrap_or("");
    for segment in path.split('/').skip(1) {
        let lowered = segment.to_ascii_lowercase().replace("%2e", ".");
        assert!(lowered != "." && lowered != "..", "dot segment in {url:?}");
    }
    let mut authorization = None;
    for line in lines {
        let (name, value) = line.split_once(": ").expect("Name: value");
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{line:?}"
        );
        assert!(!value.chars().any(char::is_control), "{line:?}");
        if name.eq_ignore_ascii_case("authorization") {
            assert!(authorization.is_none(), "two Authorization headers");
            authorization = Some(value);
        }
    }
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{OAUTH_USERNAME}:{PASSWORD}"))
    );
    let bearer = format!("Bearer {CONF_TOKEN}");
    match op {
        Operation::AccessToken => assert_eq!(authorization, Some(basic.as_str())),
        op if op.needs_access_token() => assert_eq!(authorization, Some(bearer.as_str())),
        Operation::InvalidateClaim if configured_token => {
            assert_eq!(authorization, Some(bearer.as_str()))
        }
        _ => assert_eq!(authorization, None, "{op} takes no Authorization"),
    }
}
