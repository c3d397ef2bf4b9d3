"""Core's flows: the OAuth token manager, the retry advisor, a user's journey and audit records.

Each class advances its state through core's JSON flow driver (``_host.Flow`` keeps the token
manager's in core; a journey's, which holds no secret, is its dict); nothing here decides anything. Time (``now``, Unix milliseconds) and retry jitter
(uniform in [0, 1)) are arguments, as in core.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from . import _host
from ._host import Config, Request
from ._errors import IProovError, from_dict
from ._ops import Headers
from ._results import ValidateResult

__all__ = [
    "Advice",
    "RetryPolicy",
    "TokenStep",
    "ResponseCheck",
    "TokenStatus",
    "TokenManager",
    "Next",
    "Journey",
    "audit_record",
    "wire_response",
]

ConfigLike = Union[Config, Mapping[str, Any]]


def _text(value: Union[str, bytes]) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _headers_dict(headers: Headers) -> Dict[str, str]:
    """Headers (a mapping, or pairs of str or raw bytes) as the vector format's dict."""
    if headers is None:
        return {}
    pairs: Any = headers.items() if isinstance(headers, Mapping) else headers
    return {_text(k): _text(v) for k, v in pairs}


def wire_response(status: int, headers: Headers = None, body: Union[bytes, str, None] = b"") -> Dict[str, Any]:
    """A response in the vector format: ``{"status", "headers", "body" | "body_base64"}``."""
    response: Dict[str, Any] = {"status": status, "headers": _headers_dict(headers)}
    if isinstance(body, str):
        response["body"] = body
    elif body:
        try:
            response["body"] = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            response["body_base64"] = base64.b64encode(bytes(body)).decode("ascii")
    return response


def _error_input(error: Union[IProovError, Mapping[str, Any]]) -> Dict[str, Any]:
    """An error as the flow driver takes it: its canonical JSON (core keeps its details)."""
    return error.to_dict() if isinstance(error, IProovError) else dict(error)


# --- retry advisor ---------------------------------------------------------------------------


class Advice(NamedTuple):
    """What to do after a failed attempt: ``retry_at`` (at ``at_ms``, ``delay_ms`` from now),
    ``give_up`` (``reason``; parse the response if there is one), or ``outcome_unknown``
    (``error``: never repeat the request)."""

    action: str
    at_ms: Optional[int] = None
    delay_ms: Optional[int] = None
    reason: Optional[str] = None
    error: Optional[IProovError] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Advice:
        error = data.get("error")
        return cls(
            data["action"],
            data.get("at_ms"),
            data.get("delay_ms"),
            data.get("reason"),
            None if error is None else from_dict(error),
        )

    def to_dict(self) -> Dict[str, Any]:
        """Core's canonical JSON of the advice."""
        out: Dict[str, Any] = {"action": self.action}
        for key in ("at_ms", "delay_ms", "reason"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.error is not None:
            out["error"] = self.error.to_dict()
        return out


class RetryPolicy:
    """Core's retry advisor: 2 retries by default, 0.5 s doubling to 8 s with jitter,
    ``Retry-After`` up to 60 s, and never a retry of a request that may have taken effect
    unless the operation is safe to repeat (validate then gives ``outcome_unknown``)."""

    def __init__(
        self,
        *,
        max_retries: Optional[int] = None,
        base_delay_ms: Optional[int] = None,
        max_delay_ms: Optional[int] = None,
        max_retry_after_ms: Optional[int] = None,
    ) -> None:
        options = {
            "max_retries": max_retries,
            "base_delay_ms": base_delay_ms,
            "max_delay_ms": max_delay_ms,
            "max_retry_after_ms": max_retry_after_ms,
        }
        self._policy = _host.flow_new_state("retry", {k: v for k, v in options.items() if v is not None})

    def advise(
        self,
        operation: str,
        attempt: int,
        *,
        now: int,
        jitter: float,
        status: Optional[int] = None,
        headers: Headers = None,
        failure: Optional[str] = None,
        body: Optional[bytes] = None,
    ) -> Advice:
        """Advice after attempt ``attempt`` (1-based) of ``operation`` ended with a response
        (``status``, ``headers``, ``body``: an iProov error code that no retry can fix, such as
        500 ``invalid_key``, vetoes a retry) or a transport ``failure``:
        ``"failed_before_sending"`` (DNS, connect, TLS) or ``"may_have_reached_server"``
        (timeout or reset after sending)."""
        step: Dict[str, Any] = {
            "action": "advise",
            "now": now,
            "input": {"operation": operation, "attempt": attempt, "jitter": jitter, "failure": failure},
        }
        if status is not None:
            step["response"] = wire_response(status, headers, body)
        return Advice.from_dict(_host.flow_run_step("retry", None, self._policy, step)[1])

    def to_dict(self) -> Dict[str, Any]:
        """The policy's limits."""
        return copy.deepcopy(self._policy)

    def __repr__(self) -> str:
        return f"RetryPolicy({self.to_dict()!r})"


# --- OAuth token manager ---------------------------------------------------------------------


@dataclass(frozen=True)
class TokenStep:
    """``authorized``: send ``request`` (it carries the Bearer token; ``uses`` counts this use).
    ``need_token``: send ``request`` (the access-token request), pass the answer to
    :meth:`TokenManager.accept_token`, then prepare again."""

    action: str
    request: Request
    uses: Optional[int] = None


@dataclass(frozen=True)
class ResponseCheck:
    """``parse`` the answer; ``retry_with_new_token`` (once); or ``fail`` with ``error``."""

    action: str
    error: Optional[IProovError] = None


@dataclass(frozen=True)
class TokenStatus:
    """The manager's view at a given time, without the token itself."""

    has_token: bool
    spent: bool
    uses: Optional[int] = None
    issued_at_ms: Optional[int] = None
    expires_at_ms: Optional[int] = None
    spent_at_ms: Optional[int] = None
    scope: Optional[Tuple[str, ...]] = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenStatus:
        scope = data.get("scope")
        return cls(
            data["has_token"],
            data["spent"],
            data.get("uses"),
            data.get("issued_at_ms"),
            data.get("expires_at_ms"),
            data.get("spent_at_ms"),
            None if scope is None else tuple(scope),
        )


class TokenManager:
    """Core's OAuth access-token manager: one token reused for up to 50 requests or until 60 s
    before it expires, one new token after a rejection, never a loop. Keep one per service
    provider and drive it from one call at a time (the clients serialize their users calls).
    Its ``repr`` and :meth:`to_dict` never show the token unless asked."""

    def __init__(
        self,
        *,
        margin_ms: Optional[int] = None,
        max_uses: Optional[int] = None,
        default_expires_in_s: Optional[int] = None,
        scope: Optional[Sequence[str]] = None,
    ) -> None:
        options: Dict[str, Any] = {
            "margin_ms": margin_ms,
            "max_uses": max_uses,
            "default_expires_in_s": default_expires_in_s,
            "scope": None if scope is None else list(scope),
        }
        self._flow = _host.Flow("token_manager", {k: v for k, v in options.items() if v is not None})

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> TokenManager:
        """Restores a manager saved by :meth:`to_dict` (a token saved without its value is dropped)."""
        manager = cls.__new__(cls)
        manager._flow = _host.Flow("token_manager")
        manager._flow.step({"action": "restore", "input": {"state": dict(state)}})
        return manager

    def prepare(self, config: ConfigLike, operation: str, input: Optional[Mapping[str, Any]], now: int) -> TokenStep:
        """Before a users call: authorizes its request, or gives the access-token request to send first."""
        out = self._flow.step(
            {"action": "prepare", "now": now, "input": {"operation": operation, "input": input}}, config
        )
        if out["action"] == "authorized":
            return TokenStep("authorized", out["request"], out.get("uses"))
        return TokenStep(out["action"], out["token_request"])

    def accept_token(self, config: ConfigLike, status: int, headers: Headers, body: bytes, now: int) -> TokenStatus:
        """With the answer to the access-token request; raises its typed error (state unchanged)."""
        out = self._flow.step(
            {"action": "accept_token", "now": now, "response": wire_response(status, headers, body)}, config
        )
        return TokenStatus.from_dict(out)

    def on_response(self, status: int, headers: Headers = None, body: bytes = b"") -> ResponseCheck:
        """With the answer to every authorized request, before parsing it."""
        out = self._flow.step({"action": "on_response", "response": wire_response(status, headers, body)})
        error = out.get("error")
        return ResponseCheck(out["action"], None if error is None else from_dict(error))

    def status(self, now: int) -> TokenStatus:
        """The manager's view at ``now``."""
        return TokenStatus.from_dict(self._flow.step({"action": "status", "now": now}))

    def forget_token(self) -> None:
        """Drops the held token (e.g. after rotating the OAuth credentials)."""
        self._flow.step({"action": "forget_token"})

    def to_dict(self, *, include_token: bool = False) -> Dict[str, Any]:
        """The state to store. With ``include_token`` it holds the access token: a secret."""
        return self._flow.step({"action": "export", "input": {"include_token": include_token}})

    def __repr__(self) -> str:
        return f"TokenManager({self.to_dict()!r})"


# --- journey ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Next:
    """What the host does next: ``start_attempt`` (get a token; ``attempt``, ``attempts_left``),
    ``await_validate`` (``token``, ``attempt``, ``expires_at_ms``), ``exhausted`` (``attempts``)
    or ``done`` (``attempt``, ``result``: the validate result without images)."""

    next: str
    attempt: Optional[int] = None
    attempts_left: Optional[int] = None
    token: Optional[str] = None
    expires_at_ms: Optional[int] = None
    attempts: Optional[int] = None
    result: Optional[Mapping[str, Any]] = None
    _raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Next:
        g = data.get
        return cls(
            data["next"],
            g("attempt"),
            g("attempts_left"),
            g("token"),
            g("expires_at_ms"),
            g("attempts"),
            g("result"),
            dict(data),
        )

    def to_dict(self) -> Dict[str, Any]:
        return copy.deepcopy(self._raw)


class Journey:
    """One user's attempts at enrol or verify: at most 3 by default, one token each, one
    validate per token; events out of order raise ``InvalidStateError`` and change nothing.
    Store :meth:`to_dict` between HTTP requests and resume with :meth:`from_dict`."""

    def __init__(
        self,
        user_id: str,
        flow: str,
        *,
        assurance_type: Optional[str] = None,
        max_attempts: Optional[int] = None,
        token_ttl_ms: Optional[int] = None,
    ) -> None:
        options: Dict[str, Any] = {"user_id": user_id, "flow": flow}
        for key, value in (
            ("assurance_type", assurance_type),
            ("max_attempts", max_attempts),
            ("token_ttl_ms", token_ttl_ms),
        ):
            if value is not None:
                options[key] = value
        self._state = _host.flow_new_state("journey", options)

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Journey:
        """Resumes a journey saved by :meth:`to_dict` (checked before use: raises ``InvalidInputError``)."""
        journey = cls.__new__(cls)
        journey._state = dict(state)
        journey.next(0)  # core reads (and checks) the saved state on every step
        return journey

    def _step(self, action: str, now: int, **fields: Any) -> Next:
        step: Dict[str, Any] = {"action": action, "now": now}
        if fields:
            step["input"] = fields
        self._state, out = _host.flow_run_step("journey", None, self._state, step)
        return Next.from_dict(out)

    def next(self, now: int) -> Next:
        """What to do now."""
        return self._step("next", now)

    def token_issued(self, token: str, now: int) -> Next:
        """Records the claim token of a new attempt."""
        return self._step("token_issued", now, token=token)

    def validated(self, token: str, result: Union[ValidateResult, Mapping[str, Any]], now: int) -> Next:
        """Records a validate result (``passed`` true or false)."""
        data = result.to_dict() if isinstance(result, ValidateResult) else dict(result)
        return self._step("validated", now, token=token, result=data)

    def validate_failed(self, token: str, error: Union[IProovError, Mapping[str, Any]], now: int) -> Next:
        """Records a validate that raised (``OutcomeUnknownError`` makes the attempt inconclusive)."""
        return self._step("validate_failed", now, token=token, error=_error_input(error))

    def end_attempt(self, token: str, reason: str, now: int) -> Next:
        """Ends an attempt without a validate: ``expired``, ``invalidated`` or ``abandoned``."""
        return self._step("end_attempt", now, token=token, reason=reason)

    def to_dict(self) -> Dict[str, Any]:
        """The journey to store: no secret and no image."""
        return copy.deepcopy(self._state)

    @property
    def user_id(self) -> str:
        return str(self.to_dict()["user_id"])

    @property
    def flow(self) -> str:
        return str(self.to_dict()["flow"])

    def __repr__(self) -> str:
        state = self.to_dict()
        return f"Journey(user_id={state.get('user_id')!r}, flow={state.get('flow')!r}, attempts={len(state.get('attempts', []))})"


# --- audit records ---------------------------------------------------------------------------


def audit_record(
    operation: str,
    now: int,
    *,
    config: Optional[ConfigLike] = None,
    user_id: Optional[str] = None,
    token: Optional[str] = None,
    attempt: Optional[int] = None,
    include_frame: bool = False,
    result: Optional[Any] = None,
    error: Union[IProovError, Mapping[str, Any], None] = None,
    response: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """Core's audit record of one operation: give its ``result`` (a typed result or canonical
    dict), its ``error``, or the raw ``response`` (a :func:`wire_response` dict) for core to
    parse. With ``config``, every configured secret is redacted from the record too."""
    record_input: Dict[str, Any] = {"operation": operation, "include_frame": include_frame}
    for key, value in (("user_id", user_id), ("token", token), ("attempt", attempt)):
        if value is not None:
            record_input[key] = value
    if result is not None:
        record_input["result"] = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    if error is not None:
        record_input["error"] = _error_input(error)
    step: Dict[str, Any] = {"action": "record", "now": now, "input": record_input}
    if response is not None:
        step["response"] = dict(response)
    record: Dict[str, Any] = _host.Flow("audit").step(step, config)
    return record
