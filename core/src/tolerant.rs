//! Deserializers for the fields where iProov's public sources disagree: they accept every
//! observed shape and produce the one canonical shape (see `tests/vectors/README.md`).

use crate::json_object::Key;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A boolean sent as `true`/`false` or as the strings `"true"`/`"false"` (any case).
pub(crate) fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A non-negative integer sent as a number or a numeric string (`expires_in`).
pub(crate) fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer or a numeric string")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// OAuth scopes sent as a JSON array or as one space- (or comma-) separated string.
pub(crate) fn scopes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of scopes or a space-separated string")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut list = Vec::new();
            while let Some(scope) = seq.next_element::<String>()? {
                list.push(scope);
            }
            Ok(Some(list))
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(
                text.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// One item of a claim's `fallback` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fallback {
    /// The kind of fallback, e.g. `Info`; absent in the older string-only shape.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The text to show the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `fallback` as an array of `{type, message}` objects or (older) of bare strings.
pub(crate) fn fallbacks<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<Fallback>>, D::Error> {
    struct Item(Fallback);
    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ItemVisitor)
        }
    }
    struct ItemVisitor;
    impl<'de> Visitor<'de> for ItemVisitor {
        type Value = Item;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a fallback: {\"type\", \"message\"} or a string")
        }
        fn visit_str<E: de::Error>(self, message: &str) -> Result<Item, E> {
            Ok(Item(Fallback {
                kind: None,
                message: Some(message.to_owned()),
            }))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
            let mut fallback = Fallback {
                kind: None,
                message: None,
            };
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match &*key.0 {
                    "type" => fallback.kind = map.next_value()?,
                    "message" => fallback.message = map.next_value()?,
                    _ => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(Item(fallback))
        }
    }
    let items: Option<Vec<Item>> = Option::deserialize(d)?;
    Ok(items.map(|items| items.into_iter().map(|Item(fallback)| fallback).collect()))
}

/// A user `status` in any case, made lowercase (`Active` → `active`).
pub(crate) fn lowercase<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).map(|s| s.to_ascii_lowercase())
}

/// Unescapes the raw text of a JSON string literal (quotes included) into one new `String`.
/// Used for the large base64 frames so that they are copied exactly once: the runs between
/// escapes (in base64, everything but `\/`) are copied whole, not character by character.
pub(crate) fn unescape_json_string(raw: &str) -> Result<String, String> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| "expected a string".to_owned())?;
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    // memchr: a frame is tens of KB, and the edge build gets its SIMD scan (simd128).
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        let (run, escape) = rest.split_at(at);
        out.push_str(run);
        // Base64 in JSON escapes only `/`: take that case without decoding characters.
        if let Some(after) = escape.strip_prefix("\\/") {
            out.push('/');
            rest = after;
            continue;
        }
        let mut chars = escape.chars();
        chars.next(); // the backslash
        let escaped = chars.next().ok_or("dangling escape")?;
        let decoded = match escaped {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let high = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&high) {
                    if chars.next() != Some('\\') || chars.next() != Some('u') {
                        return Err("unpaired surrogate".to_owned());
                    }
                    let low = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err("unpaired surrogate".to_owned());
                    }
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    char::from_u32(code).ok_or("bad escape")?
                } else {
                    char::from_u32(high).ok_or("unpaired surrogate")?
                }
            }
            _ => return Err("bad escape".to_owned()),
        };
        out.push(decoded);
        rest = chars.as_str();
    }
    out.push_str(rest);
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, String> {
    let mut value = 0;
    for _ in 0..4 {
        let digit = chars
            .next()
            .and_then(|c| c.to_digit(16))
            .ok_or("bad \\u escape")?;
        value = value * 16 + digit;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_matches_serde_json() {
        for raw in [r#""abc""#, r#""a\/b\\c\"d""#, r#""\u00e9\ud83d\ude00\n""#] {
            let ours = unescape_json_string(raw).unwrap();
            let theirs: String = serde_json::from_str(raw).unwrap();
            assert_eq!(ours, theirs);
        }
        assert!(unescape_json_string(r#""\ud83d""#).is_err());
        assert!(unescape_json_string(r#""\x""#).is_err());
    }
}
