//! The one redaction point: every text that leaves core (error messages, iProov's echoed
//! descriptions, body excerpts, audit records, redacted requests) passes through a
//! [`Redactor`] fed with every credential the call knows.
//!
//! A credential travels in more forms than its raw text, and a server (or a proxy's HTML
//! error page) may echo any of them: JSON-escaped inside a JSON string, percent-encoded in a
//! form body or a URL, base64-encoded inside `Authorization: Basic`. The redactor replaces
//! each of those forms:
//!
//! - raw;
//! - JSON-escaped: the minimal escaping (serde_json, `JSON.stringify`), with `\/` for `/`
//!   (PHP, some Java encoders) and with every non-ASCII character as `\uXXXX` (Python's
//!   default `ensure_ascii`), in lower- and upper-case hex;
//! - percent-encoded: `application/x-www-form-urlencoded` (space as `+`) and RFC 3986 (every
//!   byte outside the unreserved set as `%XX`), in upper- and lower-case hex;
//! - base64 (RFC 4648 standard and URL-safe alphabets): the credential's own encoding, and,
//!   for a credential embedded in a longer encoded text (the password inside
//!   `base64(username:password)`), the characters that depend only on the credential at each
//!   of the three byte alignments.
//!
//! Credentials shorter than [`MIN_SECRET_CHARS`] are not searched for: replacing them would
//! garble unrelated text, and such a value is no secret. Encoded forms shorter than
//! [`MIN_FORM_CHARS`] are skipped for the same reason.

use crate::http::percent_encode;
use crate::secret::{REDACTED, Secret};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::borrow::Cow;

/// Credentials shorter than this (in bytes) are not redacted.
pub const MIN_SECRET_CHARS: usize = 4;
/// Encoded forms shorter than this (in bytes) are not redacted.
pub const MIN_FORM_CHARS: usize = 6;

/// Replaces every known form of a set of credentials in a text by [`REDACTED`].
///
/// Build one per configuration (and extend it with the access tokens a call holds); it is
/// cheap to apply to a text that holds none of the forms (one substring search per form).
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every form of every credential, longest first, so that a longer form is replaced
    /// before a shorter one that is part of it.
    forms: Vec<String>,
    /// A searcher per form, built once: building one costs more than most searches.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// The shortest form's length: a shorter text holds none.
    shortest: usize,
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        self.forms == other.forms
    }
}

impl Eq for Redactor {}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("forms", &self.forms.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for these credentials (empty ones and short ones are ignored).
    pub fn new(secrets: &[&Secret]) -> Self {
        let mut redactor = Self::default();
        redactor.add_all(secrets);
        redactor
    }

    /// This redactor extended with more credentials (e.g. a managed access token).
    pub fn with(&self, secrets: &[&Secret]) -> Self {
        let mut redactor = self.clone();
        redactor.add_all(secrets);
        redactor
    }

    fn add_all(&mut self, secrets: &[&Secret]) {
        for secret in secrets {
            self.add(secret.expose());
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        self.forms.dedup();
        self.finders = self
            .forms
            .iter()
            .map(|form| memchr::memmem::Finder::new(form.as_bytes()).into_owned())
            .collect();
        self.shortest = self.forms.iter().map(String::len).min().unwrap_or(0);
    }

    fn add(&mut self, value: &str) {
        if value.len() < MIN_SECRET_CHARS {
            return;
        }
        let mut forms = vec![value.to_owned()];
        forms.extend(json_escaped_forms(value));
        forms.extend(percent_encoded_forms(value));
        forms.extend(base64_forms(value.as_bytes()));
        self.forms.extend(
            forms
                .into_iter()
                .filter(|form| form.len() >= MIN_FORM_CHARS || form == value),
        );
    }

    /// True when no credential is known.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every form of every credential replaced by [`REDACTED`].
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Cow<'t, str> = Cow::Borrowed(text);
        if self.forms.is_empty() || text.len() < self.shortest {
            return out;
        }
        for (form, finder) in self.forms.iter().zip(&self.finders) {
            if finder.find(out.as_bytes()).is_some() {
                out = Cow::Owned(out.replace(form.as_str(), REDACTED));
            }
        }
        out
    }

    /// The length in bytes of the longest form (0 when none is known).
    pub fn longest_form(&self) -> usize {
        self.forms.first().map_or(0, String::len)
    }

    /// `text` redacted and cut to at most `max_chars` characters (an ellipsis marks the cut).
    /// Only a window of the text long enough for that is read, so a huge text costs no more
    /// than a short one, and a credential cut by the window's end is dropped with it: no cut
    /// leaves the first half of a credential.
    pub fn redact_capped(&self, text: &str, max_chars: usize) -> String {
        let window_chars = max_chars
            .saturating_add(self.longest_form())
            .saturating_add(1);
        let (window, cut) = match text.char_indices().nth(window_chars) {
            Some((at, _)) => (text.get(..at).unwrap_or(""), true),
            None => (text, false),
        };
        let redacted = self.redact_window(window, cut);
        if cut && redacted.chars().count() <= max_chars {
            let mut short = redacted;
            short.push('…');
            return short;
        }
        cap_chars(&redacted, max_chars)
    }

    /// `window` redacted, and then any start of a credential form (4 characters or more) at
    /// its very end dropped too: the rest of that form lies past the window when `cut`, or
    /// was cut by whoever sent the text (a body cut short). Below 4 characters nothing is
    /// dropped unless `cut` (a single letter is no secret).
    pub(crate) fn redact_window(&self, window: &str, cut: bool) -> String {
        let mut out = self.redact(window).into_owned();
        let shortest = if cut { 1 } else { MIN_SECRET_CHARS };
        let partial = self
            .forms
            .iter()
            .filter_map(|form| {
                (shortest..form.len())
                    .rev()
                    .filter(|&k| form.is_char_boundary(k))
                    .find(|&k| form.get(..k).is_some_and(|head| out.ends_with(head)))
            })
            .max()
            .unwrap_or(0);
        out.truncate(out.len() - partial);
        out
    }

    /// Makes a parser's complaint safe to show: every credential is redacted and every quoted
    /// value (`"..."` or `` `...` ``, which serde copies from its input) is cut to a few
    /// characters, so a message never carries a long piece of a body or an input.
    pub fn sanitize_message(&self, text: &str) -> String {
        cut_quoted(&self.redact(text))
    }
}

/// `text` cut to at most `max_chars` characters, with `…` in place of what was cut.
pub(crate) fn cap_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((at, _)) => {
            let mut short = text.get(..at).unwrap_or("").to_owned();
            short.push('…');
            short
        }
    }
}

fn cut_quoted(text: &str) -> String {
    const KEEP: usize = 32;
    let mut out = String::with_capacity(text.len().min(512));
    let mut quote: Option<char> = None;
    let mut quoted_len = 0usize;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {
                quoted_len += 1;
                if quoted_len <= KEEP {
                    out.push(c);
                } else if quoted_len == KEEP + 1 {
                    out.push('…');
                }
            }
            None => {
                if c == '"' || c == '`' {
                    quote = Some(c);
                    quoted_len = 0;
                }
                out.push(c);
            }
        }
    }
    out
}

fn json_escaped_forms(value: &str) -> Vec<String> {
    let minimal = serde_json::to_string(value).unwrap_or_default();
    let minimal = minimal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(&minimal)
        .to_owned();
    let slashes = minimal.replace('/', "\\/");
    let mut forms = vec![minimal.clone(), slashes.clone()];
    if !value.is_ascii() {
        for upper in [false, true] {
            let ascii = ascii_escaped(&minimal, upper);
            forms.push(ascii.replace('/', "\\/"));
            forms.push(ascii);
        }
    }
    forms
}

/// Escapes every non-ASCII character of already-escaped JSON text as `\uXXXX` (UTF-16).
fn ascii_escaped(escaped: &str, upper: bool) -> String {
    let mut out = String::with_capacity(escaped.len() * 2);
    for c in escaped.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            if upper {
                out.push_str(&format!("\\u{unit:04X}"));
            } else {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn percent_encoded_forms(value: &str) -> Vec<String> {
    let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let strict = percent_encode_strict(value.as_bytes());
    let mut forms = Vec::with_capacity(4);
    for text in [form, strict] {
        let lower = lower_hex_escapes(&text);
        forms.push(text);
        forms.push(lower);
    }
    forms
}

/// RFC 3986: every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case hex).
fn percent_encode_strict(bytes: &[u8]) -> String {
    percent_encode(bytes, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

fn lower_hex_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut hex_left = 0;
    for c in text.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            if c == '%' {
                hex_left = 2;
            }
            out.push(c);
        }
    }
    out
}

/// The base64 text of `bytes` at each byte alignment: the characters that depend on `bytes`
/// alone, whatever comes before or after them in a longer encoded text.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut forms = Vec::with_capacity(6);
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for lead in 0..3usize {
            let mut padded = vec![0u8; lead];
            padded.extend_from_slice(bytes);
            let encoded = engine.encode(&padded);
            // Characters 0..skip hold bits of the lead bytes; the last character holds
            // bits of whatever follows, unless the input ends on a 3-byte boundary.
            let skip = match lead {
                0 => 0,
                1 => 2,
                _ => 3,
            };
            let end = if padded.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len().saturating_sub(1)
            };
            if let Some(core) = encoded.get(skip..end) {
                forms.push(core.to_owned());
            }
        }
        // The credential's own, complete encoding (with its last character and padding).
        forms.push(engine.encode(bytes));
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    fn redactor(values: &[&str]) -> Redactor {
        let secrets: Vec<Secret> = values.iter().map(|v| Secret::new(*v)).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        Redactor::new(&refs)
    }

    #[test]
    fn every_form_is_redacted() {
        let secret = "pä/ss w+rd&\"x\"=1";
        let r = redactor(&[secret]);
        let json = serde_json::to_string(secret).unwrap();
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let texts = [
            format!("echo {secret} end"),
            format!("{{\"d\":{json}}}"),
            format!("{{\"d\":{}}}", json.replace('/', "\\/")),
            format!("q={form}&z=1"),
            format!("path/{}/x", percent_encode_strict(secret.as_bytes())),
            format!(
                "p={}",
                lower_hex_escapes(&percent_encode_strict(secret.as_bytes()))
            ),
            format!("Basic {}", STANDARD.encode(format!("user:{secret}"))),
            format!("Basic {}", STANDARD.encode(format!("us:{secret}"))),
            format!("Basic {}", STANDARD.encode(format!("u:{secret}"))),
            format!("x {} y", URL_SAFE.encode(secret)),
            format!("x {} y", STANDARD.encode(secret)),
        ];
        for text in &texts {
            let out = r.redact(text);
            assert!(out.contains(REDACTED), "{text} -> {out}");
            assert!(!out.contains(secret), "{out}");
        }
        let py = "{\"d\": \"p\\u00e4\\/ss w+rd&\\\"x\\\"=1\"}";
        assert!(r.redact(py).contains(REDACTED), "{}", r.redact(py));
    }

    #[test]
    fn short_values_and_unrelated_text_are_left_alone() {
        let r = redactor(&["ab", ""]);
        assert!(r.is_empty());
        let r = redactor(&["topsecretvalue"]);
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn capped_after_redaction() {
        let r = redactor(&["0123456789abcdef"]);
        let text = format!("{}0123456789abcdef", "x".repeat(10));
        let out = r.redact_capped(&text, 14);
        assert!(!out.contains("0123"), "{out}");
        assert_eq!(cap_chars("héllo", 2), "hé…");
        assert_eq!(cap_chars("hé", 2), "hé");
    }

    #[test]
    fn a_credential_cut_by_the_window_is_dropped() {
        let secret = "0123456789abcdef";
        let r = redactor(&[secret]);
        // Many long forms shrink to [REDACTED], so the output reaches the window's end.
        let strict = percent_encode_strict("0123456789abcdef".as_bytes());
        assert_eq!(strict, secret);
        for pad in 0..40 {
            let text = format!("{}{}{}", "y".repeat(pad), secret.repeat(3), "z".repeat(100));
            let out = r.redact_capped(&text, 20);
            for k in 4..=secret.len() {
                assert!(!out.contains(&secret[..k]), "{pad}: {out}");
            }
        }
        let out = r.redact_window("abc 0123456", true);
        assert_eq!(out, "abc ");
        assert_eq!(r.redact_window("abc 0123456", false), "abc ");
        assert_eq!(r.redact_window("abc 012", false), "abc 012");
    }

    #[test]
    fn sanitize_cuts_quoted_values_and_redacts() {
        let r = redactor(&["topsecretvalue"]);
        let long = "x".repeat(100);
        let out = r.sanitize_message(&format!("bad \"{long}\" and `topsecretvalue`"));
        assert!(out.len() < 80, "{out}");
        assert!(!out.contains("topsecretvalue"), "{out}");
    }
}
