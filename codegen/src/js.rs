//! The JS layer's generated modules (`bindings-js/generated/`): the result class of each
//! operation and the error families' table with the rule for an unknown kind. The classes'
//! behaviour is `bindings-js/results.mjs`'s and `errors.mjs`'s; the types are `ts.rs`'s.

use crate::Tables;
use crate::names::{header, js_quoted as quoted, jsdoc};
use std::fmt::Write;

/// `generated/results.mjs`: a class per operation's result shape, and `resultFor`.
pub fn results(t: &Tables) -> String {
    let mut out = header("//");
    out.push_str(
        "// The result class of each operation; what a result object does is IProovResult's\n\
         // (../results.mjs).\n\n\
         import { IProovResult, withSecretFields } from '../results.mjs';\n",
    );
    let mut names: Vec<&str> = Vec::new();
    for op in &t.operations {
        if names.contains(&op.result) {
            continue;
        }
        names.push(op.result);
        let shape = t.shape(op.result);
        out.push('\n');
        out.push_str(&jsdoc("", shape.doc));
        let _ = writeln!(out, "export class {} extends IProovResult {{}}", shape.name);
        let secret: Vec<String> = shape
            .fields
            .iter()
            .filter(|f| f.secret)
            .map(|f| quoted(f.name))
            .collect();
        if !secret.is_empty() {
            let _ = writeln!(
                out,
                "withSecretFields({}, [{}]);",
                shape.name,
                secret.join(", ")
            );
        }
    }
    out.push_str("\nconst RESULT_CLASSES = {\n");
    for op in &t.operations {
        let _ = writeln!(out, "  {}: {},", op.operation.name(), op.result);
    }
    out.push_str(
        "};\n\n/** The result object of `operation` for core's canonical JSON. */\n\
         export function resultFor(operation, json) {\n  \
         const cls = RESULT_CLASSES[operation] ?? IProovResult;\n  \
         return new cls(operation, json);\n}\n",
    );
    out
}

/// `generated/errors.mjs`: core's families with their class and parent, and the unknown rule.
pub fn errors(t: &Tables) -> String {
    let mut out = header("//");
    out.push_str(
        "// Core's error families: the class each raises and the class that one extends\n\
         // (ErrorKind::class_name, parent_class_name); ../errors.mjs makes the classes.\n\n\
         export const ERROR_TABLE = Object.freeze([\n",
    );
    for class in &t.classes {
        if let (Some(kind), Some(parent)) = (class.kind, class.parent) {
            let _ = writeln!(
                out,
                "  Object.freeze({{ kind: {}, class: {}, parent: {} }}),",
                quoted(kind.as_str()),
                quoted(class.name),
                quoted(parent)
            );
        }
    }
    let _ = write!(
        out,
        "]);\n\n/** The family of an error whose `kind` this version does not know, or that has none\n \
         * (core's ErrorKind::UNKNOWN: the same in every host). */\n\
         export const UNKNOWN_KIND = {};\n",
        quoted(iproov_core::ErrorKind::UNKNOWN.as_str())
    );
    out
}

/// `generated/host.mjs`: core's constants the JS layer reads while it creates its API
/// (`host::info`, `host::regions`, the browser's error codes of `web::decide("table")`), so
/// that creating the API calls into the native module for none of them: a wasm instance
/// compiles each function on its first call, and these three were 1.5 to 2.5 ms of an edge
/// worker's start (BENCHMARKS.md, "Edge module size and start").
pub fn host(_t: &Tables) -> String {
    use iproov_core::host;
    let value = |text: String| -> serde_json::Value {
        serde_json::from_str(&text).expect("core's host tables are JSON")
    };
    let json = |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("JSON values print");
    let table = value(host::web_decide("table", "").expect("core's web table"));
    let mut out = header("//");
    let _ = write!(
        out,
        "// Core's constants, read while the API is created (no native call needed for them).\n\n\
         /** `host::info()`: version, default User-Agent, body cap, operations, error classes,\n \
         * transport failure names, the config fields' environment variables. */\n\
         export const INFO = {};\n\n\
         /** `host::regions()`: every region, `{{id, base_url, streaming_url}}`. */\n\
         export const REGIONS = {};\n\n\
         /** The browser's error codes of `web::decide(\"table\")`: `{{code, status, message}}`. */\n\
         export const BROWSER_ERROR_CODES = {};\n",
        json(&value(host::info())),
        json(&value(host::regions())),
        json(&table["codes"]),
    );
    out
}
