//! Typed data as a `serde_json::Value`, through JSON text.
//!
//! Why not `serde_json::to_value`: it is a second serializer, and every type serialized through
//! it gets a second copy of its `Serialize` code. Writing the text (the serializer every result
//! already uses for its canonical JSON) and reading it back as a `Value` (whose reader is in the
//! build anyway) keeps one copy: ~18 KB less in the edge (wasm) build, at the cost of a
//! microsecond on the flows' small states.

use serde::Serialize;
use serde_json::Value;

/// `value` as a JSON value; `Null` if it cannot be serialized (no type of this crate fails).
pub(crate) fn to_json_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_vec(value)
        .ok()
        .and_then(|text| serde_json::from_slice(&text).ok())
        .unwrap_or(Value::Null)
}
