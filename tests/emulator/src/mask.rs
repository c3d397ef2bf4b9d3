//! What the request journal hides: credentials, wherever a request carries
//! them, become `***` before anything is kept or logged.
//!
//! Two passes. By position: the fields, parameters, headers and path
//! segments the API (and OAuth) put credentials in are masked whatever
//! their value, so a credential the emulator never heard of (a real one
//! sent by mistake) is hidden too. By value: every credential the emulator
//! knows (its service providers' keys, secrets and OAuth passwords, the
//! access tokens it issued) and every one found by position in the same
//! request is masked wherever else it appears, raw or percent-encoded.
//! Claim tokens are kept: a test holds them already and filters by them.

use std::borrow::Cow;

/// What a masked value becomes.
pub const MASK: &str = "***";

/// Values shorter than this are masked by position only: a config may use a
/// one-letter secret, and masking every `s` would leave nothing readable.
const MIN_VALUE_LEN: usize = 8;

/// Field, parameter and multipart part names whose value is a credential
/// (compared case-insensitively, `-` read as `_`): iProov's `api_key` and
/// `secret`, OAuth's `client_secret`, `password` and tokens. `token` alone is
/// a claim token and stays.
const SECRET_NAMES: &[&str] = &[
    "api_key",
    "apikey",
    "secret",
    "client_secret",
    "password",
    "oauth_password",
    "access_token",
    "refresh_token",
    "id_token",
];

/// Parts of header names that mark a credential header (`x-api-key`,
/// `x-auth-token`, ...), besides `authorization` and cookies.
const SECRET_HEADER_PARTS: &[&str] = &["auth", "secret", "password", "api_key", "apikey", "token"];

/// Whether a field, parameter or part called `name` holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    SECRET_NAMES.contains(&name.as_str())
}

/// Credentials to mask by value, for one request.
#[derive(Debug, Default, Clone)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    /// Masks each of `values` (those of at least 8 characters) by value.
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut masker = Self::default();
        for value in values {
            masker.add(value.into());
        }
        masker
    }

    /// One more value to mask (ignored when shorter than 8 characters).
    pub fn add(&mut self, value: String) {
        if value.chars().count() >= MIN_VALUE_LEN && !self.values.contains(&value) {
            self.values.push(value);
            // Longest first: a value that contains another is replaced whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every known value (raw and percent-encoded) and every
    /// `name=value` / `"name": "value"` of a secret name masked.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            if encoded != *value && out.contains(encoded.as_str()) {
                out = out.replace(encoded.as_str(), MASK);
            }
        }
        mask_assignments(&out).into_owned()
    }

    /// A JSON value with every secret-named field masked (whatever its
    /// type) and every string passed through [`Masker::text`].
    pub fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if is_secret_name(key) {
                        *field = Value::String(MASK.to_owned());
                    } else {
                        self.json(field);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.json(item)),
            Value::String(text) => *text = self.text(text),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// A header's value: `Authorization` keeps its scheme (`Bearer ***`),
    /// cookies and credential-named headers are masked whole.
    pub fn header(&self, name: &str, value: &str) -> String {
        let name = name.to_ascii_lowercase();
        if name == "authorization" || name == "proxy-authorization" {
            return match value.trim().split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {MASK}"),
                None => MASK.to_owned(),
            };
        }
        let normalized = name.replace('-', "_");
        if name == "cookie"
            || name == "set-cookie"
            || SECRET_HEADER_PARTS.iter().any(|p| normalized.contains(p))
        {
            return MASK.to_owned();
        }
        self.text(value)
    }

    /// A raw request path: the segment before a final `access_token`
    /// (`/{api_key}/access_token`) and any segment that is a known value
    /// (percent-decoded) become `***`; the rest stays as received.
    pub fn path(&self, path: &str) -> String {
        let segments: Vec<&str> = path.split('/').collect();
        let last = segments.len().saturating_sub(1);
        segments
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                let decoded = percent_decode(segment);
                let api_key_slot = i + 1 == last && segments[last] == "access_token";
                if api_key_slot || (!segment.is_empty() && self.is_known(&decoded)) {
                    MASK.to_owned()
                } else if self.text(&decoded) != decoded {
                    self.text(&decoded)
                } else {
                    (*segment).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A raw query string: secret-named parameters' values become `***`,
    /// a parameter holding a known value is masked, the rest stays as
    /// received.
    pub fn query(&self, query: &str) -> String {
        query
            .split('&')
            .map(|piece| {
                let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
                let decoded_name = form_decode(name);
                let decoded = form_decode(value);
                if is_secret_name(&decoded_name) {
                    format!("{name}={MASK}")
                } else if self.text(&decoded) != decoded {
                    let masked: String =
                        form_urlencoded::byte_serialize(self.text(&decoded).as_bytes()).collect();
                    format!("{name}={masked}")
                } else {
                    piece.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn is_known(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }
}

/// Percent-decodes a path segment (lossy UTF-8; `+` stays `+`).
pub fn percent_decode(segment: &str) -> String {
    // form_urlencoded decodes `+` as a space; a path keeps it.
    form_decode(&segment.replace('+', "%2B"))
}

/// Decodes a form or query component (`+` is a space).
pub fn form_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Masks `name=value`, `name: value`, `"name": "value"` (and single-quoted)
/// for every secret name in free text: what a body the journal cannot parse
/// (broken JSON, an unknown format) may still hold.
fn mask_assignments(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase().replace('-', "_");
    let bytes = text.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name) {
            let start = from + found;
            let mut i = start + name.len();
            from = i;
            let boundary = start == 0 || !is_word(bytes[start - 1]);
            if !boundary || bytes.get(i).copied().is_some_and(is_word) {
                continue;
            }
            i = skip(bytes, i, |b| b == b'"' || b == b'\'');
            i = skip(bytes, i, |b| b == b' ' || b == b'\t');
            if !matches!(bytes.get(i), Some(b':' | b'=')) {
                continue;
            }
            i = skip(bytes, i + 1, |b| b == b' ' || b == b'\t');
            let quote = bytes.get(i).copied().filter(|b| *b == b'"' || *b == b'\'');
            if quote.is_some() {
                i += 1;
            }
            let end = (i..bytes.len())
                .find(|&j| match quote {
                    Some(q) => bytes[j] == q && bytes[j - 1] != b'\\',
                    None => matches!(
                        bytes[j],
                        b'&' | b','
                            | b';'
                            | b'}'
                            | b']'
                            | b'"'
                            | b'\''
                            | b'<'
                            | b' '
                            | b'\r'
                            | b'\n'
                            | b'\t'
                    ),
                })
                .unwrap_or(bytes.len());
            if end > i {
                cuts.push((i, end));
            }
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(text);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cuts {
        if start < at {
            continue; // inside a value already masked
        }
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn skip(bytes: &[u8], mut i: usize, what: impl Fn(u8) -> bool) -> usize {
    while bytes.get(i).copied().is_some_and(&what) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLANTED: &str = "planted-Secret-value-42";

    #[test]
    fn free_text_assignments_are_masked() {
        let m = Masker::default();
        assert_eq!(m.text(&format!("secret={PLANTED}&x=1")), "secret=***&x=1");
        assert_eq!(
            m.text(&format!("{{\"api_key\": \"{PLANTED}\", \"token\": \"t\"")),
            "{\"api_key\": \"***\", \"token\": \"t\""
        );
        assert_eq!(
            m.text(&format!("Client-Secret: {PLANTED}\n")),
            "Client-Secret: ***\n"
        );
        assert_eq!(m.text("the secret is out"), "the secret is out");
        assert_eq!(m.text("my_secret=1 secrets=2"), "my_secret=1 secrets=2");
    }

    #[test]
    fn known_values_are_masked_raw_and_percent_encoded() {
        let m = Masker::new(["s3cr3t/with+chars", "short"]);
        assert_eq!(m.text("a s3cr3t/with+chars b"), "a *** b");
        assert_eq!(m.text("q=s3cr3t%2Fwith%2Bchars"), "q=***");
        assert_eq!(m.text("short stays"), "short stays");
    }

    #[test]
    fn json_masks_by_name_at_any_depth() {
        let mut value = json!({"api_key": "k", "nested": [{"Client-Secret": 7}], "token": "t", "note": format!("password={PLANTED}")});
        Masker::default().json(&mut value);
        assert_eq!(
            value,
            json!({"api_key": "***", "nested": [{"Client-Secret": "***"}], "token": "t", "note": "password=***"})
        );
    }

    #[test]
    fn headers_paths_and_queries() {
        let m = Masker::new([PLANTED]);
        assert_eq!(m.header("Authorization", "Bearer abc"), "Bearer ***");
        assert_eq!(m.header("authorization", "abc"), "***");
        assert_eq!(m.header("x-api-key", "abc"), "***");
        assert_eq!(m.header("user-agent", "ua"), "ua");
        assert_eq!(
            m.path("/eu/api/v2/anykey/access_token"),
            "/eu/api/v2/***/access_token"
        );
        assert_eq!(
            m.path("/eu/api/v2/users/planted-Secret-value-42"),
            "/eu/api/v2/users/***"
        );
        assert_eq!(
            m.path("/eu/api/v2/claim/abc/invalidate"),
            "/eu/api/v2/claim/abc/invalidate"
        );
        assert_eq!(
            m.query("api_key=k&x=1&Secret=2"),
            "api_key=***&x=1&Secret=***"
        );
        assert_eq!(m.query("q=planted-Secret-value-42"), "q=***");
    }
}
