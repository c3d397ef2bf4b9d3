//! What both vector runners share: finding the vector files (tests/vectors and
//! IPROOV_VECTORS_DIR), reading them, and the base format's subset match.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every `*.json` file under the vector directories, each directory's files in sorted order.
/// A directory with no vector file is a failure (a mistyped IPROOV_VECTORS_DIR must not pass).
pub fn vector_files(failures: &mut Vec<String>) -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")];
    if let Some(extra) = std::env::var_os("IPROOV_VECTORS_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    let mut all = Vec::new();
    for dir in dirs {
        let mut files = Vec::new();
        collect_json(&dir, &mut files);
        files.sort();
        if files.is_empty() {
            failures.push(format!("{}: no vector files found", dir.display()));
        }
        all.extend(files);
    }
    all
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// The vectors of one file (`{"vectors": [...]}` or one object), with their names.
pub fn load(file: &Path, failures: &mut Vec<String>) -> Vec<(String, Value)> {
    let parsed: Result<Value, String> = std::fs::read(file)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()));
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("{}: unreadable: {e}", file.display()));
            return Vec::new();
        }
    };
    let list = match value.get("vectors") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![value],
    };
    list.into_iter()
        .map(|v| {
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("<unnamed>")
                .to_owned();
            (name, v)
        })
        .collect()
}

/// Every key of `expected` must be in `actual` with an equal value (recursively for objects;
/// arrays and scalars compared whole), as in the base vector format.
pub fn subset(what: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, want) in e {
                let path = format!("{what}.{key}");
                match a.get(key) {
                    Some(got) => subset(&path, got, want)?,
                    None => return Err(format!("{path} missing; got {actual}")),
                }
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{what}: got {actual}, expected {expected}")),
    }
}
