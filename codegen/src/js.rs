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
