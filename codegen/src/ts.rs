//! `bindings-js/api.generated.d.ts`: the JS layer's types that restate core's tables (the
//! operations, their inputs, results and parse overloads, the client's methods, the errors,
//! the journey service's policy, answers and audit records). `bindings-js/api.d.ts` holds the
//! rest by hand and re-exports this file.
//!
//! Names follow the JS layer's conversions: results and inputs camelCase their top-level keys,
//! the journey service camelCases its answers deeply, canonical JSON (errors, audit records)
//! stays snake_case.

use crate::Tables;
use crate::names::{camel, header, jsdoc};
use iproov_core::surface::{Field, Shape, Type};
use std::fmt::Write;

/// How a shape's keys are spelt where the JS layer hands it over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// camelCase, at this level only.
    Camel,
    /// camelCase at every depth (the journey service's answers).
    CamelDeep,
    /// snake_case, as core writes it.
    Snake,
}

fn key(name: &str, case: Case) -> String {
    match case {
        Case::Snake => name.to_owned(),
        Case::Camel | Case::CamelDeep => camel(name),
    }
}

/// Shapes the JS layer only hands over camelCased (the journey service's answers).
const CAMEL_ONLY: [&str; 3] = ["JourneyStarted", "JourneyFinished", "JourneyForgotten"];

fn union(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn ts_type(ty: &Type, case: Case) -> String {
    match ty {
        Type::Str => "string".into(),
        Type::Bool => "boolean".into(),
        Type::Int => "number".into(),
        Type::Bytes => "Uint8Array | ArrayBuffer | { base64: string }".into(),
        Type::Object => "Record<string, Json>".into(),
        Type::Json => "Json".into(),
        Type::Enum("", values) => union(values),
        Type::Enum(name, _) => (*name).into(),
        Type::OpenEnum(values) => format!("{} | (string & {{}})", union(values)),
        Type::List(item) => format!("Array<{}>", ts_type(item, case)),
        // The journey service's answers are typed camelCased (as it hands them over); where
        // core's JSON holds one as it is (an error's `result`), it is plain JSON.
        Type::Shape(name) if case != Case::CamelDeep && CAMEL_ONLY.contains(name) => {
            "Record<string, Json>".into()
        }
        Type::Shape(name) => (*name).into(),
    }
}

fn member(out: &mut String, field: &Field, case: Case, readonly: bool, required: bool) {
    member_doc(out, field, field.doc, case, readonly, required);
}

fn member_doc(
    out: &mut String,
    field: &Field,
    doc: &str,
    case: Case,
    readonly: bool,
    required: bool,
) {
    out.push_str(&jsdoc("  ", doc));
    let nullable = if field.nullable { " | null" } else { "" };
    let _ = writeln!(
        out,
        "  {}{}{}: {}{nullable};",
        if readonly { "readonly " } else { "" },
        key(field.name, case),
        if required { "" } else { "?" },
        ts_type(&field.ty, case)
    );
}

fn interface(out: &mut String, name: &str, shape: &Shape, case: Case) {
    interface_doc(out, name, shape, shape.doc, case);
}

fn interface_doc(out: &mut String, name: &str, shape: &Shape, doc: &str, case: Case) {
    out.push('\n');
    out.push_str(&jsdoc("", doc));
    if shape.fields.is_empty() {
        let _ = writeln!(out, "export type {name} = Record<string, never>;");
        return;
    }
    let _ = writeln!(out, "export interface {name} {{");
    for field in &shape.fields {
        member(out, field, case, false, field.required);
    }
    out.push_str("}\n");
}

/// The named value sets: `export type AttemptState = 'issued' | ...`.
fn enums(out: &mut String, t: &Tables) {
    let mut seen: Vec<&str> = Vec::new();
    out.push_str(&jsdoc("", "The operations, by core's names."));
    let ops: Vec<&str> = t.operations.iter().map(|o| o.operation.name()).collect();
    type_alias(out, "Operation", &union(&ops));
    seen.push("Operation");
    for shape in &t.shapes {
        for field in &shape.fields {
            let mut ty = &field.ty;
            while let Type::List(item) = ty {
                ty = item;
            }
            if let Type::Enum(name, values) = ty
                && !name.is_empty()
                && !seen.contains(name)
            {
                seen.push(name);
                type_alias(out, name, &union(values));
            }
        }
    }
    out.push_str(&jsdoc(
        "",
        "The events of iProov's SDK that end an attempt without a capture (`exit`).",
    ));
    type_alias(out, "ExitEvent", &union(&t.exit_events));
}

/// `export type Name = 'a' | 'b';`, one value a line when that is too long.
fn type_alias(out: &mut String, name: &str, union: &str) {
    let line = format!("export type {name} = {union};");
    if line.len() <= 110 {
        let _ = writeln!(out, "{line}");
        return;
    }
    let _ = writeln!(out, "export type {name} =");
    let values: Vec<&str> = union.split(" | ").collect();
    for (i, value) in values.iter().enumerate() {
        let end = if i + 1 == values.len() { ";" } else { "" };
        let _ = writeln!(out, "  | {value}{end}");
    }
}

fn results(out: &mut String, t: &Tables) {
    out.push_str("\n// ---- results -------------------------------------------------------------------------------\n");
    for shape in iproov_core::surface::results() {
        let shape = t.shape(shape.name);
        if !t.operations.iter().any(|o| o.result == shape.name) {
            // A nested object: its keys are core's.
            interface(out, shape.name, shape, Case::Snake);
            continue;
        }
        out.push('\n');
        out.push_str(&jsdoc("", shape.doc));
        let _ = writeln!(
            out,
            "export declare class {} extends IProovResult {{",
            shape.name
        );
        for field in &shape.fields {
            let doc = if field.secret {
                format!(
                    "{} An accessor, not an own property: store it like a secret.",
                    field.doc
                )
            } else {
                field.doc.to_owned()
            };
            member_doc(out, field, &doc, Case::Camel, true, field.required);
        }
        out.push_str("}\n");
    }
    out.push_str("\n/** The result object of `operation` for core's canonical JSON. */\n");
    out.push_str(
        "export declare function resultFor(operation: Operation, json: Json): IProovResult;\n",
    );
    out.push_str("\n/** Reads a response of an operation into its result; throws the IProovError core names. */\n");
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for op in &t.operations {
        match groups.iter_mut().find(|(r, _)| *r == op.result) {
            Some((_, ops)) => ops.push(op.operation.name()),
            None => groups.push((op.result, vec![op.operation.name()])),
        }
    }
    for (result, ops) in groups {
        let _ = writeln!(
            out,
            "export declare function parse(operation: {}, config: ConfigLike, response: ResponseLike): {result};",
            union(&ops)
        );
    }
    out.push_str("export declare function parse(operation: Operation, config: ConfigLike, response: ResponseLike): IProovResult;\n");
}

fn inputs(out: &mut String, t: &Tables) {
    out.push_str("\n// ---- inputs and the client's methods ----------------------------------------------------------\n");
    let mut seen: Vec<&str> = Vec::new();
    for op in &t.operations {
        if !seen.contains(&op.input.name) {
            seen.push(op.input.name);
            interface(out, op.input.name, &op.input, Case::Camel);
        }
    }
    out.push_str("\n/** One method per operation (`IProovClient` has them): each a loop around core's call driver. */\n");
    out.push_str("export interface IProovOperations {\n");
    for op in &t.operations {
        out.push_str(&jsdoc("  ", &format!("{} `{}`.", op.doc, op.http)));
        let optional = if op.input.fields.iter().any(|f| f.required) {
            ""
        } else {
            "?"
        };
        let _ = writeln!(
            out,
            "  {}(input{optional}: {}, options?: CallOptions): Promise<{}>;",
            camel(op.operation.name()),
            op.input.name,
            op.result
        );
    }
    out.push_str("}\n");
}

fn errors(out: &mut String, t: &Tables) {
    out.push_str("\n// ---- errors --------------------------------------------------------------------------------\n");
    let json = t.shape("ErrorJson");
    interface(out, "ErrorJson", json, Case::Snake);
    for class in &t.classes {
        out.push('\n');
        out.push_str(&jsdoc("", class.doc));
        let Some(parent) = class.parent else {
            out.push_str("export declare class IProovError extends Error {\n");
            out.push_str("  constructor(json: ErrorJson, options?: { cause?: unknown });\n");
            // Every field of the error JSON is a property (camelCased); an object-valued one is
            // typed by the class it belongs to.
            for field in json.fields.iter().filter(|f| f.name != "message") {
                if matches!(field.ty, Type::Shape(_) | Type::Object) {
                    continue;
                }
                member(out, field, Case::Camel, true, field.required);
            }
            out.push_str("  /** Core's canonical JSON of this error (what the vectors compare and a host stores). */\n");
            out.push_str("  toJSON(): ErrorJson;\n}\n");
            continue;
        };
        if class.fields.is_empty() {
            let _ = writeln!(
                out,
                "export declare class {} extends {parent} {{}}",
                class.name
            );
            continue;
        }
        let _ = writeln!(
            out,
            "export declare class {} extends {parent} {{",
            class.name
        );
        for field in &class.fields {
            let object = matches!(field.ty, Type::Shape(_));
            let ty_case = if object { Case::CamelDeep } else { Case::Camel };
            member(out, field, ty_case, !object, field.required);
        }
        out.push_str("}\n");
    }
    let unknown = iproov_core::ErrorKind::UNKNOWN;
    out.push_str("\n/** Core's error kind -> the class core names for it. */\n");
    out.push_str(
        "export declare const ERROR_CLASSES: Readonly<Record<ErrorKind, typeof IProovError>>;\n",
    );
    out.push_str(&jsdoc(
        "",
        &format!(
            "The Error object (not thrown) for core's canonical error JSON: the class core names for its \
             `kind`; a kind this version does not know, or none, gives `{}` (core's rule, the same in \
             every host).",
            unknown.class_name()
        ),
    ));
    out.push_str("export declare function errorFromJSON(json: ErrorJson, options?: { cause?: unknown }): IProovError;\n");
}

fn service(out: &mut String, t: &Tables) {
    out.push_str("\n// ---- the journey service's policy, answers and audit records ----------------------------------\n");
    let policy = t.shape("ServicePolicy");
    let doc = format!(
        "{} camelCase or snake_case names. Core's defaults: {}.",
        policy.doc,
        crate::python::defaults(t)
    );
    interface_doc(out, "ServicePolicy", policy, &doc, Case::Camel);
    out.push_str("\n/** The policy in force: every field set, core's defaults and what it derived from the client filled in. */\n");
    out.push_str("export interface ResolvedServicePolicy {\n");
    for field in &policy.fields {
        let mut f = field.clone();
        f.nullable = t
            .resolved_policy
            .get(field.name)
            .is_none_or(serde_json::Value::is_null);
        member(out, &f, Case::Camel, true, true);
    }
    out.push_str("}\n");
    for name in ["JourneyStarted", "JourneyFinished", "JourneyForgotten"] {
        interface(out, name, t.shape(name), Case::CamelDeep);
    }
    let audit = t.shape("AuditRecord");
    out.push('\n');
    out.push_str(&jsdoc(
        "",
        &format!("{} snake_case, as core writes it.", audit.doc),
    ));
    out.push_str("export type AuditRecordJson = {\n");
    for field in &audit.fields {
        member(out, field, Case::Snake, false, field.required);
    }
    out.push_str("};\n");
}

/// The whole file.
pub fn api(t: &Tables) -> String {
    let mut out = header("//");
    out.push_str(
        "// The JS API's types that restate core's tables; bindings-js/api.d.ts has the rest and\n\
         // re-exports these.\n\n\
         import type { CallOptions, ConfigLike, Json, ResponseLike } from './api.js';\n\
         import { IProovResult } from './api.js';\n\n",
    );
    enums(&mut out, t);
    results(&mut out, t);
    inputs(&mut out, t);
    errors(&mut out, t);
    service(&mut out, t);
    out
}
