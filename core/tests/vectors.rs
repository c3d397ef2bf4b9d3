//! The Rust runner of the shared conformance vectors (`tests/vectors` and `IPROOV_VECTORS_DIR`).
//! It prints how many vectors ran and fails, naming each vector and file, on any mismatch.

use base64::Engine;
use iproov_core::operation::{self, JsonConfig, Operation};
use iproov_core::surface;
use iproov_core::{Request, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

mod common;

fn main() {
    let mut passed = 0usize;
    let mut failures = Vec::new();
    for file in common::vector_files(&mut failures) {
        for (name, vector) in common::load(&file, &mut failures) {
            if is_flow(&vector) {
                continue;
            }
            match run_vector(&vector) {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!("{} [{}]: {why}", name, file.display())),
            }
        }
    }
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    println!("vectors: {passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn is_flow(vector: &Value) -> bool {
    vector.get("flow").is_some()
}

fn run_vector(vector: &Value) -> Result<(), String> {
    let op_name = vector
        .get("operation")
        .and_then(Value::as_str)
        .ok_or("no operation")?;
    let operation = Operation::parse(op_name).map_err(|e| e.to_string())?;
    let expected_error = vector.get("error");
    let response = vector.get("response");
    let config = match JsonConfig::from_json(vector.get("config").unwrap_or(&Value::Null)) {
        Ok(config) => config,
        Err(error) if response.is_none() && expected_error.is_some() => {
            return check_error(
                &error.to_json(),
                expected_error.unwrap_or(&Value::Null),
                vector,
            );
        }
        Err(error) => return Err(format!("config rejected: {}", error.to_json())),
    };
    if vector.get("input").is_some() || response.is_none() {
        let input = vector.get("input").unwrap_or(&Value::Null);
        match operation::build(operation, &config, input) {
            Ok(request) => {
                if response.is_none() && expected_error.is_some() {
                    return Err(format!(
                        "build succeeded, expected error {}",
                        expected_error.unwrap_or(&Value::Null)
                    ));
                }
                if let Some(expected) = vector.get("request") {
                    compare_request(&request, expected)?;
                }
            }
            Err(error) => {
                if response.is_none()
                    && let Some(expected) = expected_error
                {
                    return check_error(&error.to_json(), expected, vector);
                }
                return Err(format!("build failed: {}", error.to_json()));
            }
        }
    }
    let Some(response) = response else {
        return Ok(());
    };
    let status = response
        .get("status")
        .and_then(Value::as_u64)
        .ok_or("response.status")?;
    let status = u16::try_from(status).map_err(|e| e.to_string())?;
    let headers: Vec<(String, String)> = response
        .get("headers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let body: Vec<u8> = match (response.get("body"), response.get("body_base64")) {
        (Some(Value::String(text)), _) => text.as_bytes().to_vec(),
        (_, Some(Value::String(b64))) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("body_base64: {e}"))?,
        _ => Vec::new(),
    };
    let parsed = operation::parse(operation, &config, &Response::new(status, &headers, &body));
    match (parsed, vector.get("result"), expected_error) {
        (Ok(result), Some(expected), _) => {
            common::subset("result", &result, expected)?;
            surfaced(surface_of(operation).result, &result)?;
            absent("result", &result, vector.get("result_absent"))
        }
        (Ok(result), None, Some(expected)) => Err(format!(
            "parse gave result {result}, expected error {expected}"
        )),
        (Ok(result), None, None) => absent("result", &result, vector.get("result_absent")),
        (Err(error), _, Some(expected)) => check_error(&error.to_json(), expected, vector),
        (Err(error), _, None) => Err(format!("parse failed: {}", error.to_json())),
    }
}

/// The table of `operation` among core's surface tables (what hosts generate their types from).
fn surface_of(operation: Operation) -> surface::OperationSurface {
    surface::operations()
        .into_iter()
        .find(|op| op.operation == operation)
        .expect("every operation has its surface")
}

/// Checks `value` against core's surface table `shape`: a result or error the generated host
/// types would not describe fails the vector.
fn surfaced(shape: &str, value: &Value) -> Result<(), String> {
    let shapes = surface::shapes();
    let found = surface::find(&shapes, shape).ok_or(format!("no surface shape {shape}"))?;
    found
        .check(value, &shapes)
        .map_err(|e| format!("core's surface table: {e}"))
}

fn check_error(actual: &Value, expected: &Value, vector: &Value) -> Result<(), String> {
    common::subset("error", actual, expected)?;
    surfaced("ErrorJson", actual)?;
    let text = actual.to_string();
    for banned in vector
        .get("error_excludes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let banned = banned.as_str().unwrap_or_default();
        if text.contains(banned) {
            return Err(format!("the error contains {banned:?}: {text}"));
        }
    }
    absent("error", actual, vector.get("error_absent"))
}

/// The `*_absent` extension: listed top-level keys must not be present.
fn absent(what: &str, actual: &Value, keys: Option<&Value>) -> Result<(), String> {
    for key in keys.and_then(Value::as_array).into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if actual.get(key).is_some() {
            return Err(format!("{what}.{key} must be absent; got {actual}"));
        }
    }
    Ok(())
}

fn compare_request(request: &Request, expected: &Value) -> Result<(), String> {
    let want = |key: &str| expected.get(key);
    if let Some(method) = want("method").and_then(Value::as_str)
        && request.method.as_str() != method
    {
        return Err(format!("method {} != {method}", request.method));
    }
    if let Some(url) = want("url").and_then(Value::as_str)
        && request.url != url
    {
        return Err(format!("url {} != {url}", request.url));
    }
    if let Some(Value::Object(headers)) = want("headers") {
        for (name, value) in headers {
            let got = request.header(name);
            if got != value.as_str() {
                return Err(format!("header {name}: got {got:?}, expected {value}"));
            }
        }
    }
    for name in want("absent_headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = name.as_str().unwrap_or_default();
        if request.header(name).is_some() {
            return Err(format!("header {name} must be absent"));
        }
    }
    if let Some(Value::Object(prefixes)) = want("header_prefixes") {
        for (name, prefix) in prefixes {
            let got = request.header(name).unwrap_or_default();
            if !got.starts_with(prefix.as_str().unwrap_or_default()) {
                return Err(format!(
                    "header {name}: {got:?} does not start with {prefix}"
                ));
            }
        }
    }
    if want("no_body") == Some(&Value::Bool(true)) && !request.body.is_empty() {
        return Err("the request must have no body".to_owned());
    }
    if let Some(keys) = want("json_absent") {
        let body: Value =
            serde_json::from_slice(&request.body).map_err(|e| format!("body is not JSON: {e}"))?;
        absent("json", &body, Some(keys))?;
    }
    if let Some(json) = want("json") {
        let body: Value =
            serde_json::from_slice(&request.body).map_err(|e| format!("body is not JSON: {e}"))?;
        if &body != json {
            return Err(format!("json body {body} != {json}"));
        }
    }
    if let Some(form) = want("form") {
        let got: Map<String, Value> = form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        if &Value::Object(got.clone()) != form {
            return Err(format!("form {got:?} != {form}"));
        }
    }
    if let Some(Value::Object(parts)) = want("multipart") {
        compare_multipart(request, parts)?;
    }
    Ok(())
}

fn compare_multipart(request: &Request, expected: &Map<String, Value>) -> Result<(), String> {
    let content_type = request.header("content-type").unwrap_or_default();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .ok_or("multipart without boundary")?;
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut got = Map::new();
    let mut sections = split_bytes(body, delimiter.as_bytes());
    sections.remove(0);
    for section in sections {
        if section.starts_with(b"--") {
            break;
        }
        let section = section.strip_prefix(b"\r\n").ok_or("part without CRLF")?;
        let section = section
            .strip_suffix(b"\r\n")
            .ok_or("part not ended by CRLF")?;
        let split = find(section, b"\r\n\r\n").ok_or("part without header end")?;
        let head = String::from_utf8_lossy(&section[..split]).into_owned();
        let content = &section[split + 4..];
        let name = attribute(&head, "name").ok_or("part without name")?;
        let value = match attribute(&head, "filename") {
            Some(filename) => {
                let ctype = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Type: "))
                    .unwrap_or_default();
                let digest: String = Sha256::digest(content)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                serde_json::json!({"filename": filename, "content_type": ctype, "sha256": digest})
            }
            None => Value::String(String::from_utf8_lossy(content).into_owned()),
        };
        got.insert(name, value);
    }
    for (name, value) in expected {
        match got.get(name) {
            Some(v) if v == value => {}
            other => {
                return Err(format!(
                    "multipart part {name}: got {other:?}, expected {value}"
                ));
            }
        }
    }
    if let Some(extra) = got.keys().find(|k| !expected.contains_key(*k)) {
        return Err(format!("unexpected multipart part {extra}"));
    }
    Ok(())
}

fn attribute(head: &str, key: &str) -> Option<String> {
    let marker = format!("; {key}=\"");
    let start = head.find(&marker)? + marker.len();
    let end = head[start..].find('"')? + start;
    Some(head[start..end].to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(haystack: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.push(&rest[..at]);
        rest = &rest[at + needle.len()..];
    }
    out.push(rest);
    out
}
