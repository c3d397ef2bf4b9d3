//! The operations by name, and the dynamic build/parse pair over canonical JSON that the
//! conformance vectors and the bindings use.
//!
//! `build` takes a config and an input as JSON objects exactly as in the vector format;
//! `parse` gives the canonical JSON of the typed result. Both check their JSON as strictly
//! as the typed functions check their inputs: an unknown or mistyped field is `invalid_input`.

use crate::config::Config;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::json_object::json_object;
use crate::json_path::{error_path, message_without_position};
use crate::ops::enrol_image::{EnrolImageInput, ImageSource};
use crate::ops::{availability, claim, enrol_image, invalidate, oauth, users, validate};
use crate::region::{Region, Target};
use crate::secret::Secret;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;

/// Every iProov operation this library models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /claim/enrol/token`
    EnrolToken,
    /// `POST /claim/verify/token`
    VerifyToken,
    /// `POST /claim/enrol/image`
    EnrolImage,
    /// `POST /claim/enrol/validate`
    EnrolValidate,
    /// `POST /claim/verify/validate`
    VerifyValidate,
    /// `POST /{api_key}/access_token`
    AccessToken,
    /// `POST /users/{user_id}/activate`
    ActivateUser,
    /// `POST /users/{user_id}/suspend`
    SuspendUser,
    /// `GET /users/{user_id}`
    GetUser,
    /// `PUT /users/{user_id}`
    UpdateUser,
    /// `DELETE /users/{user_id}`
    DeleteUser,
    /// `POST /claim/{token}/invalidate`
    InvalidateClaim,
    /// `GET /availability`
    Availability,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 13] = [
        Self::EnrolToken,
        Self::VerifyToken,
        Self::EnrolImage,
        Self::EnrolValidate,
        Self::VerifyValidate,
        Self::AccessToken,
        Self::ActivateUser,
        Self::SuspendUser,
        Self::GetUser,
        Self::UpdateUser,
        Self::DeleteUser,
        Self::InvalidateClaim,
        Self::Availability,
    ];

    /// The snake_case name used in vectors, audit records and bindings.
    pub fn name(self) -> &'static str {
        match self {
            Self::EnrolToken => "enrol_token",
            Self::VerifyToken => "verify_token",
            Self::EnrolImage => "enrol_image",
            Self::EnrolValidate => "enrol_validate",
            Self::VerifyValidate => "verify_validate",
            Self::AccessToken => "access_token",
            Self::ActivateUser => "activate_user",
            Self::SuspendUser => "suspend_user",
            Self::GetUser => "get_user",
            Self::UpdateUser => "update_user",
            Self::DeleteUser => "delete_user",
            Self::InvalidateClaim => "invalidate_claim",
            Self::Availability => "availability",
        }
    }

    /// Parses an operation name; fails with `invalid_input` (field `operation`).
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|op| op.name()).collect();
                // A name is quoted only when it could be a misspelt operation name: any
                // other text may be a credential handed over by mistake, and this error
                // is built before any redactor is at hand.
                let quoted = if name.len() <= 32
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                {
                    format!(" {name:?}")
                } else {
                    String::new()
                };
                Error::invalid_input(
                    "operation",
                    format!("unknown operation{quoted}; known: {}", names.join(", ")),
                )
            })
    }

    /// True for the users API, which needs an OAuth access token (`Authorization: Bearer`).
    pub fn needs_access_token(self) -> bool {
        matches!(
            self,
            Self::ActivateUser
                | Self::SuspendUser
                | Self::GetUser
                | Self::UpdateUser
                | Self::DeleteUser
        )
    }

    /// True for the operations iProov authenticates with an OAuth access token
    /// (`Authorization: Bearer`): the users API, and invalidate (where the token is
    /// optional). The token request itself (Basic credentials) and the claim and
    /// availability calls (the api_key) take none.
    pub fn takes_bearer(self) -> bool {
        self.needs_access_token() || self == Self::InvalidateClaim
    }

    /// True when repeating the request after it may have reached iProov is safe: it only
    /// reads, or asks for a fresh token that an unused duplicate does no harm to.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Self::EnrolToken
                | Self::VerifyToken
                | Self::AccessToken
                | Self::GetUser
                | Self::Availability
        )
    }

    /// True for validate, which iProov accepts once per token: a lost answer cannot be
    /// fetched again, so its outcome becomes `outcome_unknown`.
    pub fn is_one_shot(self) -> bool {
        matches!(self, Self::EnrolValidate | Self::VerifyValidate)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The config fields (vector format) that hold secrets: bindings redact exactly these when
/// they show a config.
pub const SECRET_CONFIG_FIELDS: [&str; 3] = ["secret", "oauth_password", "access_token"];

/// A configuration read from JSON (the vector format), its access token included.
#[derive(Debug, Clone)]
pub struct JsonConfig {
    /// The client configuration.
    pub config: Config,
}

struct WireConfig {
    region: Option<String>,
    base_url: Option<String>,
    api_key: Option<String>,
    secret: Option<Secret>,
    oauth_username: Option<String>,
    oauth_password: Option<Secret>,
    access_token: Option<Secret>,
    user_agent: Option<String>,
}
json_object! {
    WireConfig, deny_unknown_fields;
    opt region, opt base_url, opt api_key, opt secret, opt oauth_username, opt oauth_password,
    opt access_token, opt user_agent,
}

impl JsonConfig {
    /// Reads `{"region" | "base_url", "api_key"?, "secret"?, "oauth_username"?,
    /// "oauth_password"?, "access_token"?, "user_agent"?}`. Fails with `invalid_input`.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        Self::from_json_text(&value_text(value))
    }

    /// Like [`JsonConfig::from_json`], from JSON text.
    pub fn from_json_text(text: &[u8]) -> Result<Self, Error> {
        Self::read(text).map_err(|e| e.redacted(&credentials_in_config_text(text)))
    }

    fn read(text: &[u8]) -> Result<Self, Error> {
        let wire: WireConfig = from_json_text("config", text, None)?;
        let target = match (&wire.region, &wire.base_url) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "base_url",
                    "give either region or base_url, not both",
                ));
            }
            (Some(region), None) => Target::Region(Region::parse(region)?),
            (None, Some(url)) => Target::base_url(url)?,
            (None, None) => {
                return Err(Error::invalid_input(
                    "region",
                    format!("give a region ({}) or a base_url", Region::list()),
                ));
            }
        };
        let mut config = Config::for_target(target);
        if let Some(key) = wire.api_key {
            config = config.with_api_key(key);
        }
        if let Some(secret) = wire.secret {
            config = config.with_secret(secret);
        }
        match (wire.oauth_username, wire.oauth_password) {
            (Some(user), Some(password)) => config = config.with_oauth(user, password)?,
            (Some(user), None) => config = config.with_oauth(user, Secret::default())?,
            (None, Some(password)) => config = config.with_oauth("", password)?,
            (None, None) => {}
        }
        if let Some(token) = wire.access_token {
            config = config.with_access_token(token)?;
        }
        if let Some(agent) = wire.user_agent {
            config = config.with_user_agent(&agent)?;
        }
        Ok(Self { config })
    }
}

/// Config field -> the environment variable a host reads it from when the caller did not
/// give it (Python's clients and `config_from_env`, Node's `configFromEnv`).
pub const ENV_VARS: [(&str, &str); 6] = [
    ("region", "IPROOV_REGION"),
    ("base_url", "IPROOV_BASE_URL"),
    ("api_key", "IPROOV_API_KEY"),
    ("secret", "IPROOV_SECRET"),
    ("oauth_username", "IPROOV_OAUTH_USERNAME"),
    ("oauth_password", "IPROOV_OAUTH_PASSWORD"),
];

impl JsonConfig {
    /// A config from what the caller gave (`given`: the vector-format fields, any of them
    /// absent or `null`) and the host's environment (`env`: `{"IPROOV_REGION": "...", ...}`,
    /// only the [`ENV_VARS`] are read). Each field the caller did not give is read from its
    /// variable (an empty one counts as unset); the target (`region` or `base_url`) comes
    /// from the caller when it names either, else from the environment (so a caller's
    /// `base_url` is never mixed with an environment's region). Fails as
    /// [`JsonConfig::from_json`] does.
    pub fn from_env(given: &Value, env: &Value) -> Result<Self, Error> {
        Self::from_json(&Self::env_fields(given, env))
    }

    /// The vector-format config [`JsonConfig::from_env`] reads (it holds the credentials:
    /// keep it where the config is kept).
    pub fn env_fields(given: &Value, env: &Value) -> Value {
        let text = |map: &Value, key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut fields = serde_json::Map::new();
        if let Value::Object(map) = given {
            for (key, value) in map.iter().filter(|(_, v)| !v.is_null()) {
                fields.insert(key.clone(), value.clone());
            }
        }
        let target_given = fields.contains_key("region") || fields.contains_key("base_url");
        for (key, var) in ENV_VARS {
            let target = key == "region" || key == "base_url";
            if fields.contains_key(key) || (target && target_given) {
                continue;
            }
            if let Some(value) = text(env, var) {
                fields.insert(key.to_owned(), Value::String(value));
            }
        }
        Value::Object(fields)
    }
}

/// The credentials a config text holds, read leniently: an error about any other field (an
/// unknown region, a bad user agent, a misspelt key) may quote a value that is one of them.
#[cold]
pub(crate) fn credentials_in_config_text(text: &[u8]) -> crate::redact::Redactor {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(text) else {
        return crate::redact::Redactor::default();
    };
    let field = |key: &str| map.get(key).and_then(Value::as_str);
    let mut secrets: Vec<Secret> = ["secret", "oauth_password", "access_token"]
        .into_iter()
        .filter_map(|key| field(key).map(Secret::new))
        .collect();
    if let (Some(user), Some(password)) = (field("oauth_username"), field("oauth_password")) {
        secrets.push(Secret::new(format!("{user}:{password}")));
    }
    crate::redact::Redactor::new(&secrets.iter().collect::<Vec<_>>())
}

/// Deserializes a JSON input into a typed input, turning serde's complaint into an
/// `invalid_input` that names the field.
pub(crate) fn from_json_value<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T, Error> {
    from_json_text(what, &value_text(value), None)
}

/// A JSON value as text for [`from_json_text`]: every input is read from text, so that each
/// typed input has one deserializer (the one bindings use on the text they pass).
fn value_text(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Deserializes JSON text (empty or `null`: an empty object) into a typed input. A failure is
/// `invalid_input` naming the field where the text went wrong, with every credential
/// `redactor` knows redacted (and any value the message quotes cut short).
pub(crate) fn from_json_text<T: DeserializeOwned>(
    what: &str,
    text: &[u8],
    credentials: Option<&Config>,
) -> Result<T, Error> {
    let trimmed = text.trim_ascii();
    let text = if trimmed.is_empty() || trimmed == b"null" {
        b"{}"
    } else {
        text
    };
    if trimmed.first().is_some_and(|b| *b != b'{' && *b != b'n') {
        // serde would read a struct from an array too; every input is an object.
        return Err(Error::invalid_input(what, "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let typed = T::deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    typed.map_err(|e| input_error(what, text, &e, credentials))
}

#[cold]
#[inline(never)]
fn input_error(
    what: &str,
    text: &[u8],
    e: &serde_json::Error,
    credentials: Option<&Config>,
) -> Error {
    // Computed here, on the error path only: a redactor costs more than a whole build.
    let redactor = credentials.map(Config::redactor).unwrap_or_default();
    let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok();
    let message = if e.is_syntax() && well_formed() {
        // serde_json reports a non-string where a name (an enum) belongs as a syntax error.
        "must be a string: one of the documented names".to_owned()
    } else {
        message_without_position(e)
    };
    let path = error_path(text, e);
    let message = redactor.sanitize_message(&message);
    let field = if path == "." {
        message
            .split('`')
            .nth(1)
            .map(|field| redactor.sanitize_message(field))
            .unwrap_or_else(|| what.to_owned())
    } else {
        let first = path.split(['.', '[']).next().unwrap_or(what);
        redactor.sanitize_message(first)
    };
    match removed_field_hint(&field) {
        Some(hint) => Error::invalid_input(&field, hint),
        None => Error::invalid_input(&field, message),
    }
}

/// Fields older integrations send that the current API removed or never had.
fn removed_field_hint(field: &str) -> Option<&'static str> {
    Some(match field {
        "ip" => "was removed in iProov API 2.13 (v2.11 had it, deprecated); do not send it",
        "success_url" | "failure_url" | "abort_url" => "was removed in iProov API 2.13",
        "riskProfile" => "is not an iProov field; the API's name is risk_profile",
        "userId" | "userID" => "is not an iProov field; the API's name is user_id",
        "assuranceType" => "is not an iProov field; the API's name is assurance_type",
        _ => return None,
    })
}

struct WireImage {
    base64: String,
}
json_object! {
    WireImage, deny_unknown_fields;
    req base64,
}

struct WireEnrolImage {
    token: String,
    source: String,
    rotation: Option<i64>,
    image: WireImage,
}
json_object! {
    WireEnrolImage, deny_unknown_fields;
    req token, req source, opt rotation, req image,
}

fn typed_input<T: DeserializeOwned>(input: &[u8], config: &Config) -> Result<T, Error> {
    from_json_text("input", input, Some(config))
}

fn enrol_image_input(input: &[u8], config: &Config) -> Result<EnrolImageInput, Error> {
    let wire: WireEnrolImage = typed_input(input, config)?;
    let image = base64::engine::general_purpose::STANDARD
        .decode(wire.image.base64.as_bytes())
        .map_err(|e| Error::invalid_input("image", format!("is not valid base64: {e}")))?;
    Ok(EnrolImageInput {
        token: wire.token,
        source: ImageSource::parse(&wire.source)?,
        rotation: wire.rotation,
        image,
    })
}

/// Builds the request of `operation` from JSON config and input (the vector format).
/// Management operations get `Authorization: Bearer` from the config's `access_token`.
pub fn build(operation: Operation, config: &JsonConfig, input: &Value) -> Result<Request, Error> {
    build_from_text(operation, config, &value_text(input))
}

/// Like [`build`], with the input as JSON text (empty or `null`: no input), which is what a
/// binding holding JSON text passes: no intermediate `Value`.
pub fn build_from_text(
    operation: Operation,
    config: &JsonConfig,
    input: &[u8],
) -> Result<Request, Error> {
    let c = &config.config;
    let mut request = build_described(operation, c, input)?;
    if operation.needs_access_token() {
        request.authorize_bearer(c.require_access_token()?);
    } else if let (Operation::InvalidateClaim, Some(token)) = (operation, c.access_token()) {
        request.authorize_bearer(token);
    }
    Ok(request)
}

/// Builds the request of `operation` for the call driver: with the configured access token
/// where the operation takes one, else (the users API) without `Authorization`, which the
/// driver's token manager adds to each send. Fails with `invalid_input` on a bad input or a
/// missing credential (for the users API without an access token: the OAuth credentials).
pub(crate) fn build_for_driver(
    operation: Operation,
    config: &Config,
    input: &[u8],
) -> Result<Request, Error> {
    let mut request = build_described(operation, config, input)?;
    match config.access_token() {
        Some(token) if operation.takes_bearer() => request.authorize_bearer(token),
        None if operation.needs_access_token() => {
            config.require_api_key()?;
            config.require_oauth()?;
        }
        _ => {}
    }
    Ok(request)
}

/// Parses an answer for the call driver: the canonical JSON of the result, or the error.
pub(crate) fn parse_for_driver(
    operation: Operation,
    config: &Config,
    response: &Response<'_>,
) -> Result<Value, Error> {
    parse_typed(operation, config, response, |result| result.to_value())
}

/// Builds the request of `operation` without any `Authorization: Bearer`, for a host whose
/// token manager adds it (`flows::TokenManager::prepare`).
pub fn build_unauthorized(
    operation: Operation,
    config: &Config,
    input: &Value,
) -> Result<Request, Error> {
    build_described(operation, config, &value_text(input))
}

fn build_described(operation: Operation, c: &Config, input: &[u8]) -> Result<Request, Error> {
    // An input check may quote the value it refused: whatever the caller put there, no
    // credential of the config leaves with it.
    build_checked(operation, c, input).map_err(|e| redact_build_error(e, c))
}

// The redactor is computed on the error path only: it costs more than a whole build.
#[cold]
#[inline(never)]
fn redact_build_error(error: Error, config: &Config) -> Error {
    error.redacted(&config.redactor())
}

fn build_checked(operation: Operation, c: &Config, input: &[u8]) -> Result<Request, Error> {
    use Operation as Op;
    match operation {
        Op::EnrolToken => build_typed(c, input, claim::build_enrol_token),
        Op::VerifyToken => build_typed(c, input, claim::build_verify_token),
        Op::EnrolImage => build_enrol_image(c, input),
        Op::EnrolValidate => build_typed(c, input, validate::build_enrol_validate),
        Op::VerifyValidate => build_typed(c, input, validate::build_verify_validate),
        Op::AccessToken => build_typed(c, input, oauth::build_access_token),
        Op::ActivateUser => build_typed(c, input, users::build_activate_user),
        Op::SuspendUser => build_typed(c, input, users::build_suspend_user),
        Op::GetUser => build_typed(c, input, users::build_get_user),
        Op::UpdateUser => build_typed(c, input, users::build_update_user),
        Op::DeleteUser => build_typed(c, input, users::build_delete_user),
        Op::InvalidateClaim => build_typed(c, input, invalidate::build_invalidate_claim),
        Op::Availability => build_typed(c, input, |c, _: &Map<String, Value>| {
            availability::build_availability(c)
        }),
    }
}

// One function per operation, never inlined into the dispatch: a wasm engine compiles each
// function on its first call, so a worker's first request compiles one operation, not all.
#[inline(never)]
fn build_typed<T: DeserializeOwned>(
    config: &Config,
    input: &[u8],
    build: impl FnOnce(&Config, &T) -> Result<Request, Error>,
) -> Result<Request, Error> {
    build(config, &typed_input(input, config)?)
}

#[inline(never)]
fn build_enrol_image(config: &Config, input: &[u8]) -> Result<Request, Error> {
    enrol_image::build_enrol_image(config, &enrol_image_input(input, config)?)
}

/// Parses a response of `operation` into the canonical JSON of its typed result.
pub fn parse(
    operation: Operation,
    config: &JsonConfig,
    response: &Response<'_>,
) -> Result<Value, Error> {
    parse_into(operation, config, response, |result| result.to_value())
}

/// Like [`parse`], giving the canonical JSON as text, serialized straight from the typed
/// result (no intermediate `Value`): what a binding hands across its boundary.
pub fn parse_to_text(
    operation: Operation,
    config: &JsonConfig,
    response: &Response<'_>,
) -> Result<String, Error> {
    parse_into(operation, config, response, |result| {
        result.to_text().unwrap_or_default()
    })
}

/// Image fields at least this long travel after the JSON in [`parse_to_split_text`].
const SPLIT_MIN_BYTES: usize = 1024;

/// Like [`parse_to_text`], for a host that would otherwise parse a large frame as JSON again:
/// each image field of a validate result (`frame`, `frame_jpeg`, `iso_19794_5`) of at least
/// 1 KiB and without a line break is left out of the JSON and follows it as
/// `\n<name>\n<value>`. Compact JSON never holds a raw line break, so the first one ends it.
/// The canonical result is the JSON with those fields added back.
pub fn parse_to_split_text(
    operation: Operation,
    config: &JsonConfig,
    response: &Response<'_>,
) -> Result<String, Error> {
    if !operation.is_one_shot() {
        return parse_to_text(operation, config, response);
    }
    let mut result = validate::parse_validate(&config.config, response)
        .map_err(|e| e.with_operation(operation.name()))?;
    let mut split: Vec<(&str, String)> = Vec::new();
    for (name, field) in [
        ("frame", &mut result.frame),
        ("frame_jpeg", &mut result.frame_jpeg),
        ("iso_19794_5", &mut result.iso_19794_5),
    ] {
        if field.as_ref().is_some_and(|v| {
            v.len() >= SPLIT_MIN_BYTES && memchr::memchr(b'\n', v.as_bytes()).is_none()
        }) {
            split.extend(field.take().map(|value| (name, value)));
        }
    }
    let mut text = serde_json::to_string(&result).unwrap_or_default();
    for (name, value) in split {
        text.reserve(value.len() + name.len() + 2);
        text.push('\n');
        text.push_str(name);
        text.push('\n');
        text.push_str(&value);
    }
    Ok(text)
}

/// A canonical result as [`parse_to_split_text`] gives it: each image field of at least
/// 1 KiB without a line break after the JSON as `\n<name>\n<value>`.
pub fn split_text(result: &Value) -> String {
    let Value::Object(map) = result else {
        return serde_json::to_string(result).unwrap_or_default();
    };
    let is_split = |key: &str, value: &Value| {
        matches!(key, "frame" | "frame_jpeg" | "iso_19794_5")
            && value.as_str().is_some_and(|v| {
                v.len() >= SPLIT_MIN_BYTES && memchr::memchr(b'\n', v.as_bytes()).is_none()
            })
    };
    if !map.iter().any(|(k, v)| is_split(k, v)) {
        return serde_json::to_string(result).unwrap_or_default();
    }
    let mut json = Map::new();
    let mut tail = String::new();
    for (key, value) in map {
        match value.as_str() {
            Some(text) if is_split(key, value) => {
                tail.push('\n');
                tail.push_str(key);
                tail.push('\n');
                tail.push_str(text);
            }
            _ => {
                json.insert(key.clone(), value.clone());
            }
        }
    }
    let mut out = serde_json::to_string(&Value::Object(json)).unwrap_or_default();
    out.push_str(&tail);
    out
}

/// Parses with the operation's typed parser and hands the typed result to `canonical`.
fn parse_into<R>(
    operation: Operation,
    config: &JsonConfig,
    response: &Response<'_>,
    canonical: impl Fn(&dyn erased::Canonical) -> R,
) -> Result<R, Error> {
    parse_typed(operation, &config.config, response, canonical)
}

fn parse_typed<R>(
    operation: Operation,
    c: &Config,
    response: &Response<'_>,
    canonical: impl Fn(&dyn erased::Canonical) -> R,
) -> Result<R, Error> {
    use Operation as Op;
    let result = match operation {
        Op::EnrolToken | Op::VerifyToken => {
            claim::parse_claim_token(c, response).map(|r| canonical(&r))
        }
        Op::EnrolImage => enrol_image::parse_enrol_image(c, response).map(|r| canonical(&r)),
        Op::EnrolValidate | Op::VerifyValidate => {
            validate::parse_validate(c, response).map(|r| canonical(&r))
        }
        Op::AccessToken => oauth::parse_access_token(c, response).map(|r| canonical(&r)),
        Op::ActivateUser | Op::SuspendUser | Op::GetUser | Op::UpdateUser | Op::DeleteUser => {
            users::parse_user(c, response).map(|r| canonical(&r))
        }
        Op::InvalidateClaim => {
            invalidate::parse_invalidate_claim(c, response).map(|r| canonical(&r))
        }
        Op::Availability => availability::parse_availability(c, response).map(|r| canonical(&r)),
    };
    result.map_err(|e| e.with_operation(operation.name()))
}

mod erased {
    /// A typed result that serializes to canonical JSON, as a trait object.
    pub trait Canonical {
        fn to_value(&self) -> serde_json::Value;
        fn to_text(&self) -> Option<String>;
    }

    impl<T: serde::Serialize> Canonical for T {
        fn to_value(&self) -> serde_json::Value {
            crate::json_value::to_json_value(self)
        }
        fn to_text(&self) -> Option<String> {
            serde_json::to_string(self).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_operation_is_quoted_only_when_it_looks_like_one() {
        let typo = Operation::parse("get_usr").unwrap_err();
        assert!(typo.message().contains("\"get_usr\""), "{typo:?}");
        for name in ["s3cr3t-Value/x", "Get_User", &"a".repeat(33)] {
            let error = Operation::parse(name).unwrap_err();
            assert_eq!(error.field(), Some("operation"));
            assert!(!error.to_json().to_string().contains(name), "{error:?}");
        }
    }

    #[test]
    fn an_input_error_never_quotes_a_credential_of_the_config() {
        let config = JsonConfig::from_json(&serde_json::json!({
            "region": "eu", "api_key": "k", "secret": "sec-Source-Secret-4"}))
        .unwrap();
        let input = serde_json::json!({"token": "t", "source": "sec-Source-Secret-4",
                                       "image": {"base64": "iVBORw0KGgo="}});
        let error = build(Operation::EnrolImage, &config, &input).unwrap_err();
        assert_eq!(error.field(), Some("source"));
        assert!(
            !error.to_json().to_string().contains("Source-Secret"),
            "{error:?}"
        );
        let long = serde_json::json!({"token": "t", "source": "x".repeat(5000),
                                      "image": {"base64": "iVBORw0KGgo="}});
        let error = build(Operation::EnrolImage, &config, &long).unwrap_err();
        assert!(error.message().len() < 100, "{error:?}");
    }

    #[test]
    fn a_config_error_never_quotes_a_credential_of_the_same_config() {
        let text = br#"{"region": "at-conf-Token.1", "access_token": "at-conf-Token.1"}"#;
        let error = JsonConfig::from_json_text(text).unwrap_err();
        assert_eq!(error.field(), Some("region"));
        assert!(
            !error.to_json().to_string().contains("at-conf-Token.1"),
            "{error:?}"
        );
        let text = br#"{"region": "eu", "secret": "sec-Secret-2", "sec-Secret-2": 1}"#;
        let error = JsonConfig::from_json_text(text).unwrap_err();
        assert!(
            !error.to_json().to_string().contains("sec-Secret-2"),
            "{error:?}"
        );
    }

    #[test]
    fn a_config_from_the_environment_keeps_the_callers_target_whole() {
        use serde_json::json;
        let env = json!({"IPROOV_REGION": "us", "IPROOV_API_KEY": "k-env", "IPROOV_SECRET": "sec-Env-1",
                         "IPROOV_OAUTH_USERNAME": "", "UNRELATED": "x"});
        let from_env = JsonConfig::from_env(&json!({}), &env).unwrap();
        assert_eq!(
            from_env.config.target().region().map(|r| r.id()),
            Some("us")
        );
        assert_eq!(
            from_env.config.oauth_username(),
            None,
            "an empty variable is unset"
        );
        let given = JsonConfig::from_env(
            &json!({"base_url": "http://127.0.0.1:9/eu/api/v2", "region": null}),
            &env,
        )
        .unwrap();
        assert!(
            given.config.target().region().is_none(),
            "the caller's base URL, not the environment's region"
        );
        assert_eq!(given.config.require_api_key().unwrap(), "k-env");
        let error = JsonConfig::from_env(
            &json!({"api_key": "k"}),
            &json!({"IPROOV_REGION": "mars", "IPROOV_SECRET": "sec-Env-1"}),
        )
        .unwrap_err();
        assert_eq!(error.field(), Some("region"));
        assert!(!error.to_json().to_string().contains("sec-Env-1"));
    }
}
