//! The HTTP messages core describes and reads: it never sends or receives them itself.

use crate::redact::Redactor;
use crate::secret::{REDACTED, Secret};
use serde::Serialize;
use std::fmt;

/// Responses above this size are refused with `body_too_large` before any decoding. The
/// largest real answer is a validate result with two frames (well under 4 MiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The HTTP methods the iProov API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Method {
    /// GET
    #[serde(rename = "GET")]
    Get,
    /// POST
    #[serde(rename = "POST")]
    Post,
    /// PUT
    #[serde(rename = "PUT")]
    Put,
    /// DELETE
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request for the host to send exactly as described: method, full URL, headers in order,
/// body bytes. It holds secrets (in the body or the `Authorization` header), so its `Debug`
/// shows only [`Request::redacted`]'s view.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, query included.
    pub url: String,
    /// Header names and values, in the order to send them.
    pub headers: Vec<(String, String)>,
    /// The body; empty for GET and DELETE.
    pub body: Vec<u8>,
    secrets: Vec<Secret>,
}

impl Request {
    pub(crate) fn new(method: Method, url: String, user_agent: &str) -> Self {
        // User-Agent, Content-Type and Authorization at most: one allocation.
        let mut headers = Vec::with_capacity(3);
        headers.push(("User-Agent".to_owned(), user_agent.to_owned()));
        Self {
            method,
            url,
            headers,
            body: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub(crate) fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers
            .push(("Content-Type".to_owned(), content_type.to_owned()));
        self.body = body;
        self
    }

    pub(crate) fn holding_secret(mut self, secret: &Secret) -> Self {
        self.secrets.push(secret.clone());
        self
    }

    /// Adds `Authorization: Bearer <token>` (replacing any earlier `Authorization`). The token
    /// manager calls this; call it yourself only when you manage access tokens on your own.
    pub fn authorize_bearer(&mut self, access_token: &Secret) {
        self.set_authorization(format!("Bearer {}", access_token.expose()), access_token);
    }

    pub(crate) fn set_authorization(&mut self, value: String, secret: &Secret) {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        self.headers.push(("Authorization".to_owned(), value));
        self.secrets.push(secret.clone());
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A view safe to print or log: `Authorization` values and every secret in the body are
    /// replaced by `[REDACTED]`, and a body that is not text is summarised by its size.
    pub fn redacted(&self) -> RedactedRequest {
        let secrets: Vec<&Secret> = self.secrets.iter().collect();
        let redactor = Redactor::new(&secrets);
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if name.eq_ignore_ascii_case("authorization") {
                    let scheme = value.split(' ').next().unwrap_or("");
                    format!("{scheme} {REDACTED}")
                } else {
                    redactor.redact(value).into_owned()
                };
                (name.clone(), value)
            })
            .collect();
        let body = match std::str::from_utf8(&self.body) {
            Ok("") => None,
            Ok(text) if text.len() <= 16 * 1024 => Some(redactor.redact(text).into_owned()),
            _ => Some(format!("<{} bytes>", self.body.len())),
        };
        RedactedRequest {
            method: self.method,
            url: redactor.redact(&self.url).into_owned(),
            headers,
            body,
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

/// A printable description of a [`Request`] with every secret replaced by `[REDACTED]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedactedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Headers, `Authorization` values redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text with secrets redacted, a size summary for binary bodies, or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as the host received it. Core reads it; the host owns the bytes.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values as received (names in any case).
    pub headers: &'a [(String, String)],
    /// The whole body. Hosts should stop reading above [`MAX_BODY_BYTES`] and pass what they
    /// have; parsing then fails with `body_too_large`.
    pub body: &'a [u8],
}

impl<'a> Response<'a> {
    /// Describes a received response.
    pub fn new(status: u16, headers: &'a [(String, String)], body: &'a [u8]) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        find_header(self.headers, name)
    }
}

/// `bytes` with every byte for which `keep` is false written as `%XX` (upper-case hex,
/// RFC 3986 §2.1).
pub(crate) fn percent_encode(bytes: &[u8], keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0x0f] {
                let digit = char::from_digit(u32::from(nibble), 16).unwrap_or('0');
                out.push(digit.to_ascii_uppercase());
            }
        }
    }
    out
}

fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_request_redacts_body_secrets_and_authorization() {
        let secret = Secret::new("s3cr3t-value");
        let token = Secret::new("bearer-token-value");
        let mut request = Request::new(Method::Post, "https://x/api/v2".into(), "ua")
            .with_body("application/json", br#"{"secret":"s3cr3t-value"}"#.to_vec())
            .holding_secret(&secret);
        request.authorize_bearer(&token);
        let shown = format!("{request:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("bearer-token-value"), "{shown}");
        assert!(shown.contains("Bearer [REDACTED]"), "{shown}");
    }
}
