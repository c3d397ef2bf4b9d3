//! The tables every host's surface is generated from: each operation's input and result, each
//! error family's class and fields, the journey service's policy, answers and audit records,
//! with their names, types and docs.
//!
//! `codegen/` (`cargo run -p iproov-codegen`) writes from these the Python per-operation
//! functions and client methods, result classes, error classes and TypedDicts, the JS result
//! classes and `api.generated.d.ts`, and the README's error table; `scripts/test` fails when a
//! generated file differs from what it would write now. Nothing in core's behaviour reads
//! these tables (an unused table costs the edge build nothing): each file's tests tie its table
//! to the code it describes (the fields an input struct accepts, a result serializes, the
//! service answers), so a field core adds, drops or retypes fails them until the table says so.
//!
//! A shape's JSON is core's canonical (snake_case) JSON; hosts that camelCase it (JS) derive
//! their names from these.

pub mod errors;
pub mod operations;
pub mod results;
pub mod service;

use serde_json::Value;

pub use errors::{ErrorClass, ErrorCode, error_classes, error_codes, error_json};
pub use operations::{OperationSurface, operations};
pub use results::results;

/// A field's JSON type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// A whole number (milliseconds, counts, seconds).
    Int,
    /// Bytes: an image, as the vector format's `{"base64": ...}` in JSON.
    Bytes,
    /// Any JSON object, kept verbatim.
    Object,
    /// Any JSON value.
    Json,
    /// One of these strings; a name (`AttemptState`) lets hosts declare the set once, `""`
    /// writes it out where it is used.
    Enum(&'static str, Vec<&'static str>),
    /// A string of which these are the values known today (iProov may send others).
    OpenEnum(Vec<&'static str>),
    /// An array of the type.
    List(Box<Type>),
    /// An object of the shape with this name (one of [`shapes`]).
    Shape(&'static str),
}

impl Type {
    /// A list of `item`.
    pub fn list(item: Type) -> Self {
        Self::List(Box::new(item))
    }
}

/// One field of a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The JSON key (snake_case).
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// Always present; otherwise the key may be absent.
    pub required: bool,
    /// May be `null` (an optional setting written out as `null`).
    pub nullable: bool,
    /// What it means, in a sentence for docs (units, source of the rule).
    pub doc: &'static str,
    /// Left out of a host's `repr`/`inspect` of a result (large or secret).
    pub hidden: bool,
    /// A credential: shown redacted, read through an accessor only.
    pub secret: bool,
}

impl Field {
    /// A required field.
    pub fn req(name: &'static str, ty: Type, doc: &'static str) -> Self {
        Self {
            name,
            ty,
            required: true,
            nullable: false,
            doc,
            hidden: false,
            secret: false,
        }
    }

    /// An optional field (absent when not given).
    pub fn opt(name: &'static str, ty: Type, doc: &'static str) -> Self {
        Self {
            required: false,
            ..Self::req(name, ty, doc)
        }
    }

    /// This field, also `null` when unset.
    #[must_use]
    pub fn nullable(self) -> Self {
        Self {
            nullable: true,
            ..self
        }
    }

    /// This field, left out of a result's `repr`.
    #[must_use]
    pub fn hidden(self) -> Self {
        Self {
            hidden: true,
            ..self
        }
    }

    /// This field, a credential (hidden, and redacted wherever the result is shown).
    #[must_use]
    pub fn secret(self) -> Self {
        Self {
            hidden: true,
            secret: true,
            ..self
        }
    }
}

/// A named JSON object: an input, a result, an answer, a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// The host type's name (`ClaimToken`, `JourneyFinished`).
    pub name: &'static str,
    /// What it is.
    pub doc: &'static str,
    /// Its fields, in the order hosts list them.
    pub fields: Vec<Field>,
}

impl Shape {
    /// A shape.
    pub fn new(name: &'static str, doc: &'static str, fields: Vec<Field>) -> Self {
        Self { name, doc, fields }
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Checks `value` against this shape (`shapes`: where a [`Type::Shape`] is looked up):
    /// every required field present, no other key, every value of its type. The error names
    /// the path of the first mismatch.
    pub fn check(&self, value: &Value, shapes: &[Shape]) -> Result<(), String> {
        check_object(self, value, shapes, self.name)
    }
}

/// Every named shape of every table: inputs, results, answers, records, the error JSON.
pub fn shapes() -> Vec<Shape> {
    let mut all: Vec<Shape> = Vec::new();
    for op in operations() {
        if !all.iter().any(|s| s.name == op.input.name) {
            all.push(op.input);
        }
    }
    all.extend(results());
    all.extend(service::shapes());
    all.push(error_json());
    all
}

/// The shape named `name` among `shapes`.
pub fn find<'a>(shapes: &'a [Shape], name: &str) -> Option<&'a Shape> {
    shapes.iter().find(|s| s.name == name)
}

fn check_object(shape: &Shape, value: &Value, shapes: &[Shape], at: &str) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err(format!("{at}: not an object: {value}"));
    };
    for (key, item) in map {
        let field = shape
            .field(key)
            .ok_or_else(|| format!("{at}: `{key}` is no field of {}", shape.name))?;
        if item.is_null() && field.nullable {
            continue;
        }
        check_type(&field.ty, item, shapes, &format!("{at}.{key}"))?;
    }
    match shape
        .fields
        .iter()
        .find(|f| f.required && !map.contains_key(f.name))
    {
        Some(missing) => Err(format!("{at}: `{}` is missing", missing.name)),
        None => Ok(()),
    }
}

fn check_type(ty: &Type, value: &Value, shapes: &[Shape], at: &str) -> Result<(), String> {
    let fits = match ty {
        Type::Str | Type::OpenEnum(_) => value.is_string(),
        Type::Bool => value.is_boolean(),
        Type::Int => value.is_u64() || value.is_i64(),
        Type::Bytes => value.get("base64").is_some_and(Value::is_string),
        Type::Object => value.is_object(),
        Type::Json => true,
        Type::Enum(_, values) => value.as_str().is_some_and(|v| values.contains(&v)),
        Type::List(item) => {
            let Value::Array(items) = value else {
                return Err(format!("{at}: not an array: {value}"));
            };
            for (i, v) in items.iter().enumerate() {
                check_type(item, v, shapes, &format!("{at}[{i}]"))?;
            }
            true
        }
        Type::Shape(name) => {
            let shape = find(shapes, name).ok_or_else(|| format!("{at}: no shape {name}"))?;
            return check_object(shape, value, shapes, at);
        }
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{at}: {value} is not of type {ty:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_names_are_unique_and_every_reference_resolves() {
        let all = shapes();
        for (i, shape) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|s| s.name != shape.name),
                "two shapes named {}",
                shape.name
            );
            let mut names: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                shape.fields.len(),
                "{}: a field twice",
                shape.name
            );
            for field in &shape.fields {
                let mut ty = &field.ty;
                while let Type::List(item) = ty {
                    ty = item;
                }
                if let Type::Shape(name) = ty {
                    assert!(
                        find(&all, name).is_some(),
                        "{}: no shape {name}",
                        shape.name
                    );
                }
                assert!(!field.doc.is_empty() || shape.name.ends_with("Input"));
            }
        }
        // Inputs shared by several operations are one shape.
        for a in operations() {
            for b in operations() {
                if a.input.name == b.input.name {
                    assert_eq!(a.input, b.input, "{} and {}", a.operation, b.operation);
                }
            }
        }
    }

    #[test]
    fn the_checker_names_what_does_not_fit() {
        let all = shapes();
        let token = find(&all, "ClaimToken").unwrap();
        assert!(
            token
                .check(&serde_json::json!({"token": "t"}), &all)
                .is_ok()
        );
        let missing = token.check(&serde_json::json!({"pod": "p"}), &all);
        assert!(missing.unwrap_err().contains("`token` is missing"));
        let extra = token.check(&serde_json::json!({"token": "t", "x": 1}), &all);
        assert!(extra.unwrap_err().contains("`x`"));
        let typed = token.check(
            &serde_json::json!({"token": "t", "fallback": [{"type": 1}]}),
            &all,
        );
        assert!(typed.unwrap_err().contains("ClaimToken.fallback[0].type"));
    }
}
