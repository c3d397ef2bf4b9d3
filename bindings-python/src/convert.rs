//! Python values into the arguments of core's `host` functions, converting types only; a
//! value that cannot be converted is core's `invalid_input` naming the argument (never a bare
//! `TypeError`), as the JSON texts' readers in core refuse theirs.

use crate::raise;
use iproov_core::Error;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};
use std::borrow::Cow;

/// Deepest nesting read; deeper data is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 128;

fn refused(obj: &Bound<'_, PyAny>, field: &str, problem: impl std::fmt::Display) -> PyErr {
    raise(obj.py(), &Error::invalid_input(field, problem))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "value".to_owned(), |n| n.to_string())
}

/// Python data (a dict with `str` keys, list, tuple, str, int, float, bool, None) as the JSON
/// text core's `host` reads (`""` for `None`: none), written straight from the objects;
/// anything else is `invalid_input` naming `field`.
pub fn json_text(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    if obj.is_none() {
        return Ok(String::new());
    }
    let mut out = Vec::with_capacity(128);
    write_json(obj, field, 0, &mut out)?;
    // Only JSON's own bytes and serde_json's escaped strings were written: always UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}

fn write_str(text: &str, out: &mut Vec<u8>) {
    // serde_json escapes as JSON requires; a str always serializes.
    out.extend_from_slice(serde_json::to_string(text).unwrap_or_default().as_bytes());
}

fn write_json(
    obj: &Bound<'_, PyAny>,
    field: &str,
    depth: usize,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(refused(obj, field, "is nested too deeply"));
    }
    if obj.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(text) = obj.cast::<PyString>() {
        write_str(&text.to_cow()?, out);
    } else if let Ok(flag) = obj.cast::<PyBool>() {
        // bool before int: Python's bool is an int subclass.
        out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
    } else if obj.cast::<PyInt>().is_ok() {
        let number = match obj.extract::<i64>() {
            Ok(n) => n.to_string(),
            Err(_) => match obj.extract::<u64>() {
                Ok(n) => n.to_string(),
                Err(_) => return Err(refused(obj, field, "has an integer out of range")),
            },
        };
        out.extend_from_slice(number.as_bytes());
    } else if let Ok(float) = obj.cast::<PyFloat>() {
        let value = float.value();
        if !value.is_finite() {
            return Err(refused(obj, field, "is not JSON data: NaN or an infinity"));
        }
        out.extend_from_slice(serde_json::to_string(&value).unwrap_or_default().as_bytes());
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        out.push(b'{');
        for (i, (key, item)) in dict.iter().enumerate() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(refused(obj, field, "has a key that is not a str"));
            };
            if i > 0 {
                out.push(b',');
            }
            write_str(&key.to_cow()?, out);
            out.push(b':');
            write_json(&item, field, depth + 1, out)?;
        }
        out.push(b'}');
    } else if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        out.push(b'[');
        for (i, item) in obj.try_iter()?.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json(&item?, field, depth + 1, out)?;
        }
        out.push(b']');
    } else {
        let problem = format!(
            "is not JSON data (dict, list, str, int, float, bool, None): {}",
            type_name(obj)
        );
        return Err(refused(obj, field, problem));
    }
    Ok(())
}

/// An HTTP status for core: an `int` (one out of range becomes `u32::MAX`, which core refuses
/// as no HTTP status); anything else is `invalid_input` (`status`).
pub fn status_code(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    if obj.cast::<PyInt>().is_ok() && obj.cast::<PyBool>().is_err() {
        return Ok(obj.extract::<u32>().unwrap_or(u32::MAX));
    }
    Err(refused(obj, "status", "must be an integer in range"))
}

/// A body as bytes: `bytes`, `str` (UTF-8), `bytearray`, `memoryview` or `None` (empty);
/// anything else is `invalid_input` naming `field`.
pub fn body_bytes<'a>(obj: &'a Bound<'_, PyAny>, field: &str) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(Cow::Owned(text.to_cow()?.as_bytes().to_vec()));
    }
    if let Ok(array) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(array.to_vec()));
    }
    if obj.is_none() {
        return Ok(Cow::Borrowed(&[]));
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let copied = obj.py().get_type::<PyBytes>().call1((obj,))?;
        if let Ok(copied) = copied.cast::<PyBytes>() {
            return Ok(Cow::Owned(copied.as_bytes().to_vec()));
        }
    }
    let problem = format!("must be bytes, not {}", type_name(obj));
    Err(refused(obj, field, problem))
}

/// `str` or (lossily decoded) `bytes`: a header name or value as HTTP stacks give it.
fn header_text(item: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(text) = item.cast::<PyString>() {
        return text.to_cow().ok().map(std::borrow::Cow::into_owned);
    }
    item.cast::<PyBytes>()
        .ok()
        .map(|b| String::from_utf8_lossy(b.as_bytes()).into_owned())
}

/// Response headers as pairs: `None`, a list or tuple of `(name, value)` pairs of `str` or
/// `bytes` (httpx's `headers.raw`), a dict, or a mapping (`multi_items()` first, so httpx's
/// repeated headers survive). Anything else is core's `invalid_input` (`headers`).
pub fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let py = headers.py();
    let refused = || {
        raise(
            py,
            &Error::invalid_input("headers", "must be a mapping or pairs of str (name, value)"),
        )
    };
    if headers.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(dict) = headers.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(dict.len());
        for (name, value) in dict.iter() {
            match (header_text(&name), header_text(&value)) {
                (Some(name), Some(value)) => pairs.push((name, value)),
                _ => return Err(refused()),
            }
        }
        return Ok(pairs);
    }
    let items = if headers.cast::<PyList>().is_ok() || headers.cast::<PyTuple>().is_ok() {
        headers.clone()
    } else if let Ok(multi) = headers.call_method0("multi_items") {
        multi
    } else if let Ok(items) = headers.call_method0("items") {
        items
    } else {
        headers.clone()
    };
    let mut pairs = Vec::new();
    for item in items.try_iter().map_err(|_| refused())? {
        let item = item?;
        let is_pair = (item.cast::<PyTuple>().is_ok() || item.cast::<PyList>().is_ok())
            && item.len().is_ok_and(|n| n == 2);
        if !is_pair {
            return Err(refused());
        }
        match (
            header_text(&item.get_item(0)?),
            header_text(&item.get_item(1)?),
        ) {
            (Some(name), Some(value)) => pairs.push((name, value)),
            _ => return Err(refused()),
        }
    }
    Ok(pairs)
}
