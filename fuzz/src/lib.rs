//! Shared driver of the parse targets: fuzz bytes become a response to one operation, and
//! whatever the parser returns must hold no configured secret.

use iproov_core::Response;
use std::sync::OnceLock;
use iproov_core::operation::{self, JsonConfig, Operation};

/// A secret that must never come back out of a parser.
pub const SECRET: &str = "FUZZ-SECRET-0123456789";

const STATUSES: [u16; 12] = [200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 302, 418];

/// Splits the input into status, a `Retry-After` header and a body, parses it as a response
/// of `operation` and checks the outcome.
pub fn parse_as(operation: Operation, data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let headers = vec![("Retry-After".to_owned(), format!("{}", selector / 4))];
    match operation::parse(operation, config(), &Response::new(status, &headers, body)) {
        Ok(result) => {
            assert!(status == 200);
            let _ = result.to_string();
        }
        Err(error) => {
            let shown = format!("{} {:?} {}", error, error, error.to_json());
            assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        }
    }
}

/// The configuration every target uses, read once (reading it is not what is fuzzed).
pub fn config() -> &'static JsonConfig {
    static CONFIG: OnceLock<JsonConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        JsonConfig::from_json(&serde_json::json!({
            "region": "eu", "api_key": "k", "secret": SECRET,
            "oauth_username": "u", "oauth_password": SECRET, "access_token": SECRET
        }))
        .expect("static config")
    })
}
