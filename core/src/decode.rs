//! Reading responses: the size cap, success bodies, iProov error bodies, and the error for
//! everything else. Shared by every operation's parse function.

use crate::config::Config;
use crate::error::{Error, codes};
use crate::http::{MAX_BODY_BYTES, Response};
use crate::json_object::json_object;
use crate::json_path::error_path;
use crate::redact::{Redactor, cap_chars};
use crate::region::Region;
use crate::secret::REDACTED;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// How much of an undecodable body an error quotes.
const EXCERPT_CHARS: usize = 200;
/// How much of iProov's `error_description` an error keeps.
const DESCRIPTION_CHARS: usize = 1000;

/// Parses a 200 response into `T`, or turns any other response into the fitting [`Error`].
// Never inlined: one function per result type, compiled by a wasm engine only when used.
#[inline(never)]
pub(crate) fn parse_json<T: DeserializeOwned>(
    config: &Config,
    response: &Response<'_>,
) -> Result<T, Error> {
    parse_with(config, response, |body| decode_body::<T>(body))
}

/// Like [`parse_json`], with a decoder that may borrow from the body.
pub(crate) fn parse_with<'b, T>(
    config: &Config,
    response: &Response<'b>,
    decode: impl FnOnce(&'b [u8]) -> Result<T, (String, Option<String>)>,
) -> Result<T, Error> {
    check_status(config, response)?;
    decode(response.body).map_err(|(problem, path)| decode_error(config, response, &problem, path))
}

// What follows is kept out of the generic functions above, so that each result type adds
// only its own decoding to the (wasm) build.

/// The size cap, then any status but 200 as the fitting error.
fn check_status(config: &Config, response: &Response<'_>) -> Result<(), Error> {
    check_size(response)?;
    if response.status != 200 {
        return Err(error_from_response(config, response));
    }
    Ok(())
}

#[cold]
fn decode_error(
    config: &Config,
    response: &Response<'_>,
    problem: &str,
    path: Option<String>,
) -> Error {
    let redactor = config.redactor();
    Error::decode(
        response.status,
        redactor.sanitize_message(problem),
        path.map(|p| redactor.sanitize_message(&p)),
    )
    .with_body_excerpt(excerpt(&redactor, response.body))
}

/// Deserializes a whole body, reporting where decoding stopped.
pub(crate) fn decode_body<'b, T: Deserialize<'b>>(
    body: &'b [u8],
) -> Result<T, (String, Option<String>)> {
    check_object_start(body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match T::deserialize(&mut deserializer) {
        Ok(value) => match deserializer.end() {
            Ok(()) => Ok(value),
            Err(e) => Err(trailing_data(&e)),
        },
        Err(e) => Err(where_decoding_stopped(body, &e)),
    }
}

fn check_object_start(body: &[u8]) -> Result<(), (String, Option<String>)> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(("the body is empty".to_owned(), None)),
        Some(b'{') => Ok(()),
        Some(_) => Err(("the body is not a JSON object".to_owned(), None)),
    }
}

#[cold]
fn where_decoding_stopped(body: &[u8], e: &serde_json::Error) -> (String, Option<String>) {
    (e.to_string(), Some(error_path(body, e)))
}

#[cold]
fn trailing_data(e: &serde_json::Error) -> (String, Option<String>) {
    (format!("trailing data after the JSON value: {e}"), None)
}

fn check_size(response: &Response<'_>) -> Result<(), Error> {
    if response.body.len() > MAX_BODY_BYTES {
        return Err(Error::body_too_large(
            response.status,
            response.body.len(),
            MAX_BODY_BYTES,
        ));
    }
    Ok(())
}

/// iProov's error body `{"error", "error_description"?}`; a description that is not a string
/// is left out.
pub(crate) struct ErrorBody {
    pub(crate) error: String,
    pub(crate) error_description: Option<String>,
}
json_object! {
    ErrorBody, allow_unknown_fields;
    req error, opt error_description with lenient_text: Option<String>,
}

/// The iProov error body of a response, if it has one.
pub(crate) fn error_body(body: &[u8]) -> Option<ErrorBody> {
    decode_body(body).ok()
}

fn lenient_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// Statuses iProov's spec uses for errors: without an iProov body they are undecodable
/// errors; any other status is `unexpected_status`.
fn is_documented_error_status(status: u16) -> bool {
    matches!(status, 200 | 400 | 401 | 403 | 404 | 429) || (500..=599).contains(&status)
}

/// The error for a non-200 response (or any response where the caller wants one), with every
/// credential `config` holds redacted.
pub(crate) fn error_from_response(config: &Config, response: &Response<'_>) -> Error {
    error_from_response_redacted(config, response, &config.redactor())
}

/// The error for a non-200 response: the one function that turns what iProov (or anything
/// on the way) sent into an [`Error`]. Every text of it (code, description, excerpt) passes
/// through `redactor` before it is capped, so no cut can leave half a credential.
#[cold]
#[inline(never)]
pub(crate) fn error_from_response_redacted(
    config: &Config,
    response: &Response<'_>,
    redactor: &Redactor,
) -> Error {
    if let Err(too_large) = check_size(response) {
        return too_large;
    }
    let status = response.status;
    let Some(body) = error_body(response.body).filter(|b| !b.error.is_empty()) else {
        let error = if is_documented_error_status(status) {
            Error::decode(
                status,
                "the body is not an iProov error body {\"error\", \"error_description\"}",
                None,
            )
        } else {
            Error::unexpected_status(status)
        };
        return error.with_body_excerpt(excerpt(redactor, response.body));
    };
    // The server's own words are echoed; still, never let them carry a credential or grow
    // without bound.
    let code: String = redactor.redact(&body.error).chars().take(100).collect();
    let description = body
        .error_description
        .map(|d| redactor.redact_capped(&d, DESCRIPTION_CHARS));
    let mut error = Error::api(&code, status, description);
    if body.error == codes::INVALID_KEY {
        explain_invalid_key(&mut error, config);
    }
    if body.error == codes::TOO_MANY_REQUESTS || status == 429 {
        error.0.retry_after_ms = response
            .header("retry-after")
            .and_then(retry_after_seconds_ms);
    }
    error
}

/// `Retry-After` in its delay-seconds form, in milliseconds. (An HTTP date needs `now`; the
/// retry advisor reads that form.)
pub(crate) fn retry_after_seconds_ms(value: &str) -> Option<u64> {
    let seconds: u64 = value.trim().parse().ok()?;
    seconds.checked_mul(1000)
}

fn explain_invalid_key(error: &mut Error, config: &Config) {
    let target = config.target();
    let base = target.url();
    let whom = match target.region() {
        Some(region) => {
            error.0.region = Some(region.id().to_owned());
            format!("region {region} ({base})")
        }
        None => {
            error.0.base_url = Some(base.clone());
            format!("the base URL {base}")
        }
    };
    error.0.message = format!(
        "iProov rejected the API key or secret ({} invalid_key) for {whom}. A key used against \
         the wrong region gives exactly this error: check that the service provider was created \
         in this region, or configure the region it was created in ({}).",
        error.0.status.unwrap_or(401),
        Region::list()
    );
}

/// A bounded excerpt of a body for error messages, with every credential `redactor` knows
/// and any `access_token`/`secret`/`password` JSON value redacted. Redaction runs before the
/// cut, so no cut leaves the first half of a credential.
#[cold]
#[inline(never)]
pub(crate) fn excerpt(redactor: &Redactor, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    // Enough of the body for the excerpt and any credential form that starts inside it (a
    // character is at most 4 bytes); redact_window drops a form that the window cuts.
    let window = (EXCERPT_CHARS + redactor.longest_form() + 1) * 4;
    let head = body.get(..window).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let cut = head.len() < body.len();
    // A body may end in the middle of a credential (cut by the server or by the window).
    let mut text = redactor.redact_window(&text, cut);
    for key in [
        "\"access_token\"",
        "\"secret\"",
        "\"password\"",
        "\"refresh_token\"",
    ] {
        text = redact_json_value(&text, key);
    }
    let mut short = cap_chars(&text, EXCERPT_CHARS);
    if cut && !short.ends_with('…') {
        short.push('…');
    }
    Some(short)
}

/// Replaces the string value after every `"key":` by the redaction marker, even in
/// truncated or malformed JSON.
fn redact_json_value(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let (before, after_key_start) = rest.split_at(at);
        out.push_str(before);
        out.push_str(key);
        let after_key = after_key_start.get(key.len()..).unwrap_or("");
        let trimmed = after_key.trim_start_matches([' ', ':', '\t', '\n', '\r']);
        let gap = after_key.len() - trimmed.len();
        out.push_str(after_key.get(..gap).unwrap_or(""));
        if let Some(value) = trimmed.strip_prefix('"') {
            let end = find_string_end(value).unwrap_or(value.len());
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            rest = value.get(end + 1..).unwrap_or("");
        } else {
            rest = trimmed;
        }
    }
    out.push_str(rest);
    out
}

fn find_string_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_redact_tokens_even_in_broken_json() {
        let out = excerpt(
            &Redactor::default(),
            br#"{"access_token": "abc\"def", "x": 1, "secret":"zz"#,
        )
        .unwrap();
        assert!(!out.contains("abc"), "{out}");
        assert!(!out.contains("zz"), "{out}");
        assert!(out.contains("\"x\": 1"), "{out}");
    }
}
