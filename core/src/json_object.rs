//! `Deserialize` for structs that are read from JSON objects, without serde's derive.
//!
//! Why: serde's derive also reads every struct from a JSON array (by position) and gives each
//! struct its own field-identifier type, visitor and key matching. JSON objects need none of
//! that, and over the ~35 structs core reads it was a third of the edge (wasm) build's code,
//! where every kilobyte counts against a worker's size and start-up limits. [`json_object!`]
//! generates only a reader per field; the key loop ([`read_fields`]) is shared. Errors are
//! serde's own (`missing field`, `unknown field ... expected one of`, `duplicate field`), so
//! messages and field paths stay as they were; a struct given as a JSON array is now a type
//! error rather than read by position.
//!
//! ```ignore
//! struct Answer { passed: bool, kind: Option<String>, frame_available: Option<bool> }
//! json_object! {
//!     Answer, allow_unknown_fields;
//!     req passed, opt kind as "type", opt frame_available with bool_or_string: Option<bool>,
//! }
//! ```
//! - `req f`: the key must be present (else `missing field`);
//! - `opt f`: absent means `Default::default()` (serde's `#[serde(default)]`; for an `Option`
//!   field serde's derive does the same without it);
//! - `dflt f`: absent means the field's value in the struct's `Default` (serde's container
//!   `#[serde(default)]`);
//! - `as "key"`: the JSON key when it differs from the field name;
//! - `with path: Type`: read the value with `path(deserializer)` (serde's `deserialize_with`);
//! - `deny_unknown_fields` (or `allow_unknown_fields`): what an unknown key does.

use serde::de::{self, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// An object key: borrowed from the input when it has no escapes. One type for every struct,
/// so the key-reading code exists once.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Reads the keys of one object: finds each key among `names`, rejects a repeated one, calls
/// the reader of its field, skips or rejects (`deny_unknown`) an unknown key, then checks that
/// every `required` field came. Shared by every struct, so each struct adds only its readers.
#[inline(never)]
pub(crate) fn read_fields<'de, A: MapAccess<'de>>(
    mut map: A,
    names: &'static [&'static str],
    required: &[bool],
    deny_unknown: bool,
    readers: &mut [FieldReader<'_, A, A::Error>],
) -> Result<(), A::Error> {
    let mut seen = [false; MAX_FIELDS];
    while let Some(key) = map.next_key::<Key<'de>>()? {
        let index = names.iter().position(|name| *name == key.0);
        match index.and_then(|i| Some((seen.get_mut(i)?, readers.get_mut(i)?, names.get(i)?))) {
            Some((seen, read, name)) => {
                if *seen {
                    return Err(A::Error::duplicate_field(name));
                }
                *seen = true;
                read(&mut map)?;
            }
            None if deny_unknown => return Err(unknown_field(&key.0, names)),
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    let missing = names
        .iter()
        .zip(required)
        .zip(seen)
        .find(|((_, required), seen)| **required && !seen);
    match missing {
        Some(((name, _), _)) => Err(A::Error::missing_field(name)),
        None => Ok(()),
    }
}

/// Reads one field's value from the map (its key has just been read) into the field.
pub(crate) type FieldReader<'r, A, E> = &'r mut dyn FnMut(&mut A) -> Result<(), E>;

/// The most fields a [`json_object!`] struct may have.
pub(crate) const MAX_FIELDS: usize = 24;

/// The error for a key that is no field of a struct that denies unknown fields.
#[cold]
fn unknown_field<E: de::Error>(key: &str, fields: &'static [&'static str]) -> E {
    E::unknown_field(key, fields)
}

/// Generates `Deserialize` for a struct from a JSON object (see the module doc).
macro_rules! json_object {
    (
        $name:ident $(<$lt:lifetime>)?, $unknown:ident;
        $( $kind:ident $field:ident $(as $key:literal)? $(with $with:path : $with_ty:ty)? ),* $(,)?
    ) => {
        impl<'de $(: $lt, $lt)?> ::serde::Deserialize<'de> for $name $(<$lt>)? {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor $(<$lt>)? (::std::marker::PhantomData<$name $(<$lt>)?>);
                impl<'de $(: $lt, $lt)?> ::serde::de::Visitor<'de> for ObjectVisitor $(<$lt>)? {
                    type Value = $name $(<$lt>)?;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                        const NAMES: &[&str] = &[$( $crate::json_object::json_object!(@key $field $($key)?) ),*];
                        const REQUIRED: &[bool] = &[$( $crate::json_object::json_object!(@required $kind) ),*];
                        const _: () = assert!(NAMES.len() <= $crate::json_object::MAX_FIELDS);
                        $( let mut $field = None; )*
                        $crate::json_object::read_fields(
                            map,
                            NAMES,
                            REQUIRED,
                            $crate::json_object::json_object!(@deny $unknown),
                            &mut [$(
                                &mut |map: &mut A| {
                                    $field = Some($crate::json_object::json_object!(@value map $($with : $with_ty)?));
                                    Ok(())
                                }
                            ),*],
                        )?;
                        Ok($name {
                            $( $field: $crate::json_object::json_object!(@missing $kind $name $field $($key)?), )*
                        })
                    }
                }
                deserializer.deserialize_map(ObjectVisitor(::std::marker::PhantomData))
            }
        }
    };
    (@key $field:ident $key:literal) => { $key };
    (@key $field:ident) => { stringify!($field) };
    (@required req) => { true };
    (@required opt) => { false };
    (@required dflt) => { false };
    (@deny deny_unknown_fields) => { true };
    (@deny allow_unknown_fields) => { false };
    (@value $map:ident $with:path : $with_ty:ty) => {{
        struct With($with_ty);
        impl<'de> ::serde::Deserialize<'de> for With {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $with(d).map(With)
            }
        }
        $map.next_value::<With>()?.0
    }};
    (@value $map:ident) => { $map.next_value()? };
    (@missing opt $name:ident $field:ident $($key:literal)?) => { $field.unwrap_or_default() };
    (@missing dflt $name:ident $field:ident $($key:literal)?) => {
        match $field {
            Some(value) => value,
            None => <$name as Default>::default().$field,
        }
    };
    // read_fields has checked that it came; this only keeps the code panic-free.
    (@missing req $name:ident $field:ident $($key:literal)?) => {
        match $field {
            Some(value) => value,
            None => return Err(::serde::de::Error::missing_field(
                $crate::json_object::json_object!(@key $field $($key)?))),
        }
    };
}
pub(crate) use json_object;

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq)]
    struct Strict {
        name: String,
        kind: Option<String>,
        count: u32,
    }
    json_object! {
        Strict, deny_unknown_fields;
        req name, opt kind as "type", opt count,
    }

    #[derive(Debug, PartialEq)]
    struct Policy {
        tries: u32,
        label: String,
    }
    impl Default for Policy {
        fn default() -> Self {
            Self {
                tries: 3,
                label: "standard".to_owned(),
            }
        }
    }
    json_object! {
        Policy, allow_unknown_fields;
        dflt tries, dflt label,
    }

    fn strict(text: &str) -> Result<Strict, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_fields_renamed_and_defaulted() {
        assert_eq!(
            strict(r#"{"type": "a", "name": "n"}"#),
            Ok(Strict {
                name: "n".to_owned(),
                kind: Some("a".to_owned()),
                count: 0
            })
        );
        // A key with an escape is read too (it is not borrowed from the input).
        assert_eq!(
            strict(r#"{"n\u0061me": "x"}"#).map(|s| s.name),
            Ok("x".to_owned())
        );
    }

    #[test]
    fn errors_are_serdes_own() {
        let error = |text| strict(text).unwrap_err();
        assert!(error(r#"{"type": "a"}"#).starts_with("missing field `name` at line 1"));
        assert!(
            error(r#"{"name": "n", "nme": 1}"#).starts_with(
                "unknown field `nme`, expected one of `name`, `type`, `count` at line 1"
            )
        );
        assert!(error(r#"{"name": "n", "name": "m"}"#).starts_with("duplicate field `name` at"));
        assert!(error(r#"{"name": 5}"#).starts_with("invalid type: integer `5`, expected"));
        assert!(
            error(r#"["n", "a", 1]"#).starts_with("invalid type: sequence, expected struct Strict")
        );
    }

    #[test]
    fn container_default_fills_what_is_missing() {
        let policy: Policy = serde_json::from_str(r#"{"tries": 5, "other": [1]}"#).unwrap();
        assert_eq!(
            policy,
            Policy {
                tries: 5,
                label: "standard".to_owned()
            }
        );
        let policy: Policy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, Policy::default());
    }
}
