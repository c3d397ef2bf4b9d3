//! The Rust runner of the flow vectors: every vector with a `flow` key under `tests/vectors`
//! (and `IPROOV_VECTORS_DIR`), driven through `iproov_core::flows::json`, exactly as the
//! bindings' runners do. The step format is documented in `tests/vectors/README.md`.
//! Prints `flow vectors: N passed, M failed` last and exits non-zero on any failure.

use iproov_core::flows::json::{new_state, run_step};
use serde_json::Value;

mod common;

fn main() {
    let mut passed = 0usize;
    let mut failures = Vec::new();
    for file in common::vector_files(&mut failures) {
        for (name, vector) in common::load(&file, &mut failures) {
            if vector.get("flow").is_none() {
                continue;
            }
            match run_vector(&vector) {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!("{name} [{}]: {why}", file.display())),
            }
        }
    }
    if passed == 0 && failures.is_empty() {
        failures.push("no flow vectors found".to_owned());
    }
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    println!("flow vectors: {passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn run_vector(vector: &Value) -> Result<(), String> {
    let flow = vector
        .get("flow")
        .and_then(Value::as_str)
        .ok_or("flow is not a string")?;
    let config = vector.get("config").unwrap_or(&Value::Null);
    let options = vector.get("options").unwrap_or(&Value::Null);
    let mut state = match (new_state(flow, options), vector.get("error")) {
        (Ok(_), Some(expected)) => {
            return Err(format!("options accepted, expected error {expected}"));
        }
        (Err(error), Some(expected)) => return common::subset("error", &error.to_json(), expected),
        (Err(error), None) => return Err(format!("options rejected: {}", error.to_json())),
        (Ok(state), None) => state,
    };
    let steps = vector
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("steps is not an array")?;
    if steps.is_empty() {
        return Err("no steps".to_owned());
    }
    for (i, step) in steps.iter().enumerate() {
        let action = step.get("action").and_then(Value::as_str).unwrap_or("?");
        run_one(flow, config, &mut state, step)
            .map_err(|why| format!("step {} ({action}): {why}", i + 1))?;
    }
    Ok(())
}

fn run_one(flow: &str, config: &Value, state: &mut Value, step: &Value) -> Result<(), String> {
    match (run_step(flow, config, state, step), step.get("error")) {
        (Ok(out), Some(expected)) => Err(format!(
            "succeeded with {}, expected error {expected}",
            out.output
        )),
        (Err(error), Some(expected)) => common::subset("error", &error.to_json(), expected),
        (Err(error), None) => Err(format!("failed: {}", error.to_json())),
        (Ok(out), None) => {
            if let Some(expected) = step.get("expect") {
                common::subset("output", &out.output, expected)?;
            }
            if let Some(expected) = step.get("state") {
                common::subset("state", &out.state, expected)?;
            }
            if let Some(paths) = step.get("absent").and_then(Value::as_array) {
                for path in paths.iter().filter_map(Value::as_str) {
                    if lookup(&out.output, path).is_some() {
                        return Err(format!("output.{path} is present; got {}", out.output));
                    }
                }
            }
            if let Some(texts) = step.get("lacks").and_then(Value::as_array) {
                let shown = out.output.to_string();
                for text in texts.iter().filter_map(Value::as_str) {
                    if shown.contains(text) {
                        return Err(format!("output contains {text:?}: {shown}"));
                    }
                }
            }
            *state = out.state;
            Ok(())
        }
    }
}

/// The value at a dotted path (`result.frame`, `attempts.0.status`).
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}
