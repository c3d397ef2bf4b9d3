//! Secrets (API secret, OAuth password, access tokens) that must never leak.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// What every redacted value prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string: `Debug` and `Display` print [`REDACTED`], and the memory is zeroed on drop.
///
/// Read the value only where it must go on the wire, with [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. Call this as early as possible, where the secret enters the program.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret in clear. Use it only to put it on the wire, never to log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty secret (which no operation accepts).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces every occurrence of each non-trivial secret in `text` by [`REDACTED`].
///
/// Secrets shorter than 4 characters are left alone: replacing them would garble unrelated text
/// and such a value is no secret anyway.
pub fn redact_all(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let value = secret.expose();
        if value.len() >= 4 && out.contains(value) {
            out = out.replace(value, REDACTED);
        }
    }
    out
}

/// Makes a parser's complaint safe to show: every secret is redacted and every quoted value
/// (`"..."` or `` `...` ``, which serde copies from the input) is cut to a few characters, so
/// an error message never carries a long piece of a body or an input.
pub fn sanitize_message(text: &str, secrets: &[&Secret]) -> String {
    const KEEP: usize = 32;
    let redacted = redact_all(text, secrets);
    let mut out = String::with_capacity(redacted.len().min(512));
    let mut quote: Option<char> = None;
    let mut quoted_len = 0usize;
    for c in redacted.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn sanitize_cuts_quoted_values_and_redacts() {
        let s = Secret::new("topsecretvalue");
        let long = "x".repeat(100);
        let out = sanitize_message(&format!("bad \"{long}\" and `topsecretvalue`"), &[&s]);
        assert!(out.len() < 80, "{out}");
        assert!(!out.contains("topsecretvalue"), "{out}");
    }

    #[test]
    fn redact_all_replaces_each_secret() {
        let a = Secret::new("abcdef");
        let b = Secret::new("xy");
        assert_eq!(
            redact_all("k=abcdef xy abcdef", &[&a, &b]),
            "k=[REDACTED] xy [REDACTED]"
        );
    }
}
