"""The Python half of the native interface (``bindings-js/NATIVE.md``, the one document of
the interface napi, wasm and this package's ``_core`` expose): ``_core`` calls core's ``host``
module, taking text, bytes, numbers and header pairs, and giving texts or (for a request and
the driver's poll) the objects of this module, which it makes with the classes and functions
here; this module turns Python objects into the texts and the texts back into objects, as
``bindings-js/api.mjs`` does in JavaScript. Nothing here decides anything.
"""

from __future__ import annotations

import base64
import json
from functools import partial
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from ._error_base import IProovError
from ._errors import from_dict

__all__ = [
    "DEFAULT_USER_AGENT",
    "INFO",
    "MAX_BODY_BYTES",
    "REDACTED",
    "Config",
    "ConfigLike",
    "Driver",
    "Flow",
    "Request",
    "__version__",
    "build",
    "build_enrol_image_bytes",
    "error_from_json",
    "flow_new_state",
    "flow_run_step",
    "parse",
    "web_decide",
]

#: Core's tables (``host::info``): version, constants, operations, error classes, transport
#: failures, environment variables.
INFO: Dict[str, Any] = json.loads(_core.info())
__version__: str = INFO["version"]
DEFAULT_USER_AGENT: str = INFO["default_user_agent"]
MAX_BODY_BYTES: int = INFO["max_body_bytes"]
REDACTED: str = INFO["redacted"]


def _make_codec() -> Tuple[Callable[[Any], str], Callable[[str], Any]]:
    """json's C encoder and scanner, called without json's Python frames (three per call,
    about a microsecond: the driver loop converts several texts per call). Compact JSON, as
    ``json.dumps``'s defaults otherwise; core's texts need no whitespace skipped."""
    encoder = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if encoder is None:  # an interpreter without json's C speedups
        return json.dumps, json.loads
    encode = encoder(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    def loads(text: str) -> Any:
        try:
            return scan(text, 0)[0]
        except StopIteration:
            return json.loads(text)  # json's own error for a text that is not JSON

    return dumps, loads


_dumps, _loads = _make_codec()
#: json's scanner, ``(value, end)`` of a JSON text at an index: ``_core`` reads a result text
#: without large frames (the usual one) with it, without a Python frame.
_scan: Callable[[str, int], Tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def error_from_json(text: str) -> IProovError:
    """The exception (not raised) for core's canonical error JSON; ``_core`` raises through it."""
    return from_dict(_loads(text))


def _refused(field: str, problem: str) -> IProovError:
    """An argument no JSON text can carry (an object, a body that is not bytes): refused as
    core's ``invalid_input`` naming ``field``, never a bare ``TypeError``."""
    return from_dict({"code": "invalid_input", "kind": "invalid_input", "field": field, "message": f"invalid {field}: {problem}"})


def _json(value: Any, field: str) -> str:
    """``value`` as JSON text (``""`` for ``None``: none)."""
    if value is None:
        return ""
    try:
        # json's defaults (its cached encoder: the fast path); a NaN it writes is not JSON,
        # which core refuses naming the field.
        return _dumps(value)
    except (TypeError, ValueError) as exc:
        raise _refused(field, f"is not JSON data (dict, list, str, int, float, bool, None): {exc}") from None


def _bytes(value: Any, field: str) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if value is None:
        return b""
    raise _refused(field, f"must be bytes, not {type(value).__name__}")


#: Response headers: a mapping (httpx/requests headers objects included) or (name, value) pairs
#: of str or of raw bytes (httpx's ``headers.raw``); ``_core`` reads them into core's pairs (a
#: repeated header kept; ``multi_items()`` first, so httpx's repeated headers survive).
Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], Sequence[Tuple[bytes, bytes]], None]


# --- config ----------------------------------------------------------------------------------

_KEYS = ("region", "base_url", "api_key", "secret", "oauth_username", "oauth_password", "access_token", "user_agent")


class Config:
    """A client configuration, read and checked by core once: region or base URL, credentials,
    User-Agent. Immutable; share one per service provider. The credentials stay in core (this
    object holds core's handle and the non-secret facts); ``repr`` never shows a secret."""

    __slots__ = ("_native", "_info", "_shown")

    _native: Any
    _info: Dict[str, Any]
    _shown: Dict[str, Any]

    def __init__(
        self,
        region: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        secret: Optional[str] = None,
        oauth_username: Optional[str] = None,
        oauth_password: Optional[str] = None,
        access_token: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> None:
        """Give ``region`` (``eu``, ``us``, ``sg``, ``au``, ``jkt``, ``latam``, any case) or
        ``base_url``, and the credentials the operations you call need. Raises
        ``InvalidInputError``."""
        values = (region, base_url, api_key, secret, oauth_username, oauth_password, access_token, user_agent)
        given = {k: v for k, v in zip(_KEYS, values) if v is not None}
        self._made(_core.new_config(_json(given, "config")), given)

    def _made(self, native: Any, given: Mapping[str, Any]) -> None:
        self._native = native
        self._info = _loads(_core.config_info(native))
        # Core's config_info lists what is not secret; anything else given shows redacted.
        shown = {}
        for key in _KEYS:
            if key in given and given[key] is not None:
                shown[key] = given[key] if key in self._info else REDACTED
        self._shown = shown

    @classmethod
    def _of(cls, native: Any, given: Mapping[str, Any]) -> Config:
        config = cls.__new__(cls)
        config._made(native, given)
        return config

    @staticmethod
    def from_env(given: Mapping[str, Any], env: Mapping[str, str]) -> Config:
        """A config from the caller's fields (``None`` values absent) and the environment's
        ``IPROOV_*`` variables, by core's rules (``JsonConfig::from_env``). Raises
        ``InvalidInputError``."""
        fields = {k: v for k, v in given.items() if v is not None}
        native = _core.new_config_from_env(_json(fields, "given"), _json(dict(env), "env"))
        names = dict(fields)
        for field, variable in INFO["env_vars"]:
            if field not in names and env.get(variable):
                names[field] = env[variable]
        return Config._of(native, names)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Config:
        """Reads a config dict in the vector format (``region`` or ``base_url``, ``api_key``,
        ``secret``, ``oauth_username``, ``oauth_password``, ``access_token``, ``user_agent``)."""
        if not isinstance(data, Mapping):
            raise _refused("config", f"must be a Config or a dict, not {type(data).__name__}")
        return Config._of(_core.new_config(_json(dict(data), "config")), data)

    def with_access_token(self, access_token: Optional[str]) -> Config:
        """The same configuration with this OAuth access token (for the users API without the
        token manager)."""
        native = _core.config_with(self._native, _json({"access_token": access_token}, "access_token"))
        given = dict(self._shown)
        given["access_token"] = access_token
        return Config._of(native, given)

    @property
    def region(self) -> Optional[str]:
        """The region id (``eu``, ...), or ``None`` for a custom base URL."""
        return self._info.get("region")

    @property
    def base_url(self) -> str:
        """The REST base URL, ending in ``/api/v2``."""
        return str(self._info["base_url"])

    @property
    def streaming_url(self) -> str:
        """Where iProov's SDKs stream to for this target's tokens (``wss://.../ws``): core's rule."""
        return str(self._info["streaming_url"])

    @property
    def user_agent(self) -> str:
        """The User-Agent every request carries."""
        return str(self._info["user_agent"])

    @property
    def api_key(self) -> Optional[str]:
        """The API key (not a secret: it also goes in URLs), if configured."""
        return self._info.get("api_key")

    @property
    def oauth_username(self) -> Optional[str]:
        """The OAuth username, if configured."""
        return self._info.get("oauth_username") or None

    def redacted(self) -> Dict[str, Any]:
        """The fields given, with every secret replaced by ``[REDACTED]``: safe to log."""
        return dict(self._shown)

    def __repr__(self) -> str:
        parts = [f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, str) and v != REDACTED else v}" for k, v in self._shown.items()]
        return f"Config({', '.join(parts)})"


#: A :class:`Config`, or a dict in the vector format.
ConfigLike = Union[Config, Mapping[str, Any]]


def _native_config(config: Any) -> Any:
    if type(config) is Config:
        return config._native
    if isinstance(config, Config):
        return config._native
    return Config.from_dict(config)._native


# --- requests --------------------------------------------------------------------------------


#: A request to send exactly as described (method, URL, headers, body bytes), immutable: a
#: native class (``_core.Request``) whose ``redacted()`` and ``repr`` come from the two
#: functions below.
Request = _core.Request


def _request_redacted(request: Request) -> Dict[str, Any]:
    """``Request.redacted()``: core's redacted view, made from the config handle the request
    keeps (``redact_request_parts``) or, for a flow's request, the view core gave beside it."""
    view = request._view
    if isinstance(view, dict):
        copied: Dict[str, Any] = _loads(_dumps(view))
        return copied
    shown: Dict[str, Any] = _loads(_core.redact_request_parts(view, request.method, request.url, request.headers, request.body))
    return shown


def _request_repr(request: Request) -> str:
    """``repr(Request)``: its redacted view, never a credential."""
    view = request.redacted()
    headers = ", ".join(f"({json.dumps(k, ensure_ascii=False)}, {json.dumps(v, ensure_ascii=False)})" for k, v in view.get("headers", []))
    body = f", body={json.dumps(view['body'], ensure_ascii=False, separators=(',', ':'))}" if "body" in view else ""
    return f"Request(method={json.dumps(request.method)}, url={json.dumps(view.get('url', ''), ensure_ascii=False)}, headers=[{headers}]{body})"


def _wire_body(wire: Mapping[str, Any]) -> bytes:
    if isinstance(wire.get("body"), str):
        return str(wire["body"]).encode("utf-8")
    if isinstance(wire.get("body_base64"), str):
        return base64.b64decode(wire["body_base64"])
    return b""


def _from_wire(wire: Mapping[str, Any], view: Any) -> Request:
    """A wire request of core's flow driver (``{method, url, headers: {}, body | body_base64}``),
    shown as the redacted view core gave beside it."""
    if not isinstance(view, dict):
        raise _refused("request", "the flow gave no usable request")
    headers = tuple((str(k), str(v)) for k, v in (wire.get("headers") or {}).items())
    return Request(str(wire["method"]), str(wire["url"]), headers, _wire_body(wire), view)


def build(operation: str, config: ConfigLike, input: Optional[Mapping[str, Any]] = None) -> Request:
    """Builds ``operation``'s request from ``config`` and a vector-format ``input``."""
    if type(operation) is not str:
        raise _refused("operation", f"must be a str, not {type(operation).__name__}")
    native = config._native if type(config) is Config else _native_config(config)
    if input is not None and type(input) is not dict and not isinstance(input, Mapping):
        raise _refused("input", "must be a dict")
    built: Request = _core.build(operation, native, input)
    return built


def _image_input(token: Any, source: Any, image: Any, rotation: Any) -> Dict[str, Any]:
    """The enrol image's input in the vector format (the image as ``{"base64"}``)."""
    data = {"token": token, "source": source, "image": {"base64": base64.b64encode(_bytes(image, "image")).decode("ascii")}}
    if rotation is not None:
        data["rotation"] = rotation
    return data


def build_enrol_image_bytes(config: ConfigLike, *, token: str, source: str, image: bytes, rotation: Optional[int] = None) -> Request:
    """Builds ``POST /claim/enrol/image`` from the image bytes (given to core as they are; any
    other argument types go as the vector format's JSON, for core to refuse naming the field)."""
    if type(image) is bytes and type(token) is str and type(source) is str and (rotation is None or (type(rotation) is int and -(2**63) <= rotation < 2**63)):
        return _core.build_enrol_image(config, token, source, image, rotation)
    return _core.build("enrol_image", config, _image_input(token, source, image, rotation))


def _result(text: str) -> Any:
    """The result text of NATIVE.md: canonical JSON, then ``\\n<name>\\n<value>`` for each
    large frame core kept out of it."""
    at = text.find("\n")
    if at < 0:
        return _loads(text)
    data = _loads(text[:at])
    parts = text[at + 1 :].split("\n")
    for i in range(0, len(parts) - 1, 2):
        data[parts[i]] = parts[i + 1]
    return data


def parse(operation: str, config: ConfigLike, status: int, headers: Headers = None, body: Any = b"") -> Any:
    """Parses a response of ``operation`` into core's canonical result dict (or raises the typed error)."""
    if type(operation) is not str:
        raise _refused("operation", f"must be a str, not {type(operation).__name__}")
    native = config._native if type(config) is Config else _native_config(config)
    return _core.parse(operation, native, status, headers, body)


# --- the call driver ---------------------------------------------------------------------------


#: The driver's poll: ``(kind, value, audit, wake, events)``.
Polled = Tuple[str, Any, Optional[List[Dict[str, Any]]], bool, Optional[List[Dict[str, Any]]]]


class Driver:
    """One client's call driver (core's ``driver``, NATIVE.md "The driver loop"). It converts
    and nothing else; one serves every thread and task of a client. ``poll``, ``on_response``
    and ``on_failure`` each give the poll's tuple ``(kind, value, audit, wake, events)``:
    ``send`` (value ``(Request, timeout_ms)``), ``sleep`` / ``wait`` (Unix ms), ``done`` (the
    result dict), ``failed`` (the exception to raise); audit records and telemetry events, or
    ``None`` (an answer or failure and the poll after it are one native call)."""

    __slots__ = ("_native", "_config", "poll", "on_response", "on_failure")

    #: ``poll(call, now)``: the poll's tuple (``_core.driver_poll``; no Python frame between).
    poll: Callable[[int, int], Polled]
    #: ``on_response(call, status, headers, body, now)``: the answer to call ``call``'s send (the
    #: body as read, at most core's cap + 1), then the next poll's tuple.
    on_response: Callable[[int, int, Any, bytes, int], Polled]
    #: ``on_failure(call, failure, cause, now)``: call ``call``'s send failed (a name of core's
    #: transport table, the library's words), then the next poll's tuple.
    on_failure: Callable[[int, str, str, int], Polled]

    def __init__(self, config: Config, options: Optional[Mapping[str, Any]], seed: bytes) -> None:
        self._config = config._native
        self._native = _core.driver_new(self._config, _json(options, "options"), seed)
        self.poll = partial(_core.driver_poll, self._native)
        self.on_response = partial(_core.driver_response, self._native)
        self.on_failure = partial(_core.driver_failure, self._native)

    def start(
        self,
        operation: str,
        input: Any,
        attempt: Optional[int],
        now: int,
        quiet: bool,
        max_wait_ms: Optional[int],
        telemetry: str,
    ) -> int:
        """Starts a call; gives its id (a bad input fails the call at its first poll).
        ``telemetry``: the lowest level of the call's events the host maps (core's level
        names, ``""`` for none: :func:`iproov_sansio.telemetry.wanted`)."""
        return _core.driver_start(self._native, operation, input, attempt or 0, quiet, max_wait_ms or 0, telemetry, now)

    def start_enrol_image(
        self, token: str, source: str, image: bytes, rotation: Optional[int], attempt: Optional[int], now: int, telemetry: str
    ) -> int:
        """Starts a photo enrol with the image as bytes; ``telemetry`` as for :meth:`start`."""
        if type(image) is bytes and type(token) is str and type(source) is str and (rotation is None or (type(rotation) is int and -(2**63) <= rotation < 2**63)):
            return _core.driver_start_enrol_image(self._native, token, source, image, rotation, attempt or 0, telemetry, now)
        return self.start("enrol_image", _image_input(token, source, image, rotation), attempt, now, False, None, telemetry)

    def token_status(self, now: int) -> Dict[str, Any]:
        """The shared OAuth access token's status at ``now``, without the token."""
        status: Dict[str, Any] = _loads(_core.driver_token_status(self._native, now))
        return status

    def cancel(self, call: int) -> None:
        """Drops call ``call`` (the caller gave up on it)."""
        _core.driver_cancel(self._native, call)


# --- flows -------------------------------------------------------------------------------------


def _optional_config(config: Any) -> Any:
    return None if config is None else _native_config(config)


def _output(output: Any) -> Any:
    """A step output with ``request`` and ``token_request`` as :class:`Request` objects, each
    shown as core's ``redacted`` view of it."""
    if isinstance(output, dict):
        for key in ("request", "token_request"):
            if isinstance(output.get(key), dict):
                output[key] = _from_wire(output[key], output.get("redacted"))
    return output


class Flow:
    """A flow whose state core keeps between steps (``new_flow`` / ``flow_run``): the token
    manager's state holds the access token, so it never sits in a Python dict."""

    __slots__ = ("_native", "flow")

    def __init__(self, flow: str, options: Optional[Mapping[str, Any]] = None) -> None:
        if not isinstance(flow, str):
            raise _refused("flow", f"must be a str, not {type(flow).__name__}")
        self.flow = flow
        self._native = _core.new_flow(flow, _json(options, "options"))

    def step(self, step: Mapping[str, Any], config: Optional[ConfigLike] = None) -> Dict[str, Any]:
        """Applies one step; the state advances and the output is returned (requests as
        :class:`Request`). On an error the state is unchanged and the typed error is raised."""
        output: Dict[str, Any] = _output(_loads(_core.flow_run(self._native, _optional_config(config), _json(step, "step"))))
        return output

    def __repr__(self) -> str:
        return f"Flow({self.flow!r})"


def flow_new_state(flow: str, options: Any = None) -> Any:
    """The initial state of ``flow`` (``token_manager``, ``retry``, ``journey``, ``audit``)."""
    if not isinstance(flow, str):
        raise _refused("flow", f"must be a str, not {type(flow).__name__}")
    return _loads(_core.flow_new(flow, _json(options, "options")))


def flow_run_step(flow: str, config: Any, state: Any, step: Any) -> Tuple[Any, Any]:
    """One step (``{"action", "now"?, "input"?, "response"?}``) applied to ``state``:
    ``(new_state, output)`` as plain dicts, exactly as the flow vectors write them."""
    if not isinstance(flow, str):
        raise _refused("flow", f"must be a str, not {type(flow).__name__}")
    out = _loads(_core.flow_step(flow, _optional_config(config), _json(state, "state"), _json(step, "step")))
    return out["state"], out["output"]


# --- the web endpoints' decisions ----------------------------------------------------------------


def web_decide(what: str, facts: Any = None) -> Dict[str, Any]:
    """A decision of the browser-facing endpoints (core's ``web::decide``) as a dict."""
    decided: Dict[str, Any] = _loads(_core.web_decide(what, _json(facts, "facts")))
    return decided
