"""The Python runner of the shared conformance vectors (format: tests/vectors/README.md).

Loads every ``*.json`` under ``tests/vectors`` and ``$IPROOV_VECTORS_DIR`` (sorted, any depth),
and checks each vector through the binding: the dynamic ``build``/``parse`` pair, and also the
typed per-operation functions wherever the vector's input maps onto their keywords.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import inspect
import json
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

import iproov_sansio as ip

REPO = Path(__file__).resolve().parents[2]
VECTORS_DIR = REPO / "tests" / "vectors"


@dataclass(frozen=True)
class Vector:
    name: str
    file: Path
    data: Dict[str, Any]

    @property
    def is_flow(self) -> bool:
        return "flow" in self.data


def vector_dirs() -> List[Path]:
    dirs = [VECTORS_DIR]
    extra = os.environ.get("IPROOV_VECTORS_DIR")
    if extra:
        dirs.append(Path(extra))
    return dirs


def load_vectors() -> Iterator[Vector]:
    """Every vector, in sorted path order; an unreadable file or an empty directory is a
    vector that fails (so it cannot go unnoticed)."""
    for directory in vector_dirs():
        files = sorted(p for p in directory.rglob("*.json") if p.is_file())
        if not files:
            yield Vector(f"<no vector files in {directory}>", directory, {"__load_error__": "no vector files found"})
        for file in files:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                yield Vector(f"<unreadable {file.name}>", file, {"__load_error__": str(exc)})
                continue
            items = data["vectors"] if isinstance(data, dict) and isinstance(data.get("vectors"), list) else [data]
            for item in items:
                yield Vector(str(item.get("name", "<unnamed>")), file, item)


class Mismatch(AssertionError):
    pass


def run_vector(vector: Vector) -> None:
    """Raises ``Mismatch`` when the binding does not do what the vector says."""
    v = vector.data
    if "__load_error__" in v:
        raise Mismatch(v["__load_error__"])
    if vector.is_flow:
        from flow_vectors import run_flow_vector

        run_flow_vector(v)
        return
    operation = v.get("operation")
    if not isinstance(operation, str):
        raise Mismatch("no operation")
    if operation not in ip.RESULT_TYPES:
        raise Mismatch(f"unknown operation {operation!r}")
    expected_error = v.get("error")
    response = v.get("response")
    try:
        config = ip.Config.from_dict(v.get("config"))  # type: ignore[arg-type]
    except ip.IProovError as error:
        if response is None and expected_error is not None:
            check_error(error.to_dict(), expected_error, v)
            return
        raise Mismatch(f"config rejected: {error.to_dict()}") from None
    if "input" in v or response is None:
        built = _build_both(operation, config, v.get("input"))
        if isinstance(built, ip.IProovError):
            if response is None and expected_error is not None:
                check_error(built.to_dict(), expected_error, v)
                return
            raise Mismatch(f"build failed: {built.to_dict()}")
        if response is None and expected_error is not None:
            raise Mismatch(f"build succeeded, expected error {expected_error}")
        if "request" in v:
            compare_request(built, v["request"])
    if response is None:
        return
    try:
        result = ip.parse(operation, config, response)
    except ip.IProovError as error:
        if expected_error is None:
            raise Mismatch(f"parse failed: {error.to_dict()}") from None
        check_error(error.to_dict(), expected_error, v)
        return
    if not isinstance(result, ip.RESULT_TYPES[operation]):
        raise Mismatch(f"parse gave a {type(result).__name__}")
    canonical = result.to_dict()
    _check_typed_parse(operation, config, response, canonical)
    if "result" in v:
        subset("result", canonical, v["result"])
    elif expected_error is not None:
        raise Mismatch(f"parse gave result {canonical}, expected error {expected_error}")
    absent("result", canonical, v.get("result_absent"))


# --- the typed functions must agree with the dynamic pair ------------------------------------


def _typed_kwargs(operation: str, input: Any) -> Optional[Dict[str, Any]]:
    """The vector input as keywords of ``build_<operation>``, or None when it does not map
    (unknown keys are the dynamic pair's business: a keyword function cannot take them)."""
    if input is None:
        input = {}
    if not isinstance(input, dict):
        return None
    builder = getattr(ip, f"build_{operation}")
    params = set(inspect.signature(builder).parameters) - {"config"}
    if not set(input) <= params:
        return None
    kwargs = dict(input)
    if operation == "enrol_image":
        image = kwargs.get("image")
        if not (isinstance(image, dict) and set(image) == {"base64"} and isinstance(image["base64"], str)):
            return None
        try:
            kwargs["image"] = base64.b64decode(image["base64"], validate=True)
        except (binascii.Error, ValueError):
            return None
    required = {
        name
        for name, p in inspect.signature(builder).parameters.items()
        if p.default is inspect.Parameter.empty and name != "config"
    }
    if not required <= set(kwargs):
        return None
    return kwargs


def _build_both(operation: str, config: ip.Config, input: Any) -> Any:
    """The dynamic build's request (or error); the typed builder must give the same."""
    try:
        dynamic: Any = ip.build(operation, config, input)
    except ip.IProovError as error:
        dynamic = error
    kwargs = _typed_kwargs(operation, input)
    if kwargs is None:
        return dynamic
    try:
        typed: Any = getattr(ip, f"build_{operation}")(config, **kwargs)
    except ip.IProovError as error:
        typed = error
    if isinstance(dynamic, ip.IProovError) or isinstance(typed, ip.IProovError):
        same = (
            isinstance(dynamic, ip.IProovError)
            and isinstance(typed, ip.IProovError)
            and (dynamic.code, dynamic.to_dict().get("field")) == (typed.code, typed.to_dict().get("field"))
        )
        if not same:
            raise Mismatch(f"typed build_{operation} disagrees: {typed!r} vs dynamic {dynamic!r}")
    elif operation == "enrol_image":
        # The multipart boundary is derived from the content; compare everything else.
        if (typed.method, typed.url) != (dynamic.method, dynamic.url) or _parts(typed) != _parts(dynamic):
            raise Mismatch("typed build_enrol_image disagrees with the dynamic build")
    elif typed != dynamic:
        raise Mismatch(f"typed build_{operation} disagrees: {typed!r} vs dynamic {dynamic!r}")
    return dynamic


def _check_typed_parse(operation: str, config: ip.Config, response: Mapping[str, Any], canonical: Dict[str, Any]) -> None:
    body: Any = response.get("body")
    if body is None and response.get("body_base64") is not None:
        body = base64.b64decode(response["body_base64"])
    typed = getattr(ip, f"parse_{operation}")(config, response["status"], response.get("headers"), body or b"")
    if typed.to_dict() != canonical:
        raise Mismatch(f"typed parse_{operation} disagrees: {typed.to_dict()} vs {canonical}")


# --- comparisons (the base format's subset match and the README's extensions) ---------------


def subset(what: str, actual: Any, expected: Any) -> None:
    """Every key of ``expected`` is in ``actual`` with an equal value (objects recursively;
    arrays and scalars whole)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key, want in expected.items():
            if key not in actual:
                raise Mismatch(f"{what}.{key} missing; got {actual}")
            subset(f"{what}.{key}", actual[key], want)
    elif not _json_equal(actual, expected):
        raise Mismatch(f"{what}: got {actual!r}, expected {expected!r}")


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0 as in serde_json's Value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return bool(type(a) is type(b) and a == b) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    )


def absent(what: str, actual: Mapping[str, Any], keys: Any) -> None:
    for key in keys or []:
        if key in actual:
            raise Mismatch(f"{what}.{key} must be absent; got {actual}")


def check_error(actual: Dict[str, Any], expected: Any, vector: Mapping[str, Any]) -> None:
    subset("error", actual, expected)
    text = json.dumps(actual, ensure_ascii=False)
    for banned in vector.get("error_excludes") or []:
        if banned in text:
            raise Mismatch(f"the error contains {banned!r}: {text}")
    absent("error", actual, vector.get("error_absent"))


def _header(request: ip.Request, name: str) -> Optional[str]:
    for key, value in request.headers:
        if key.lower() == name.lower():
            return value
    return None


def compare_request(request: ip.Request, expected: Mapping[str, Any]) -> None:
    if "method" in expected and request.method != expected["method"]:
        raise Mismatch(f"method {request.method} != {expected['method']}")
    if "url" in expected and request.url != expected["url"]:
        raise Mismatch(f"url {request.url} != {expected['url']}")
    for name, value in (expected.get("headers") or {}).items():
        got = _header(request, name)
        if got != value:
            raise Mismatch(f"header {name}: got {got!r}, expected {value!r}")
    for name in expected.get("absent_headers") or []:
        if _header(request, name) is not None:
            raise Mismatch(f"header {name} must be absent")
    for name, prefix in (expected.get("header_prefixes") or {}).items():
        got = _header(request, name) or ""
        if not got.startswith(prefix):
            raise Mismatch(f"header {name}: {got!r} does not start with {prefix!r}")
    if expected.get("no_body") is True and request.body:
        raise Mismatch("the request must have no body")
    if "json_absent" in expected:
        absent("json", _json_body(request), expected["json_absent"])
    if "json" in expected:
        body = _json_body(request)
        if not _json_equal(body, expected["json"]):
            raise Mismatch(f"json body {body} != {expected['json']}")
    if "form" in expected:
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        if form != expected["form"]:
            raise Mismatch(f"form {form} != {expected['form']}")
    if "multipart" in expected:
        got = _parts(request)
        want = expected["multipart"]
        for name, value in want.items():
            if got.get(name) != value:
                raise Mismatch(f"multipart part {name}: got {got.get(name)!r}, expected {value!r}")
        extra = set(got) - set(want)
        if extra:
            raise Mismatch(f"unexpected multipart parts {sorted(extra)}")


def _json_body(request: ip.Request) -> Any:
    try:
        return json.loads(request.body)
    except ValueError as exc:
        raise Mismatch(f"body is not JSON: {exc}") from None


def _attribute(head: str, key: str) -> Optional[str]:
    marker = f'; {key}="'
    start = head.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = head.find('"', start)
    return head[start:end] if end >= 0 else None


def _parts(request: ip.Request) -> Dict[str, Any]:
    """The multipart parts: text values, and files as {filename, content_type, sha256}."""
    content_type = _header(request, "content-type") or ""
    if "boundary=" not in content_type:
        raise Mismatch("multipart without boundary")
    delimiter = b"--" + content_type.split("boundary=", 1)[1].encode()
    parts: Dict[str, Any] = {}
    for section in request.body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break
        if not section.startswith(b"\r\n") or not section.endswith(b"\r\n"):
            raise Mismatch("multipart part not framed by CRLF")
        section = section[2:-2]
        split = section.find(b"\r\n\r\n")
        if split < 0:
            raise Mismatch("multipart part without header end")
        head = section[:split].decode("utf-8", "replace")
        content = section[split + 4 :]
        name = _attribute(head, "name")
        if name is None:
            raise Mismatch("multipart part without name")
        filename = _attribute(head, "filename")
        if filename is None:
            parts[name] = content.decode("utf-8", "replace")
        else:
            ctype = next(
                (line[len("Content-Type: ") :] for line in head.split("\r\n") if line.startswith("Content-Type: ")),
                "",
            )
            parts[name] = {"filename": filename, "content_type": ctype, "sha256": hashlib.sha256(content).hexdigest()}
    return parts
