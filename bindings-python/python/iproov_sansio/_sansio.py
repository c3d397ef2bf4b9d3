"""The dynamic sans-IO pair: any operation by core's name (the per-operation functions are
generated: ``_ops.py``)."""

from __future__ import annotations

import base64
from typing import Any, Mapping, Optional, Union

from . import _host
from ._host import Request
from ._ops import RESULT_TYPES, ConfigLike, Headers, Result

__all__ = ["build", "parse", "parse_response"]


def build(operation: str, config: ConfigLike, input: Optional[Mapping[str, Any]] = None) -> Request:
    """Builds ``operation``'s request from vector-format ``config`` and ``input`` dicts."""
    return _host.build(operation, config, input)


def parse_response(
    operation: str,
    config: ConfigLike,
    status: int,
    headers: Headers = None,
    body: bytes = b"",
) -> Result:
    """Parses a response of ``operation`` into its typed result (or raises the typed error)."""
    data = _host.parse(operation, config, status, headers, body)
    result: Result = RESULT_TYPES[operation]._wrap(data)
    return result


def parse(operation: str, config: ConfigLike, response: Mapping[str, Any]) -> Result:
    """Parses a vector-format response dict (``status``, ``headers``, ``body`` or ``body_base64``)."""
    body: Union[bytes, str] = b""
    if response.get("body") is not None:
        body = response["body"]
    elif response.get("body_base64") is not None:
        body = base64.b64decode(response["body_base64"])
    return parse_response(operation, config, response.get("status"), response.get("headers"), body)  # type: ignore[arg-type]
