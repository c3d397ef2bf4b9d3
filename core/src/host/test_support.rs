//! What the host modules' tests share.

use super::new_config;
use crate::operation::JsonConfig;
use serde_json::Value;

pub(super) fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// An EU config whose secret (`s3cr3t-x`) the tests look for in every text.
pub(super) fn eu_config() -> JsonConfig {
    new_config(
        r#"{"region": "eu", "api_key": "k0000000000000000000000000000000000000000", "secret": "s3cr3t-x"}"#,
    )
    .unwrap()
}
