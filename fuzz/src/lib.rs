//! What every fuzz target shares: distinct, recognisable credentials, the leak oracle that
//! looks for them in every output a host could show, and a reader that turns fuzz bytes into
//! structured choices.
//!
//! # The oracle
//!
//! Each credential (API secret, OAuth password, the `username:password` pair `Basic` carries,
//! a configured access token, three access tokens iProov "returns" to the token manager and
//! the call driver) has its own value, so a leak names the credential that leaked. The oracle
//! looks for each one in every form it travels in, computed here independently of core's
//! redactor: raw; JSON-escaped (minimal, with `\/`, and with every non-ASCII character as
//! `\uXXXX` in lower and upper hex); percent-encoded (form encoding with `+` for space, and
//! RFC 3986), in upper and lower hex; base64 (standard and URL-safe), whole and at each of
//! the three byte alignments inside a longer encoded text (the password inside `Basic`).
//!
//! What it checks, and only for the credentials the call knows (those in the config it was
//! given, and the managed tokens it holds or sent):
//! - every error a host can show: canonical JSON (so message, description, excerpt, path,
//!   field...), `Display` and `Debug`;
//! - every audit record;
//! - redacted requests (`Request` `Debug`, `redacted()`, `host::redact_request`, the token
//!   manager's `redacted` output);
//! - flow outputs and states, except what is documented as holding a credential: the wire
//!   requests (`request`, `token_request`), and the token manager's own `access_token` and
//!   `retired_access_token` in a state or an export with `include_token`;
//! - every driver poll text but the `send` payload (the wire request) and the `done`
//!   payload (the caller's result).
//!
//! What it deliberately does not count as a leak: a credential that the fuzzer's own input
//! put into a *result* field (a claim token, a user name or a granted scope that iProov
//! "returned" equal to the secret) or, for request-shaped outputs and flow states that carry
//! the caller's own values, a credential the caller itself put into that input
//! ([`creds_in`] finds them). Errors and audit records get no such exemption: core redacts
//! every text of them with every credential the call knows, whatever the input.
//!
//! Partial credentials are not looked for: a prefix of a secret is only a leak when a cut
//! made it, and the fuzzer's input can hold any prefix on its own.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use iproov_core::Error;
use iproov_core::Response;
use iproov_core::operation::{self, JsonConfig, Operation};
use serde_json::{Value, json};
use std::sync::OnceLock;

pub mod reader;
pub use reader::Reader;

/// The API secret: `/`, `"`, `+`, `=` and a non-ASCII letter, so that every escaped and
/// encoded form differs from the raw one. Shorter than the 32 characters a sanitised parser
/// message keeps of a quoted value, so a quoted secret is seen whole.
pub const SECRET: &str = "fzSECRET/api+sec\"é=01";
/// The OAuth username (not a secret; part of the `Basic` credentials).
pub const OAUTH_USERNAME: &str = "fz-oauth-user";
/// The OAuth password: a space, `&`, `%` and a non-ASCII letter.
pub const PASSWORD: &str = "fzPASSWORD pw&%2F+ü7";
/// A configured access token: visible ASCII, as a Bearer token must be.
pub const CONF_TOKEN: &str = "fzCONFTOKEN-at.9~+/Zq=";
/// The access tokens the fuzzer can make iProov return.
pub const MANAGED_TOKENS: [&str; 3] = [
    "fzMANAGED-A.tok~+/7Qx",
    "fzMANAGED-B.tok~+/8Ry",
    "fzMANAGED-C.tok~+/9Sz",
];

/// One credential of the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cred {
    /// [`SECRET`]
    Secret,
    /// [`PASSWORD`]
    Password,
    /// `OAUTH_USERNAME:PASSWORD`, the text `Basic` encodes.
    Basic,
    /// [`CONF_TOKEN`]
    ConfToken,
    /// `MANAGED_TOKENS[i]`
    Managed(u8),
}

impl Cred {
    /// Every credential, in bit order.
    pub const ALL: [Cred; 7] = [
        Cred::Secret,
        Cred::Password,
        Cred::Basic,
        Cred::ConfToken,
        Cred::Managed(0),
        Cred::Managed(1),
        Cred::Managed(2),
    ];

    fn bit(self) -> u8 {
        match self {
            Cred::Secret => 1,
            Cred::Password => 2,
            Cred::Basic => 4,
            Cred::ConfToken => 8,
            Cred::Managed(i) => 16 << i,
        }
    }

    /// The credential's value.
    pub fn value(self) -> String {
        match self {
            Cred::Secret => SECRET.to_owned(),
            Cred::Password => PASSWORD.to_owned(),
            Cred::Basic => format!("{OAUTH_USERNAME}:{PASSWORD}"),
            Cred::ConfToken => CONF_TOKEN.to_owned(),
            Cred::Managed(i) => MANAGED_TOKENS[usize::from(i)].to_owned(),
        }
    }

    fn name(self) -> String {
        match self {
            Cred::Secret => "the API secret".into(),
            Cred::Password => "the OAuth password".into(),
            Cred::Basic => "the Basic credentials (username:password)".into(),
            Cred::ConfToken => "the configured access token".into(),
            Cred::Managed(i) => format!("managed access token {}", ["A", "B", "C"][usize::from(i)]),
        }
    }
}

/// A set of credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Known(pub u8);

impl Known {
    /// No credential.
    pub const NONE: Known = Known(0);

    /// This set with `cred` added.
    pub fn with(self, cred: Cred) -> Known {
        Known(self.0 | cred.bit())
    }

    /// True when `cred` is in the set.
    pub fn has(self, cred: Cred) -> bool {
        self.0 & cred.bit() != 0
    }

    /// Both sets.
    pub fn union(self, other: Known) -> Known {
        Known(self.0 | other.0)
    }

    /// This set without the credentials of `other`.
    pub fn minus(self, other: Known) -> Known {
        Known(self.0 & !other.0)
    }
}

/// The forms of one value the oracle looks for, each with its name.
pub fn forms(value: &str) -> Vec<(String, &'static str)> {
    let mut out = vec![(value.to_owned(), "raw")];
    let minimal = serde_json::to_string(value).expect("a string serializes");
    let minimal = minimal[1..minimal.len() - 1].to_owned();
    out.push((minimal.replace('/', "\\/"), "JSON-escaped with \\/"));
    if !value.is_ascii() {
        for upper in [false, true] {
            let mut ascii = String::new();
            for c in minimal.chars() {
                if c.is_ascii() {
                    ascii.push(c);
                    continue;
                }
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    ascii.push_str(&if upper {
                        format!("\\u{unit:04X}")
                    } else {
                        format!("\\u{unit:04x}")
                    });
                }
            }
            out.push((ascii.replace('/', "\\/"), "JSON-escaped ASCII with \\/"));
            out.push((ascii, "JSON-escaped ASCII"));
        }
    }
    out.push((minimal, "JSON-escaped"));
    for lower in [false, true] {
        let form = percent(value, lower, true, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
        });
        out.push((form, if lower { "form-urlencoded, lower hex" } else { "form-urlencoded, upper hex" }));
        let strict = percent(value, lower, false, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
        });
        out.push((strict, if lower { "percent-encoded, lower hex" } else { "percent-encoded, upper hex" }));
    }
    for (engine, name) in [(&STANDARD_NO_PAD, "base64"), (&URL_SAFE_NO_PAD, "base64url")] {
        out.push((engine.encode(value), name));
        for lead in 0..3usize {
            let mut bytes = vec![0u8; lead];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            // The characters holding only bits of `value`: after those that mix in the lead
            // bytes, and before a last one that mixes in whatever follows.
            let first = (lead * 8).div_ceil(6);
            let last = if bytes.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len() - 1
            };
            out.push((
                encoded[first..last].to_owned(),
                ["base64 at offset 0", "base64 at offset 1", "base64 at offset 2"][lead],
            ));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn percent(value: &str, lower: bool, form: bool, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::new();
    for &b in value.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else if b == b' ' && form {
            out.push('+');
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Patterns {
    automaton: AhoCorasick,
    /// For each pattern: the credential and the form's name.
    owners: Vec<(Cred, &'static str)>,
    /// Every pattern, for the reader's expansions.
    texts: Vec<String>,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let mut texts = Vec::new();
        let mut owners = Vec::new();
        for cred in Cred::ALL {
            for (form, name) in forms(&cred.value()) {
                texts.push(form);
                owners.push((cred, name));
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&texts)
            .expect("patterns build");
        Patterns {
            automaton,
            owners,
            texts,
        }
    })
}

/// Every form of every credential: what the reader's expansions insert.
pub fn all_forms() -> &'static [String] {
    &patterns().texts
}

/// The credentials any of whose forms occur in `text`.
pub fn creds_in(text: &[u8]) -> Known {
    let p = patterns();
    let mut found = Known::NONE;
    for m in p.automaton.find_overlapping_iter(text) {
        found = found.with(p.owners[m.pattern().as_usize()].0);
    }
    found
}

/// The credentials in `text` and in every string of it read as JSON (keys included), where
/// escapes are decoded: what a caller's input holds.
pub fn creds_in_input(text: &[u8]) -> Known {
    let mut found = creds_in(text);
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        found = found.union(creds_in_value_strings(&value));
    }
    found
}

fn creds_in_value_strings(value: &Value) -> Known {
    match value {
        Value::String(s) => creds_in(s.as_bytes()),
        Value::Array(items) => items
            .iter()
            .fold(Known::NONE, |k, v| k.union(creds_in_value_strings(v))),
        Value::Object(map) => map.iter().fold(Known::NONE, |k, (key, v)| {
            k.union(creds_in(key.as_bytes()))
                .union(creds_in_value_strings(v))
        }),
        _ => Known::NONE,
    }
}

/// The oracle: panics (so libFuzzer keeps the input) when a form of a credential in `known`
/// occurs in `text`, an output shown as `place`.
pub fn check(place: &str, text: &str, known: Known) {
    if known == Known::NONE {
        return;
    }
    let p = patterns();
    for m in p.automaton.find_overlapping_iter(text) {
        let (cred, form) = p.owners[m.pattern().as_usize()];
        if known.has(cred) && !inside_escape(text.as_bytes(), m.start()) {
            let from = text.floor_char_boundary(m.start().saturating_sub(80));
            let to = text.ceil_char_boundary((m.end() + 80).min(text.len()));
            panic!(
                "CREDENTIAL LEAK: {} ({form}) in {place}: …{}…",
                cred.name(),
                &text[from..to]
            );
        }
    }
}

/// True when the byte at `at` is part of a backslash escape: the character after the
/// backslash, or one of the four hex digits of a JSON `\uXXXX`. (`\fzSECRET...` is a form
/// feed and the secret without its first letter, `\u001fzSECRET...` a control character and
/// the same piece: the fuzzer's own text, not the secret.) A credential after a real
/// backslash is written `\\` in JSON, an even run, so the JSON form of every output still
/// shows it.
fn inside_escape(text: &[u8], at: usize) -> bool {
    let escapes = |backslash: usize| {
        text[..=backslash].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
    };
    if at >= 1 && text[at - 1] == b'\\' && escapes(at - 1) {
        return true;
    }
    // `\u` then 0 to 3 hex digits before `at`, which is one of the four.
    (2..=5).any(|back| {
        at >= back
            && text[at - back] == b'\\'
            && text[at - back + 1] == b'u'
            && text[at - back + 2..at].iter().all(u8::is_ascii_hexdigit)
            && text[at].is_ascii_hexdigit()
            && escapes(at - back)
    })
}

/// [`check`] on a JSON value as hosts show it (serialized).
pub fn check_json(place: &str, value: &Value, known: Known) {
    check(place, &value.to_string(), known);
}

/// [`check`] on every string form of an error: canonical JSON, `Display`, `Debug`.
pub fn check_error(place: &str, error: &Error, known: Known) {
    check(&format!("{place}: error JSON"), &error.to_json().to_string(), known);
    check(&format!("{place}: error Display"), &error.to_string(), known);
    check(&format!("{place}: error Debug"), &format!("{error:?}"), known);
}

/// [`check`] on an error's canonical JSON text as a host receives it.
pub fn check_error_text(place: &str, text: &str, known: Known) {
    check(&format!("{place}: error JSON"), text, known);
}

/// `value` without the object keys in `keys`, at any depth: for outputs whose named fields
/// are documented to hold a credential or echo the caller's result.
pub fn without_keys(value: &Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_keys(v, keys)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| without_keys(v, keys)).collect()),
        other => other.clone(),
    }
}

/// A configuration for a target, as the vector-format JSON hosts pass, and the credentials
/// it holds.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    /// The config JSON text.
    pub json: String,
    /// The credentials in it.
    pub known: Known,
    /// The credentials its non-secret fields (the user agent) hold: the caller's own doing
    /// where a request carries that field.
    pub public: Known,
}

/// API keys: a plain one, one with characters a URL path must encode, a dot segment.
const API_KEYS: [&str; 3] = [
    "fzkey0000111122223333444455556666777788",
    "fz/key;x?y#z",
    "..",
];

/// A config chosen by one byte (every credential unless a bit drops it), with one more byte
/// for the odd choices.
pub fn config_from(r: &mut Reader<'_>) -> FuzzConfig {
    let drop = r.byte();
    let odd = r.byte();
    let mut map = serde_json::Map::new();
    let mut known = Known::NONE;
    if drop & 0x20 == 0 {
        map.insert("region".into(), json!("eu"));
    } else {
        let urls = [
            "https://proxy.example.org/iproovapi/v2",
            "http://127.0.0.1:8080/",
            "https://tenant.example.com/api/v2",
        ];
        map.insert("base_url".into(), json!(urls[usize::from(odd % 3)]));
    }
    if drop & 0x01 == 0 {
        let key = match odd / 4 % 8 {
            6 => API_KEYS[1],
            7 => API_KEYS[2],
            _ => API_KEYS[0],
        };
        map.insert("api_key".into(), json!(key));
    }
    if drop & 0x02 == 0 {
        map.insert("secret".into(), json!(SECRET));
        known = known.with(Cred::Secret);
    }
    let user = drop & 0x04 == 0;
    let password = drop & 0x08 == 0;
    if user {
        map.insert("oauth_username".into(), json!(OAUTH_USERNAME));
    }
    if password {
        map.insert("oauth_password".into(), json!(PASSWORD));
        known = known.with(Cred::Password);
        if user {
            known = known.with(Cred::Basic);
        }
    }
    if drop & 0x10 != 0 {
        map.insert("access_token".into(), json!(CONF_TOKEN));
        known = known.with(Cred::ConfToken);
    }
    let mut public = Known::NONE;
    if drop & 0x40 != 0 {
        let agent = if drop & 0x80 != 0 {
            r.text()
        } else {
            "fz-agent/1".to_owned()
        };
        public = creds_in(agent.as_bytes());
        map.insert("user_agent".into(), json!(agent));
    }
    FuzzConfig {
        json: Value::Object(map).to_string(),
        known,
        public,
    }
}

/// Every credential of the full config.
pub const CONFIG_KNOWN: Known = Known(1 | 2 | 4 | 8);

/// The full configuration (every configured credential), read once.
pub fn config() -> &'static JsonConfig {
    static CONFIG: OnceLock<JsonConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        JsonConfig::from_json(&json!({
            "region": "eu", "api_key": API_KEYS[0], "secret": SECRET,
            "oauth_username": OAUTH_USERNAME, "oauth_password": PASSWORD,
            "access_token": CONF_TOKEN
        }))
        .expect("static config")
    })
}

const STATUSES: [u16; 12] = [200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 302, 418];

/// The shared driver of the per-operation parse targets: the first byte picks the status
/// and `Retry-After`, the rest (with the reader's expansions) is the body.
pub fn parse_as(operation: Operation, data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let headers = vec![("Retry-After".to_owned(), format!("{}", selector / 4))];
    let body = reader::expand(body);
    match operation::parse(operation, config(), &Response::new(status, &headers, &body)) {
        Ok(_) => assert!(status == 200, "a {status} parsed as a result"),
        Err(error) => check_error(&format!("parse {operation}"), &error, CONFIG_KNOWN),
    }
}

/// The iProov error codes responses use (the token rejections first).
pub const ERROR_CODES: [&str; 10] = [
    "invalid_oauth",
    "token_quota_exceeded",
    "invalid_key",
    "too_many_requests",
    "server_error",
    "invalid_token",
    "invalid_client",
    "temporarily_unavailable",
    "no_user",
    "x",
];

/// A response body chosen by the reader, for operation `op` (`None`: any): an iProov error
/// body whose description is fuzz text, an HTML page, an access-token answer carrying a
/// managed token, a success body echoing fuzz text, or raw fuzz bytes. Gives the body and
/// the managed token it carries as a valid access-token answer, if any.
pub fn body_from(r: &mut Reader<'_>, op: Option<Operation>) -> (Vec<u8>, Option<u8>) {
    match r.byte() % 6 {
        0 => {
            let code = ERROR_CODES[usize::from(r.byte()) % ERROR_CODES.len()];
            let description = r.text();
            let body = if r.bool() {
                json!({"error": code, "error_description": description})
            } else {
                json!({"error": code})
            };
            (body.to_string().into_bytes(), None)
        }
        1 => {
            let page = format!(
                "<html><body><h1>502 Bad Gateway</h1><p>{}</p></body></html>",
                r.text()
            );
            (page.into_bytes(), None)
        }
        2 => {
            let which = r.byte() % 3;
            let expires = [3600u64, 1, 0, 120, 86_400][usize::from(r.byte() % 5)];
            let mut body = json!({
                "access_token": MANAGED_TOKENS[usize::from(which)],
                "token_type": "Bearer",
                "expires_in": expires,
            });
            if r.bool() {
                body["scope"] = json!("user-read user-write");
            }
            let valid = expires > 0;
            (body.to_string().into_bytes(), valid.then_some(which))
        }
        3 => (success_body(r, op).to_string().into_bytes(), None),
        _ => (r.blob_expanded(), None),
    }
}

/// A 64-hex claim token.
pub const CLAIM_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A success body for `op`, whose free-text fields echo fuzz text.
pub fn success_body(r: &mut Reader<'_>, op: Option<Operation>) -> Value {
    use Operation as Op;
    let echo = r.text();
    match op.unwrap_or(Op::ALL[usize::from(r.byte()) % Op::ALL.len()]) {
        Op::EnrolToken | Op::VerifyToken => {
            json!({"token": CLAIM_TOKEN, "user_id": "fz-user-1", "primary": echo})
        }
        Op::EnrolImage => json!({"success": true, "token": CLAIM_TOKEN, "user_id": echo}),
        Op::EnrolValidate | Op::VerifyValidate => json!({
            "passed": r.bool(), "token": CLAIM_TOKEN, "type": "verify", "reason": echo,
            "frame": "AAAA", "signals": {"matching": {"echo": r.text()}, r.text(): 1}
        }),
        Op::AccessToken => json!({"access_token": echo, "expires_in": 60}),
        Op::ActivateUser | Op::SuspendUser | Op::GetUser | Op::UpdateUser | Op::DeleteUser => {
            json!({"user_id": "fz-user-1", "status": "Active", "name": echo})
        }
        Op::InvalidateClaim => json!({"claim_aborted": true, "user_informed": false}),
        Op::Availability => json!({"up": true, "note": echo}),
    }
}

/// A valid input for `op` (its values partly chosen by the reader), or fuzz text.
pub fn input_for(r: &mut Reader<'_>, op: Operation) -> String {
    use Operation as Op;
    if r.byte() % 8 == 0 {
        return r.text();
    }
    let users = ["fz-user-1", "u.2@example.org", "a'b+c"];
    let user = users[usize::from(r.byte()) % users.len()];
    let input = match op {
        Op::EnrolToken | Op::VerifyToken => json!({"resource": "fz-resource", "user_id": user}),
        Op::EnrolImage => json!({
            "token": CLAIM_TOKEN, "source": "oid",
            // A PNG signature and a few bytes: the format is sniffed, never decoded.
            "image": {"base64": "iVBORw0KGgoAAAANSUhEUg=="}
        }),
        Op::EnrolValidate | Op::VerifyValidate => {
            json!({"user_id": user, "token": CLAIM_TOKEN, "client": "fz-client"})
        }
        Op::AccessToken => json!({"scope": ["user-read"]}),
        Op::ActivateUser | Op::SuspendUser | Op::GetUser | Op::DeleteUser => {
            json!({"user_id": user})
        }
        Op::UpdateUser => json!({"user_id": user, "name": "fz name"}),
        Op::InvalidateClaim => json!({"token": CLAIM_TOKEN, "reason": "fz reason"}),
        Op::Availability => json!({}),
    };
    input.to_string()
}

/// An operation name: mostly a real one, sometimes fuzz text.
pub fn operation_name(r: &mut Reader<'_>) -> (String, Option<Operation>) {
    let pick = r.byte();
    if pick >= 240 {
        return (r.text(), None);
    }
    let op = Operation::ALL[usize::from(pick) % Operation::ALL.len()];
    (op.name().to_owned(), Some(op))
}

/// A response in the flow-vector format `{"status", "headers", "body" | "body_base64"}`,
/// chosen by the reader for operation `op`; with the managed token it carries as a valid
/// access-token answer, if any.
pub fn wire_response(r: &mut Reader<'_>, op: Option<Operation>) -> (Value, Option<u8>) {
    let status = STATUSES[usize::from(r.byte()) % STATUSES.len()];
    let (body, token) = body_from(r, op);
    let mut response = json!({"status": status});
    if r.bool() {
        response["headers"] = json!({"Retry-After": (r.byte() / 4).to_string()});
    }
    match String::from_utf8(body) {
        Ok(text) => response["body"] = json!(text),
        Err(e) => {
            response["body_base64"] =
                json!(base64::engine::general_purpose::STANDARD.encode(e.as_bytes()))
        }
    }
    (response, token.filter(|_| status == 200))
}

/// The managed tokens among `values`.
pub fn managed_in<'v>(values: impl IntoIterator<Item = Option<&'v str>>) -> Known {
    let mut known = Known::NONE;
    for value in values.into_iter().flatten() {
        if let Some(i) = MANAGED_TOKENS.iter().position(|t| *t == value) {
            known = known.with(Cred::Managed(i as u8));
        }
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;
    use iproov_core::{Redactor, Secret};

    #[test]
    fn the_oracle_sees_every_form_and_only_known_credentials() {
        for cred in Cred::ALL {
            for (form, name) in forms(&cred.value()) {
                let text = format!("before {form} after");
                let seen = std::panic::catch_unwind(|| check("test", &text, Known::NONE.with(cred)));
                assert!(seen.is_err(), "{name} of {cred:?} not seen");
                check("test", &text, Known(0xFF).minus(Known::NONE.with(cred).union(creds_in(text.as_bytes()))));
            }
        }
    }

    #[test]
    fn core_redacts_every_form_the_oracle_looks_for() {
        // Agreement with core's redactor: a form only the oracle knew would make every
        // target fail at once, a form only core knew would go unchecked.
        for cred in Cred::ALL {
            let secret = Secret::new(cred.value());
            let redactor = Redactor::new(&[&secret]);
            for (form, name) in forms(&cred.value()) {
                let out = redactor.redact(&format!("<{form}>")).into_owned();
                assert!(creds_in(out.as_bytes()) == Known::NONE, "{name} of {cred:?}: {out}");
            }
        }
    }

    #[test]
    fn a_form_that_starts_inside_an_escape_is_not_the_credential() {
        // Found by build_json: the JSON text `\fzSECRET...` of a key that is a form feed and
        // the secret without its first letter.
        let piece = serde_json::to_string(&format!("\u{c}{}", &SECRET[1..])).unwrap();
        check("test", &piece, Known(0xFF));
        let piece = serde_json::to_string(&format!("\u{1f}{}", &SECRET[1..])).unwrap();
        assert!(piece.contains("\\u001fzSECRET"), "{piece}");
        check("test", &piece, Known(0xFF));
        let real = serde_json::to_string(&format!("\\{SECRET}")).unwrap();
        let seen = std::panic::catch_unwind(|| check("test", &real, Known::NONE.with(Cred::Secret)));
        assert!(seen.is_err(), "{real}");
    }

    #[test]
    fn expansions_insert_forms() {
        let text = reader::expand(&[b'a', reader::EXPAND, 3, b'b']);
        assert_ne!(creds_in(&text), Known::NONE);
        assert_eq!(reader::expand(b"plain"), b"plain");
    }
}
