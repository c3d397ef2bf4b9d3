//! Where in a JSON text serde_json gave up, named as a path (`image.base64`, `scope[1]`, `.`
//! for the top level), so an error can say which field was wrong.
//!
//! Tracking the path while deserializing (as `serde_path_to_error` does) costs time on every
//! successful call and a second copy of every deserializer in the binary; this reads it back
//! from the error's position only when there is an error.

use std::fmt::Write as _;

enum Frame {
    Object { key: Option<String>, want_key: bool },
    Array { index: usize },
}

/// The path of the value serde_json was reading when it failed with `error` on `text`. (A
/// missing field is reported just after its object closed: the path is the object's own.)
pub(crate) fn error_path(text: &[u8], error: &serde_json::Error) -> String {
    if error.line() == 0 {
        return ".".to_owned();
    }
    render(&frames_before(
        text,
        offset_of(text, error.line(), error.column()),
    ))
}

/// serde_json's message without its ` at line L column C` suffix (meaningless for an input
/// the caller gave as an object rather than as text).
pub(crate) fn message_without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(bare) => bare.to_owned(),
        None => message,
    }
}

/// The byte offset of serde_json's (1-based line, byte column) position.
fn offset_of(text: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    let mut lines_left = line.saturating_sub(1);
    if lines_left > 0 {
        for (i, b) in text.iter().enumerate() {
            if *b == b'\n' {
                lines_left -= 1;
                if lines_left == 0 {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    start.saturating_add(column).min(text.len())
}

/// The open objects and arrays (with the current key or index of each) at `offset`.
fn frames_before(text: &[u8], offset: usize) -> Vec<Frame> {
    let mut stack: Vec<Frame> = Vec::new();
    let text = text.get(..offset).unwrap_or(text);
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'{' => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { want_key, .. }) => *want_key = true,
                None => {}
            },
            b'"' => {
                let (string, next) = read_string(text, i);
                i = next;
                if let Some(Frame::Object { key, want_key }) = stack.last_mut()
                    && *want_key
                {
                    *key = Some(string);
                    *want_key = false;
                }
            }
            _ => {}
        }
    }
    stack
}

/// The (unescaped enough to name a field) string starting at `start`, just after its opening
/// quote, and the index after its closing quote (or the end of the text).
fn read_string(text: &[u8], start: usize) -> (String, usize) {
    let mut bytes = Vec::new();
    let mut i = start;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'"' => break,
            b'\\' => {
                if let Some(&escaped) = text.get(i) {
                    bytes.push(escaped);
                    i += 1;
                }
            }
            _ => bytes.push(b),
        }
    }
    (String::from_utf8_lossy(&bytes).into_owned(), i)
}

fn render(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => break,
            Frame::Array { index } => {
                let _ = write!(path, "[{index}]");
            }
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        base64: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        token: String,
        #[serde(default)]
        scope: Vec<String>,
        #[serde(default)]
        image: Option<Inner>,
    }

    fn path_of(text: &str) -> String {
        let e = serde_json::from_str::<Outer>(text).unwrap_err();
        error_path(text.as_bytes(), &e)
    }

    #[test]
    fn names_the_field_that_failed() {
        assert_eq!(path_of(r#"{"token": 5}"#), "token");
        assert_eq!(path_of(r#"{"token": "a", "scope": ["x", 2]}"#), "scope[1]");
        assert_eq!(
            path_of(r#"{"token": "a", "image": {"base64": 1}}"#),
            "image.base64"
        );
        assert_eq!(path_of("{\n  \"token\": \"a\",\n  \"ip\": 1}"), "ip");
        assert_eq!(path_of(r#"{"scope": []}"#), ".");
        assert_eq!(path_of(r#"{"token": "a", "image": {}}"#), "image");
        assert_eq!(path_of(r#"{"to\"ken": "a"}"#), "to\"ken");
        assert_eq!(path_of(r#"[1]"#), "[0]");
    }

    #[test]
    fn strips_the_position_from_messages() {
        let e = serde_json::from_str::<Outer>(r#"{"token": 5}"#).unwrap_err();
        assert_eq!(
            message_without_position(&e),
            "invalid type: integer `5`, expected a string"
        );
    }

    #[test]
    fn never_panics_on_odd_positions() {
        for text in ["", "\"", "{\"a", "[[[", "}}}", "{\"a\\"] {
            for offset in 0..8 {
                let _ = render(&frames_before(text.as_bytes(), offset));
            }
        }
        assert_eq!(offset_of(b"ab\ncd", 2, 1), 4);
        assert_eq!(offset_of(b"ab", 9, 9), 2);
    }
}
