"""The exception tree. Every error is core's canonical error dict with a class per ``kind``."""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Dict, Mapping, Optional, Type

__all__ = [
    "IProovError",
    "InvalidInputError",
    "InvalidStateError",
    "ApiError",
    "InvalidKeyError",
    "RateLimitedError",
    "InvalidTokenError",
    "OAuthError",
    "ServerError",
    "DecodeError",
    "OutcomeUnknownError",
    "TransportError",
    "ConnectionError",
    "TimeoutError",
    "AbortedError",
    "LimitExceededError",
    "StoreUnavailableError",
    "from_dict",
]


def _opt_str(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _opt_int(data: Mapping[str, Any], key: str) -> Optional[int]:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class IProovError(Exception):
    """Base of every error this package raises.

    ``code`` is the stable code (iProov's ``error`` value for API errors), ``status`` the HTTP
    status where a response was involved, ``message`` a sentence free of secrets, and
    :meth:`to_dict` gives core's canonical error JSON.
    """

    kind: ClassVar[str] = ""

    code: str
    status: Optional[int]
    message: str

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: Dict[str, Any] = dict(data)
        self.code = str(self._data.get("code", ""))
        self.status = _opt_int(self._data, "status")
        self.message = str(self._data.get("message", self.code))
        super().__init__(self.message)

    def to_dict(self) -> Dict[str, Any]:
        """Core's canonical JSON of this error (``code``, ``status``?, ``kind``, ``message``, ...)."""
        return copy.deepcopy(self._data)

    @property
    def description(self) -> Optional[str]:
        """iProov's ``error_description``, when it gave one."""
        return _opt_str(self._data, "description")

    @property
    def operation(self) -> Optional[str]:
        """The operation whose response or request failed, when known."""
        return _opt_str(self._data, "operation")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        status = f", status={self.status}" if self.status is not None else ""
        return f"{type(self).__name__}(code={self.code!r}{status}, message={self.message!r})"

    def __reduce__(self) -> Any:
        return (type(self), (self._data,))


class InvalidInputError(IProovError):
    """An input failed a check before anything was built (or sent). Fix it; never retry as is."""

    kind = "invalid_input"

    @property
    def field(self) -> Optional[str]:
        """The input (or config) field at fault."""
        return _opt_str(self._data, "field")


class InvalidStateError(IProovError):
    """A flow (journey, token manager) was driven out of order; its state is unchanged."""

    kind = "invalid_state"


class ApiError(IProovError):
    """An error iProov reported in its error body (``code`` is its ``error`` value)."""

    kind = "api"


class InvalidKeyError(ApiError):
    """Wrong API key or secret; usually a key used against another region than its own."""

    kind = "invalid_key"

    @property
    def region(self) -> Optional[str]:
        """The region the client was configured for (absent for a custom base URL)."""
        return _opt_str(self._data, "region")

    @property
    def base_url(self) -> Optional[str]:
        """The base URL the client was configured with, when that is what it used."""
        return _opt_str(self._data, "base_url")


class RateLimitedError(ApiError):
    """429 ``too_many_requests``: iProov's rate limit of the token endpoints was exceeded."""

    kind = "rate_limited"

    @property
    def retry_after_ms(self) -> Optional[int]:
        """How long iProov asked to wait, in milliseconds, when it said."""
        return _opt_int(self._data, "retry_after_ms")

    @property
    def retry_after(self) -> Optional[float]:
        """How long iProov asked to wait, in seconds, when it said."""
        ms = self.retry_after_ms
        return None if ms is None else ms / 1000.0


class InvalidTokenError(ApiError):
    """The claim token is wrong, expired, already validated, or not streamed yet."""

    kind = "invalid_token"


class OAuthError(ApiError):
    """The OAuth step failed: ``invalid_oauth``, ``token_quota_exceeded``, ``invalid_client``, ..."""

    kind = "oauth"


class ServerError(ApiError):
    """iProov reported a server error (5xx with an iProov error body)."""

    kind = "server"


class DecodeError(IProovError):
    """The response is not what the operation returns (not JSON, wrong shape, odd status, too large)."""

    kind = "decode"

    @property
    def path(self) -> Optional[str]:
        """Where in the body decoding stopped, when known."""
        return _opt_str(self._data, "path")

    @property
    def body_excerpt(self) -> Optional[str]:
        """A bounded excerpt of the body, secrets redacted."""
        return _opt_str(self._data, "body_excerpt")


class OutcomeUnknownError(IProovError):
    """The request may have reached iProov but its answer was lost.

    For validate: never call validate again for that token; treat the attempt as inconclusive.
    """

    kind = "outcome_unknown"


class TransportError(IProovError):
    """The HTTP exchange itself failed (raised by the clients)."""

    kind = ""


class ConnectionError(TransportError):  # noqa: A001 - the issue names it so; not the builtin
    """The request could not be sent (DNS, connect, TLS), after the advised retries."""

    kind = "connection"


class TimeoutError(TransportError):  # noqa: A001 - the issue names it so; not the builtin
    """No complete answer in time, after the advised retries."""

    kind = "timeout"


class AbortedError(TransportError):
    """The caller aborted the call (a cancelled task). A validate aborted after it was sent is
    an :class:`OutcomeUnknownError` instead."""

    kind = "aborted"


class LimitExceededError(IProovError):
    """A limit of the journey service's policy is reached (``limit``: ``attempts``,
    ``user_token_requests`` or ``service_token_requests``); nothing was sent to iProov. Try
    again after ``retry_after`` seconds (``retry_after_ms`` in milliseconds), when the limit's
    window lets the next request through."""

    kind = "limit_exceeded"

    @property
    def limit(self) -> Optional[str]:
        """Which limit of the policy was reached."""
        return _opt_str(self._data, "limit")

    @property
    def retry_after_ms(self) -> Optional[int]:
        """How long until the limit's window lets a request through, in milliseconds."""
        return _opt_int(self._data, "retry_after_ms")

    @property
    def retry_after(self) -> Optional[float]:
        """How long until the limit's window lets a request through, in seconds."""
        ms = self.retry_after_ms
        return None if ms is None else ms / 1000.0


class StoreUnavailableError(IProovError):
    """The journey service's store failed (its own exception is this error's ``__cause__``;
    its message, which may quote a connection string, is never in this one).

    ``result`` is ``None`` when nothing was sent to iProov (try again later), or the validated
    outcome (``{journey_id, passed, attempts_left, next, attempt?, state?, reason?}``) when
    iProov had answered: the person passed or failed; the outcome waits in the service's spool
    and reaches the store when it is back."""

    kind = "store_unavailable"

    @property
    def store_operation(self) -> Optional[str]:
        """The store call that failed: ``get``, ``insert``, ``update``, ``append_audit``."""
        return _opt_str(self._data, "store_operation")

    @property
    def journey_id(self) -> Optional[str]:
        """The journey concerned, when known."""
        return _opt_str(self._data, "journey_id")

    @property
    def result(self) -> Optional[Dict[str, Any]]:
        """The validated outcome the store could not take, or ``None`` (nothing was sent)."""
        value = self._data.get("result")
        return copy.deepcopy(value) if isinstance(value, dict) else None


def _classes_by_kind() -> Dict[str, Type[IProovError]]:
    """Core names the class of every error family (``_core.error_classes()``): this module
    only defines the classes (for typing and docs) and checks that each one core names exists
    here with the parent core gives it."""
    from . import _core

    defined = {cls.__name__: cls for cls in _CLASSES}
    by_kind: Dict[str, Type[IProovError]] = {}
    for kind, name, parent in _core.error_classes():
        cls = defined.get(name)
        if cls is None or cls.__mro__[1].__name__ != parent:
            raise ImportError(f"iproov_sansio: core names error class {name}({parent}), which this package lacks")
        by_kind[kind] = cls
    return by_kind


_CLASSES = (
    InvalidInputError,
    InvalidStateError,
    ApiError,
    InvalidKeyError,
    RateLimitedError,
    InvalidTokenError,
    OAuthError,
    ServerError,
    DecodeError,
    OutcomeUnknownError,
    ConnectionError,
    TimeoutError,
    AbortedError,
    LimitExceededError,
    StoreUnavailableError,
)
_BY_KIND = _classes_by_kind()


def from_dict(data: Mapping[str, Any]) -> IProovError:
    """The exception for a canonical error dict, of the class core names for its ``kind``.

    Core gives every error a known ``kind``; a dict from elsewhere without one becomes the
    base ``IProovError``.
    """
    return _BY_KIND.get(str(data.get("kind", "")), IProovError)(data)
