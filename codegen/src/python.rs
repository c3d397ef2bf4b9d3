//! The Python package's generated modules (`bindings-python/python/iproov_sansio/`): `_ops.py`
//! (a build and a parse function per operation), `_client_ops.py` (the clients' methods, sync
//! and async from one template), `_results.py`, `_errors.py` and `_shapes.py` (TypedDicts of
//! the journey service's answers and records). Hand-written bases (`_result_base.py`,
//! `_error_base.py`) hold what is not a table.

use crate::Tables;
use crate::names::{docstring, header, lower_first, quoted, rst, wrap};
use iproov_core::surface::{Field, OperationSurface, Shape, Type};
use std::fmt::Write;

/// The fields `_error_base.IProovError` itself reads (its attributes and properties).
const BASE_ERROR_FIELDS: [&str; 6] = [
    "code",
    "status",
    "kind",
    "message",
    "description",
    "operation",
];
/// Core's class names that are also Python builtins: defined in the package all the same.
const SHADOWED_BUILTINS: [&str; 2] = ["ConnectionError", "TimeoutError"];

fn start(doc: &str) -> String {
    let mut out = header("#");
    out.push_str(&docstring("", doc));
    out.push_str("\nfrom __future__ import annotations\n\n");
    out
}

fn all_list(names: &[String]) -> String {
    let mut out = String::from("__all__ = [\n");
    for name in names {
        let _ = writeln!(out, "    {},", quoted(name));
    }
    out.push_str("]\n");
    out
}

fn import_block(module: &str, names: &[&str]) -> String {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = format!("from {module} import (\n");
    for name in sorted {
        let _ = writeln!(out, "    {name},");
    }
    out.push_str(")\n");
    out
}

/// The result classes' names, in the order operations name them.
fn result_names(t: &Tables) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for op in &t.operations {
        if !names.contains(&op.result) {
            names.push(op.result);
        }
    }
    names
}

/// A parameter's annotation: what a caller passes.
fn param_type(ty: &Type) -> String {
    match ty {
        Type::Str | Type::Enum(..) | Type::OpenEnum(_) => "str".into(),
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Bytes => "bytes".into(),
        Type::List(item) => format!("Sequence[{}]", param_type(item)),
        Type::Object => "Mapping[str, Any]".into(),
        Type::Json => "Any".into(),
        Type::Shape(name) => (*name).into(),
    }
}

fn params(op: &OperationSurface) -> Vec<String> {
    op.input
        .fields
        .iter()
        .map(|f| {
            let ty = param_type(&f.ty);
            if f.required {
                format!("{}: {ty}", f.name)
            } else {
                format!("{}: Optional[{ty}] = None", f.name)
            }
        })
        .collect()
}

/// The input dict's value of a parameter.
fn input_value(field: &Field) -> String {
    match &field.ty {
        Type::List(_) if !field.required => {
            format!("None if {0} is None else list({0})", field.name)
        }
        Type::List(_) => format!("list({})", field.name),
        _ => field.name.to_owned(),
    }
}

fn signature(indent: &str, head: &str, params: &[String], ret: &str) -> String {
    let one = format!("{indent}{head}{}) -> {ret}:", params.join(", "));
    if one.len() <= 110 {
        return one + "\n";
    }
    let mut out = format!("{indent}{head}\n");
    for p in params {
        let _ = writeln!(out, "{indent}    {p},");
    }
    let _ = writeln!(out, "{indent}) -> {ret}:");
    out
}

/// `_ops.py`.
pub fn ops(t: &Tables) -> String {
    let mut out = start(
        "The sans-IO API: one build and one parse function per operation. A build function \
         returns a :class:`Request` to send with any HTTP client; a parse function takes what \
         came back (status, headers, body bytes) and returns the typed result or raises the \
         typed error. Nothing here opens a socket (the dynamic pair is in ``_sansio``).",
    );
    let results = result_names(t);
    out.push_str(
        "from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Type, Union\n\n",
    );
    out.push_str("from . import _core, _host\nfrom ._host import Config, Request\n");
    out.push_str(&import_block("._results", &results));
    let mut all: Vec<String> = ["Headers", "ConfigLike", "Result", "RESULT_TYPES"]
        .map(String::from)
        .to_vec();
    for op in &t.operations {
        all.push(format!("build_{}", op.operation));
        all.push(format!("parse_{}", op.operation));
    }
    out.push('\n');
    out.push_str(&all_list(&all));
    out.push_str(
        "\n#: Response headers: a mapping (httpx/requests headers objects included) or (name, value)\n\
         #: pairs of str or of raw bytes (httpx's ``headers.raw``).\n\
         Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], Sequence[Tuple[bytes, bytes]], None]\n\
         #: A :class:`Config`, or a dict in the vector format.\n\
         ConfigLike = Union[Config, Mapping[str, Any]]\n\
         #: Any typed result.\n",
    );
    let _ = writeln!(out, "Result = Union[{}]", results.join(", "));
    out.push_str("#: The result type each operation's parse gives.\nRESULT_TYPES: Dict[str, Type[Any]] = {\n");
    for op in &t.operations {
        let _ = writeln!(out, "    {}: {},", quoted(op.operation.name()), op.result);
    }
    out.push_str("}\n");
    for op in &t.operations {
        let name = op.operation.name();
        out.push_str("\n\n");
        let mut p = vec!["config: ConfigLike".to_owned()];
        if !op.input.fields.is_empty() {
            p.push("*".into());
            p.extend(params(op));
        }
        out.push_str(&signature("", &format!("def build_{name}("), &p, "Request"));
        out.push_str(&docstring(
            "    ",
            &format!(
                "Builds `{}`: {} Raises :class:`InvalidInputError` for an input or a config core refuses.",
                op.http,
                lower_first(op.doc)
            ),
        ));
        let has_bytes = op.input.fields.iter().any(|f| f.ty == Type::Bytes);
        if has_bytes {
            // The image bytes go to `_host`, which hands them to core as bytes.
            let args: Vec<String> = op
                .input
                .fields
                .iter()
                .map(|f| format!("{0}={0}", f.name))
                .collect();
            let _ = writeln!(
                out,
                "    return _host.build_{name}_bytes(config, {})",
                args.join(", ")
            );
        } else if op.input.fields.is_empty() {
            let _ = writeln!(
                out,
                "    return _core.build({}, config, None)",
                quoted(name)
            );
        } else {
            let values: Vec<String> = op
                .input
                .fields
                .iter()
                .map(|f| format!("{}: {}", quoted(f.name), input_value(f)))
                .collect();
            let line = format!(
                "    return _core.build({}, config, {{{}}})",
                quoted(name),
                values.join(", ")
            );
            if line.len() <= 110 {
                let _ = writeln!(out, "{line}");
            } else {
                let _ = writeln!(
                    out,
                    "    return _core.build(\n        {},\n        config,\n        {{",
                    quoted(name)
                );
                for value in values {
                    let _ = writeln!(out, "            {value},");
                }
                out.push_str("        },\n    )\n");
            }
        }
        out.push_str("\n\n");
        let p = [
            "config: ConfigLike".to_owned(),
            "status: int".into(),
            "headers: Headers = None".into(),
            "body: bytes = b\"\"".into(),
        ];
        out.push_str(&signature("", &format!("def parse_{name}("), &p, op.result));
        out.push_str(&docstring(
            "    ",
            &format!(
                "Reads the answer to `{}` into a :class:`{}`, or raises the error core names for it.",
                op.http, op.result
            ),
        ));
        let _ = writeln!(
            out,
            "    return {}._wrap(_core.parse({}, config, status, headers, body))",
            op.result,
            quoted(name)
        );
    }
    out
}

/// `_client_ops.py`: the same methods, synchronous and asynchronous.
pub fn client_ops(t: &Tables) -> String {
    let mut out = start(
        "The typed methods of every client, one per operation, from one template: the \
         synchronous clients' methods and the asynchronous client's coroutines. Each hands its \
         operation's input to ``_run``, the client's loop around core's call driver.",
    );
    out.push_str("from typing import Any, Dict, Optional, Sequence\n\n");
    out.push_str(&import_block("._results", &result_names(t)));
    out.push('\n');
    out.push_str(&all_list(&[
        "AsyncOperations".into(),
        "SyncOperations".into(),
    ]));
    out.push_str(
        "\n\ndef _given(**fields: Any) -> Dict[str, Any]:\n    \
         \"\"\"The call's input with the arguments not given left out (core: absent = not given).\"\"\"\n    \
         return {k: v for k, v in fields.items() if v is not None}\n",
    );
    for sync in [true, false] {
        let (class, doc, def, wait) = if sync {
            (
                "SyncOperations",
                "One method per operation, for the synchronous clients (``_run`` drives the call).",
                "def",
                "",
            )
        } else {
            (
                "AsyncOperations",
                "One coroutine per operation, for the asynchronous client (``_run`` drives the call).",
                "async def",
                "await ",
            )
        };
        let _ = write!(out, "\n\nclass {class}:\n{}", docstring("    ", doc));
        let _ = write!(
            out,
            "\n    {def} _run(\n        self, operation: str, input: Dict[str, Any], attempt: Optional[int] = None\n    \
             ) -> Any:  # pragma: no cover - abstract\n        raise NotImplementedError\n"
        );
        for op in &t.operations {
            let name = op.operation.name();
            let mut p = vec!["self".to_owned(), "*".into()];
            p.extend(params(op));
            p.push("attempt: Optional[int] = None".into());
            out.push('\n');
            out.push_str(&signature("    ", &format!("{def} {name}("), &p, op.result));
            out.push_str(&docstring(
                "        ",
                &format!(
                    "{} `{}`; ``attempt``: the journey attempt it belongs to (in its audit records).",
                    op.doc, op.http
                ),
            ));
            let input = if op.input.fields.is_empty() {
                "{}".to_owned()
            } else {
                let args: Vec<String> = op
                    .input
                    .fields
                    .iter()
                    .map(|f| format!("{}={}", f.name, input_value(f)))
                    .collect();
                format!("_given({})", args.join(", "))
            };
            let call = format!(
                "        return {wait}self._run({}, {input}, attempt)  # type: ignore[no-any-return]",
                quoted(name)
            );
            if call.len() <= 120 {
                out.push_str(&call);
                out.push('\n');
            } else {
                let _ = writeln!(
                    out,
                    "        return {wait}self._run(  # type: ignore[no-any-return]\n            {},\n            {input},\n            attempt,\n        )",
                    quoted(name)
                );
            }
        }
    }
    out
}

/// A result property's annotation.
fn result_type(ty: &Type) -> String {
    match ty {
        Type::Str | Type::Enum(..) | Type::OpenEnum(_) => "str".into(),
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Bytes => "bytes".into(),
        Type::List(item) => format!("Tuple[{}, ...]", result_type(item)),
        Type::Object => "Dict[str, Any]".into(),
        Type::Json => "Any".into(),
        Type::Shape(name) => (*name).into(),
    }
}

fn result_property(field: &Field) -> String {
    let key = quoted(field.name);
    let ty = result_type(&field.ty);
    let mut out = String::from("\n    @property\n");
    let ret = if field.required {
        ty.clone()
    } else {
        format!("Optional[{ty}]")
    };
    let _ = writeln!(out, "    def {}(self) -> {ret}:", field.name);
    out.push_str(&docstring("        ", field.doc));
    let body = match (&field.ty, field.required) {
        (Type::List(item), _) => match &**item {
            Type::Shape(name) => format!(
                "items = self._raw.get({key})\n        return None if items is None else tuple({name}._wrap(dict(f)) for f in items)"
            ),
            _ => format!(
                "items = self._raw.get({key})\n        return None if items is None else tuple(items)"
            ),
        },
        (Type::Object, _) => format!(
            "value = self._raw.get({key})\n        return None if value is None else cast(\"Dict[str, Any]\", copy.deepcopy(value))"
        ),
        (Type::Shape(name), _) => format!(
            "value = self._raw.get({key})\n        return None if value is None else {name}._wrap(dict(value))"
        ),
        // cast's type as a string: nothing is evaluated at run time.
        (_, true) => format!("return cast(\"{ty}\", self._raw[{key}])"),
        (_, false) => format!("return cast(\"Optional[{ty}]\", self._raw.get({key}))"),
    };
    let _ = writeln!(out, "        {body}");
    out
}

fn tuple_literal(names: &[&str]) -> String {
    match names {
        [] => "()".into(),
        [one] => format!("({},)", quoted(one)),
        many => format!(
            "({})",
            many.iter()
                .map(|n| quoted(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `_results.py`: a class per result shape (nested ones first).
pub fn results(t: &Tables) -> String {
    let mut out = start(
        "Typed, immutable results, each wrapping (and giving back) core's canonical JSON: a \
         result keeps the dict core produced, its typed attributes read from it, and \
         :meth:`to_dict` returns a deep copy (``_result_base`` has the behaviour).",
    );
    out.push_str("import copy\nfrom typing import Any, Dict, Optional, Tuple, cast\n\n");
    out.push_str("from ._result_base import _Result\n\n");
    let shapes = results_shapes(t);
    let names: Vec<String> = shapes.iter().map(|s| s.name.to_owned()).collect();
    out.push_str(&all_list(&names));
    for shape in shapes {
        let _ = write!(
            out,
            "\n\nclass {}(_Result):\n{}",
            shape.name,
            docstring("    ", shape.doc)
        );
        out.push_str("\n    __slots__ = ()\n");
        let required: Vec<&str> = shape
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        let shown: Vec<&str> = shape
            .fields
            .iter()
            .filter(|f| !f.hidden || f.secret)
            .map(|f| f.name)
            .collect();
        let secret: Vec<&str> = shape
            .fields
            .iter()
            .filter(|f| f.secret)
            .map(|f| f.name)
            .collect();
        if !required.is_empty() {
            let _ = writeln!(out, "    _required = {}", tuple_literal(&required));
        }
        let _ = writeln!(out, "    _shown = {}", tuple_literal(&shown));
        if !secret.is_empty() {
            let _ = writeln!(out, "    _secret = {}", tuple_literal(&secret));
        }
        for field in &shape.fields {
            out.push_str(&result_property(field));
        }
    }
    out
}

fn results_shapes(t: &Tables) -> Vec<&Shape> {
    iproov_core::surface::results()
        .iter()
        .map(|s| t.shape(s.name))
        .collect()
}

fn error_property(class: &str, field: &Field) -> String {
    let key = quoted(field.name);
    let mut out = String::from("\n    @property\n");
    match &field.ty {
        Type::Int => {
            let _ = writeln!(out, "    def {}(self) -> Optional[int]:", field.name);
            out.push_str(&docstring("        ", field.doc));
            let _ = writeln!(out, "        return _opt_int(self._data, {key})");
            if let Some(stem) = field.name.strip_suffix("_ms") {
                let _ = write!(
                    out,
                    "\n    @property\n    def {stem}(self) -> Optional[float]:\n"
                );
                out.push_str(&docstring(
                    "        ",
                    &format!("`{}` in seconds.", field.name),
                ));
                let _ = writeln!(
                    out,
                    "        ms = self.{}\n        return None if ms is None else ms / 1000.0",
                    field.name
                );
            }
        }
        Type::Shape(name) => {
            let _ = writeln!(out, "    def {}(self) -> Optional[{name}]:", field.name);
            out.push_str(&docstring("        ", field.doc));
            let _ = writeln!(
                out,
                "        value = self._data.get({key})\n        return cast(\"{name}\", copy.deepcopy(value)) if isinstance(value, dict) else None"
            );
        }
        Type::Str | Type::Enum(..) | Type::OpenEnum(_) => {
            let _ = writeln!(out, "    def {}(self) -> Optional[str]:", field.name);
            out.push_str(&docstring("        ", field.doc));
            let _ = writeln!(out, "        return _opt_str(self._data, {key})");
        }
        other => panic!(
            "{class}.{}: no Python error property for {other:?}",
            field.name
        ),
    }
    out
}

/// `_errors.py`: a class per error family and parent, the kind table and its one rule for
/// a kind this version does not know.
pub fn errors(t: &Tables) -> String {
    let mut out = start(
        "The exception tree: a class per error family core names (``ErrorKind::class_name``), \
         each over core's canonical error dict (``_error_base.IProovError`` has the behaviour).",
    );
    let mut body = String::new();
    let mut all: Vec<String> = t.classes.iter().map(|c| c.name.to_owned()).collect();
    all.push("error_from_dict".into());
    body.push_str(&all_list(&all));
    for class in t.classes.iter().filter(|c| c.parent.is_some()) {
        let noqa = if SHADOWED_BUILTINS.contains(&class.name) {
            "  # noqa: A001 - core's name for it; not the builtin"
        } else {
            ""
        };
        let _ = write!(
            body,
            "\n\nclass {}({}):{noqa}\n{}",
            class.name,
            class.parent.unwrap_or("IProovError"),
            docstring("    ", class.doc)
        );
        let kind = class.kind.map(|k| k.as_str()).unwrap_or("");
        let _ = writeln!(body, "\n    kind = {}", quoted(kind));
        for field in class
            .fields
            .iter()
            .filter(|f| !BASE_ERROR_FIELDS.contains(&f.name))
        {
            body.push_str(&error_property(class.name, field));
        }
    }
    body.push_str("\n\n#: Core's error family (``kind``) -> its class.\n_BY_KIND: Dict[str, Type[IProovError]] = {\n");
    for class in &t.classes {
        if let Some(kind) = class.kind {
            let _ = writeln!(body, "    {}: {},", quoted(kind.as_str()), class.name);
        }
    }
    body.push_str("}\n");
    let unknown = iproov_core::ErrorKind::UNKNOWN;
    let _ = write!(
        body,
        "#: The class of an error whose ``kind`` this version does not know, or that has none\n\
         #: (core's ``ErrorKind::UNKNOWN``: the same in every host).\n\
         _UNKNOWN_KIND: Type[IProovError] = {}\n",
        unknown.class_name()
    );
    body.push_str("\n\ndef error_from_dict(data: Mapping[str, Any]) -> IProovError:\n");
    body.push_str(&docstring(
        "    ",
        &format!(
            "The exception (not raised) for core's canonical error dict: the class core names for \
             its `kind`; a kind this version does not know, or none, gives `{}` (core's rule, the \
             same in every host).",
            unknown.class_name()
        ),
    ));
    body.push_str(
        "    return _BY_KIND.get(str(data.get(\"kind\", \"\")), _UNKNOWN_KIND)(data)\n\n\n",
    );
    body.push_str("#: The name ``_host.error_from_json`` (through which the native module raises) calls.\nfrom_dict = error_from_dict\n");
    // Only what the families' fields use is imported.
    let uses = |what: &str| body.contains(what);
    if uses("copy.") {
        out.push_str("import copy\n");
    }
    out.push_str("from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Type, cast\n\n");
    let base: Vec<&str> = ["_opt_int", "_opt_str"]
        .into_iter()
        .filter(|n| uses(&format!("{n}(")))
        .collect();
    let _ = writeln!(
        out,
        "from ._error_base import IProovError, {}",
        base.join(", ")
    );
    if uses("JourneyFinished") {
        // For the type checker only: `import iproov_sansio` builds no TypedDict.
        out.push_str("\nif TYPE_CHECKING:\n    from ._shapes import JourneyFinished\n");
    }
    out.push('\n');
    out.push_str(&body);
    out
}

/// A TypedDict value's annotation.
fn typed_dict_type(ty: &Type) -> String {
    match ty {
        Type::Str | Type::OpenEnum(_) => "str".into(),
        Type::Enum("", values) => format!(
            "Literal[{}]",
            values
                .iter()
                .map(|v| quoted(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Enum(name, _) => (*name).into(),
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Bytes => "bytes".into(),
        Type::List(item) => format!("List[{}]", typed_dict_type(item)),
        Type::Object => "Dict[str, Any]".into(),
        Type::Json => "Any".into(),
        Type::Shape(name) => (*name).into(),
    }
}

fn typed_dict_fields(out: &mut String, fields: &[&Field], nullable: &dyn Fn(&Field) -> bool) {
    for field in fields {
        for line in wrap(&rst(field.doc), "    #: ", 100) {
            out.push_str(&line);
            out.push('\n');
        }
        let ty = typed_dict_type(&field.ty);
        let ty = if nullable(field) {
            format!("Optional[{ty}]")
        } else {
            ty
        };
        let _ = writeln!(out, "    {}: {ty}", field.name);
    }
}

fn typed_dict(
    out: &mut String,
    shape: &Shape,
    name: &str,
    doc: &str,
    all_required: bool,
    nullable: &dyn Fn(&Field) -> bool,
) {
    // The answers are final: `"token" in answer` then tells a start's two answers apart.
    let decorator = if ANSWERS.contains(&name) {
        "@final\n"
    } else {
        ""
    };
    let required: Vec<&Field> = shape
        .fields
        .iter()
        .filter(|f| all_required || f.required)
        .collect();
    let optional: Vec<&Field> = shape
        .fields
        .iter()
        .filter(|f| !all_required && !f.required)
        .collect();
    out.push_str("\n\n");
    match (required.is_empty(), optional.is_empty()) {
        (_, true) => {
            let _ = write!(
                out,
                "{decorator}class {name}(TypedDict):\n{}\n",
                docstring("    ", doc)
            );
            typed_dict_fields(out, &required, nullable);
        }
        (true, false) => {
            let _ = write!(
                out,
                "{decorator}class {name}(TypedDict, total=False):\n{}\n",
                docstring("    ", doc)
            );
            typed_dict_fields(out, &optional, nullable);
        }
        (false, false) => {
            let _ = write!(
                out,
                "class _{name}Required(TypedDict):\n{}\n",
                docstring("    ", &format!("The keys every {name} has.")),
            );
            typed_dict_fields(out, &required, nullable);
            let _ = write!(
                out,
                "\n\n{decorator}class {name}(_{name}Required, total=False):\n{}\n",
                docstring("    ", doc)
            );
            typed_dict_fields(out, &optional, nullable);
        }
    }
}

/// The journey service's answers (final TypedDicts).
const ANSWERS: [&str; 3] = ["JourneyStarted", "JourneyFinished", "JourneyForgotten"];

/// The shapes `_shapes.py` types, dependencies first.
const TYPED_DICTS: [&str; 6] = [
    "ServicePolicy",
    "JourneyStarted",
    "JourneyFinished",
    "JourneyForgotten",
    "ErrorJson",
    "AuditRecord",
];

/// `_shapes.py`: TypedDicts of the journey service's policy, answers and audit records.
pub fn shapes(t: &Tables) -> String {
    let mut out = start(
        "The journey service's policy, answers and audit records as TypedDicts: core's JSON, \
         typed key by key (``iproov_sansio.journeys`` exports them).",
    );
    out.push_str("from typing import Any, Dict, List, Literal, Optional, TypedDict, final\n\n");
    let mut all: Vec<String> = Vec::new();
    let mut enums: Vec<(&str, &Vec<&str>)> = Vec::new();
    for name in TYPED_DICTS {
        for field in &t.shape(name).fields {
            let mut ty = &field.ty;
            while let Type::List(item) = ty {
                ty = item;
            }
            if let Type::Enum(enum_name, values) = ty
                && !enum_name.is_empty()
                && !enums.iter().any(|(n, _)| n == enum_name)
            {
                enums.push((enum_name, values));
            }
        }
    }
    all.extend(enums.iter().map(|(n, _)| (*n).to_owned()));
    all.extend(TYPED_DICTS.map(String::from));
    all.insert(
        all.len() - TYPED_DICTS.len() + 1,
        "ResolvedServicePolicy".into(),
    );
    out.push_str(&all_list(&all));
    for (name, values) in &enums {
        let literal = values
            .iter()
            .map(|v| quoted(v))
            .collect::<Vec<_>>()
            .join(", ");
        let line = format!("{name} = Literal[{literal}]");
        if line.len() <= 110 {
            let _ = write!(out, "\n{line}\n");
        } else {
            let _ = write!(out, "\n{name} = Literal[\n");
            for v in values.iter() {
                let _ = writeln!(out, "    {},", quoted(v));
            }
            out.push_str("]\n");
        }
    }
    for name in TYPED_DICTS {
        let shape = t.shape(name);
        let doc = if name == "ServicePolicy" {
            format!("{} Core's defaults: {}.", shape.doc, defaults(t))
        } else {
            shape.doc.to_owned()
        };
        typed_dict(&mut out, shape, name, &doc, false, &|f: &Field| f.nullable);
        if name == "ServicePolicy" {
            typed_dict(
                &mut out,
                shape,
                "ResolvedServicePolicy",
                "The policy in force: every key set, core's defaults and what it derived from the \
                 client filled in (`service_token_requests` `None` without a budget).",
                true,
                // Optional only where core's resolved default policy leaves it unset.
                &|f: &Field| {
                    t.resolved_policy
                        .get(f.name)
                        .is_none_or(serde_json::Value::is_null)
                },
            );
        }
    }
    out
}

/// The policy's defaults as a sentence: `max_attempts` 3, ...
pub fn defaults(t: &Tables) -> String {
    let serde_json::Value::Object(map) = &t.policy_defaults else {
        return String::new();
    };
    t.shape("ServicePolicy")
        .fields
        .iter()
        .filter_map(|f| {
            let value = map.get(f.name)?;
            let shown = match value {
                serde_json::Value::Null => "none".to_owned(),
                other => other.to_string(),
            };
            Some(format!("`{}` {shown}", f.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
