#![no_main]
//! `JsonConfig::from_json_text` / `host::new_config` and `host::config_info`: each field
//! absent, a harness credential, fuzz text or a wrong type. An error never shows a
//! credential the config text holds in a secret field; `config_info` (the non-secret
//! facts) never shows one the caller did not put into a non-secret field.
use iproov_core::host;
use iproov_core::operation::JsonConfig;
use iproov_core_fuzz::{
    CONF_TOKEN, Cred, Known, OAUTH_USERNAME, PASSWORD, Reader, SECRET, check, check_error,
    creds_in_input, reader,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 8] = [
    "region",
    "base_url",
    "api_key",
    "secret",
    "oauth_username",
    "oauth_password",
    "access_token",
    "user_agent",
];

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let mode = r.byte();
    if mode == 0xFF {
        // The text as it comes: what a host hands over when its caller wrote the JSON.
        let text = reader::expand(r.rest());
        if let Err(error) = JsonConfig::from_json_text(&text) {
            check_error("config from raw text", &error, secret_fields(&text));
        }
        return;
    }
    let mut map = Map::new();
    let mut public = String::new();
    for field in FIELDS {
        let value = match r.byte() % 8 {
            0 | 1 => continue,
            2 => json!(r.text()),
            3 => json!(r.u16()),
            _ => match field {
                "region" => json!("eu"),
                "base_url" => json!("https://proxy.example.org/iproov"),
                "api_key" => json!("fzkey0000111122223333444455556666777788"),
                "secret" => json!(SECRET),
                "oauth_username" => json!(OAUTH_USERNAME),
                "oauth_password" => json!(PASSWORD),
                "access_token" => json!(CONF_TOKEN),
                _ => json!("fz-agent/1"),
            },
        };
        if !matches!(field, "secret" | "oauth_password" | "access_token") {
            public.push_str(&value.to_string());
        }
        map.insert(field.to_owned(), value);
    }
    let text = Value::Object(map).to_string();
    let known = secret_fields(text.as_bytes());
    match host::new_config(&text) {
        Ok(config) => {
            let shown = known.minus(creds_in_input(public.as_bytes()));
            check("host::config_info", &host::config_info(&config), shown);
            check("JsonConfig Debug", &format!("{config:?}"), shown);
        }
        Err(error) => check_error("new_config", &error, known),
    }
});

/// The harness credentials `text` holds, as JSON, in the fields for them.
fn secret_fields(text: &[u8]) -> Known {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(text) else {
        return Known::NONE;
    };
    let is = |key: &str, value: &str| map.get(key).and_then(Value::as_str) == Some(value);
    let mut known = Known::NONE;
    if is("secret", SECRET) {
        known = known.with(Cred::Secret);
    }
    if is("oauth_password", PASSWORD) {
        known = known.with(Cred::Password);
        if is("oauth_username", OAUTH_USERNAME) {
            known = known.with(Cred::Basic);
        }
    }
    if is("access_token", CONF_TOKEN) {
        known = known.with(Cred::ConfToken);
    }
    known
}
