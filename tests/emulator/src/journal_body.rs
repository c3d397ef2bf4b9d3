//! A request body as the journal shows it: parsed where it can be (JSON,
//! a form, multipart parts), masked (`mask.rs`), and bounded.
//!
//! - `json`: a body that parses as JSON (whatever its Content-Type);
//! - `form`: an `application/x-www-form-urlencoded` body, `{name: value}`
//!   (a repeated name: a list of its values);
//! - `multipart`: `multipart/form-data` parts, `[{name, filename?,
//!   content_type?, bytes, value | sha256}]`: a short text part's value, a
//!   file (or a long or binary part) as its length and SHA-256 hex digest,
//!   so a 60 KB image costs a few bytes and a test can still tell which
//!   image was sent;
//! - `text`: anything else, UTF-8 (invalid bytes as U+FFFD), up to 1 KiB.
//!
//! A parsed view over 16 KiB (as JSON) becomes the first 1 KiB of its
//! masked JSON text, as `text`, with `body_truncated: true`. Masking happens
//! before any cut, so a cut never shows part of a credential.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tower::{Layer, ServiceExt, service_fn};

use crate::mask::{MASK, Masker, is_secret_name};

/// The largest parsed view kept whole (its JSON text, in bytes).
const KEEP_BYTES: usize = 16 * 1024;
/// The excerpt kept of anything larger, and of text bodies (bytes).
const EXCERPT_BYTES: usize = 1024;

/// One multipart part as received.
#[derive(Debug)]
pub struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

/// A request body, parsed.
#[derive(Debug)]
pub enum BodyView {
    /// No body.
    Empty,
    /// Valid JSON.
    Json(Value),
    /// Form fields, in order.
    Form(Vec<(String, String)>),
    /// Multipart parts, in order.
    Multipart(Vec<Part>),
    /// Anything else.
    Text(String),
}

/// Parses `body` by what it is (see the module's doc).
pub async fn read_view(content_type: &str, body: &Bytes) -> BodyView {
    if body.is_empty() {
        return BodyView::Empty;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return BodyView::Json(value);
    }
    let media = content_type.to_ascii_lowercase();
    if media.starts_with("application/x-www-form-urlencoded") {
        let pairs = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        return BodyView::Form(pairs);
    }
    if media.starts_with("multipart/form-data")
        && let Some(parts) = multipart(content_type, body.clone()).await
    {
        return BodyView::Multipart(parts);
    }
    BodyView::Text(String::from_utf8_lossy(body).into_owned())
}

/// The parts, or None when the body is not well-formed multipart. axum's
/// own parser, without its 2 MB default limit (the body is in memory).
async fn multipart(content_type: &str, body: Bytes) -> Option<Vec<Part>> {
    let req = Request::builder()
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .ok()?;
    let parse = service_fn(|req: Request| async move {
        let mut parts = Vec::new();
        let Ok(mut multipart) = Multipart::from_request(req, &()).await else {
            return Ok::<_, Infallible>(None);
        };
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let filename = field.file_name().map(str::to_owned);
                    let content_type = field.content_type().map(str::to_owned);
                    let Ok(data) = field.bytes().await else {
                        return Ok(None);
                    };
                    parts.push(Part {
                        name,
                        filename,
                        content_type,
                        data,
                    });
                }
                Ok(None) => return Ok(Some(parts)),
                Err(_) => return Ok(None),
            }
        }
    });
    DefaultBodyLimit::disable()
        .layer(parse)
        .oneshot(req)
        .await
        .ok()
        .flatten()
}

impl BodyView {
    /// The credentials it holds by position (values of secret-named fields
    /// and parts), to mask by value elsewhere in the request.
    pub fn secrets(&self) -> Vec<String> {
        let mut found = Vec::new();
        match self {
            Self::Json(value) => json_secrets(value, false, &mut found),
            Self::Form(pairs) => found.extend(
                pairs
                    .iter()
                    .filter(|(k, _)| is_secret_name(k))
                    .map(|(_, v)| v.clone()),
            ),
            Self::Multipart(parts) => found.extend(
                parts
                    .iter()
                    .filter(|p| is_secret_name(&p.name))
                    .map(|p| String::from_utf8_lossy(&p.data).into_owned()),
            ),
            Self::Empty | Self::Text(_) => {}
        }
        found
    }

    /// The `api_key`s it names (to tell which service provider sent it).
    pub fn api_keys(&self) -> Vec<String> {
        match self {
            Self::Json(value) => value
                .get("api_key")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect(),
            Self::Form(pairs) => pairs
                .iter()
                .filter(|(k, _)| k == "api_key")
                .map(|(_, v)| v.clone())
                .collect(),
            Self::Multipart(parts) => parts
                .iter()
                .filter(|p| p.name == "api_key")
                .map(|p| String::from_utf8_lossy(&p.data).into_owned())
                .collect(),
            Self::Empty | Self::Text(_) => Vec::new(),
        }
    }

    /// `(field, value, truncated)`: the entry's field (`json`, `form`,
    /// `multipart`, `text`; None for no body) and its masked, bounded value.
    pub fn masked(&self, masker: &Masker) -> (Option<&'static str>, Value, bool) {
        let (kind, value) = match self {
            Self::Empty => return (None, Value::Null, false),
            Self::Text(text) => {
                let masked = masker.text(text);
                let truncated = masked.len() > EXCERPT_BYTES;
                return (
                    Some("text"),
                    Value::String(cut(&masked, EXCERPT_BYTES)),
                    truncated,
                );
            }
            Self::Json(value) => {
                let mut value = value.clone();
                masker.json(&mut value);
                ("json", value)
            }
            Self::Form(pairs) => ("form", form(pairs, masker)),
            Self::Multipart(parts) => {
                ("multipart", parts.iter().map(|p| part(p, masker)).collect())
            }
        };
        let text = value.to_string();
        if text.len() > KEEP_BYTES {
            (Some("text"), Value::String(cut(&text, EXCERPT_BYTES)), true)
        } else {
            (Some(kind), value, false)
        }
    }
}

fn json_secrets(value: &Value, under_secret: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, field) in map {
                json_secrets(field, under_secret || is_secret_name(key), found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| json_secrets(item, under_secret, found)),
        Value::String(text) if under_secret => found.push(text.clone()),
        Value::Number(n) if under_secret => found.push(n.to_string()),
        _ => {}
    }
}

fn form(pairs: &[(String, String)], masker: &Masker) -> Value {
    let mut fields = Map::new();
    for (name, value) in pairs {
        let shown = if is_secret_name(name) {
            MASK.to_owned()
        } else {
            masker.text(value)
        };
        match fields.get_mut(name.as_str()) {
            None => {
                fields.insert(name.clone(), Value::String(shown));
            }
            Some(Value::Array(values)) => values.push(Value::String(shown)),
            Some(first) => *first = json!([first.take(), shown]),
        }
    }
    Value::Object(fields)
}

fn part(part: &Part, masker: &Masker) -> Value {
    let mut shown = json!({"name": masker.text(&part.name), "bytes": part.data.len()});
    if let Some(filename) = &part.filename {
        shown["filename"] = Value::String(masker.text(filename));
    }
    if let Some(content_type) = &part.content_type {
        shown["content_type"] = Value::String(masker.text(content_type));
    }
    let text = std::str::from_utf8(&part.data).ok();
    if is_secret_name(&part.name) {
        shown["value"] = Value::String(MASK.to_owned());
    } else if let Some(text) = text.filter(|t| part.filename.is_none() && t.len() <= EXCERPT_BYTES)
    {
        shown["value"] = Value::String(masker.text(text));
    } else {
        let digest = Sha256::digest(&part.data);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        shown["sha256"] = Value::String(hex);
    }
    shown
}

/// The first `max` bytes of `text`, cut back to a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
