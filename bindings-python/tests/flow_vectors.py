"""Flow vectors (``"flow"`` + ``"steps"``; format: tests/vectors/README.md, "Flow vectors"),
driven through the binding's dynamic flow pair exactly as core's own runner drives them. The
state goes through Python dicts between steps, so every state must round-trip the binding."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, Mapping

from iproov_sansio import IProovError, RetryPolicy, _host
from vectors import Mismatch, subset


def run_flow_vector(vector: Mapping[str, Any]) -> None:
    flow = vector.get("flow")
    if not isinstance(flow, str):
        raise Mismatch("flow is not a string")
    config = vector.get("config")
    expected_error = vector.get("error")
    try:
        state = _host.flow_new_state(flow, vector.get("options"))
    except IProovError as error:
        if expected_error is None:
            raise Mismatch(f"options rejected: {error.to_dict()}") from None
        subset("error", error.to_dict(), expected_error)
        return
    if expected_error is not None:
        raise Mismatch(f"options accepted, expected error {expected_error}")
    steps = vector.get("steps")
    if not isinstance(steps, list) or not steps:
        raise Mismatch("steps is not a non-empty array")
    for i, step in enumerate(steps, start=1):
        try:
            state = _run_one(flow, config, state, step)
        except Mismatch as why:
            raise Mismatch(f"step {i} ({step.get('action', '?')}): {why}") from None


def _run_one(flow: str, config: Any, state: Dict[str, Any], step: Mapping[str, Any]) -> Dict[str, Any]:
    expected_error = step.get("error")
    try:
        new_state, output = _host.flow_run_step(flow, config, state, step)
    except IProovError as error:
        if expected_error is None:
            raise Mismatch(f"failed: {error.to_dict()}") from None
        subset("error", error.to_dict(), expected_error)
        return state
    if expected_error is not None:
        raise Mismatch(f"succeeded with {output}, expected error {expected_error}")
    if flow == "retry":
        _check_typed_advisor(state, step, output)
    if flow == "token_manager" and "redacted" in output:
        _check_request_view(config, state, step, output)
    if "expect" in step:
        subset("output", output, step["expect"])
    if "state" in step:
        subset("state", new_state, step["state"])
    for path in step.get("absent") or []:
        if _lookup(output, path) is not _MISSING:
            raise Mismatch(f"output.{path} is present; got {output}")
    shown = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
    for text in step.get("lacks") or []:
        if text in shown:
            raise Mismatch(f"output contains {text!r}: {shown}")
    return new_state


def _check_typed_advisor(state: Dict[str, Any], step: Mapping[str, Any], output: Dict[str, Any]) -> None:
    """The clients' typed advisor (``RetryPolicy``) must advise exactly as the driver."""
    given = step.get("input") or {}
    response = step.get("response")
    typed = RetryPolicy(**state).advise(
        given["operation"],
        given["attempt"],
        now=step["now"],
        jitter=given["jitter"],
        status=None if response is None else response["status"],
        headers=None if response is None else response.get("headers"),
        failure=given.get("failure"),
        body=None if response is None else _body_bytes(response),
    ).to_dict()
    if typed != output:
        raise Mismatch(f"the typed advisor gave {typed}, the flow driver {output}")


def _check_request_view(config: Any, state: Dict[str, Any], step: Mapping[str, Any], output: Dict[str, Any]) -> None:
    """The public ``TokenManager``'s request must show core's redacted view, as every host's does."""
    from iproov_sansio import TokenManager

    given = step.get("input") or {}
    prepared = TokenManager.from_dict(state).prepare(config, given["operation"], given.get("input"), step["now"])
    if prepared.request.redacted() != output["redacted"]:
        raise Mismatch(f"the Request shows {prepared.request.redacted()}, core's view is {output['redacted']}")
    shown = repr(prepared.request)
    for name, value in output["redacted"]["headers"]:
        if f"({json.dumps(name)}, {json.dumps(value)})" not in shown:
            raise Mismatch(f"repr(Request) is not core's view: {shown}")


def _body_bytes(response: Mapping[str, Any]) -> bytes:
    if "body_base64" in response:
        return base64.b64decode(response["body_base64"])
    return str(response.get("body", "")).encode()


_MISSING = object()


def _lookup(value: Any, path: str) -> Any:
    """The value at a dotted path (``result.frame``, ``attempts.0.status``), or ``_MISSING``."""
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value
