//! Python objects to and from `serde_json::Value`, and argument extraction whose failures are
//! core's `invalid_input` errors (so a caller never sees a bare `TypeError`).

use crate::errors::raise;
use iproov_core::Error;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

/// Deepest nesting converted; deeper input is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 128;

/// Converts a JSON-like Python object (dict with str keys, list, tuple, str, int, float, bool,
/// None) into a `Value`. Anything else is `invalid_input` naming `field`.
pub fn to_value(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Value> {
    to_value_at(obj, field, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, field: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(raise(
            obj.py(),
            &Error::invalid_input(field, "is nested too deeply"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    // bool before int: Python's bool is an int subclass.
    if let Ok(flag) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(raise(
            obj.py(),
            &Error::invalid_input(field, "holds an integer out of the 64-bit range"),
        ));
    }
    if let Ok(float) = obj.cast::<PyFloat>() {
        return Number::from_f64(float.value())
            .map(Value::Number)
            .ok_or_else(|| {
                raise(
                    obj.py(),
                    &Error::invalid_input(field, "holds a float that JSON cannot carry"),
                )
            });
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (key, value) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(raise(
                    obj.py(),
                    &Error::invalid_input(field, "has a key that is not a string"),
                ));
            };
            map.insert(
                key.to_cow()?.into_owned(),
                to_value_at(&value, field, depth + 1)?,
            );
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        let items: PyResult<Vec<Value>> = list
            .iter()
            .map(|item| to_value_at(&item, field, depth + 1))
            .collect();
        return items.map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        let items: PyResult<Vec<Value>> = tuple
            .iter()
            .map(|item| to_value_at(&item, field, depth + 1))
            .collect();
        return items.map(Value::Array);
    }
    Err(raise(
        obj.py(),
        &Error::invalid_input(
            field,
            format!(
                "holds a {}, which is not JSON data (dict, list, str, int, float, bool, None)",
                type_name(obj)
            ),
        ),
    ))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "value".to_owned())
}

/// Converts a `Value` into plain Python objects (dict, list, str, int, float, bool, None).
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A `str` argument, or `invalid_input` naming `field`.
pub fn text(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(raise(
            obj.py(),
            &Error::invalid_input(field, format!("must be a str, not {}", type_name(obj))),
        )),
    }
}

/// An optional `str` argument (`None` is absent).
pub fn opt_text(obj: Option<&Bound<'_, PyAny>>, field: &str) -> PyResult<Option<String>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => text(o, field).map(Some),
    }
}

/// An integer argument in `T`'s range, or `invalid_input` naming `field`.
pub fn integer<'py, T>(obj: &Bound<'py, PyAny>, field: &str) -> PyResult<T>
where
    T: for<'a> FromPyObject<'a, 'py>,
{
    if obj.cast::<PyInt>().is_ok()
        && obj.cast::<PyBool>().is_err()
        && let Ok(value) = obj.extract::<T>()
    {
        return Ok(value);
    }
    Err(raise(
        obj.py(),
        &Error::invalid_input(field, "must be an integer in range"),
    ))
}

/// Bytes from `bytes`, `bytearray`, `memoryview` or `str` (UTF-8), or `invalid_input`.
pub fn with_bytes<R>(
    obj: &Bound<'_, PyAny>,
    field: &str,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return f(bytes.as_bytes());
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return f(text.to_cow()?.as_bytes());
    }
    if let Ok(array) = obj.cast::<PyByteArray>() {
        return f(&array.to_vec());
    }
    if obj.is_none() {
        return f(&[]);
    }
    // A memoryview: copied through bytes() (never other objects: bytes(12) is 12 zeros).
    if obj.cast::<PyMemoryView>().is_ok() {
        let copied = obj.py().get_type::<PyBytes>().call1((obj,))?;
        if let Ok(copied) = copied.cast::<PyBytes>() {
            return f(copied.as_bytes());
        }
    }
    Err(raise(
        obj.py(),
        &Error::invalid_input(field, format!("must be bytes, not {}", type_name(obj))),
    ))
}

/// Response headers from a dict, any mapping (`multi_items()` first, so httpx's repeated
/// headers survive, then `items()`) or an iterable of `(name, value)` pairs.
pub fn headers(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let py = obj.py();
    let bad = || {
        raise(
            py,
            &Error::invalid_input("headers", "must be a mapping or pairs of str (name, value)"),
        )
    };
    let pairs = if let Ok(dict) = obj.cast::<PyDict>() {
        dict.items().into_any()
    } else if obj.hasattr("multi_items")? {
        obj.call_method0("multi_items")?
    } else if obj.hasattr("items")? {
        obj.call_method0("items")?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    for pair in pairs.try_iter().map_err(|_| bad())? {
        let pair = pair?;
        let (name, value) = match pair.cast::<PyTuple>() {
            Ok(tuple) if tuple.len() == 2 => (tuple.get_item(0)?, tuple.get_item(1)?),
            _ => {
                let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
                    pair.extract().map_err(|_| bad())?;
                (name, value)
            }
        };
        out.push((
            header_text(&name).ok_or_else(bad)?,
            header_text(&value).ok_or_else(bad)?,
        ));
    }
    Ok(out)
}

/// A header name or value: `str`, or raw bytes (httpx's `headers.raw`) decoded as UTF-8 with
/// invalid bytes replaced. Checked by type first: a failed extraction would build an exception.
fn header_text(obj: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(text) = obj.cast::<PyString>() {
        return text.to_cow().ok().map(|t| t.into_owned());
    }
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Some(String::from_utf8_lossy(bytes.as_bytes()).into_owned());
    }
    None
}
